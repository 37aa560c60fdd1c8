"""The applier: converge a Vault to a :class:`~secrets_platform.localcluster.vault.plan.Plan`, through Vault's HTTP API.

The Kubernetes auth method at the environment's path, reviewing tokens against the API
server with a token of the stack's ``vault-auth`` service account (bound to
``system:auth-delegator``); the policies; the roles; KV v2 at the mount; a generated value
for every property of each vault-backed credential that has none yet (never printed); the
database engine, its connections and roles. What an earlier apply made carries one of the
marks below in Vault itself, so a later apply removes what the outputs no longer declare
and never touches anything else.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from secrets_platform import conventions
from secrets_platform.localcluster import Cluster
from secrets_platform.localcluster.vault.api import VaultApi, VaultError
from secrets_platform.localcluster.vault.plan import Plan, _need, load_outputs, plan_of
from secrets_platform.localcluster.vault.server import OpenBao

AUTH_SERVICE_ACCOUNT = conventions.VAULT_AUTH_SERVICE_ACCOUNT
# The reviewer token is re-issued by every apply (every make up).
REVIEWER_TOKEN_DURATION = "168h"
SEEDED_BYTES = 24
# What apply creates carries one of these marks in Vault itself (an auth method's or mount's description, a
# policy's first line), so a later apply knows what is its own to remove, and never touches anything else.
AUTH_DESCRIPTION = "secrets-platform: job-runner login"
KV_DESCRIPTION = "secrets-platform: vault-backed credentials"
DATABASE_DESCRIPTION = "secrets-platform: short-lived database users"
POLICY_MARK = "# secrets-platform: written by localcluster.vault apply from the stack's vault output\n"
BUILTIN_POLICIES = frozenset({"root", "default"})


@dataclass(frozen=True)
class Kubernetes:
    """How Vault reviews job-runner tokens: the API server's URL, its CA, a reviewer token."""

    host: str
    ca_cert: str
    reviewer_jwt: str


def local_kubernetes(cluster: Cluster, reviewer_namespace: str) -> Kubernetes:
    """The local API server, and a fresh token of the stack's vault-auth service account (TokenRequest)."""
    if not cluster.ready():
        raise VaultError(f"the local cluster in {cluster.root} is not running: make up starts it; nothing was applied")
    done = cluster.kubectl(
        "create", "token", AUTH_SERVICE_ACCOUNT, "-n", reviewer_namespace, f"--duration={REVIEWER_TOKEN_DURATION}", check=False
    )
    if done.returncode != 0:
        raise VaultError(
            f"no service account {reviewer_namespace}/{AUTH_SERVICE_ACCOUNT} in the local cluster "
            f"({done.stderr.strip()[-200:]}): run pulumi up -s local first (it creates it); nothing was applied"
        )
    return Kubernetes(cluster.server, (cluster.pki / "ca.crt").read_text(), done.stdout.strip())


def declares_nothing(plan: Plan) -> bool:
    """Outputs with Vault on and no Vault credential: nothing of ours may stay in Vault."""
    return not (plan.roles or plan.policies or plan.seeds or plan.databases)


def apply(api: VaultApi, plan: Plan, kube: Kubernetes | None, logins: dict[str, Any] | None = None) -> list[str]:
    """Converge Vault to the plan (idempotent); the list of what was done, without any value.

    ``kube``: how the auth methods review tokens (needed when the plan has an auth path).
    ``logins``: per vault-database service, how Vault connects to its database
    (``connection_url``, ``username``, ``password``); every service of the plan needs one.
    What an earlier apply made (:data:`AUTH_DESCRIPTION`, :data:`POLICY_MARK`, ...) and the plan
    no longer declares is removed after the declared state is written.
    """
    logins = logins or {}
    missing = sorted(d.service for d in plan.databases if d.service not in logins)
    if missing:
        raise VaultError(
            f"no database connection for the vault-database bundles {', '.join(missing)}: "
            "give Vault's connection to each (docs/backends.md); nothing was applied"
        )
    if plan.auth_paths and kube is None:
        raise VaultError("no Kubernetes API server to review job-runner tokens against; nothing was applied")
    api.check_ready()
    _, auths = api.call("GET", "sys/auth")
    auths = auths.get("data", auths)
    done = _apply_auth(api, plan, kube, auths)
    done += _apply_policies_and_roles(api, plan)
    done += _remove_stale_access(api, plan, auths)
    _, mounts = api.call("GET", "sys/mounts")
    mounts = mounts.get("data", mounts)
    done += _apply_mounts(api, plan, logins, mounts)
    return done


def _ours(entry: dict, kind: str, description: str) -> bool:
    return entry.get("type") == kind and entry.get("description") == description


