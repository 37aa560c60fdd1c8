"""The operator path: its refusals (a bad outputs file or an unreachable Vault is exit 2, one message, nothing written),
and its convergence to exactly what the outputs declare, on a real OpenBao."""

from __future__ import annotations

import copy
import dataclasses
import json
import socket

import pytest
from support import ROOT, stack_settings

from secrets_platform import settings as settings_pkg
from secrets_platform.localcluster import Cluster, free_port_base, pki
from secrets_platform.localcluster import postgres as lp
from secrets_platform.localcluster import vault as lv
from secrets_platform.model import resolve
from secrets_platform.model.outputs import vault_outputs


def outputs() -> dict:
    return json.loads(json.dumps(vault_outputs(resolve(stack_settings("local")))))


def test_the_local_stacks_output_plans_its_roles_policies_and_seeds():
    plan = lv.plan_of(outputs())
    assert plan.auth_paths == ("kubernetes-local",)
    assert {r.name for r in plan.roles} == {r["roleName"] for r in outputs()["roles"]}
    assert set(plan.policies) == {p["name"] for p in outputs()["policies"]}
    assert plan.seeds == {"local/salesforce": ("client_id", "client_secret")}


@pytest.mark.parametrize(
    "text, needle",
    [
        (None, "no such file"),
        ("not json", "not the JSON"),
        ('{"secrets": []}', "no `vault` output"),
    ],
)
def test_a_bad_outputs_file_is_named(tmp_path, text, needle):
    path = tmp_path / "outputs.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(lv.VaultError) as err:
        lv.load_outputs(path)
    assert needle in str(err.value) and str(path) in str(err.value)


def test_a_role_naming_an_undefined_policy_is_refused_before_anything_is_written():
    out = outputs()
    out["roles"][0]["tokenPolicies"] = ["not-defined"]
    with pytest.raises(lv.VaultError, match="not-defined"):
        lv.plan_of(out)


def test_a_credential_outside_the_mount_is_refused():
    out = outputs()
    out["credentials"][0]["path"] = "elsewhere/local/salesforce"
    with pytest.raises(lv.VaultError, match="not under the mount"):
        lv.plan_of(out)


def test_an_unreachable_vault_is_one_message_naming_its_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    api = lv.VaultApi(f"http://127.0.0.1:{port}", "token-never-shown")
    with pytest.raises(lv.VaultError) as err:
        api.check_ready()
    assert f"127.0.0.1:{port} is unreachable" in str(err.value) and "token-never-shown" not in str(err.value)


def test_apply_without_a_running_local_vault_exits_2(tmp_path, capsys):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"vault": outputs()}))
    assert lv.main(["--dir", str(tmp_path / "cluster"), "apply", "--stack-outputs", str(path)]) == 2
    assert "is not running" in capsys.readouterr().err


# ---- convergence, on a real OpenBao (and PostgreSQL, for the database engine) ------------------------------


def outputs_without_vault_credentials(tmp_path) -> dict:
    """The local stack's vault output once its last Vault credential (vault and vault-database bundles) is removed."""
    import yaml

    doc = yaml.safe_load((ROOT / "Pulumi.local.yaml").read_text())
    key = "secrets-platform:credentials"
    doc["config"][key] = [c for c in doc["config"][key] if c.get("backend") not in ("vault", "vault-database")]
    path = tmp_path / "Pulumi.local.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return json.loads(json.dumps(vault_outputs(resolve(settings_pkg.from_stack_file(path, {})))))


@pytest.fixture(scope="module")
def bao(tmp_path_factory):
    """A real OpenBao dev server (and the local PostgreSQL when this machine has one), no API server."""
    root = tmp_path_factory.mktemp("vault-apply")
    cluster = Cluster(root / "cluster", port_base=free_port_base())
    server = lv.OpenBao(cluster)
    pg = lp.LocalPostgres(cluster) if lp._bin_dir_or_none() else None
    try:
        server.start()
        if pg is not None:
            pg.start()
        pki.create(root / "pki", "127.100.0.1")  # a real CA certificate for the auth method's config
        yield server, pg, (root / "pki" / "ca.crt").read_text()
    finally:
        server.stop()
        if pg is not None:
            pg.stop()


