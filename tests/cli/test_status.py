"""`secrets-platform status`: sync state from the cluster, or one sentence saying why there is none."""

from __future__ import annotations

import datetime as dt
import json

import yaml
from cli_support import FakeEngine, FakeKubectl, copy_project, invoke, make_app

from secrets_platform.cli.cluster import age, reloading_workloads


def now() -> dt.datetime:
    """The time at the call, not at import: a long test run must not age the fixtures."""
    return dt.datetime.now(dt.timezone.utc)


def ready() -> dict:
    return {
        "spec": {"secretStoreRef": {"name": "gcp-secret-manager-dev"}},
        "status": {
            "refreshTime": (now() - dt.timedelta(minutes=2)).isoformat(),
            "conditions": [{"type": "Ready", "status": "True", "reason": "SecretSynced"}],
        },
    }


FAILING = {
    "spec": {"secretStoreRef": {"name": "gcp-secret-manager-dev"}},
    "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "SecretSyncedError"}]},
}


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
    kube = FakeKubectl(
        {
            "--raw=/version": (0, "{}", ""),
            "externalsecrets.external-secrets.io cube-dev-credentials": (0, json.dumps(ready()), ""),
            "externalsecrets.external-secrets.io polaris-dev-credentials": (0, json.dumps(FAILING), ""),
            "get secret snowflake-dev-credentials": (0, (now() - dt.timedelta(days=3)).isoformat(), ""),
        }
    )
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
        return {
            "kind": "Deployment",
            "metadata": {"name": name, "annotations": ann},
            "spec": {"template": {"spec": {"containers": [{"envFrom": [{"secretRef": {"name": secret}}]}]}}},
        }

    found = reloading_workloads(
        [
            deploy("daemon", {"reloader.stakater.com/search": "true"}, "s"),
            deploy("other", {"reloader.stakater.com/search": "true"}, "t"),
            deploy("plain", {}, "s"),
            deploy("listed", {"secret.reloader.stakater.com/reload": "x, s"}, "u"),
        ],
        "s",
    )
    assert found == ["Deployment/daemon", "Deployment/listed"]


# ---- AGE and OVERDUE -------------------------------------------------------------------------------


def rows_by_secret(output: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(name, namespace) -> (AGE, OVERDUE) of each row of the table (the last two columns)."""
    lines = output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("NAME "))
    assert lines[header].split()[-2:] == ["AGE", "OVERDUE"]
    out = {}
    for line in lines[header + 1 :]:
        cells = line.split()
        if len(cells) < 4 or not cells[0].endswith(("-credentials", "-secret")):
            break
        out[(cells[0], cells[1])] = (cells[-2], cells[-1])
    return out


def prd_with_rotations(tmp_path, **rotations: str):
    root = copy_project(tmp_path)
    path = root / "Pulumi.prd.yaml"
    doc = yaml.safe_load(path.read_text())
    for cred in doc["config"]["secrets-platform:credentials"]:
        if cred["service"] in rotations:
            cred["rotation"] = rotations[cred["service"]]
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return root


REACHABLE = {"--raw=/version": (0, "{}", "")}


def test_age_and_overdue_columns_fresh_overdue_and_unknown(tmp_path):
    """prd's default maxAge is 90d: rotated 10 days ago is fresh, in 2020 overdue, and a counter
    ("1", not a date) is an unknown age, never fresh; a bundle without generated keys has neither."""
    today = now().date()
    root = prd_with_rotations(tmp_path, snowflake=(today - dt.timedelta(days=10)).isoformat(), minio="2020-01-01", cube="1")
    result = invoke(make_app(root, kubectl=FakeKubectl(REACHABLE)), "status", "--stack", "prd")
    rows = rows_by_secret(result.stdout)
    overdue_days = (today - dt.date(2020, 1, 1)).days
    assert rows == {
        ("cube-prd-credentials", "dagster-prd"): ("unknown", "unknown"),
        ("minio-prd-credentials", "dagster-prd"): (f"{overdue_days}d", "OVERDUE"),
        ("snowflake-prd-credentials", "dagster-prd"): ("10d", "no"),
        ("polaris-prd-credentials", "floe-jobs-prd"): ("-", "-"),
        ("snowflake-prd-credentials", "floe-jobs-prd"): ("10d", "no"),
        ("minio-prd-credentials", "flytesnacks-production"): (f"{overdue_days}d", "OVERDUE"),
    }, result.stdout
    assert "age unknown: cube (the rotation value is not a date" in result.stdout
    assert f"OVERDUE: minio was rotated {overdue_days} days ago, over its maxAge of 90d: secrets-platform rotate minio" in result.stdout
    assert "OVERDUE: snowflake" not in result.stdout


def test_age_is_the_deployed_rotation_not_a_committed_one(tmp_path):
    """A rotation written to the stack file but not applied leaves the running credential as old as it
    was: status (like list) ages what is deployed, against the stack file's maxAge."""
    from secrets_platform.cli.project import Project
    from secrets_platform.model import planned_descriptors
    from secrets_platform.model.consumers import describe

    today = now().date().isoformat()
    root = prd_with_rotations(tmp_path, snowflake=today, minio=today)
    deployed = [describe(d) for d in planned_descriptors(Project(root).settings("prd", {}))]
    for secret in deployed:
        if secret["service"] == "snowflake":
            secret["rotation"] = "2020-01-01"
        if secret["service"] == "minio":
            secret["rotation"] = "3"
    engine = FakeEngine(root, installed=True, deployed={"prd"}, stack_outputs={"prd": {"secrets": json.loads(json.dumps(deployed))}})
    for command in ("status", "list"):
        result = invoke(make_app(root, engine=engine, kubectl=FakeKubectl(REACHABLE)), command, "--stack", "prd")
        rows = rows_by_secret(result.stdout)
        assert rows[("snowflake-prd-credentials", "dagster-prd")][1] == "OVERDUE", (command, result.stdout)
        assert rows[("minio-prd-credentials", "dagster-prd")] == ("unknown", "unknown"), (command, result.stdout)
    fresh = invoke(make_app(root, engine=FakeEngine(root, installed=False), kubectl=FakeKubectl(REACHABLE)), "status", "--stack", "prd")
    assert rows_by_secret(fresh.stdout)[("snowflake-prd-credentials", "dagster-prd")] == ("0d", "no")  # no state: the file is all there is


def test_a_rotation_date_in_the_future_is_unknown_not_fresh(tmp_path):
    root = prd_with_rotations(tmp_path, snowflake="2099-01-01", minio=(now().date() + dt.timedelta(days=1)).isoformat())
    for command in ("status", "list"):
        result = invoke(make_app(root, kubectl=FakeKubectl(REACHABLE)), command, "--stack", "prd")
        rows = rows_by_secret(result.stdout)
        assert rows[("snowflake-prd-credentials", "dagster-prd")] == ("unknown", "unknown"), result.stdout
        assert rows[("minio-prd-credentials", "dagster-prd")] == ("0d", "no")  # tomorrow in UTC: a timezone ahead, not the future
        assert "age unknown: snowflake (the rotation date is in the future" in result.stdout
    check = invoke(make_app(root), "freshness", "--stack", "prd", "--fail-on-unknown")
    assert check.exit_code == 1 and "snowflake-prd-credentials" in check.stderr
