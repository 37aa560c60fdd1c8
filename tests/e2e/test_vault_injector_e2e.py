"""The Vault agent injector for real: vault-k8s's admission handler mutates the stack's Vault consumers' pods.

The local stack is applied to the module's cluster (which runs the injector on 127.0.0.1 with its URL
webhook, secrets_platform/localcluster/injector.py), and make up's Vault step applies its Vault side to an OpenBao dev
server. For every Vault-backed consumer the stack outputs (each KV bundle's and each vault-database
bundle's snippet, per namespace), a job pod built from that snippet is created with
``kubectl create --dry-run=server``: the API server calls the webhook and returns the mutated pod.

Pods here cannot reach Vault (each has only its own loopback), so the agent configuration the
injector wrote (the init container's VAULT_CONFIG) is run by OpenBao's own agent on the host,
its container paths moved under a temporary folder and nothing else changed, with a token of the
pod's service account from the TokenRequest API (the audience of the pod's projected volume).
Rendered files are compared by name and by hash, never printed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from local_project import LocalProject, engine_missing
from vault_client import http, run_apply

from secrets_platform import conventions
from secrets_platform.localcluster import Cluster, injector
from secrets_platform.localcluster.node.images import WORKLOAD_IMAGE
from secrets_platform.localcluster.postgres import LocalPostgres
from secrets_platform.localcluster.vault import OpenBao, bao_binary

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(engine_missing() is not None, reason=engine_missing() or "")]

RESTRICTED_POD = {"runAsNonRoot": True, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}}
RESTRICTED_CONTAINER = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True}
AGENT_TIMEOUT = 60
REFUSED_WAIT = 15
ENV_LINE = re.compile(r"^([A-Z_][A-Z0-9_]*)='(.*)'$")


@pytest.fixture(scope="module")
def servers(cluster):
    bao, pg = OpenBao(cluster), LocalPostgres(cluster)
    bao.start()
    pg.start()  # the local stack's vault-database bundle: apply configures the engine against it
    yield bao, pg
    pg.stop()
    bao.stop()


@pytest.fixture(scope="module")
def vault(tmp_path_factory, cluster, servers):
    p = LocalProject(tmp_path_factory.mktemp("injector"), cluster)
    p.pulumi("up", "-s", "local", "--yes", "--policy-pack", "policies")
    outputs = p.root / "outputs.json"
    outputs.write_text(p.pulumi("stack", "output", "-s", "local", "--json").stdout)
    done = run_apply(cluster, outputs)
    assert done.returncode == 0, done.stderr
    yield json.loads(outputs.read_text())["vault"]
    p.pulumi("destroy", "-s", "local", "--yes", check=False)


def consumers(vault: dict) -> list[dict]:
    """Every Vault-backed consumer of the outputs: service, namespace, kind, snippet, and where its values live."""
    out = []
    for c in vault["credentials"]:
        for namespace, snippet in sorted(c["consumers"].items()):
            out.append({"service": c["service"], "namespace": namespace, "kind": "kv", "snippet": snippet, "path": None})
    for d in vault["databases"]:
        for namespace, snippet in sorted(d["consumers"].items()):
            out.append({"service": d["service"], "namespace": namespace, "kind": "database", "snippet": snippet, "path": d["credsPath"]})
    return out


def job_pod(namespace: str, snippet: dict, name: str) -> dict:
    """A Job's pod built from a consumer snippet: its annotations, service account and token volume, restricted."""
    command = snippet.get("command") or "ls /vault/secrets"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "annotations": snippet["podAnnotations"], "labels": {"job-name": name}},
        "spec": {
            "restartPolicy": "Never",
            "serviceAccountName": snippet["serviceAccountName"],
            "securityContext": RESTRICTED_POD,
            "volumes": snippet["volumes"],
            "containers": [
                {
                    "name": "job",
                    "image": WORKLOAD_IMAGE,
                    "imagePullPolicy": "Never",
                    "command": ["sh", "-c", command, "job", "true"],
                    "securityContext": RESTRICTED_CONTAINER,
                }
            ],
        },
    }


def dry_run(cluster: Cluster, pod: dict) -> dict:
    """The pod as the API server would store it (admission included), created nowhere."""
    done = cluster.kubectl("create", "--dry-run=server", "-o", "json", "-f", "-", input=json.dumps(pod))
    return json.loads(done.stdout)


def mutated(cluster: Cluster, pod: dict) -> dict:
    """The dry run once the webhook is in effect (the API server picks a new configuration up within a second or so)."""
    seen: dict = {}

    def injected() -> bool:
        seen["pod"] = dry_run(cluster, pod)
        return any(c["name"] == injector.INIT_CONTAINER for c in seen["pod"]["spec"].get("initContainers") or [])

    injector.wait_until(injected, timeout=30, interval=1)
    return seen["pod"]


