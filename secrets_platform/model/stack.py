"""Resolve one stack: :func:`resolve` turns validated settings into the :class:`StackModel` every layer reads.

Pure (registers nothing, imports no Pulumi SDK). Each name is computed here once, from
:mod:`conventions`; nothing downstream (the components, the outputs, the CLI, the
cross-stack check) reads the stack config again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Mapping

from secrets_platform import conventions
from secrets_platform.model import external_secrets as eso_model
from secrets_platform.model import vault as vault_model
from secrets_platform.model.descriptors import SecretDescriptor, Sensitive
from secrets_platform.model.plan import PlannedSecrets, descriptors_of, secret_plan
from secrets_platform.model.specs import (
    AUDITED_SERVICES,
    LOG_TYPES,
    VAULT_AUDIT_PATH,
    AuditSpec,
    DataAccessLogSpec,
    EnvironmentStoreSpec,
    ExternalSecretsOperatorSpec,
    JobRunnerSpec,
    NamespaceSpec,
    ProviderSpec,
    VaultAuditSpec,
    VaultServerSpec,
    chart_args,
    workload_identity_spec,
)
from secrets_platform.model.vault import (
    DatabaseLogin,
    DatabaseRole,
    NamespaceAccess,
    VaultAccessSpec,
    VaultCredential,
    VaultNames,
    namespace_access,
)
from secrets_platform.settings.model import parse_ttl
from secrets_platform.settings.vault_database import BACKEND as VAULT_DATABASE
from secrets_platform.settings.vault_database import connection_url_template, database_of

if TYPE_CHECKING:
    from secrets_platform.settings import Settings


@dataclass(frozen=True)
class StackModel:
    """What one stack resolves to, computed once from its validated settings (:func:`resolve`)."""

    stack: str
    environment: str
    gcp_project: str | None
    """The environment's GCP project (dev/stg/prd with one), else None."""
    namespaces: dict[str, NamespaceSpec]
    """Per workload (sorted), its namespace's spec."""
    secrets: tuple[PlannedSecrets, ...]
    """The secret components, in creation order, each with the Secrets it makes."""
    access: dict[str, JobRunnerSpec]
    """Per workload (sorted), its namespace's job-runner access: exactly the Secrets the plan puts there."""
    store: str | None
    """The environment's ClusterSecretStore (External Secrets enabled), else None."""
    eso_service_account: str | None
    """ESO's GCP service account (External Secrets with a GCP project), else None."""
    vault_names: VaultNames
    vault_access: tuple[NamespaceAccess, ...]
    """Per namespace with Vault credentials: its policy and its job-runner role (Vault enabled)."""
    database_roles: tuple[DatabaseRole, ...]
    vault_credentials: tuple[VaultCredential, ...]
    """The vault-backed bundles (sorted by service; Vault enabled)."""
    providers: ProviderSpec
    """The stack's explicit providers (kubernetes always; gcp with a project; vault with an address)."""
    external_secrets: ExternalSecretsOperatorSpec | None = None
    """ESO's namespace, account, chart and GCP identity (External Secrets enabled)."""
    environment_store: EnvironmentStoreSpec | None = None
    """The ClusterSecretStore, without the local fake provider's data (the build adds it from the bundles' outputs)."""
    vault_server: VaultServerSpec | None = None
    """Vault's namespace, account, ClusterRoleBinding and chart (Vault enabled)."""
    vault_apply: VaultAccessSpec | None = None
    """Vault's own side when pulumi-vault applies it (Vault with an address), else None."""
    audit: AuditSpec = AuditSpec((), None, False)
    """The Data Access audit logs (a GCP project) and the Vault audit device (Vault with an address) the stack turns on."""
    outputs: Mapping[str, Any] = field(default_factory=dict)
    """The stack outputs' content: names, keys and consumer snippets, never a value (:mod:`secrets_platform.model.outputs`)."""

    @property
    def gcp_provider(self) -> str | None:
        """The stack's gcp provider's name (a GCP project: External Secrets and the Data Access audit logs)."""
        return self.providers.gcp

    @property
    def vault_provider(self) -> str | None:
        """The stack's vault provider's name (Vault with an address: pulumi-vault applies its side)."""
        return self.providers.vault

    @property
    def descriptors(self) -> list[SecretDescriptor]:
        """Every Secret the stack creates, in the outputs' order."""
        return descriptors_of(self.secrets)