def run(server: lv.OpenBao, pg, ca: str, out: dict) -> list[str]:
    plan = lv.plan_of(out)
    if pg is None:  # no PostgreSQL here: the database engine is left out of the plan
        plan = dataclasses.replace(plan, databases=(), database_mount=None)
    logins = {d.service: pg.vault_login() for d in plan.databases} if pg is not None else {}
    kube = lv.Kubernetes("https://127.0.0.1:6443", ca, "reviewer-jwt-of-the-test")
    return lv.apply(lv.VaultApi(server.address, server.root_token()), plan, kube, logins)


def call(server: lv.OpenBao, method: str, path: str, body=None, ok=(200, 204)) -> tuple[int, dict]:
    return lv.VaultApi(server.address, server.root_token()).call(method, path, body, ok=ok)


def auth_paths(server: lv.OpenBao) -> set[str]:
    _, doc = call(server, "GET", "sys/auth")
    return {k.rstrip("/") for k in doc["data"]}


def policies(server: lv.OpenBao) -> set[str]:
    return set(call(server, "LIST", "sys/policies/acl")[1]["data"]["keys"])


def test_a_changed_auth_path_disables_the_old_method_with_its_roles(bao):
    server, pg, ca = bao
    out = outputs()
    run(server, pg, ca, out)
    call(server, "POST", "sys/auth/operator-made", {"type": "kubernetes", "description": "made by hand"})
    role = out["roles"][0]["roleName"]
    assert call(server, "GET", f"auth/kubernetes-local/role/{role}")[0] == 200
    moved = copy.deepcopy(out)
    moved["authPath"] = "kubernetes-moved"
    for r in moved["roles"]:
        r["authPath"] = "auth/kubernetes-moved"
    done = run(server, pg, ca, moved)
    assert any("disabled auth/kubernetes-local" in line for line in done), done
    paths = auth_paths(server)
    assert "kubernetes-moved" in paths and "kubernetes-local" not in paths
    assert "operator-made" in paths, "an auth method apply did not make was removed"
    assert call(server, "GET", f"auth/kubernetes-moved/role/{role}")[0] == 200
    run(server, pg, ca, out)  # and back
    assert {"kubernetes-local", "operator-made"} <= auth_paths(server) and "kubernetes-moved" not in auth_paths(server)


def test_a_policy_the_outputs_no_longer_name_is_removed_and_others_are_kept(bao):
    server, pg, ca = bao
    out = outputs()
    extra = copy.deepcopy(out)
    extra["policies"].append({"name": "floe-jobs-local-old", "hcl": 'path "floe/data/local/old" { capabilities = ["read"] }\n'})
    extra["roles"][0]["tokenPolicies"] = [*extra["roles"][0]["tokenPolicies"], "floe-jobs-local-old"]
    run(server, pg, ca, extra)
    call(server, "PUT", "sys/policies/acl/operator-notes", {"policy": 'path "sys/health" { capabilities = ["read"] }\n'})
    assert "floe-jobs-local-old" in policies(server)
    done = run(server, pg, ca, out)
    assert any("removed policy floe-jobs-local-old" in line for line in done), done
    left = policies(server)
    assert "floe-jobs-local-old" not in left and {"operator-notes", "default", "root"} <= left
    assert {p["name"] for p in out["policies"]} <= left


def test_a_kv_path_the_outputs_no_longer_name_is_removed(bao):
    server, pg, ca = bao
    out = outputs()
    run(server, pg, ca, out)
    call(server, "POST", "floe/data/local/retired", {"data": {"client_secret": "seeded-before"}})
    done = run(server, pg, ca, out)
    assert any("removed floe/local/retired" in line for line in done), done
    assert call(server, "GET", "floe/metadata/local/retired", ok=(200, 404))[0] == 404
    assert call(server, "GET", "floe/data/local/salesforce")[0] == 200