def _enabled(
    api: VaultApi, existing: dict | None, endpoint: str, body: dict[str, Any], done: list[str], what: str, other: Callable[[str], str]
) -> dict:
    """``existing`` (an auth method or mount, from sys/auth or sys/mounts) of ``body``'s type, else ``body`` enabled at
    ``endpoint`` first; one VaultError, ``other(<its type>)``, when something of another type is there."""
    if existing is None:
        api.call("POST", endpoint, body)
        done.append(f"enabled {what}")
        return body
    if existing.get("type") != body["type"]:
        raise VaultError(other(str(existing.get("type"))))
    return existing


def _apply_auth(api: VaultApi, plan: Plan, kube: Kubernetes | None, auths: dict) -> list[str]:
    """The Kubernetes auth method at each auth path, configured to review tokens at the API server."""
    done: list[str] = []
    for path in plan.auth_paths:
        assert kube is not None
        body = {"type": "kubernetes", "description": AUTH_DESCRIPTION}
        _enabled(
            api,
            auths.get(f"{path}/"),
            f"sys/auth/{path}",
            body,
            done,
            f"kubernetes auth at auth/{path}",
            lambda kind: (
                f"auth/{path} in Vault at {api.address} is a {kind} method, not kubernetes: "  # noqa: B023 (called at once)
                "disable it or set vault.authPath to another path"
            ),
        )
        api.call(
            "POST",
            f"auth/{path}/config",
            {
                "kubernetes_host": kube.host,
                "kubernetes_ca_cert": kube.ca_cert,
                "token_reviewer_jwt": kube.reviewer_jwt,
                "disable_local_ca_jwt": True,
            },
        )
        done.append(f"auth/{path}/config: reviews tokens at {kube.host}")
    return done


def _apply_policies_and_roles(api: VaultApi, plan: Plan) -> list[str]:
    done = []
    for name, hcl in sorted(plan.policies.items()):
        api.call("PUT", f"sys/policies/acl/{name}", {"policy": POLICY_MARK + hcl})
        done.append(f"policy {name}")
    for role in plan.roles:
        api.call("POST", f"auth/{role.auth_path}/role/{role.name}", role.body)
        done.append(
            f"role auth/{role.auth_path}/role/{role.name} (namespaces "
            f"{', '.join(role.body['bound_service_account_namespaces'])}; audience {role.body['audience']})"
        )
    return done


def _remove_stale_access(api: VaultApi, plan: Plan, auths: dict) -> list[str]:
    """Roles under a declared auth path, our auth methods at other paths, and our policies, that the plan no longer declares."""
    done = []
    wanted = {(r.auth_path, r.name) for r in plan.roles}
    for path in plan.auth_paths:
        for name in api.listed(f"auth/{path}/role"):
            if (path, name) not in wanted:
                api.call("DELETE", f"auth/{path}/role/{name}")
                done.append(f"removed role auth/{path}/role/{name} (no longer in the outputs)")
    for key, method in sorted(auths.items()):
        path = key.rstrip("/")
        if path not in plan.auth_paths and isinstance(method, dict) and _ours(method, "kubernetes", AUTH_DESCRIPTION):
            api.call("DELETE", f"sys/auth/{path}")
            done.append(f"disabled auth/{path} with its roles and the tokens it issued (no longer in the outputs)")
    for name in api.listed("sys/policies/acl"):
        if name in plan.policies or name in BUILTIN_POLICIES:
            continue
        _, policy = api.call("GET", f"sys/policies/acl/{name}")
        if str((policy.get("data") or policy).get("policy", "")).startswith(POLICY_MARK):
            api.call("DELETE", f"sys/policies/acl/{name}")
            done.append(f"removed policy {name} (no longer in the outputs)")
    return done


def _apply_mounts(api: VaultApi, plan: Plan, logins: dict[str, Any], mounts: dict) -> list[str]:
    """KV v2 and the database engine as declared; our KV mounts and database engines no longer declared disabled."""
    done = []
    if not declares_nothing(plan):
        done += _apply_kv(api, plan, mounts)
    for key, mount in sorted(mounts.items()):
        path = key.rstrip("/")
        if not isinstance(mount, dict) or (path == plan.mount and not declares_nothing(plan)):
            continue
        if _ours(mount, "kv", KV_DESCRIPTION):
            api.call("DELETE", f"sys/mounts/{path}")
            done.append(f"disabled the KV mount {path}/ and its values (no longer in the outputs)")
    if plan.databases:
        done += _apply_databases(api, plan, logins, mounts)
    for key, mount in sorted(mounts.items()):
        path = key.rstrip("/")
        if isinstance(mount, dict) and path != plan.database_mount and _ours(mount, "database", DATABASE_DESCRIPTION):
            # Disabling the engine revokes every lease first: each issued user is dropped by its revocation statements.
            api.call("DELETE", f"sys/mounts/{path}")
            done.append(f"disabled the database engine at {path}/, revoking every user it issued (no longer in the outputs)")
    return done


