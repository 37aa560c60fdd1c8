"""`secrets-platform status`: sync state from the cluster, or one sentence saying why there is none."""

from __future__ import annotations

import datetime as dt
import json

from cli_support import FakeKubectl, invoke, make_app
from secrets_cli.cluster import age, reloading_workloads

NOW = dt.datetime.now(dt.timezone.utc)
READY = {"spec": {"secretStoreRef": {"name": "gcp-secret-manager-dev"}},
         "status": {"refreshTime": (NOW - dt.timedelta(minutes=2)).isoformat(), "conditions": [{"type": "Ready", "status": "True", "reason": "SecretSynced"}]}}
FAILING = {"spec": {"secretStoreRef": {"name": "gcp-secret-manager-dev"}},
           "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "SecretSyncedError"}]}}


def test_local_stack_without_its_cluster_says_to_start_it():
    kube = FakeKubectl({"--raw=/version": (1, "", "The connection to the server 127.0.0.1:16443 was refused")})
    result = invoke(make_app(kubectl=kube), "status", "--stack", "local")
    assert result.exit_code == 3
    assert "is not reachable" in result.stderr and "make up" in result.stderr


def test_unreachable_cluster_exits_3():
    kube = FakeKubectl({"--raw=/version": (1, "", "Unable to connect to the server: dial tcp: i/o timeout")})
    result = invoke(make_app(kubectl=kube), "status", "--stack", "dev")
    assert result.exit_code == 3
    assert "is not reachable: Unable to connect to the server" in result.stderr


def test_synced_and_failing_rows_and_exit_1():
    kube = FakeKubectl({
        "--raw=/version": (0, "{}", ""),
        "externalsecrets.external-secrets.io cube-dev-credentials": (0, json.dumps(READY), ""),
        "externalsecrets.external-secrets.io polaris-dev-credentials": (0, json.dumps(FAILING), ""),
        "get secret snowflake-dev-credentials": (0, (NOW - dt.timedelta(days=3)).isoformat(), ""),
    })
    result = invoke(make_app(kubectl=kube), "status", "--stack", "dev")
    out = result.stdout
    assert "cube-dev-credentials" in out and "Synced" in out and "2m ago" in out
    assert "SecretSyncedError" in out
    assert "Applied" in out and "3d ago" in out
    assert "Missing" in out  # minio-dev-credentials: kubectl says NotFound
    assert result.exit_code == 1
    # Secrets are only ever asked for their creation time, never as objects with data.
    secret_calls = [a for a in kube.seen if "secret" in a]
    assert secret_calls and all("jsonpath={.metadata.creationTimestamp}" in a for a in secret_calls)


def test_age_formats():
    now = dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc)
    assert age("2026-11-24T00:00:00Z", now) == "1d ago" and age(None, now) == "-"


def test_reloading_workloads_need_annotation_and_reference():
    def deploy(name, ann, secret):
        return {"kind": "Deployment", "metadata": {"name": name, "annotations": ann},
                "spec": {"template": {"spec": {"containers": [{"envFrom": [{"secretRef": {"name": secret}}]}]}}}}
    found = reloading_workloads([
        deploy("daemon", {"reloader.stakater.com/search": "true"}, "s"),
        deploy("other", {"reloader.stakater.com/search": "true"}, "t"),
        deploy("plain", {}, "s"),
        deploy("listed", {"secret.reloader.stakater.com/reload": "x, s"}, "u"),
    ], "s")
    assert found == ["Deployment/daemon", "Deployment/listed"]
