"""Vault's side of one environment as the model resolves it: names, policies, roles, database roles, agent fragments.

KV v2 layout: a bundle lives at ``<mount>/<env>/<service>``; the API paths are
``<mount>/data/<env>/<service>`` (values: read) and ``<mount>/metadata/<env>/...``
(versions and listing: read, list). Every name comes from :mod:`conventions`. Pure:
:mod:`secrets_platform.components.vault` registers what this describes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from secrets_platform import conventions
from secrets_platform.model.descriptors import Sensitive

AUTH_SERVICE_ACCOUNT = conventions.VAULT_AUTH_SERVICE_ACCOUNT
AUTH_DELEGATOR = "system:auth-delegator"
TOKEN_VOLUME = "vault-token"
# Where the injector's agents render files (its default).
SECRETS_DIR = conventions.VAULT_SECRETS_DIR

# Pod Security `restricted` for every Vault pod (the platform's namespaces enforce it).
_POD_SECURITY = {"runAsNonRoot": True, "runAsUser": 100, "runAsGroup": 1000, "fsGroup": 1000, "seccompProfile": {"type": "RuntimeDefault"}}
_CONTAINER_SECURITY = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


@dataclass(frozen=True)
class VaultNames:
    """Every Vault-side name of one environment, from conventions."""

    environment: str
    mount: str
    auth_path: str
    database_mount: str = "database"

    def policy(self, namespace: str) -> str:
        """The read-only policy of one namespace's job runner: ``<mount>-<namespace>-read``."""
        return conventions.vault_policy_name(self.mount, namespace)

    def role(self, namespace: str) -> str:
        """The Kubernetes-auth role of one namespace's job runner: ``job-runner-<namespace>``."""
        return conventions.vault_role_name(namespace)

    def path(self, service: str) -> str:
        """The KV path of a bundle: ``<mount>/<env>/<service>`` (CONVENTIONS)."""
        return conventions.vault_path(self.mount, self.environment, service)

    def api_path(self, service: str) -> str:
        """The KV v2 API path the agent reads: ``<mount>/data/<env>/<service>``."""
        return conventions.vault_kv_api_path(self.mount, self.environment, service)

    def metadata_path(self, service: str) -> str:
        """The KV v2 metadata path of a bundle (versions): ``<mount>/metadata/<env>/<service>``."""
        return conventions.vault_kv_metadata_path(self.mount, self.environment, service)

    def database_role(self, service: str) -> str:
        """The database engine's connection and role of a vault-database bundle: ``<service>-<env>``."""
        return conventions.vault_database_role(service, self.environment)

    def database_creds_path(self, service: str) -> str:
        """Where a job runner reads a short-lived user: ``<databaseMount>/creds/<service>-<env>``."""
        return conventions.vault_database_creds_path(self.database_mount, service, self.environment)


def policy_hcl(names: VaultNames, namespace: str, services: tuple[str, ...], databases: tuple[str, ...] = ()) -> str:
    """Read-only on exactly the KV v2 paths of ``services`` and the database creds of ``databases``; nothing else.

    KV: data read, metadata read. Database: read on ``<databaseMount>/creds/<service>-<env>``,
    which issues a user (renewing and revoking it is the default policy's, on the token's own leases).
    No wildcard: a bundle added to another namespace later is not readable from this one.
    """
    env = names.environment
    kinds = " and ".join(k for k, present in (("KV v2", services), ("short-lived database users", databases)) if present) or "KV v2"
    lines = [f"# {names.policy(namespace)}: the job runner of {namespace} reads these {env} credentials ({kinds}) and nothing else."]
    for service in sorted(set(services)):
        lines += [
            f'path "{names.api_path(service)}" {{\n  capabilities = ["read"]\n}}',
            f'path "{names.metadata_path(service)}" {{\n  capabilities = ["read"]\n}}',
        ]
    for service in sorted(set(databases)):
        lines.append(f'path "{names.database_creds_path(service)}" {{\n  capabilities = ["read"]\n}}')
    return "\n\n".join(lines) + "\n"