def _apply_kv(api: VaultApi, plan: Plan, mounts: dict) -> list[str]:
    """KV v2 at the mount, a value for every declared property that has none, and paths no longer declared removed."""
    done: list[str] = []
    body = {"type": "kv", "options": {"version": "2"}, "description": KV_DESCRIPTION}
    not_kv2 = f"{plan.mount}/ in Vault at {api.address} is not a KV v2 mount: set vault.mount to another name"
    existing = _enabled(
        api, mounts.get(f"{plan.mount}/"), f"sys/mounts/{plan.mount}", body, done, f"KV v2 at {plan.mount}/", lambda _: not_kv2
    )
    if str((existing.get("options") or {}).get("version")) != "2":
        raise VaultError(not_kv2)
    for path, props in sorted(plan.seeds.items()):
        status, _ = api.call("GET", f"{plan.mount}/data/{path}", ok=(200, 404))
        if status == 200:
            done.append(f"{plan.mount}/{path}: has values, left as they are")
            continue
        values = {p: secrets.token_urlsafe(SEEDED_BYTES) for p in props}
        api.call("POST", f"{plan.mount}/data/{path}", {"options": {"cas": 0}, "data": values})
        done.append(f"{plan.mount}/{path}: seeded generated values for {', '.join(props)}")
    for path in _kv_paths(api, plan.mount):
        if path not in plan.seeds:
            api.call("DELETE", f"{plan.mount}/metadata/{path}")
            done.append(f"removed {plan.mount}/{path} and all its versions (no longer in the outputs)")
    return done


def _kv_paths(api: VaultApi, mount: str, prefix: str = "") -> list[str]:
    """Every secret path under ``prefix`` of a KV v2 mount (folders listed recursively)."""
    out: list[str] = []
    for key in api.listed(f"{mount}/metadata/{prefix}"):
        out += _kv_paths(api, mount, prefix + key) if key.endswith("/") else [prefix + key]
    return out


def _apply_databases(api: VaultApi, plan: Plan, logins: dict[str, Any], mounts: dict) -> list[str]:
    """The database engine at its mount, one connection and one role per bundle; stale ones under the mount removed."""
    mount = plan.database_mount
    done: list[str] = []
    body = {"type": "database", "description": DATABASE_DESCRIPTION}
    _enabled(
        api,
        mounts.get(f"{mount}/"),
        f"sys/mounts/{mount}",
        body,
        done,
        f"the database secrets engine at {mount}/",
        lambda kind: (
            f"{mount}/ in Vault at {api.address} is a {kind} mount, not the database engine: set vault.databaseMount to another name"
        ),
    )
    for db in plan.databases:
        login = logins[db.service]
        # verify_connection: Vault logs in once now, so a wrong URL or password fails here, before any role exists.
        api.call(
            "POST",
            f"{mount}/config/{db.connection}",
            {
                "plugin_name": db.plugin,
                "connection_url": login.connection_url,
                "username": login.username,
                "password": login.password,
                "allowed_roles": [db.role],
                "verify_connection": True,
            },
        )
        done.append(f"{mount}/config/{db.connection}: {db.plugin} as {login.username}")
        api.call(
            "POST",
            f"{mount}/roles/{db.role}",
            {
                "db_name": db.connection,
                "creation_statements": list(db.creation_statements),
                "revocation_statements": list(db.revocation_statements),
                "default_ttl": db.default_ttl,
                "max_ttl": db.max_ttl,
            },
        )
        done.append(f"{mount}/roles/{db.role}: users live {db.default_ttl} s (at most {db.max_ttl} s)")
    for kind, wanted in (("roles", {d.role for d in plan.databases}), ("config", {d.connection for d in plan.databases})):
        for name in api.listed(f"{mount}/{kind}"):
            if name not in wanted:
                api.call("DELETE", f"{mount}/{kind}/{name}")
                done.append(f"removed {mount}/{kind}/{name} (no longer in the outputs)")
    return done


def apply_local(cluster: Cluster, outputs_file: Path) -> list[str]:
    """The local stack: its outputs, the local OpenBao, the local API server. Every check before any write."""
    vault = load_outputs(outputs_file)
    plan = plan_of(vault)
    namespace = _need(vault, "namespace", "vault")
    bao = OpenBao(cluster)
    if bao.pid() is None:
        raise VaultError(f"the local Vault (OpenBao) at {bao.address} is not running: make up starts it; nothing was applied")
    api = VaultApi(bao.address, bao.root_token())
    api.check_ready()
    kube = local_kubernetes(cluster, namespace) if plan.auth_paths else None
    logins = {}
    if plan.databases:
        from secrets_platform.localcluster.postgres import LocalPostgres

        pg = LocalPostgres(cluster)
        if pg.pid() is None or not pg.healthy():
            from secrets_platform.localcluster.postgres import INSTALL_FIX, _bin_dir_or_none

            fix = "make up starts it" if _bin_dir_or_none() else INSTALL_FIX
            raise VaultError(
                f"the local database (PostgreSQL) at {pg.address} is not running, and the stack has vault-database "
                f"bundles ({', '.join(d.service for d in plan.databases)}): {fix}; nothing was applied"
            )
        logins = {d.service: pg.vault_login() for d in plan.databases}
    return apply(api, plan, kube, logins)