def resolve(settings: Settings) -> StackModel:
    """The stack's model: pure (registers nothing), so the CLI and the cross-stack check read what build creates."""
    from secrets_platform.model.outputs import stack_outputs

    cfg, env = settings.config, settings.environment
    eso_on, vault_on = cfg.external_secrets.enabled, cfg.vault.enabled
    plan = secret_plan(settings)
    names = vault_names(settings)
    eso = external_secrets_spec(settings) if eso_on else None
    providers = provider_spec(settings)
    access = tuple(vault_access_plan(settings, names)) if vault_on else ()
    roles = tuple(database_roles(settings, names)) if vault_on else ()
    model = StackModel(
        stack=settings.stack,
        environment=env,
        gcp_project=cfg.gcp.project,
        namespaces={w: namespace_spec(w, env, settings.protect, flyte=w in cfg.flyte.projects) for w in sorted(cfg.namespaces)},
        secrets=tuple(plan),
        access=access_specs(settings, descriptors_of(plan)),
        store=conventions.store_name(env) if eso_on else None,
        eso_service_account=eso.identity.email if eso is not None and eso.identity is not None else None,
        vault_names=names,
        vault_access=access,
        database_roles=roles,
        vault_credentials=tuple(vault_credentials(settings, names)) if vault_on else (),
        providers=providers,
        external_secrets=eso,
        environment_store=store_spec(settings, eso.namespace.name) if eso is not None else None,
        vault_server=vault_server_spec(settings) if vault_on else None,
        vault_apply=vault_apply_spec(settings, names, access, roles, providers.vault) if providers.vault else None,
        audit=audit_spec(settings),
    )
    return replace(model, outputs=stack_outputs(model))


def provider_spec(s: Settings) -> ProviderSpec:
    """kubernetes-<env> (the kubeconfig, or the render folder), gcp-<env> with a project, vault-<env> with an address."""
    env, cfg = s.environment, s.config
    return ProviderSpec(
        conventions.provider_name("kubernetes", env),
        s.render_dir,
        s.kubeconfig,
        cfg.kubernetes.context,
        conventions.provider_name("gcp", env) if cfg.gcp.project else None,
        cfg.gcp.project,
        cfg.gcp.region,
        conventions.provider_name("vault", env) if cfg.vault.enabled and cfg.vault.address else None,
        cfg.vault.address,
    )


def access_specs(s: Settings, descriptors: list[SecretDescriptor]) -> dict[str, JobRunnerSpec]:
    """Per workload, its namespace's job-runner access to exactly the Secrets the plan puts there."""
    names: dict[str, set[str]] = defaultdict(set)
    for d in descriptors:
        names[d.namespace].add(d.name)
    return {w: job_runner_spec(s.namespace(w), s.environment, tuple(sorted(names[s.namespace(w)]))) for w in sorted(s.config.namespaces)}


def namespace_spec(workload: str, environment: str, protect: bool, flyte: bool = False) -> NamespaceSpec:
    """The namespace ``<workload>-<environment>`` (a Flyte project's ``<project>-<domain>``) with the stack's labels and protection."""
    return NamespaceSpec(conventions.namespace_name(workload, environment, flyte=flyte), conventions.labels(environment), protect)


def job_runner_spec(namespace: str, environment: str, secret_names: tuple[str, ...]) -> JobRunnerSpec:
    """The job runners' account, Role and RoleBinding in ``namespace``, reading exactly ``secret_names``."""
    return JobRunnerSpec(namespace, conventions.JOB_RUNNER, conventions.JOB_RUNNER_ROLE, secret_names, conventions.labels(environment))


def audit_spec(s: Settings) -> AuditSpec:
    """Data Access logs of Secret Manager and the Kubernetes Engine API in the environment's project (any stack with one),
    and a Vault audit device where pulumi-vault applies Vault's side (``vault.address``); local: none (localcluster audits)."""
    env, cfg = s.environment, s.config
    project = cfg.gcp.project
    data_access = tuple(
        DataAccessLogSpec(conventions.data_access_log_resource_name(service, env), project, service, LOG_TYPES)
        for service in AUDITED_SERVICES
        if project
    )
    vault = None
    if cfg.vault.enabled and cfg.vault.address:
        vault = VaultAuditSpec(
            conventions.vault_audit_resource_name(env),
            VAULT_AUDIT_PATH,
            "file",
            # stdout: the server's log stream, which GKE ships to Cloud Logging; HMACed values (no log_raw).
            (("file_path", "stdout"),),
            f"secrets-platform: every request to Vault in {env}, values HMACed",
        )
    return AuditSpec(data_access, vault, s.protect)


def external_secrets_spec(s: Settings) -> ExternalSecretsOperatorSpec:
    """ESO in ``<namespace>-<env>`` with its own account (annotated for Workload Identity with a project) and pinned chart."""
    env, eso, project = s.environment, s.config.external_secrets, s.config.gcp.project
    namespace, labels = namespace_spec(eso.namespace, env, s.protect), conventions.labels(env)
    account = eso_model.SERVICE_ACCOUNT
    chart = chart_args(
        "external-secrets",
        eso.chart_version,
        eso.chart_repository,
        namespace.name,
        labels,
        eso_model.chart_values(account, local=env == "local"),
        s.eso_chart_path,
        s.protect,
    )
    identity = workload_identity_spec(conventions.ESO_GCP_COMPONENT, env, project, namespace.name, account) if project else None
    return ExternalSecretsOperatorSpec(
        eso.namespace,
        namespace,
        account,
        labels,
        s.eso_install,
        chart,
        eso.chart_version,
        eso.chart_path or eso.chart_repository,
        identity,
        eso.refresh_interval,
    )