@dataclass(frozen=True)
class VaultRole:
    """A Kubernetes-auth role: exactly one namespace's job-runner account, with that namespace's policy."""

    name: str
    backend: str
    service_accounts: tuple[str, ...]
    namespaces: tuple[str, ...]
    audience: str
    policies: tuple[str, ...]
    token_ttl: int
    token_max_ttl: int

    def as_output(self) -> dict[str, Any]:
        return {
            "roleName": self.name,
            "backend": self.backend,
            "boundServiceAccountNames": list(self.service_accounts),
            "boundServiceAccountNamespaces": list(self.namespaces),
            "audience": self.audience,
            "tokenPolicies": list(self.policies),
            "tokenTtl": self.token_ttl,
            "tokenMaxTtl": self.token_max_ttl,
        }


def job_runner_role(names: VaultNames, namespace: str, audience: str, ttl: int, max_ttl: int) -> VaultRole:
    return VaultRole(
        names.role(namespace), names.auth_path, (conventions.JOB_RUNNER,), (namespace,), audience, (names.policy(namespace),), ttl, max_ttl
    )


@dataclass(frozen=True)
class NamespaceAccess:
    """What one namespace's job runner may read in Vault: its policy and its role."""

    namespace: str
    services: tuple[str, ...]
    policy: str
    hcl: str
    role: VaultRole
    databases: tuple[str, ...] = ()
    """vault-database bundles whose users this namespace's job runner may read."""


def namespace_access(
    names: VaultNames,
    services_by_namespace: dict[str, tuple[str, ...]],
    audience: str,
    ttl: int,
    max_ttl: int,
    databases_by_namespace: dict[str, tuple[str, ...]] | None = None,
) -> list[NamespaceAccess]:
    """One policy and one role per namespace that declares Vault credentials (KV or database; sorted by namespace)."""
    databases_by_namespace = databases_by_namespace or {}
    out = []
    for ns in sorted(set(services_by_namespace) | set(databases_by_namespace)):
        services = tuple(sorted(set(services_by_namespace.get(ns, ()))))
        databases = tuple(sorted(set(databases_by_namespace.get(ns, ()))))
        if services or databases:
            out.append(
                NamespaceAccess(
                    ns,
                    services,
                    names.policy(ns),
                    policy_hcl(names, ns, services, databases),
                    job_runner_role(names, ns, audience, ttl, max_ttl),
                    databases,
                )
            )
    return out


@dataclass(frozen=True)
class DatabaseRole:
    """A vault-database bundle on Vault's side: one connection and one role, both ``<service>-<env>``.

    Each read of the role's creds path creates a PostgreSQL user that may log in until
    its lease ends (``VALID UNTIL`` the lease's expiration, so even a missed revocation
    stops new logins) and holds exactly ``grant_roles``. Vault drops the user when the
    lease is revoked or expires. The revocation is our own ``DROP ROLE``, not the
    plugin's default: that one revokes table privileges one by one, which a CREATEROLE
    user that owns no table is refused (measured: "permission denied for sequence"),
    so the lease would never end. The grants are role memberships, which go with the role.
    """

    service: str
    name: str
    mount: str
    namespaces: tuple[str, ...]
    grant_roles: tuple[str, ...]
    default_ttl: int
    max_ttl: int
    plugin: str = "postgresql-database-plugin"
    properties: Mapping[str, str] = field(default_factory=dict)
    """The bundle's keys -> the issued user's halves (``username``, ``password``): what the agent's env file holds."""
    connection_url: str | None = None
    """dev/stg/prd: the database Vault connects to (secret config ``databaseConnections``; never its password)."""
    connection_username: str | None = None

    @property
    def creds_path(self) -> str:
        return conventions.vault_creds_path(self.mount, self.name)

    def creation_statements(self) -> list[str]:
        return ["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"] + [
            f'GRANT "{role}" TO "{{{{name}}}}";' for role in self.grant_roles
        ]

    def revocation_statements(self) -> list[str]:
        return ['DROP ROLE IF EXISTS "{{name}}";']

    def as_output(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "mount": self.mount,
            "connection": self.name,
            "roleName": self.name,
            "credsPath": self.creds_path,
            "plugin": self.plugin,
            "namespaces": list(self.namespaces),
            "grantRoles": list(self.grant_roles),
            "creationStatements": self.creation_statements(),
            "revocationStatements": self.revocation_statements(),
            "defaultTtl": self.default_ttl,
            "maxTtl": self.max_ttl,
        }


