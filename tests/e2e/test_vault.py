"""Vault for real: the stack's vault output applied to a local OpenBao, job runners' real tokens logging in.

One project copy (with a second vault credential shared by two namespaces) is applied
to the module's cluster, then `python -m secrets_platform.localcluster.vault apply` (make up's step)
applies its Vault side to an OpenBao dev server started for the module. Tokens come
from TokenRequest (`kubectl create token job-runner --audience ...`); each test checks
one invariant and names the role, namespace or path in its failure.
"""

from __future__ import annotations

import ipaddress
import json
import os

import pytest
from local_project import LocalProject, engine_missing
from vault_client import http, run_apply

from secrets_platform import conventions
from secrets_platform.localcluster import Cluster
from secrets_platform.localcluster.postgres import LocalPostgres
from secrets_platform.localcluster.vault import OpenBao

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(engine_missing() is not None, reason=engine_missing() or "")]

SHARED = {"service": "hubspot", "backend": "vault", "namespaces": ["dagster", "floe-jobs"], "properties": {"HUBSPOT_TOKEN": "token"}}


@pytest.fixture(scope="module")
def bao(cluster):
    b = OpenBao(cluster)
    b.start()
    # the local stack's vault-database bundle needs the local database for apply (tests/e2e/test_vault_database_e2e.py)
    pg = LocalPostgres(cluster)
    pg.start()
    yield b
    pg.stop()
    b.stop()


@pytest.fixture(scope="module")
def vault(tmp_path_factory, cluster, bao):
    p = LocalProject(tmp_path_factory.mktemp("vault"), cluster)
    p.edit_stack(lambda c: c["secrets-platform:credentials"].append(SHARED))
    p.pulumi("up", "-s", "local", "--yes", "--policy-pack", "policies")
    outputs = p.root / "outputs.json"
    outputs.write_text(p.pulumi("stack", "output", "-s", "local", "--json").stdout)
    done = run_apply(cluster, outputs)
    assert done.returncode == 0, done.stderr
    out = json.loads(outputs.read_text())["vault"]
    out["_apply_output"] = done.stdout + done.stderr
    yield out
    p.pulumi("destroy", "-s", "local", "--yes", check=False)


def k8s_token(cluster: Cluster, namespace: str, audience: str, account: str = conventions.JOB_RUNNER) -> str:
    return cluster.kubectl("create", "token", account, "-n", namespace, "--audience", audience, "--duration=10m").stdout.strip()


def login(bao: OpenBao, role: dict, jwt: str) -> tuple[int, dict]:
    return http(bao, "POST", f"{role['authPath']}/login", body={"role": role["roleName"], "jwt": jwt})


def role_of(vault: dict, namespace: str) -> dict:
    found = [r for r in vault["roles"] if namespace in r["boundServiceAccountNamespaces"]]
    assert len(found) == 1, f"expected one role bound to {namespace}, found {[r['roleName'] for r in found]}"
    return found[0]


def vault_token(bao: OpenBao, cluster: Cluster, vault: dict, namespace: str) -> str:
    role = role_of(vault, namespace)
    status, doc = login(bao, role, k8s_token(cluster, namespace, role["audience"]))
    assert status == 200, f"{namespace}/{conventions.JOB_RUNNER} could not log in as {role['roleName']}: {doc.get('errors')}"
    return doc["auth"]["client_token"]


def declared(vault: dict) -> dict[str, set[str]]:
    """namespace -> KV paths (<mount>/<env>/<service>) of the vault credentials declared for it."""
    out: dict[str, set[str]] = {}
    for c in vault["credentials"]:
        for ns in c["namespaces"]:
            out.setdefault(ns, set()).add(c["path"])
    return out


def data_path(vault: dict, path: str) -> str:
    mount = vault["mount"]
    return f"{mount}/data/{path[len(mount) + 1 :]}"


# ---------------------------------------------------------------------------- the server


