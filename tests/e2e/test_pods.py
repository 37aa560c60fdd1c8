"""Consumers proven in running pods: every Secret the stack creates reaches a restricted pod through the stack's own
consumer snippet, and a job runner's pod gets exactly its namespace's Secrets.

The local stack is applied to the module's cluster (which runs pods: kube-scheduler, a kubelet over containerd,
secrets_platform/localcluster/node). Each pod is built from the stack outputs' snippet for its Secret (``envFrom``, a volume,
``imagePullSecrets``), runs the locally built busybox image as a non-root user under Pod Security ``restricted``,
and prints the NAMES of the keys it finds (never a value); the test compares them with the keys the outputs list.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from local_project import PULUMI, LocalProject, engine_missing

from secrets_platform import conventions
from secrets_platform.localcluster.node import NodeError, wait_pod
from secrets_platform.localcluster.node.images import WORKLOAD_IMAGE

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(engine_missing() is not None, reason=engine_missing() or "")]

MOUNT = "/run/secrets/consumer"
# Prints one line per expected key: "present NAME" or "absent NAME"; never a value.
SCRIPT = r"""
for k in $EXPECTED_KEYS; do
  if [ -n "$FROM_FILES" ]; then
    if [ -f "$FROM_FILES/$k" ]; then echo "present $k"; else echo "absent $k"; fi
  elif eval "[ -n \"\${$k+set}\" ]"; then echo "present $k"; else echo "absent $k"; fi
done
"""
RESTRICTED_POD = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
}
KUBE_SNIPPETS = ("envFrom", "volume", "imagePullSecrets")


@pytest.fixture(scope="module")
def project(tmp_path_factory, cluster):
    """The local stack plus a registry pull secret and a TLS secret (so every kind of snippet is run), applied."""
    p = LocalProject(tmp_path_factory.mktemp("pods"), cluster)
    pki = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
        + ["-subj", "/CN=dagster-web.local", "-keyout", "tls.key", "-out", "tls.crt"],
        cwd=pki,
        check=True,
        capture_output=True,
    )
    config = {
        "registries[0].service": ("ghcr", False),
        "registries[0].server": ("ghcr.io", False),
        "registries[0].username": ("pipelines", False),
        "registries[0].password": ("local-registry-token", True),
        "registries[0].namespaces[0]": ("dagster", False),
        "tlsSecrets[0].service": ("dagster-web", False),
        "tlsSecrets[0].certificate": ((pki / "tls.crt").read_text(), False),
        "tlsSecrets[0].privateKey": ((pki / "tls.key").read_text(), True),
        "tlsSecrets[0].namespaces[0]": ("dagster", False),
    }
    for path, (value, secret) in config.items():  # the value on stdin: a PEM's leading dashes would read as a flag
        args = ["config", "set", "-s", "local", "--path", f"secrets-platform:{path}", "--secret" if secret else "--plaintext"]
        done = subprocess.run([str(PULUMI), *args], input=value, cwd=p.root, env=p.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    p.pulumi("up", "-s", "local", "--yes", "--policy-pack", "policies")
    yield p
    p.pulumi("destroy", "-s", "local", "--yes", check=False)


@pytest.fixture(scope="module")
def outputs(project: LocalProject) -> dict:
    return json.loads(project.pulumi("stack", "output", "-s", "local", "--json").stdout)


def consumed(outputs: dict) -> list[dict]:
    """The outputs' entries of Kubernetes Secrets: those with a pod snippet."""
    return [e for e in outputs["secrets"] if any(k in e["consumers"] for k in KUBE_SNIPPETS)]