def file_name(service: str, key: str) -> str:
    """File the agent renders a key to, e.g. ``snowflake-snowflake-password`` under /vault/secrets."""
    return conventions.vault_agent_file_name(service, key)


def injector_fragments(
    names: VaultNames, namespace: str, service: str, properties: dict[str, str], audience: str, token_ttl: int
) -> dict[str, Any]:
    """Pod annotations and the projected token volume for the Vault agent injector.

    One file per key, as Flyte's Vault integration mounts them: an
    ``agent-inject-secret-<file>`` naming the KV v2 path and a template that
    renders only that key. ``agent-pre-populate-only`` keeps Jobs finishing (no
    sidecar). The role is the namespace's own (``job-runner-<namespace>``), whose
    policy lists only that namespace's credentials. The token the agent logs in with is a projected token carrying the
    role's audience, so no other token of the account can be replayed at Vault.
    """
    api_path = names.api_path(service)
    annotations = {
        "vault.hashicorp.com/agent-inject": "true",
        "vault.hashicorp.com/role": names.role(namespace),
        "vault.hashicorp.com/auth-path": conventions.vault_auth_mount(names.auth_path),
        "vault.hashicorp.com/agent-pre-populate-only": "true",
        "vault.hashicorp.com/agent-service-account-token-volume-name": TOKEN_VOLUME,
    }
    files = {}
    for key, prop in sorted(properties.items()):
        name = file_name(service, key)
        annotations[conventions.agent_inject_annotation("secret", name)] = api_path
        annotations[conventions.agent_inject_annotation("template", name)] = (
            f'{{{{- with secret "{api_path}" -}}}}{{{{ index .Data.data "{prop}" }}}}{{{{- end }}}}'
        )
        files[key] = conventions.vault_secrets_file(name)
    return {
        "podAnnotations": annotations,
        "serviceAccountName": conventions.JOB_RUNNER,
        "volumes": [
            {
                "name": TOKEN_VOLUME,
                "projected": {
                    "sources": [{"serviceAccountToken": {"path": "token", "audience": audience, "expirationSeconds": max(token_ttl, 600)}}]
                },
            }
        ],
        "files": files,
    }


def database_env_file(service: str) -> str:
    """The file the agent renders a vault-database bundle's user into, e.g. ``warehouse-database.env``."""
    return conventions.vault_database_env_file(service)


def database_injector_fragments(
    names: VaultNames, namespace: str, service: str, properties: dict[str, str], audience: str, token_ttl: int
) -> dict[str, Any]:
    """Pod annotations for a vault-database bundle: one env file holding one issued user.

    One template reads the creds path once, so the username and password the file
    holds belong to the same lease (two files would each lease a user of their own).
    The file is ``KEY='value'`` lines to ``source`` before the job's command (dbt's
    ``env_var()`` then finds them). The values are quoted for the shell: a generated
    password holds no single quote (Vault's default password policy uses letters,
    digits and '-').
    """
    creds = names.database_creds_path(service)
    name = database_env_file(service)
    lines = "".join(f"{key}='{{{{ .Data.{prop} }}}}'\n" for key, prop in sorted(properties.items()))
    out = injector_fragments(names, namespace, service, {}, audience, token_ttl)
    out["podAnnotations"][conventions.agent_inject_annotation("secret", name)] = creds
    out["podAnnotations"][conventions.agent_inject_annotation("template", name)] = (
        f'{{{{- with secret "{creds}" -}}}}\n{lines}{{{{- end }}}}'
    )
    env_file = conventions.vault_secrets_file(name)
    out["files"] = {key: env_file for key in sorted(properties)}
    out["envFile"] = env_file
    out["command"] = f'set -a; . {env_file}; set +a; exec "$@"'
    return out


