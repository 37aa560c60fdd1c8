"""What the operator path writes: the stack's ``vault`` output read into a :class:`Plan`, every field checked first.

The outputs file is ``pulumi stack output --json`` of the stack (its ``vault`` output holds
no secret). A bad file or a field of the wrong kind is one :class:`VaultError` naming the
field and the fix, before anything is written to Vault.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secrets_platform.localcluster.vault.api import VaultError


@dataclass(frozen=True)
class Role:
    auth_path: str
    name: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Database:
    """A vault-database bundle: the connection and role written under the database mount."""

    service: str
    connection: str
    role: str
    plugin: str
    creation_statements: tuple[str, ...]
    revocation_statements: tuple[str, ...]
    default_ttl: int
    max_ttl: int


@dataclass(frozen=True)
class Plan:
    """Everything that apply writes, read from the stack's vault output and checked first."""

    auth_paths: tuple[str, ...]
    mount: str
    policies: dict[str, str]
    roles: tuple[Role, ...]
    seeds: dict[str, tuple[str, ...]]
    """KV path under the mount (``<env>/<service>``) -> property names."""
    database_mount: str | None = None
    databases: tuple[Database, ...] = ()


_NAME = re.compile(r"^[a-z0-9][-a-z0-9_]*$")
_TEMPLATE_PROPERTY = re.compile(r'index \.Data\.data "([^"]+)"')


