"""What only a real API server can prove: RBAC through the authorizer, Pod Security admission,
metadata without values, in-place rotation, drift, an interrupted `up`, loopback only.

One project copy is applied to the module's local cluster (tests/e2e/conftest.py);
each test checks one invariant and names the object in its failure.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from local_project import PULUMI, ROOT, LocalProject, engine_missing

from secrets_platform import conventions
from secrets_platform.localcluster import COMPONENTS, SERVICE_RANGE
from secrets_platform.model import planned_descriptors

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(engine_missing() is not None, reason=engine_missing() or "")]

LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
# The drift workflow's exact command (.github/workflows/drift.yml), on the local stack.
DRIFT = ("refresh", "--stack", "local", "--preview-only", "--expect-no-changes", "--diff=false")


@pytest.fixture(scope="module")
def project(applied):
    return applied


def plan(p: LocalProject):
    return p.settings()


def kube_secrets(p: LocalProject) -> dict[str, set[str]]:
    """namespace -> names of the platform's Kubernetes Secrets there (what job runners may read)."""
    out: dict[str, set[str]] = {}
    for d in planned_descriptors(plan(p)):
        out.setdefault(d.namespace, set()).add(d.name)
    return out


def review(cluster, user: str, verb: str, namespace: str, name: str | None = None) -> bool:
    """A SubjectAccessReview through the API server's real authorizer, for a service account with its token's groups."""
    own_namespace = user.split(":")[2]
    attrs = {"verb": verb, "resource": "secrets", "namespace": namespace, **({"name": name} if name else {})}
    sar = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": user,
            "resourceAttributes": attrs,
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{own_namespace}", "system:authenticated"],
        },
    }
    done = cluster.kubectl("create", "-f", "-", "-o", "json", input=json.dumps(sar))
    return bool(json.loads(done.stdout)["status"].get("allowed"))


def job_runner(namespace: str) -> str:
    return f"system:serviceaccount:{namespace}:{conventions.JOB_RUNNER}"


# ---------------------------------------------------------------------------- loopback only


def test_every_listener_of_the_local_cluster_is_on_loopback(cluster):
    listeners = cluster.listeners()
    assert set(listeners) == set(COMPONENTS)  # every process the cluster runs, the node's included
    for component, sockets in listeners.items():
        assert sockets, f"{component} listens nowhere"
        for address, port in sockets:
            assert ipaddress.ip_address(address) in LOOPBACK, f"{component} listens on {address}:{port}, off loopback"


def test_the_service_range_is_inside_loopback(cluster):
    ip = cluster.kubectl("get", "service", "kubernetes", "-n", "default", "-o", "jsonpath={.spec.clusterIP}").stdout.strip()
    assert ipaddress.ip_address(ip) in ipaddress.ip_network(SERVICE_RANGE) and ipaddress.IPv4Network(SERVICE_RANGE).subnet_of(LOOPBACK), ip


def etcd_secret_count(cluster, port: int, tls: bool = True, cert: str | None = None) -> int:
    """How many Secrets etcd's v3 API counts under /registry/secrets/, asked over plain HTTP or TLS (with ``cert`` or none)."""
    import ssl
    import urllib.request

    body = json.dumps(
        {
            "key": base64.b64encode(b"/registry/secrets/").decode(),
            "range_end": base64.b64encode(b"/registry/secrets0").decode(),
            "count_only": True,
        }
    ).encode()
    ctx = None
    if tls:
        ctx = ssl.create_default_context(cafile=str(cluster.pki / "etcd-ca.crt"))
        if cert:
            ctx.load_cert_chain(str(cluster.pki / f"{cert}.crt"), str(cluster.pki / f"{cert}.key"))
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}/v3/kv/range"
    with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=5, context=ctx) as resp:
        return int(json.loads(resp.read()).get("count", 0))


def test_etcd_serves_only_tls_with_a_client_certificate_of_its_own_ca(project, cluster):
    """etcd holds every Secret: plain HTTP, TLS without a client certificate, and TLS with a certificate of the API
    server's CA (the admin's) are refused on the client and the peer port; the API server's etcd client reads."""
    import ssl
    import urllib.error

    ports = cluster.ports
    # listed first: External Secrets may still be creating its Secrets, and etcd, read after, holds those too
    listed = len(project.cluster_secrets())
    assert etcd_secret_count(cluster, ports.etcd, cert="apiserver-etcd-client") >= listed > 0
    for port in (ports.etcd, ports.etcd_peer):
        for tls, cert in ((False, None), (True, None), (True, "admin")):
            what = f"{'TLS' if tls else 'plain HTTP'} {'with the ' + cert + ' certificate' if cert else 'without a client certificate'}"
            with pytest.raises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
                count = etcd_secret_count(cluster, port, tls=tls, cert=cert)
                pytest.fail(f"etcd on port {port} answered {what}: {count} Secrets")
    assert cluster.ready()


# ---------------------------------------------------------------------------- RBAC