def chart_values(environment: str, ha: bool, replicas: int, dev_mode: bool, auth_path: str) -> dict[str, Any]:
    """Values of the vault chart: raft HA or a single file-backed server, injector on, no UI."""
    server: dict[str, Any] = {
        "dev": {"enabled": dev_mode},
        "serviceAccount": {"create": False, "name": AUTH_SERVICE_ACCOUNT},
        # Our own ClusterRoleBinding (labelled, reviewed) replaces the chart's.
        "authDelegator": {"enabled": False},
        "statefulSet": {"securityContext": {"pod": _POD_SECURITY, "container": _CONTAINER_SECURITY}},
        "dataStorage": {"enabled": True},
    }
    if ha:
        joins = "\n".join(f'  retry_join {{\n    leader_api_addr = "http://vault-{i}.vault-internal:8200"\n  }}' for i in range(replicas))
        server["standalone"] = {"enabled": False}
        server["ha"] = {
            "enabled": True,
            "replicas": replicas,
            "raft": {
                "enabled": True,
                "setNodeId": True,
                "config": (
                    "ui = false\ndisable_mlock = true\n"
                    'listener "tcp" {\n  address = "[::]:8200"\n  cluster_address = "[::]:8201"\n  tls_disable = 1\n}\n'
                    f'storage "raft" {{\n  path = "/vault/data"\n{joins}\n}}\n'
                    'service_registration "kubernetes" {}\n'
                ),
            },
        }
    else:
        server["standalone"] = {"enabled": not dev_mode}
        server["ha"] = {"enabled": False}
    return {
        "global": {"enabled": True},
        "ui": {"enabled": False},
        "injector": {
            # local: no mutating webhook for the API server to call (nothing in local leaves loopback)
            "enabled": environment != "local",
            "authPath": conventions.vault_auth_mount(auth_path),
            "securityContext": {"pod": _POD_SECURITY, "container": _CONTAINER_SECURITY},
        },
        "server": server,
    }


@dataclass(frozen=True)
class VaultCredential:
    """A vault-backed bundle as the stack resolved it: its KV path, keys (-> KV fields) and consumer namespaces."""

    service: str
    path: str
    """``<mount>/<env>/<service>`` (:meth:`VaultNames.path`)."""
    properties: Mapping[str, str]
    """Key -> KV field."""
    namespaces: tuple[str, ...]
    """Sorted."""


@dataclass(frozen=True)
class DatabaseLogin:
    """How Vault reaches one database: its connection_url template and the managing user (secret config)."""

    connection_url: str
    username: str
    password: Sensitive


@dataclass(frozen=True)
class VaultAccessSpec:
    """Vault's own side, applied with pulumi-vault when the stack gives an address (:func:`secrets_platform.model.stack.resolve`)."""

    names: VaultNames
    access: tuple[NamespaceAccess, ...]
    kubernetes_host: str
    address: str | None
    """Apply with pulumi-vault when set; otherwise only describe (stack outputs)."""
    provider_name: str
    """The stack's vault provider: ``vault-<env>`` (:func:`conventions.provider_name`)."""
    databases: tuple[tuple[DatabaseRole, DatabaseLogin], ...] = ()
    """vault-database bundles, each with the connection Vault manages its users over."""