def load_outputs(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise VaultError(f"{path}: no such file: write it with pulumi stack output -s local --json > {path}") from None
    except (OSError, ValueError) as err:
        raise VaultError(
            f"{path} is not the JSON of pulumi stack output --json ({err.__class__.__name__}): "
            "write it again with pulumi stack output -s local --json"
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("vault"), dict):
        raise VaultError(f"{path} has no `vault` output: the stack has Vault off (vault.enabled) or was not applied; run pulumi up first")
    return doc["vault"]


def _need(doc: dict, key: str, where: str, kind: type = str) -> Any:
    value = doc.get(key)
    if not isinstance(value, kind) or (kind is str and not value):
        raise VaultError(
            f"stack output {where}.{key} is missing or not a {kind.__name__} ({value!r}): "
            "the outputs file is not from this project's stack; write it again with pulumi stack output --json"
        )
    return value


def plan_of(vault: dict[str, Any]) -> Plan:
    """Read the vault output: one policy/role (``policy``/``role``) or many (``policies``/``roles``)."""
    mount = _need(vault, "mount", "vault")
    policies_doc = vault.get("policies") if "policies" in vault else [vault.get("policy")]
    roles_doc = vault.get("roles") if "roles" in vault else [vault.get("role")]
    if not isinstance(policies_doc, list) or not isinstance(roles_doc, list):
        raise VaultError(
            "stack output vault.policies/vault.roles are not lists: write the outputs file again with pulumi stack output --json"
        )
    policies = _policies_of(policies_doc)
    roles = [_role_of(r, f"vault.roles[{i}]", vault.get("authPath"), policies) for i, r in enumerate(roles_doc)]
    seeds = dict(_seed_of(c, f"vault.credentials[{i}]", mount) for i, c in enumerate(vault.get("credentials") or []))
    databases = [_database_of(d, f"vault.databases[{i}]") for i, d in enumerate(vault.get("databases") or [])]
    database_mount = _database_mount_of(vault, mount) if databases else None
    return Plan(tuple(sorted({r.auth_path for r in roles})), mount, policies, tuple(roles), seeds, database_mount, tuple(databases))


def _policies_of(policies_doc: list) -> dict[str, str]:
    policies = {}
    for i, p in enumerate(policies_doc):
        if not isinstance(p, dict):
            raise VaultError(f"stack output vault.policies[{i}] is not an object ({p!r})")
        name = _need(p, "name", f"vault.policies[{i}]")
        policies[name] = _need(p, "hcl", f"vault.policies[{i}]")
    return policies


def _role_of(r: Any, where: str, default_auth: Any, policies: dict[str, str]) -> Role:
    """One Kubernetes-auth role: its auth path (``auth/`` dropped), plain names, and only policies the outputs define."""
    if not isinstance(r, dict):
        raise VaultError(f"stack output {where} is not an object ({r!r})")
    auth_path = r.get("authPath") or r.get("backend") or default_auth
    if isinstance(auth_path, str) and auth_path.startswith("auth/"):
        auth_path = auth_path[len("auth/") :]
    name = _need(r, "roleName", where)
    if not isinstance(auth_path, str) or not _NAME.match(auth_path) or not _NAME.match(name):
        raise VaultError(f"stack output {where}: auth path {auth_path!r} or role {name!r} is not a plain name")
    missing = [p for p in _need(r, "tokenPolicies", where, list) if p not in policies]
    if missing:
        raise VaultError(f"stack output {where} ({name}) names policies the outputs don't define: {', '.join(missing)}")
    body = {
        "bound_service_account_names": _need(r, "boundServiceAccountNames", where, list),
        "bound_service_account_namespaces": _need(r, "boundServiceAccountNamespaces", where, list),
        "audience": _need(r, "audience", where),
        "token_policies": r["tokenPolicies"],
        "token_ttl": _need(r, "tokenTtl", where, int),
        "token_max_ttl": _need(r, "tokenMaxTtl", where, int),
    }
    return Role(auth_path, name, body)


def _seed_of(c: Any, where: str, mount: str) -> tuple[str, tuple[str, ...]]:
    """A vault-backed credential: its KV path under the mount and the property names to seed."""
    path = _need(c, "path", where)
    if not path.startswith(f"{mount}/"):
        raise VaultError(f"stack output {where}.path {path!r} is not under the mount {mount!r}")
    props = c.get("properties")
    if isinstance(props, dict):
        names = sorted(set(props.values()))
    else:  # the injector templates name each property the agent renders
        consumers = c.get("consumers") or {}
        fragments = [consumers] if "podAnnotations" in consumers else list(consumers.values())
        names = sorted(
            {
                m
                for f in fragments
                if isinstance(f, dict)
                for v in (f.get("podAnnotations") or {}).values()
                for m in _TEMPLATE_PROPERTY.findall(str(v))
            }
        )
    if not names:
        raise VaultError(f"stack output {where} ({path}) names no property to seed")
    return path[len(mount) + 1 :], tuple(names)


def _database_of(d: Any, where: str) -> Database:
    if not isinstance(d, dict):
        raise VaultError(f"stack output {where} is not an object ({d!r})")
    fields = {k: _need(d, k, where) for k in ("service", "connection", "roleName", "plugin", "mount")}
    if not all(_NAME.match(fields[k]) for k in ("connection", "roleName", "mount")):
        raise VaultError(f"stack output {where}: connection, role or mount is not a plain name")
    statements = {}
    for field in ("creationStatements", "revocationStatements"):
        statements[field] = _need(d, field, where, list)
        if not statements[field] or not all(isinstance(x, str) and x for x in statements[field]):
            raise VaultError(f"stack output {where}.{field} is empty or not a list of statements")
    return Database(
        fields["service"],
        fields["connection"],
        fields["roleName"],
        fields["plugin"],
        tuple(statements["creationStatements"]),
        tuple(statements["revocationStatements"]),
        _need(d, "defaultTtl", where, int),
        _need(d, "maxTtl", where, int),
    )


def _database_mount_of(vault: dict[str, Any], mount: str) -> str:
    """The database engine's mount: a plain name, not the KV mount, and the mount of every vault.databases entry."""
    database_mount = vault.get("databaseMount")
    if (
        not isinstance(database_mount, str)
        or not _NAME.match(database_mount)
        or database_mount == mount
        or any(d.get("mount") != database_mount for d in vault["databases"])
    ):
        raise VaultError(
            f"stack output vault.databaseMount {database_mount!r} is missing, not a plain name, the KV mount, "
            "or not the mount of every vault.databases entry"
        )
    return database_mount