def test_openbao_listens_on_loopback_only(bao):
    pid = bao.pid()
    assert pid, "openbao is not running"
    from secrets_platform.localcluster import _listening_sockets

    inodes = {
        os.readlink(f"/proc/{pid}/fd/{fd}")[8:-1]
        for fd in os.listdir(f"/proc/{pid}/fd")
        if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:[")
    }
    sockets = [addr for inode, addr in _listening_sockets().items() if inode in inodes]
    assert sockets, "openbao listens nowhere"
    for address, port in sockets:
        assert ipaddress.ip_address(address) in ipaddress.ip_network("127.0.0.0/8"), f"openbao listens on {address}:{port}"


def test_the_root_token_is_private_and_in_no_log(bao, vault, cluster):
    token = bao.root_token()
    assert bao.token_file.stat().st_mode & 0o077 == 0, f"{bao.token_file} is readable by others"
    assert bao.token_file.is_relative_to(cluster.root), bao.token_file
    for log in cluster.logs.iterdir():
        assert token not in log.read_text(errors="replace"), f"the root token is in {log}"
    assert token not in vault["_apply_output"], "the root token is in the apply output"
    assert token not in open(f"/proc/{bao.pid()}/cmdline").read(), "the root token is on openbao's command line"


def test_seeded_values_are_never_printed(bao, vault):
    token = bao.root_token()
    for c in vault["credentials"]:
        status, doc = http(bao, "GET", data_path(vault, c["path"]), token)
        assert status == 200, f"{c['path']} was not seeded"
        for value in doc["data"]["data"].values():
            assert len(value) >= 20 and value not in vault["_apply_output"], f"a seeded value of {c['path']} is printed"


# ---------------------------------------------------------------------------- least privilege


def test_each_job_runner_reads_every_credential_declared_for_its_namespace(bao, cluster, vault):
    for ns, paths in sorted(declared(vault).items()):
        token = vault_token(bao, cluster, vault, ns)
        for path in sorted(paths):
            status, doc = http(bao, "GET", data_path(vault, path), token)
            assert status == 200, f"{ns}/{conventions.JOB_RUNNER} cannot read {path}: {doc.get('errors')}"


def test_a_job_runner_cannot_read_credentials_of_another_namespace(bao, cluster, vault):
    paths = {c["path"] for c in vault["credentials"]}
    checked = 0
    for ns, own in sorted(declared(vault).items()):
        token = vault_token(bao, cluster, vault, ns)
        for path in sorted(paths - own):
            status, _ = http(bao, "GET", data_path(vault, path), token)
            assert status == 403, f"{ns}/{conventions.JOB_RUNNER} reads {path}, declared for another namespace (HTTP {status})"
            checked += 1
    assert checked, "no credential declared for one namespace and not another: the test proves nothing"


def test_a_job_runner_cannot_log_in_with_another_namespaces_role(bao, cluster, vault):
    for role in vault["roles"]:
        for ns in sorted(set(declared(vault)) - set(role["boundServiceAccountNamespaces"])):
            status, _ = login(bao, role, k8s_token(cluster, ns, role["audience"]))
            assert status in (400, 403), f"{ns}/{conventions.JOB_RUNNER} logs in as {role['roleName']} (HTTP {status})"


def test_a_namespace_without_vault_credentials_has_no_role(bao, cluster, vault):
    ns = "flytesnacks-local"
    assert ns not in declared(vault), ns
    for role in vault["roles"]:
        status, _ = login(bao, role, k8s_token(cluster, ns, role["audience"]))
        assert status in (400, 403), f"{ns}/{conventions.JOB_RUNNER} logs in as {role['roleName']} (HTTP {status})"


def test_another_environments_path_is_denied(bao, cluster, vault):
    root = bao.root_token()
    for ns, paths in sorted(declared(vault).items()):
        token = vault_token(bao, cluster, vault, ns)
        for path in sorted(paths):
            other = data_path(vault, path).replace("/local/", "/dev/", 1)
            assert http(bao, "POST", other, root, {"data": {"x": "dev-value"}})[0] == 200, other
            status, _ = http(bao, "GET", other, token)
            assert status == 403, f"{ns}/{conventions.JOB_RUNNER} reads {other}, another environment's path (HTTP {status})"


def test_a_token_with_the_wrong_audience_is_refused(bao, cluster, vault):
    for role in vault["roles"]:
        ns = role["boundServiceAccountNamespaces"][0]
        status, _ = login(bao, role, k8s_token(cluster, ns, "not-" + role["audience"]))
        assert status in (400, 403), f"a {ns} token with the wrong audience logs in as {role['roleName']} (HTTP {status})"


def test_another_service_account_of_the_namespace_is_refused(bao, cluster, vault):
    for role in vault["roles"]:
        ns = role["boundServiceAccountNamespaces"][0]
        status, _ = login(bao, role, k8s_token(cluster, ns, role["audience"], account="default"))
        assert status in (400, 403), f"{ns}/default logs in as {role['roleName']} (HTTP {status})"


def test_job_runners_cannot_write_their_own_paths(bao, cluster, vault):
    for ns, paths in sorted(declared(vault).items()):
        token = vault_token(bao, cluster, vault, ns)
        for path in sorted(paths):
            status, _ = http(bao, "POST", data_path(vault, path), token, {"data": {"x": "overwritten"}})
            assert status == 403, f"{ns}/{conventions.JOB_RUNNER} writes {path} (HTTP {status})"


# ---------------------------------------------------------------------------- bad input


def test_apply_to_a_stopped_vault_is_one_message_naming_it(vault, tmp_path, cluster):
    other = Cluster(tmp_path / "stopped")  # no data: the default ports, as make up would use
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"vault": {k: v for k, v in vault.items() if not k.startswith("_")}}))
    done = run_apply(other, outputs)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "not running" in done.stderr and OpenBao(other).address in done.stderr, done.stderr


def test_apply_to_a_sealed_vault_is_one_message_naming_it(vault, bao, cluster, tmp_path):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"vault": {k: v for k, v in vault.items() if not k.startswith("_")}}))
    assert http(bao, "PUT", "sys/seal", bao.root_token())[0] == 204
    try:
        done = run_apply(cluster, outputs)
    finally:
        bao.stop()
        bao.start()  # dev mode: a new, empty, unsealed server
        assert run_apply(cluster, outputs).returncode == 0
    assert done.returncode == 2 and "sealed" in done.stderr and bao.address in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