def test_outputs_that_declare_nothing_remove_everything_apply_made(bao, tmp_path):
    """The last Vault credential removed from the stack: apply does not refuse, it revokes what it made (auth
    method, roles and their tokens, policies, the KV mount and its values, the database engine and every user it
    issued), and leaves what it did not make."""
    server, pg, ca = bao
    out = outputs()
    run(server, pg, ca, out)
    role = out["roles"][0]["roleName"]
    issued = None
    if pg is not None:
        plan = lv.plan_of(out)
        creds = call(server, "GET", f"{plan.database_mount}/creds/{plan.databases[0].role}")[1]["data"]
        issued = creds["username"]
        assert pg.sql(f"SELECT count(*) FROM pg_roles WHERE rolname = '{issued}'").strip() == "1"
    call(server, "PUT", "sys/policies/acl/operator-notes", {"policy": 'path "sys/health" { capabilities = ["read"] }\n'})

    empty = outputs_without_vault_credentials(tmp_path)
    assert empty["roles"] == [] and empty["credentials"] == [] and empty["databases"] == []
    done = run(server, pg, ca, empty)
    assert done, "apply did nothing"
    assert "kubernetes-local" not in auth_paths(server)
    assert call(server, "GET", f"auth/kubernetes-local/role/{role}", ok=(200, 400, 403, 404))[0] != 200
    assert policies(server) - {"operator-notes", "default", "root"} == set()
    _, mounts = call(server, "GET", "sys/mounts")
    assert "floe/" not in mounts["data"] and "database/" not in mounts["data"], sorted(mounts["data"])
    if issued is not None:
        assert pg.sql(f"SELECT count(*) FROM pg_roles WHERE rolname = '{issued}'").strip() == "0", "an issued user outlived apply"
    assert run(server, pg, ca, empty) == [], "a second apply of nothing must change nothing"
    run(server, pg, ca, out)  # and the stack declared again
    assert "kubernetes-local" in auth_paths(server) and call(server, "GET", "floe/data/local/salesforce")[0] == 200


def test_something_of_another_type_at_an_auth_path_or_mount_is_refused_naming_it(bao):
    """apply never takes over what it did not make: a userpass method at the auth path, a KV v1 mount at the KV mount,
    a KV mount at the database mount, each one error naming the path, what is there and the setting to change."""
    from secrets_platform.localcluster.vault import applier

    server, _, ca = bao
    api = lv.VaultApi(server.address, server.root_token())
    call(server, "POST", "sys/auth/occupied-auth", {"type": "userpass"})
    call(server, "POST", "sys/mounts/occupied-kv1", {"type": "kv", "options": {"version": "1"}})
    call(server, "POST", "sys/mounts/occupied-db", {"type": "kv", "options": {"version": "2"}})
    plan = lv.plan_of(outputs())
    auths, mounts = call(server, "GET", "sys/auth")[1]["data"], call(server, "GET", "sys/mounts")[1]["data"]
    kube = lv.Kubernetes("https://127.0.0.1:6443", ca, "reviewer-jwt-of-the-test")
    with pytest.raises(lv.VaultError, match=r"^auth/occupied-auth in Vault at .* is a userpass method, not kubernetes: .*vault\.authPath"):
        applier._apply_auth(api, dataclasses.replace(plan, auth_paths=("occupied-auth",)), kube, auths)
    with pytest.raises(lv.VaultError, match=r"^occupied-kv1/ in Vault at .* is not a KV v2 mount: set vault\.mount"):
        applier._apply_kv(api, dataclasses.replace(plan, mount="occupied-kv1", seeds={}), mounts)
    with pytest.raises(
        lv.VaultError, match=r"^occupied-db/ in Vault at .* is a kv mount, not the database engine: set vault\.databaseMount"
    ):
        applier._apply_databases(api, dataclasses.replace(plan, database_mount="occupied-db", databases=()), {}, mounts)
    for path in ("sys/auth/occupied-auth", "sys/mounts/occupied-kv1", "sys/mounts/occupied-db"):
        call(server, "DELETE", path)