def test_every_job_runner_can_get_exactly_the_secrets_of_its_namespace(project, cluster):
    secrets = kube_secrets(project)
    for ns in plan(project).namespaces:
        for name in sorted(secrets.get(ns, ())):
            assert review(cluster, job_runner(ns), "get", ns, name), f"{ns}/{conventions.JOB_RUNNER} cannot get Secret {ns}/{name}"
        assert not review(cluster, job_runner(ns), "get", ns, "not-declared-local-credentials"), (
            f"{ns}: job runner gets an undeclared Secret"
        )


@pytest.mark.parametrize("verb", ["list", "watch", "create", "update", "delete"])
def test_job_runners_cannot_list_watch_or_write_secrets(project, cluster, verb):
    for ns in plan(project).namespaces:
        assert not review(cluster, job_runner(ns), verb, ns), f"{ns}/{conventions.JOB_RUNNER} may {verb} Secrets"


def test_job_runners_cannot_get_secrets_of_another_namespace(project, cluster):
    secrets = kube_secrets(project)
    namespaces = plan(project).namespaces
    for ns in namespaces:
        for other in namespaces:
            if other == ns:
                continue
            for name in sorted(secrets.get(other, ())):
                assert not review(cluster, job_runner(ns), "get", other, name), f"{ns}/{conventions.JOB_RUNNER} gets Secret {other}/{name}"


def test_a_job_runner_token_reads_its_own_secret_and_is_forbidden_on_another(project, cluster, tmp_path):
    ns, other = "flytesnacks-local", "floe-jobs-local"
    present = {key.split("/")[1] for key in project.cluster_secrets()}
    own = sorted(kube_secrets(project)[ns] & present)[0]
    foreign = sorted((kube_secrets(project)[other] - kube_secrets(project)[ns]) & present)[0]
    token = cluster.kubectl("create", "token", conventions.JOB_RUNNER, "-n", ns, "--duration=10m").stdout.strip()
    # The token in a 0600 kubeconfig, never on kubectl's command line (every local user reads /proc/<pid>/cmdline).
    runner_config = tmp_path / "runner-kubeconfig"
    runner_config.touch(mode=0o600)
    runner_config.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "local", "cluster": {"server": cluster.server, "certificate-authority": str(cluster.pki / "ca.crt")}}
                ],
                "users": [{"name": "runner", "user": {"token": token}}],
                "contexts": [{"name": "runner", "context": {"cluster": "local", "user": "runner"}}],
                "current-context": "runner",
            }
        )
    )
    as_runner = ("--kubeconfig", str(runner_config))
    ok = cluster.kubectl(*as_runner, "get", "secret", own, "-n", ns, "-o", "name", check=False)
    assert ok.returncode == 0, f"job runner of {ns} cannot read {ns}/{own}: {ok.stderr}"
    denied = cluster.kubectl(*as_runner, "get", "secret", foreign, "-n", other, "-o", "name", check=False)
    assert denied.returncode != 0 and "Forbidden" in denied.stderr, f"job runner of {ns} reads {other}/{foreign}"


# ---------------------------------------------------------------------------- admission


def test_pod_security_restricted_refuses_a_non_restricted_pod_in_every_platform_namespace(project, cluster):
    namespaces = json.loads(cluster.kubectl("get", "namespaces", "-l", "app.kubernetes.io/part-of=secrets-platform", "-o", "json").stdout)
    names = [n["metadata"]["name"] for n in namespaces["items"]]
    assert set(plan(project).namespaces) <= set(names)
    for ns in names:
        # No securityContext at all: may run as root, escalate, keeps every capability, no seccomp profile.
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "unrestricted-probe", "namespace": ns},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        }
        done = cluster.kubectl("create", "--dry-run=server", "-f", "-", input=json.dumps(pod), check=False)
        assert done.returncode != 0 and 'violates PodSecurity "restricted' in done.stderr, (
            f"namespace {ns} admits a pod that breaks restricted: {done.stdout}{done.stderr}"
        )


# ---------------------------------------------------------------------------- values stay out of metadata


def test_no_secret_carries_its_data_in_metadata(project):
    objects = project.cluster_secrets()
    assert objects
    values = {base64.b64decode(v).decode() for o in objects.values() for v in (o.get("data") or {}).values()}
    for key, obj in objects.items():
        annotations = obj["metadata"].get("annotations") or {}
        assert "kubectl.kubernetes.io/last-applied-configuration" not in annotations, f"Secret {key} has a last-applied annotation"
        text = json.dumps({k: obj["metadata"].get(k) for k in ("annotations", "labels")})
        for value in values:
            assert len(value) < 8 or value not in text, f"Secret {key}: a value appears in its metadata"


# ---------------------------------------------------------------------------- rotation in place


def test_rotation_updates_the_secret_in_place(project):
    key = "dagster-local/snowflake-local-credentials"
    before = project.cluster_secrets()[key]

    def bump(config):
        for cred in config["secrets-platform:credentials"]:
            if cred["service"] == "snowflake":
                cred["rotation"] = str(int(cred.get("rotation", "1")) + 1)

    project.edit_stack(bump)
    project.pulumi("up", "-s", "local", "--yes")
    after = project.cluster_secrets()[key]
    assert after["metadata"]["uid"] == before["metadata"]["uid"], f"Secret {key} was recreated"
    assert after["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"], f"Secret {key} was not updated"
    assert after["data"]["SNOWFLAKE_PASSWORD"] != before["data"]["SNOWFLAKE_PASSWORD"]