def audience(snippet: dict) -> str:
    (volume,) = [
        v
        for v in snippet["volumes"]
        if v["name"] == snippet["podAnnotations"]["vault.hashicorp.com/agent-service-account-token-volume-name"]
    ]
    (source,) = volume["projected"]["sources"]
    return source["serviceAccountToken"]["audience"]


def run_agent(cluster: Cluster, config: dict, namespace: str, aud: str, root: Path, timeout: float) -> tuple[int | None, str]:
    """OpenBao's agent on the host with the injected config (paths under ``root``) and a token of ``namespace``'s job runner.

    Returns the exit code (None when it was still running after ``timeout`` seconds: stopped) and its log.
    """
    hosted = injector.on_host(config, root)
    token_path = Path(hosted["auto_auth"]["method"]["config"]["token_path"])
    for folder in {token_path.parent, Path(hosted["pid_file"]).parent, *(Path(t["destination"]).parent for t in hosted["template"])}:
        folder.mkdir(parents=True, exist_ok=True)
    jwt = cluster.kubectl("create", "token", conventions.JOB_RUNNER, "-n", namespace, "--audience", aud, "--duration=10m").stdout.strip()
    fd = os.open(token_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(jwt)
    config_file = root / "agent.json"
    config_file.write_text(json.dumps(hosted))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root), "LANG": "C.UTF-8"}
    log = root / "agent.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(bao_binary()), "agent", f"-config={config_file}"], stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(timeout=10)
            code = None
    return code, log.read_text(errors="replace")


def digest(value: str | bytes) -> str:
    return hashlib.sha256(value.encode() if isinstance(value, str) else value).hexdigest()


def test_every_vault_consumer_is_mutated_as_its_outputs_say(cluster, servers, vault):
    bao, _ = servers
    found = consumers(vault)
    assert {(c["service"], c["kind"]) for c in found} >= {("salesforce", "kv"), ("warehouse", "database")}
    for i, c in enumerate(found):
        snippet, namespace, where = c["snippet"], c["namespace"], f"{c['service']} in {c['namespace']}"
        annotations = snippet["podAnnotations"]
        pod = mutated(cluster, job_pod(namespace, snippet, f"injected-{i}"))
        inits = [x["name"] for x in pod["spec"].get("initContainers") or []]
        assert inits == [injector.INIT_CONTAINER], f"{where}: init containers {inits}"
        # agent-pre-populate-only: no sidecar, so a Job's pod completes
        assert injector.SIDECAR_CONTAINER not in [x["name"] for x in pod["spec"]["containers"]], where
        assert pod["metadata"]["annotations"].get("vault.hashicorp.com/agent-inject-status") == "injected", where
        config = injector.agent_config(pod)
        method = config["auto_auth"]["method"]
        role = next(r for r in vault["roles"] if r["boundServiceAccountNamespaces"] == [namespace])
        assert method["type"] == "kubernetes", where
        assert method["mount_path"] == annotations["vault.hashicorp.com/auth-path"] == role["authPath"], where
        assert method["config"]["role"] == annotations["vault.hashicorp.com/role"] == role["roleName"], where
        assert config["vault"]["address"] == bao.address, where
        assert config["exit_after_auth"] is True, where
        templates = {t["destination"]: t["contents"] for t in config["template"]}
        assert set(templates) == set(snippet["files"].values()), f"{where}: agent renders {sorted(templates)}"
        for name in {Path(d).name for d in templates}:
            assert templates[f"/vault/secrets/{name}"] == annotations[f"vault.hashicorp.com/agent-inject-template-{name}"], where
            if c["path"]:  # a database bundle's creds path; a KV bundle's API path is checked by the values its files get
                assert annotations[f"vault.hashicorp.com/agent-inject-secret-{name}"] == c["path"], where


def test_pods_without_the_annotation_or_outside_the_platform_are_left_alone(cluster, vault):
    (c, *_) = consumers(vault)
    assert mutated(cluster, job_pod(c["namespace"], c["snippet"], "asking"))["spec"]["initContainers"]  # the webhook is in effect
    plain = job_pod(c["namespace"], {**c["snippet"], "podAnnotations": {}}, "not-asking")
    assert not dry_run(cluster, plain)["spec"].get("initContainers")
    cluster.kubectl("create", "namespace", "not-the-platforms")
    elsewhere = job_pod("not-the-platforms", c["snippet"], "elsewhere")
    elsewhere["spec"]["serviceAccountName"] = "default"
    # the namespace's default service account appears once its controller ran
    assert injector.wait_until(lambda: cluster.kubectl("get", "sa", "default", "-n", "not-the-platforms", check=False).returncode == 0, 30)
    assert not dry_run(cluster, elsewhere)["spec"].get("initContainers")