def consumer_container(entries: list[dict], keys: list[str]) -> tuple[dict, dict]:
    """A restricted container (and its pod spec) consuming ``entries`` through their own snippets."""
    container: dict = {
        "name": "consumer",
        "image": WORKLOAD_IMAGE,
        "imagePullPolicy": "Never",
        "command": ["sh", "-c", SCRIPT],
        "env": [{"name": "EXPECTED_KEYS", "value": " ".join(keys)}],
        "securityContext": RESTRICTED_CONTAINER,
    }
    spec: dict = {
        "restartPolicy": "Never",
        "serviceAccountName": conventions.JOB_RUNNER,
        "securityContext": RESTRICTED_POD,
        "containers": [container],
    }
    for entry in entries:
        snippet = entry["consumers"]
        if "envFrom" in snippet:
            container.setdefault("envFrom", []).extend(snippet["envFrom"])
        if "volume" in snippet or "imagePullSecrets" in snippet:
            volume = snippet.get("volume") or {"name": entry["name"], "secret": {"secretName": entry["name"]}}
            spec.setdefault("volumes", []).append(volume)
            container.setdefault("volumeMounts", []).append({"name": volume["name"], "mountPath": MOUNT, "readOnly": True})
            container["env"].append({"name": "FROM_FILES", "value": MOUNT})
        if "imagePullSecrets" in snippet:
            spec.setdefault("imagePullSecrets", []).extend(snippet["imagePullSecrets"])
    return container, spec


def run_pod(cluster, namespace: str, name: str, spec: dict) -> tuple[str, str]:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}, "spec": spec}
    cluster.kubectl("delete", "pod", name, "-n", namespace, "--ignore-not-found", "--wait=true")
    cluster.kubectl("create", "-f", "-", input=json.dumps(pod))
    phase = wait_pod(cluster, namespace, name)
    return phase, cluster.kubectl("logs", name, "-n", namespace).stdout


def wait_for_secret(cluster, namespace: str, name: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while cluster.kubectl("get", "secret", name, "-n", namespace, "-o", "name", check=False).returncode != 0:
        assert time.monotonic() < deadline, f"Secret {namespace}/{name} does not exist {timeout:.0f} s after the apply"
        time.sleep(0.5)


def found(logs: str) -> dict[str, str]:
    return {line.split()[1]: line.split()[0] for line in logs.splitlines() if len(line.split()) == 2}


def values_of(project: LocalProject) -> set[str]:
    return {v for data in project.secrets().values() for v in data.values() if len(v) >= 6}


def test_every_kind_of_snippet_is_run(outputs):
    kinds = {k for e in consumed(outputs) for k in KUBE_SNIPPETS if k in e["consumers"]}
    assert kinds == set(KUBE_SNIPPETS), kinds


def test_every_secret_the_stack_creates_has_a_pod_snippet(project, outputs):
    namespaces = set(outputs["namespaces"])
    with_snippet = {f"{e['namespace']}/{e['name']}" for e in consumed(outputs)}
    in_cluster = {key for key in project.cluster_secrets() if key.split("/")[0] in namespaces}
    assert in_cluster <= with_snippet, f"Secrets without a pod snippet in the outputs: {sorted(in_cluster - with_snippet)}"
    assert with_snippet, "the outputs list no Kubernetes Secret"


def test_a_restricted_pod_from_each_snippet_finds_every_listed_key(project, cluster, outputs):
    values = values_of(project)
    entries = consumed(outputs)
    assert {e["namespace"] for e in entries} == set(outputs["namespaces"]), "some platform namespace gets no Secret"
    for i, entry in enumerate(entries):
        wait_for_secret(cluster, entry["namespace"], entry["name"])  # External Secrets syncs some after the apply
        _, spec = consumer_container([entry], entry["keys"])
        phase, logs = run_pod(cluster, entry["namespace"], f"consumer-{i}", spec)
        where = f"{entry['namespace']}/{entry['name']}"
        assert phase == "Succeeded", f"the consumer pod of {where} ended {phase}: {logs}"
        assert found(logs) == {k: "present" for k in entry["keys"]}, f"{where}: the pod found {found(logs)}, outputs list {entry['keys']}"
        for value in values:
            assert value not in logs, f"{where}: a Secret value is in the pod's log"
        events = cluster.kubectl("get", "events", "-n", entry["namespace"], "--field-selector", f"involvedObject.name=consumer-{i}").stdout
        assert "FailedToRetrieveImagePullSecret" not in events, f"{where}: {events}"


def test_a_job_runners_job_gets_exactly_its_namespaces_secrets(project, cluster, outputs):
    by_namespace: dict[str, list[dict]] = {}
    for entry in consumed(outputs):
        by_namespace.setdefault(entry["namespace"], []).append(entry)
    namespace = "floe-jobs-local"
    own = by_namespace[namespace]
    for entry in own:
        wait_for_secret(cluster, namespace, entry["name"])
    env_entries = [e for e in own if "envFrom" in e["consumers"]]
    keys = sorted({k for e in env_entries for k in e["keys"]})
    container, spec = consumer_container(env_entries, keys)
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "nightly-consumer", "namespace": namespace},
        "spec": {"backoffLimit": 0, "template": {"spec": spec}},
    }
    cluster.kubectl("create", "-f", "-", input=json.dumps(job))
    cluster.kubectl("wait", "--for=condition=Complete", "job/nightly-consumer", "-n", namespace, "--timeout=120s", timeout=130)
    logs = cluster.kubectl("logs", "job/nightly-consumer", "-n", namespace).stdout
    assert found(logs) == {k: "present" for k in keys}, logs