# ---------------------------------------------------------------------------- drift


def test_an_edited_secret_label_fails_the_drift_check_and_up_repairs_it(project, cluster):
    assert project.pulumi(*DRIFT, check=False).returncode == 0, "drift reported on an untouched stack"
    cluster.kubectl(
        "label", "secret", "minio-local-credentials", "-n", "dagster-local", "--overwrite", f"{conventions.LABEL_ENVIRONMENT}=prd"
    )
    drift = project.pulumi(*DRIFT, check=False)
    assert drift.returncode != 0, "a Secret relabelled to prd out of band went unnoticed"
    project.pulumi("up", "-s", "local", "--yes", "--refresh")
    label = cluster.kubectl(
        "get",
        "secret",
        "minio-local-credentials",
        "-n",
        "dagster-local",
        "-o",
        "jsonpath={.metadata.labels.secrets-platform\\.io/environment}",
    ).stdout
    assert label == "local"
    assert project.pulumi(*DRIFT, check=False).returncode == 0


def test_a_deleted_rolebinding_fails_the_drift_check_and_up_repairs_it(project, cluster):
    bindings = cluster.kubectl(
        "get", "rolebindings", "-n", "floe-jobs-local", "-l", "app.kubernetes.io/part-of=secrets-platform", "-o", "name"
    ).stdout.split()
    assert bindings, "no RoleBinding of the platform in floe-jobs-local"
    cluster.kubectl("delete", bindings[0], "-n", "floe-jobs-local")
    assert project.pulumi(*DRIFT, check=False).returncode != 0, f"{bindings[0]} deleted out of band went unnoticed"
    project.pulumi("up", "-s", "local", "--yes", "--refresh")
    cluster.kubectl("get", bindings[0], "-n", "floe-jobs-local")
    assert project.pulumi(*DRIFT, check=False).returncode == 0


# ---------------------------------------------------------------------------- an interrupted up


def _language_hosts_in(root: Path) -> set[int]:
    """The pids of the pulumi-language-python processes working in ``root`` (the engine starts them there)."""
    pids = set()
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            argv0 = (proc_dir / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            cwd = os.readlink(proc_dir / "cwd")
        except OSError:
            continue
        if Path(argv0).name == "pulumi-language-python" and Path(cwd) == root.resolve():
            pids.add(int(proc_dir.name))
    return pids


def test_an_up_killed_halfway_converges_after_refresh_and_up(tmp_path, cluster, project):
    # Its own environment's names would collide with the module's project: destroy that first.
    project.pulumi("destroy", "-s", "local", "--yes")
    p = LocalProject(tmp_path, cluster)
    proc = subprocess.Popen(
        [str(PULUMI), "up", "-s", "local", "--yes", "--non-interactive"],
        cwd=p.root,
        env=p.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    # The language host is looked for while the up runs: once the last Secret is written the engine may already be
    # stopping its plugins, so a single look after the first Secret appears can miss it (seen on a slow machine).
    hosts: set[int] = set()
    while time.monotonic() < deadline and proc.poll() is None:
        hosts |= _language_hosts_in(p.root)
        created = cluster.kubectl("get", "secrets", "-A", "-l", "app.kubernetes.io/part-of=secrets-platform", "-o", "name").stdout.split()
        if created:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "up finished before it could be interrupted"
    assert hosts, "no language host of the interrupted up was found (its cwd is the project)"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    # The engine died without stopping its plugins: our language host notices (it checks the engine every 5 s) and exits.
    deadline = time.monotonic() + 60
    while (left := hosts & _language_hosts_in(p.root)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, f"the killed engine's language host still runs (pids {sorted(left)})"
    # What `make up` does after an interrupted run (localcluster recover): the dead run's lock goes, then refresh and up.
    recover = subprocess.run(
        [sys.executable, "-m", "secrets_platform.localcluster", "recover", "--state", str(p.root / ".state")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert recover.returncode == 0 and "stale lock" in recover.stdout, recover.stdout + recover.stderr
    p.pulumi("refresh", "-s", "local", "--yes", "--clear-pending-creates")
    p.pulumi("up", "-s", "local", "--yes")
    state = json.loads(p.pulumi("stack", "export", "-s", "local").stdout)
    assert not state["deployment"].get("pending_operations"), state["deployment"].get("pending_operations")
    assert {f"{d.namespace}/{d.name}" for d in planned_descriptors(plan(p)) if d.backend == "kubernetes"} <= set(p.cluster_secrets())
    p.pulumi("up", "-s", "local", "--yes", "--expect-no-changes")
    p.pulumi("destroy", "-s", "local", "--yes")
    # The module's project again, for any test after this one.
    project.pulumi("up", "-s", "local", "--yes")