def test_the_injected_config_renders_exactly_the_declared_files(cluster, servers, vault, tmp_path):
    bao, pg = servers
    for i, c in enumerate(consumers(vault)):
        snippet, where = c["snippet"], f"{c['service']} in {c['namespace']}"
        config = injector.agent_config(mutated(cluster, job_pod(c["namespace"], snippet, f"render-{i}")))
        root = tmp_path / f"pod-{i}"
        code, log = run_agent(cluster, config, c["namespace"], audience(snippet), root, AGENT_TIMEOUT)
        assert code == 0, f"{where}: the agent exited {code}: {log[-2000:]}"
        declared = {Path(f).name for f in snippet["files"].values()}
        rendered = {p.name for p in (root / "vault" / "secrets").iterdir()}
        assert rendered == declared, f"{where}: rendered {sorted(rendered)}, declared {sorted(declared)}"
        if c["kind"] == "kv":
            check_kv_files(bao, c, root, where)
        else:
            check_database_file(pg, c, root, where)


def check_kv_files(bao: OpenBao, c: dict, root: Path, where: str) -> None:
    """Each file holds exactly its KV field's value at the path its annotation names (compared by hash)."""
    for name, prop in _file_properties(c["snippet"]).items():
        path = c["snippet"]["podAnnotations"][f"vault.hashicorp.com/agent-inject-secret-{name}"]
        status, doc = http(bao, "GET", path, bao.root_token())
        assert status == 200, f"{path}: HTTP {status}"
        content = (root / "vault" / "secrets" / name).read_bytes()
        same = digest(content) == digest(doc["data"]["data"][prop])
        assert same, f"{where}: {name} does not hold the value of {prop} at {path}"


def _file_properties(snippet: dict) -> dict[str, str]:
    """file name -> KV field, read from each template (``index .Data.data "<field>"``)."""
    out = {}
    for key, value in snippet["podAnnotations"].items():
        if key.startswith("vault.hashicorp.com/agent-inject-template-"):
            (prop,) = re.findall(r'index \.Data\.data "([^"]+)"', value)
            out[key.rsplit("-template-", 1)[1]] = prop
    return out


def check_database_file(pg: LocalPostgres, c: dict, root: Path, where: str) -> None:
    """One env file: every declared key once with a non-empty value, and the user it names exists in PostgreSQL."""
    (name,) = {Path(f).name for f in c["snippet"]["files"].values()}
    lines = (root / "vault" / "secrets" / name).read_text().splitlines()
    parsed: dict[str, str] = {m.group(1): m.group(2) for m in map(ENV_LINE.match, lines) if m}
    assert len(parsed) == len(lines), f"{where}: {name} has lines that are not KEY='value'"
    assert sorted(parsed) == sorted(c["snippet"]["files"]), f"{where}: {name} holds {sorted(parsed)}"
    empty = sorted(k for k, v in parsed.items() if not v)
    assert not empty, f"{where}: {name} has empty values for {empty}"
    template = c["snippet"]["podAnnotations"][f"vault.hashicorp.com/agent-inject-template-{name}"]
    (user_key,) = re.findall(r"^([A-Z_][A-Z0-9_]*)='\{\{ \.Data\.username \}\}'$", template, re.M)
    exists = pg.sql(f"SELECT count(*) FROM pg_roles WHERE rolname = '{parsed[user_key]}'").strip() == "1"
    assert exists, f"{where}: the user in {name} does not exist in the local PostgreSQL"


def test_the_same_config_for_another_namespaces_pod_is_refused(cluster, servers, vault, tmp_path):
    bao, _ = servers
    namespaces = sorted({r["boundServiceAccountNamespaces"][0] for r in vault["roles"]} | {c["namespace"] for c in consumers(vault)})
    for i, c in enumerate(consumers(vault)):
        other = next(n for n in [*namespaces, "flytesnacks-local"] if n != c["namespace"])
        where = f"{c['service']}'s annotations of {c['namespace']} in a pod of {other}"
        # the injector mutates any annotated platform pod: the role it names is what Vault judges
        config = injector.agent_config(mutated(cluster, job_pod(other, c["snippet"], f"other-{i}")))
        assert config["auto_auth"]["method"]["config"]["role"] == conventions.vault_role_name(c["namespace"]), where
        root = tmp_path / f"other-{i}"
        code, log = run_agent(cluster, config, other, audience(c["snippet"]), root, REFUSED_WAIT)
        assert code != 0, f"{where}: the agent succeeded"
        secrets_dir = root / "vault" / "secrets"
        rendered = sorted(p.name for p in secrets_dir.iterdir()) if secrets_dir.exists() else []
        assert rendered == [], f"{where}: the agent rendered {rendered}"
        assert "Code: 403" in log and "namespace not authorized" in log, f"{where}: {log[-1500:]}"
        # and Vault's own answer to that login
        jwt = cluster.kubectl(
            "create", "token", conventions.JOB_RUNNER, "-n", other, "--audience", audience(c["snippet"]), "--duration=10m"
        )
        method = config["auto_auth"]["method"]
        status, _ = http(bao, "POST", f"{method['mount_path']}/login", body={"role": method["config"]["role"], "jwt": jwt.stdout.strip()})
        assert status == 403, f"{where}: Vault answered HTTP {status}"