def store_spec(s: Settings, operator_namespace: str) -> EnvironmentStoreSpec:
    """``gcp-secret-manager-<env>``, admitting the environment's namespaces; ESO's account authenticates it (with a project)."""
    env, cfg = s.environment, s.config
    return EnvironmentStoreSpec(
        conventions.store_name(env),
        conventions.labels(env),
        s.namespaces,
        cfg.gcp.project,
        operator_namespace,
        cfg.gcp.region,
        cfg.gcp.cluster_name,
    )


def vault_server_spec(s: Settings) -> VaultServerSpec:
    """Vault in ``<namespace>-<env>``: its token-reviewer account, that account's ClusterRoleBinding, the pinned chart."""
    env, v = s.environment, s.config.vault
    namespace, labels = namespace_spec(v.namespace, env, s.protect), conventions.labels(env)
    chart = chart_args(
        "vault",
        v.chart_version,
        v.chart_repository,
        namespace.name,
        labels,
        vault_model.chart_values(env, s.vault_ha, v.replicas, v.dev_mode, s.vault_auth_path),
        s.vault_chart_path,
        s.protect,
    )
    account = vault_model.AUTH_SERVICE_ACCOUNT
    return VaultServerSpec(
        v.namespace,
        namespace,
        account,
        labels,
        s.vault_install,
        chart,
        v.chart_version,
        v.chart_path or v.chart_repository,
        conventions.vault_delegator_binding_name(env),
        s.vault_ha,
        v.dev_mode,
        v.audience,
        v.token_ttl,
    )


def vault_names(s: Settings) -> VaultNames:
    """Every Vault-side name of the stack (:func:`resolve` builds it once; the CLI builds it for one name)."""
    return VaultNames(s.environment, s.config.vault.mount, s.vault_auth_path, s.config.vault.database_mount)


def vault_access_plan(s: Settings, names: VaultNames) -> list[NamespaceAccess]:
    """Per namespace declaring Vault credentials: its policy (only their paths) and its job-runner role."""
    v = s.config.vault
    services: dict[str, set[str]] = defaultdict(set)
    databases: dict[str, set[str]] = defaultdict(set)
    for c in s.config.credentials:
        into = services if c.backend == "vault" else databases if c.backend == VAULT_DATABASE else None
        if into is not None:
            for workload in c.namespaces:
                into[s.namespace(workload)].add(c.service)
    return namespace_access(
        names,
        {ns: tuple(sorted(svc)) for ns, svc in services.items()},
        v.audience,
        v.token_ttl,
        v.token_max_ttl,
        {ns: tuple(sorted(svc)) for ns, svc in databases.items()},
    )


def vault_credentials(s: Settings, names: VaultNames) -> list[VaultCredential]:
    """The vault-backed bundles: each one's KV path, fields and consumer namespaces (sorted by service)."""
    return [
        VaultCredential(c.service, names.path(c.service), dict(c.properties), tuple(sorted(s.namespace(w) for w in c.namespaces)))
        for c in sorted(s.config.credentials, key=lambda c: c.service)
        if c.backend == "vault"
    ]


def database_roles(s: Settings, names: VaultNames) -> list[DatabaseRole]:
    """The vault-database bundles' connections and roles on Vault's side (sorted by service)."""
    out = []
    for c in sorted(s.config.credentials, key=lambda c: c.service):
        if c.backend == VAULT_DATABASE:
            db, conn = database_of(c), s.config.database_connections.get(c.service)
            out.append(
                DatabaseRole(
                    c.service,
                    names.database_role(c.service),
                    names.database_mount,
                    tuple(sorted(s.namespace(w) for w in c.namespaces)),
                    tuple(db.grant_roles),
                    parse_ttl(db.default_ttl),
                    parse_ttl(db.max_ttl),
                    properties=dict(c.properties),
                    connection_url=conn.url if conn else None,
                    connection_username=conn.username if conn else None,
                )
            )
    return out


def vault_apply_spec(
    s: Settings, names: VaultNames, access: tuple[NamespaceAccess, ...], roles: tuple[DatabaseRole, ...], provider: str
) -> VaultAccessSpec:
    """dev/stg/prd with ``vault.address``: what pulumi-vault applies; each database's login from the secret config."""
    logins = {
        service: DatabaseLogin(connection_url_template(conn.url), conn.username, Sensitive(conn.password.get_secret_value()))
        for service, conn in sorted(s.config.database_connections.items())
    }
    v = s.config.vault
    return VaultAccessSpec(names, access, v.kubernetes_host, v.address, provider, tuple((role, logins[role.service]) for role in roles))