def test_a_pod_cannot_start_on_another_namespaces_secret(project, cluster, outputs):
    by_namespace: dict[str, set[str]] = {}
    entries = [e for e in consumed(outputs) if "envFrom" in e["consumers"]]
    for entry in entries:
        by_namespace.setdefault(entry["namespace"], set()).add(entry["name"])
    checked = 0
    for namespace, own in sorted(by_namespace.items()):
        foreign = next((e for e in entries if e["namespace"] != namespace and e["name"] not in own), None)
        if foreign is None:
            continue
        _, spec = consumer_container([foreign], foreign["keys"])
        name = f"foreign-{checked}"
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}, "spec": spec}
        cluster.kubectl("create", "-f", "-", input=json.dumps(pod))
        with pytest.raises(NodeError) as err:
            wait_pod(cluster, namespace, name)
        text = str(err.value)
        assert "CreateContainerConfigError" in text and f'secret "{foreign["name"]}" not found' in text, text
        assert "make up" in text  # the fix is named
        checked += 1
    assert checked >= 2, "no namespace pair to check"


def test_a_pod_that_would_pull_is_refused_with_the_fix(project, cluster):
    _, spec = consumer_container([], [])
    spec["containers"][0]["image"] = "docker.io/library/busybox:1.36"
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "would-pull", "namespace": "dagster-local"}, "spec": spec}
    cluster.kubectl("create", "-f", "-", input=json.dumps(pod))
    with pytest.raises(NodeError, match=rf"ErrImageNeverPull.*{WORKLOAD_IMAGE}"):
        wait_pod(cluster, "dagster-local", "would-pull")


def test_a_pod_reaches_only_its_own_loopback(project, cluster):
    """Pods have only `lo`: the API server (on the host's 127.0.0.1) is not reachable from inside."""
    _, spec = consumer_container([], [])
    port = cluster.ports.api
    script = (
        f"ls /sys/class/net; if nc -w 3 127.0.0.1 {port} </dev/null 2>&1 | grep -q 'Connection refused'; "
        "then echo refused; else echo reached; fi; "
        # its own loopback works: a listener inside the pod is reached
        "(nc -l -p 8080 -w 5 >/dev/null &); sleep 1; if echo x | nc -w 2 127.0.0.1 8080; then echo own; fi"
    )
    spec["containers"][0]["command"] = ["sh", "-c", script]
    phase, logs = run_pod(cluster, "dagster-local", "netcheck", spec)
    assert phase == "Succeeded", logs
    assert logs.split() == ["lo", "refused", "own"], logs


def test_secret_values_never_reach_the_pod_logs_folder(project, cluster):
    values = values_of(project)
    logs = cluster.node.pod_logs
    for path in logs.rglob("*.log"):
        text = path.read_text(errors="replace")
        for value in values:
            assert value not in text, f"{path}: a Secret value is in a pod's log"
    assert any(logs.rglob("*.log")), "no pod log was written"
