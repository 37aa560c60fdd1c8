"""Reloader for real on the local cluster: a rotation rolls exactly the annotated consumers, never a batch run.

The local stack is applied to the module's cluster, which runs Reloader v1.4.22 as `make up` does
(secrets_platform/localcluster/reloader.py: Jobs and CronJobs ignored, platform namespaces only). In dagster-local the
test runs long-lived consumers of the snowflake bundle (a Deployment reading it through ``envFrom``, a
StatefulSet through a volume, both annotated), one that is not annotated, an annotated one of another
Secret, a running Job and a CronJob (annotated too: Reloader must leave them alone anyway), and an
annotated consumer of the External Secrets-synced cube bundle. Pods print key names and a SHA-256 of
the value they read, never a value; the test compares that hash with the Secret's.

Then ``secrets-platform rotate`` (a generated key of a Kubernetes-backend bundle) and a rotation of the
pushed value behind an ExternalSecret (the local store is ESO's fake provider, filled by the stack, so
ESO's refresh is what changes the Secret): each time, what rotate printed as its blast radius before
applying equals what rolled, the new pods run with the new value, the others keep their pods, the Job
keeps running on the old value and the CronJob starts no run.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from typing import Any

import pytest
from local_project import ROOT, LocalProject, engine_missing

from secrets_platform.localcluster.node.images import WORKLOAD_IMAGE

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(engine_missing() is not None, reason=engine_missing() or "")]

NS = "dagster-local"
OUTSIDE = "reloader-outside"  # a namespace of no platform: Reloader does not watch it
SNOWFLAKE, CUBE, MINIO = "snowflake-local-credentials", "cube-local-credentials", "minio-local-credentials"
SEARCH = {"reloader.stakater.com/search": "true"}
RELOADED = "reloader.stakater.com/last-reloaded-from"
CLI = ROOT / ".venv" / "bin" / "secrets-platform"
# Prints "key NAME sha256 HASH" for the one key it is told, from the environment or a file; never the value.
PRINT_HASH = r"""
if [ -n "$FROM_FILE" ]; then h=$(sha256sum < "$FROM_FILE/$KEY"); else h=$(eval "printf %s \"\${$KEY}\"" | sha256sum); fi
echo "key $KEY sha256 ${h%% *}"
exec sleep 3600
"""
RESTRICTED = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
}


def pod_spec(secret: str, key: str, via: str, restart: str = "Always") -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "app",
        "image": WORKLOAD_IMAGE,
        "imagePullPolicy": "Never",
        "command": ["sh", "-c", PRINT_HASH],
        "env": [{"name": "KEY", "value": key}],
        "securityContext": RESTRICTED,
    }
    spec: dict[str, Any] = {
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": 1,
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
    }
    if via == "envFrom":
        container["envFrom"] = [{"secretRef": {"name": secret}}]
    else:
        spec["volumes"] = [{"name": "creds", "secret": {"secretName": secret}}]
        container["volumeMounts"] = [{"name": "creds", "mountPath": "/run/creds", "readOnly": True}]
        container["env"].append({"name": "FROM_FILE", "value": "/run/creds"})
    return spec


def workload(kind: str, name: str, secret: str, key: str, via: str = "envFrom", annotated: bool = True, ns: str = NS) -> dict:
    labels = {"app": name}
    template = {"metadata": {"labels": labels}, "spec": pod_spec(secret, key, via)}
    spec: dict[str, Any] = {"replicas": 1, "selector": {"matchLabels": labels}, "template": template}
    if kind == "StatefulSet":
        spec["serviceName"] = name
    meta = {"name": name, "namespace": ns, "annotations": SEARCH if annotated else {}}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}


def batch(kind: str, name: str) -> dict:
    job_spec = {
        "backoffLimit": 0,
        "template": {"metadata": {"annotations": SEARCH}, "spec": pod_spec(SNOWFLAKE, "SNOWFLAKE_PASSWORD", "envFrom", "Never")},
    }
    meta = {"name": name, "namespace": NS, "annotations": SEARCH}
    if kind == "Job":
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": job_spec}
    # Once a year at midnight on January 1st: it never runs during the test unless something starts it.
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": meta,
        "spec": {"schedule": "0 0 1 1 *", "jobTemplate": {"spec": job_spec}},
    }


# Long-running consumers: (kind, name, Secret, key it hashes, how it reads it, annotated)
CONSUMERS = [
    ("Deployment", "snow-env", SNOWFLAKE, "SNOWFLAKE_PASSWORD", "envFrom", True),
    ("StatefulSet", "snow-files", SNOWFLAKE, "SNOWFLAKE_PASSWORD", "volume", True),
    ("Deployment", "snow-plain", SNOWFLAKE, "SNOWFLAKE_PASSWORD", "envFrom", False),
    ("Deployment", "minio-env", MINIO, "MINIO_ROOT_PASSWORD", "envFrom", True),
    ("Deployment", "cube-env", CUBE, "CUBE_API_SECRET", "envFrom", True),
]


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def get(cluster, *args: str) -> dict:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def wait_for(check, what: str, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not after {timeout:.0f} s"
        time.sleep(1)


def running_pods(cluster, name: str, ns: str = NS) -> list[dict]:
    pods = get(cluster, "pods", "-n", ns, "-l", f"app={name}")["items"]
    return [p for p in pods if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]


def printed_hash(cluster, pod: dict) -> str | None:
    logs = cluster.kubectl("logs", pod["metadata"]["name"], "-n", pod["metadata"]["namespace"], check=False).stdout.split()
    return logs[3] if len(logs) == 4 and logs[0] == "key" and logs[2] == "sha256" else None


def settled(cluster, name: str, value: str, ns: str = NS) -> list[dict] | None:
    """The workload's pods once exactly its replicas run and each printed the hash of ``value``."""
    pods = running_pods(cluster, name, ns)
    return pods if len(pods) == 1 and all(printed_hash(cluster, p) == sha256(value) for p in pods) else None


def template_marks(cluster) -> dict[str, str | None]:
    """``Kind/name`` -> Reloader's pod-template annotation (None when it never rolled it), for every workload of the namespace."""
    items = get(cluster, "deployments,statefulsets,daemonsets", "-n", NS)["items"]
    return {
        f"{w['kind']}/{w['metadata']['name']}": (w["spec"]["template"]["metadata"].get("annotations") or {}).get(RELOADED) for w in items
    }


def rolled_since(cluster, before: dict[str, str | None]) -> set[str]:
    return {w for w, mark in template_marks(cluster).items() if mark != before.get(w)}


def printed_radius(stdout: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(namespace -> workloads under "Will restart:", namespace -> running Jobs) as rotate printed them."""
    rolls: dict[str, set[str]] = {}
    jobs: dict[str, set[str]] = {}
    section = None
    for line in stdout.splitlines():
        if line.startswith("Will restart:"):
            section = rolls
        elif line.startswith("Running Jobs that finish on the old value"):
            section = jobs
        elif not line.startswith("  "):
            section = None
        elif section is not None and line.startswith("  namespace "):
            ns, _, items = line.strip().removeprefix("namespace ").partition(": ")
            section[ns] = {i for i in items.split(", ") if "/" in i and " " not in i}
    return rolls, jobs


def rotate(project: LocalProject, service: str) -> str:
    done = subprocess.run(
        [str(CLI), "--project-dir", str(project.root), "rotate", service, "--stack", "local", "--yes"],
        cwd=project.root,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def consumers(applied, cluster):
    """Every consumer running, each on the value it read; the Job running, the CronJob idle; a watched-nowhere twin outside."""
    # pulumi up returns once the ExternalSecret exists: ESO creates the cube Secret on its first sync, shortly after.
    values = wait_for(lambda: _every_consumed_secret(applied), "every consumed Secret in the cluster")
    objects = [workload(*c) for c in CONSUMERS] + [batch("Job", "snow-batch"), batch("CronJob", "snow-nightly")]
    cluster.kubectl("create", "namespace", OUTSIDE)
    outside_secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "outside", "namespace": OUTSIDE, "annotations": {"reloader.stakater.com/match": "true"}},
        "stringData": {"TOKEN": "first"},
    }
    objects += [outside_secret, workload("Deployment", "outside-env", "outside", "TOKEN", ns=OUTSIDE)]
    for obj in objects:
        cluster.kubectl("apply", "-f", "-", input=json.dumps(obj))
    for kind, name, secret, key, _, _ in CONSUMERS:
        value = values[f"{NS}/{secret}"][key]
        wait_for(lambda name=name, value=value: settled(cluster, name, value), f"{kind} {name} running on its Secret's value")
    wait_for(lambda: settled(cluster, "outside-env", "first", OUTSIDE), "Deployment outside-env running")
    job_pod = wait_for(lambda: _job_pod(cluster), "Job snow-batch running")
    yield {"values": values, "job_pod": job_pod}
    cluster.kubectl("delete", "namespace", OUTSIDE, "--wait=false", check=False)
    for obj in objects[: len(CONSUMERS) + 2]:
        cluster.kubectl("delete", obj["kind"].lower(), obj["metadata"]["name"], "-n", NS, "--wait=false", check=False)


def _every_consumed_secret(applied) -> dict[str, dict[str, str]] | None:
    found = applied.secrets()
    return found if {f"{NS}/{secret}" for _, _, secret, _, _, _ in CONSUMERS} <= found.keys() else None


def _job_pod(cluster) -> dict | None:
    pods = get(cluster, "pods", "-n", NS, "-l", "job-name=snow-batch")["items"]
    return pods[0] if len(pods) == 1 and pods[0]["status"].get("phase") == "Running" else None


def check_batch_untouched(cluster, job_pod: dict, old_value: str) -> None:
    job = get(cluster, "job", "snow-batch", "-n", NS)
    assert job["metadata"]["uid"] == job_pod["metadata"]["ownerReferences"][0]["uid"], "the Job was deleted and re-created"
    assert job["status"].get("active") == 1 and not job["status"].get("failed"), f"the Job is no longer running: {job['status']}"
    pod = _job_pod(cluster)
    assert pod and pod["metadata"]["uid"] == job_pod["metadata"]["uid"], "the Job's pod was replaced"
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 0
    assert printed_hash(cluster, pod) == sha256(old_value), "the running Job keeps the value it started with"
    jobs = {j["metadata"]["name"] for j in get(cluster, "jobs", "-n", NS)["items"]}
    assert jobs == {"snow-batch"}, f"a run was started: {sorted(jobs - {'snow-batch'})}"
    assert not get(cluster, "cronjob", "snow-nightly", "-n", NS)["status"].get("lastScheduleTime"), "the CronJob ran"


def check_rollout(cluster, name: str, kind: str, old_pod: dict, new_value: str) -> None:
    """A new pod, Running on the new value (a Deployment: under a new ReplicaSet)."""
    pods = wait_for(lambda: settled(cluster, name, new_value), f"{kind} {name} rolled to the new value")
    assert pods[0]["metadata"]["uid"] != old_pod["metadata"]["uid"]
    if kind == "Deployment":
        old_rs, new_rs = old_pod["metadata"]["ownerReferences"][0]["name"], pods[0]["metadata"]["ownerReferences"][0]["name"]
        assert new_rs != old_rs, f"{name}: the new pod belongs to the old ReplicaSet {old_rs}"


def test_rotate_rolls_exactly_the_blast_radius_it_printed_and_never_a_batch_run(applied, cluster, consumers):
    values = consumers["values"]
    old = values[f"{NS}/{SNOWFLAKE}"]["SNOWFLAKE_PASSWORD"]
    pods = {name: running_pods(cluster, name)[0] for _, name, *_ in CONSUMERS}
    before = template_marks(cluster)
    outside_before = get(cluster, "deployment", "outside-env", "-n", OUTSIDE)["spec"]["template"]

    # A change in a namespace Reloader does not watch, at the same time: nothing there may roll.
    cluster.kubectl("patch", "secret", "outside", "-n", OUTSIDE, "--type=merge", "-p", json.dumps({"stringData": {"TOKEN": "second"}}))
    stdout = rotate(applied, "snowflake")
    rolls, jobs = printed_radius(stdout.split("✓", 1)[0])  # what it printed before applying
    assert rolls.get(NS) == {"Deployment/snow-env", "StatefulSet/snow-files"}, stdout
    assert jobs.get(NS) == {"Job/snow-batch"}, stdout

    new = applied.secrets()[f"{NS}/{SNOWFLAKE}"]["SNOWFLAKE_PASSWORD"]
    assert new != old
    for kind, name, *_ in CONSUMERS:
        if f"{kind}/{name}" in rolls[NS]:
            check_rollout(cluster, name, kind, pods[name], new)
    time.sleep(5)  # Reloader handles one change of a Secret in one pass: anything else would have rolled by now
    assert rolled_since(cluster, before) == rolls[NS], "what rolled differs from the blast radius rotate printed"
    for _, name, *_ in CONSUMERS:
        if f"Deployment/{name}" not in rolls[NS] and f"StatefulSet/{name}" not in rolls[NS]:
            assert running_pods(cluster, name)[0]["metadata"]["uid"] == pods[name]["metadata"]["uid"], f"{name} was restarted"
    check_batch_untouched(cluster, consumers["job_pod"], old)
    assert get(cluster, "deployment", "outside-env", "-n", OUTSIDE)["spec"]["template"] == outside_before, (
        "Reloader acted outside the platform"
    )


def test_an_external_secrets_refresh_that_changes_a_value_rolls_its_consumers(applied, cluster, consumers):
    old = applied.secrets()[f"{NS}/{CUBE}"]["CUBE_API_SECRET"]
    pod = running_pods(cluster, "cube-env")[0]
    before = template_marks(cluster)
    # The local store is ESO's fake provider, filled by the stack: a rotation of the pushed value changes it, and
    # ESO's refresh (15 s in local) changes the Secret. rotate prints the blast radius from the live cluster first.
    stdout = rotate(applied, "cube")
    rolls, _ = printed_radius(stdout.split("✓", 1)[0])
    assert rolls.get(NS) == {"Deployment/cube-env"}, stdout
    new = wait_for(
        lambda: (v := applied.secrets()[f"{NS}/{CUBE}"]["CUBE_API_SECRET"]) != old and v, "ESO synced the new CUBE_API_SECRET", timeout=120
    )
    check_rollout(cluster, "cube-env", "Deployment", pod, new)
    time.sleep(5)
    assert rolled_since(cluster, before) == rolls[NS], "what rolled differs from the blast radius rotate printed"
    check_batch_untouched(cluster, consumers["job_pod"], consumers["values"][f"{NS}/{SNOWFLAKE}"]["SNOWFLAKE_PASSWORD"])
