"""Wire one stack: namespaces, the backends (External Secrets, Vault), the Secrets of every kind, then job-runner access.

``__main__`` calls :func:`build` with the validated settings; tests call it under mocks. What the
stack resolves to (the secret plan with its descriptors, the Vault policies and roles, the store and
ESO's identity) is computed once, by :func:`resolve`, into a :class:`StackModel`: build, the outputs,
the CLI and the cross-stack check all read that one model.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any, Callable, TypeVar

import pulumi
import pulumi_kubernetes as k8s

from secrets_platform import conventions
from secrets_platform.components.access import ROLE_NAME, JobRunnerAccess, JobRunnerSpec
from secrets_platform.components.audit import (
    AUDITED_SERVICES,
    LOG_TYPES,
    VAULT_AUDIT_PATH,
    AuditLogs,
    AuditSpec,
    DataAccessLogSpec,
    VaultAuditSpec,
)
from secrets_platform.components.common import SecretDescriptor
from secrets_platform.components.consumers import describe, flyte_vault_secrets
from secrets_platform.components.external_secrets import (
    EnvironmentStore,
    EnvironmentStoreSpec,
    ExternalCredential,
    ExternalCredentialSpec,
    ExternalSecretsOperator,
    ExternalSecretsOperatorSpec,
    chart_values as eso_chart_values,
    describe_external,
    store_name,
)
from secrets_platform.components.external_secrets import SERVICE_ACCOUNT as ESO_SERVICE_ACCOUNT
from secrets_platform.components.operator import chart_args
from secrets_platform.components.credentials import GeneratedCredential, GeneratedCredentialSpec, describe_credential
from secrets_platform.components.imported_secrets import ImportedSecrets, ImportedSecretsSpec, describe_imported
from secrets_platform.components.namespace import NamespaceSpec, PlatformNamespace
from secrets_platform.components.provider import kubernetes_provider
from secrets_platform.components.registry_secret import RegistryPullSecret, RegistryPullSecretSpec, describe_registry
from secrets_platform.components.tls_secret import PlatformTlsSecret, TlsSecretSpec, describe_tls
from secrets_platform.components.vault import (
    DatabaseLogin,
    DatabaseRole,
    VaultAccess,
    VaultAccessArgs,
    VaultNames,
    VaultServer,
    VaultServerSpec,
    AUTH_SERVICE_ACCOUNT,
    chart_values as vault_chart_values,
    NamespaceAccess,
    database_injector_fragments,
    injector_fragments,
    namespace_access,
)
from secrets_platform.components.workload_identity import gcp_labels, service_account_email, workload_identity_spec
from secrets_platform.settings import Credential, ImportedSecret, RegistrySecret, Settings, TlsSecret
from secrets_platform.settings.model import parse_ttl
from secrets_platform.settings.vault_database import BACKEND as VAULT_DATABASE, connection_url_template, database_of


@dataclass
class Platform:
    model: StackModel
    namespaces: dict[str, PlatformNamespace] = field(default_factory=dict)
    secret_components: list[pulumi.ComponentResource] = field(default_factory=list)
    access: dict[str, JobRunnerAccess] = field(default_factory=dict)
    external_secrets: ExternalSecretsOperator | None = None
    store: EnvironmentStore | None = None
    vault: VaultServer | None = None
    vault_access: VaultAccess | None = None
    audit: AuditLogs | None = None

    @property
    def settings(self) -> Settings:
        return self.model.settings

    @property
    def plan(self) -> list[PlannedSecrets]:
        """The secret plan the components were created from (:func:`secret_plan`)."""
        return list(self.model.secrets)

    @property
    def descriptors(self) -> list[SecretDescriptor]:
        return self.model.descriptors

    def outputs(self) -> dict[str, Any]:
        """Stack outputs: names, keys and consumer snippets; never a value."""
        s, model = self.settings, self.model
        out: dict[str, Any] = {
            "environment": s.environment,
            "namespaces": sorted(ns.name for ns in self.namespaces.values()),
            "jobRunners": sorted(f"{ns}/{conventions.JOB_RUNNER}" for ns in self.access),
            "secrets": [describe(d) for d in self.descriptors],
            "reloader": {
                "secretAnnotation": {conventions.RELOADER_SECRET_ANNOTATION: "true"},
                "workloadAnnotation": {conventions.RELOADER_CONSUMER_ANNOTATION: "true"},
            },
        }
        if s.render_dir:
            out["renderDir"] = s.render_dir
        if s.config.external_secrets.enabled:
            out["externalSecrets"] = external_secrets_outputs(s, model)
        if s.config.vault.enabled:
            out["vault"] = vault_outputs(s, model)
        return out


@dataclass(frozen=True)
class StackModel:
    """What one stack resolves to, computed once from its validated settings (:func:`resolve`)."""

    settings: Settings
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
    external_secrets: ExternalSecretsOperatorSpec | None = None
    """ESO's namespace, account, chart and GCP identity (External Secrets enabled)."""
    environment_store: EnvironmentStoreSpec | None = None
    """The ClusterSecretStore, without the local fake provider's data (the build adds it from the bundles' outputs)."""
    vault_server: VaultServerSpec | None = None
    """Vault's namespace, account, ClusterRoleBinding and chart (Vault enabled)."""
    gcp_provider: str | None = None
    """The stack's gcp provider's name (a GCP project: External Secrets and the Data Access audit logs)."""
    vault_provider: str | None = None
    """The stack's vault provider's name (Vault with an address: pulumi-vault applies its side)."""
    audit: AuditSpec = AuditSpec((), None, False)
    """The Data Access audit logs (a GCP project) and the Vault audit device (Vault with an address) the stack turns on."""

    @property
    def descriptors(self) -> list[SecretDescriptor]:
        """Every Secret the stack creates, in the outputs' order."""
        return descriptors_of(list(self.secrets))


def resolve(settings: Settings) -> StackModel:
    """The stack's model: pure (registers nothing), so the CLI and the cross-stack check read what build creates."""
    cfg, env = settings.config, settings.environment
    eso_on, vault_on = cfg.external_secrets.enabled, cfg.vault.enabled
    plan = secret_plan(settings)
    names: dict[str, set[str]] = defaultdict(set)
    for d in descriptors_of(plan):
        names[d.namespace].add(d.name)
    return StackModel(
        settings=settings,
        namespaces={w: namespace_spec(w, env, settings.protect, flyte=w in cfg.flyte.projects) for w in sorted(cfg.namespaces)},
        secrets=tuple(plan),
        access={
            w: job_runner_spec(settings.namespace(w), env, tuple(sorted(names[settings.namespace(w)]))) for w in sorted(cfg.namespaces)
        },
        store=store_name(env) if eso_on else None,
        eso_service_account=service_account_email(conventions.ESO_GCP_COMPONENT, env, cfg.gcp.project)
        if eso_on and cfg.gcp.project
        else None,
        vault_names=vault_names(settings),
        vault_access=tuple(vault_access_plan(settings)) if vault_on else (),
        database_roles=tuple(database_roles(settings)) if vault_on else (),
        external_secrets=external_secrets_spec(settings) if eso_on else None,
        environment_store=store_spec(settings) if eso_on else None,
        vault_server=vault_server_spec(settings) if vault_on else None,
        gcp_provider=conventions.provider_name("gcp", env) if cfg.gcp.project else None,
        vault_provider=conventions.provider_name("vault", env) if vault_on and cfg.vault.address else None,
        audit=audit_spec(settings),
    )


def audit_spec(s: Settings) -> AuditSpec:
    """Data Access logs of Secret Manager and the Kubernetes Engine API in the environment's project (any stack with one),
    and a Vault audit device where pulumi-vault applies Vault's side (``vault.address``); local: none (localcluster audits)."""
    env, cfg = s.environment, s.config
    project = cfg.gcp.project
    data_access = tuple(
        DataAccessLogSpec(f"data-access-logs-{service.split('.')[0]}-{env}", project, service, LOG_TYPES)
        for service in AUDITED_SERVICES
        if project
    )
    vault = None
    if cfg.vault.enabled and cfg.vault.address:
        vault = VaultAuditSpec(
            f"vault-audit-{env}",
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
    chart = chart_args(
        "external-secrets",
        eso.chart_version,
        eso.chart_repository,
        namespace.name,
        labels,
        eso_chart_values(ESO_SERVICE_ACCOUNT, local=env == "local"),
        s.eso_chart_path,
        s.protect,
    )
    identity = workload_identity_spec(conventions.ESO_GCP_COMPONENT, env, project, namespace.name, ESO_SERVICE_ACCOUNT) if project else None
    return ExternalSecretsOperatorSpec(eso.namespace, namespace, ESO_SERVICE_ACCOUNT, labels, s.eso_install, chart, identity)


def store_spec(s: Settings) -> EnvironmentStoreSpec:
    """``gcp-secret-manager-<env>``, admitting the environment's namespaces; ESO's account authenticates it (with a project)."""
    env, cfg = s.environment, s.config
    return EnvironmentStoreSpec(
        store_name(env),
        conventions.labels(env),
        s.namespaces,
        cfg.gcp.project,
        conventions.namespace_name(cfg.external_secrets.namespace, env),
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
        vault_chart_values(env, s.vault_ha, v.replicas, v.dev_mode, s.vault_auth_path),
        s.vault_chart_path,
        s.protect,
    )
    return VaultServerSpec(
        v.namespace, namespace, AUTH_SERVICE_ACCOUNT, labels, s.vault_install, chart, f"{AUTH_SERVICE_ACCOUNT}-delegator-{env}"
    )


def external_secrets_outputs(s: Settings, model: StackModel | None = None) -> dict[str, Any]:
    """Where ESO runs and which store and identity the environment's ExternalSecrets use."""
    model = model or resolve(s)
    eso, project = s.config.external_secrets, s.config.gcp.project
    return {
        "namespace": s.namespace(eso.namespace),
        "store": {
            "kind": "ClusterSecretStore",
            "name": model.store,
            "provider": "gcpsm" if project else "fake",
            "namespaces": list(s.namespaces),
        },
        "gcpServiceAccount": model.eso_service_account,
        "chart": {"installed": s.eso_install, "version": eso.chart_version, "source": eso.chart_path or eso.chart_repository},
        "refreshInterval": eso.refresh_interval,
    }


def vault_names(s: Settings) -> VaultNames:
    return VaultNames(s.environment, s.config.vault.mount, s.vault_auth_path, s.config.vault.database_mount)


def vault_access_plan(s: Settings):
    """Per namespace declaring Vault credentials: its policy (only their paths) and its job-runner role."""
    v, names = s.config.vault, vault_names(s)
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


def database_roles(s: Settings) -> list[DatabaseRole]:
    """The vault-database bundles' connections and roles on Vault's side (sorted by service)."""
    names = vault_names(s)
    out = []
    for c in sorted(s.config.credentials, key=lambda c: c.service):
        if c.backend == VAULT_DATABASE:
            db = database_of(c)
            out.append(
                DatabaseRole(
                    c.service,
                    names.database_role(c.service),
                    names.database_mount,
                    tuple(sorted(s.namespace(w) for w in c.namespaces)),
                    tuple(db.grant_roles),
                    parse_ttl(db.default_ttl),
                    parse_ttl(db.max_ttl),
                )
            )
    return out


def database_logins(s: Settings) -> dict[str, DatabaseLogin]:
    """dev/stg/prd: per vault-database bundle, how Vault connects (from the secret config databaseConnections)."""
    return {
        service: DatabaseLogin(connection_url_template(conn.url), conn.username, conn.password.get_secret_value())
        for service, conn in sorted(s.config.database_connections.items())
    }


def _database_outputs(s: Settings, names: VaultNames, roles: tuple[DatabaseRole, ...]) -> list[dict[str, Any]]:
    v = s.config.vault
    credentials = {c.service: c for c in s.config.credentials}
    out = []
    for role in roles:
        cred = credentials[role.service]
        conn = s.config.database_connections.get(role.service)
        out.append(
            {
                **role.as_output(),
                "backend": VAULT_DATABASE,
                "keys": sorted(cred.properties),
                # Where Vault connects: never the password (secret config, or the local cluster's PostgreSQL).
                "connectionUrl": conn.url if conn else None,
                "connectionUsername": conn.username if conn else None,
                "passwordFrom": (
                    f"secret config databaseConnections.{role.service}.password"
                    if conn
                    else "the local cluster's PostgreSQL (make up: secrets_platform/localcluster/postgres.py)"
                ),
                "consumers": {
                    ns: database_injector_fragments(names, ns, role.service, dict(cred.properties), v.audience, v.token_ttl)
                    for ns in role.namespaces
                },
                "dbtProfile": _dbt_postgres_profile(dict(cred.properties), conn.url if conn else None),
            }
        )
    return out


def _dbt_postgres_profile(properties: dict[str, str], url: str | None) -> dict[str, Any]:
    """A dbt postgres output whose user and password are env_var() of the env file's keys; where from the connection URL.

    local: no URL in the stack (make up's PostgreSQL listens at the cluster's port + 12, database pipelines;
    `make cluster-status` shows it), so host, port and dbname are left for the user.
    """
    from secrets_platform.parsers import conninfo

    by_prop = {prop: key for key, prop in properties.items()}
    out: dict[str, Any] = {
        "type": "postgres",
        "user": f"{{{{ env_var('{by_prop['username']}') }}}}",
        "password": f"{{{{ env_var('{by_prop['password']}') }}}}",
    }
    if url:
        # as libpq reads the URL (?host=, ?port=, ?dbname= override it; percent-encoding decoded): its first server
        db = conninfo.database(url)
        out.update({"host": db.endpoints[0].host, "port": db.endpoints[0].port, "dbname": db.dbname})
    return out


def vault_outputs(s: Settings, model: StackModel | None = None) -> dict[str, Any]:
    """Per namespace its policy and role, and the consumer annotations; an operator applies the first two when no address is set."""
    model = model or resolve(s)
    v, names, access = s.config.vault, model.vault_names, model.vault_access
    credentials = [
        {
            "service": c.service,
            "path": names.path(c.service),
            "keys": sorted(c.properties),
            "namespaces": sorted(s.namespace(w) for w in c.namespaces),
            "backend": "vault",
            # Flyte's Vault secret manager: group = the KV path, key = the field's own name (secrets_platform/components/consumers.py)
            **flyte_vault_secrets(names.path(c.service), dict(c.properties)),
            # per namespace: its own role logs in, so the annotations differ by namespace
            "consumers": {
                s.namespace(w): injector_fragments(names, s.namespace(w), c.service, dict(c.properties), v.audience, v.token_ttl)
                for w in sorted(c.namespaces)
            },
        }
        for c in sorted(s.config.credentials, key=lambda c: c.service)
        if c.backend == "vault"
    ]
    return {
        "namespace": s.namespace(v.namespace),
        "address": v.address,
        "appliedBy": "pulumi-vault" if v.address else "operator (apply the policies and roles below)",
        "authPath": names.auth_path,
        "mount": v.mount,
        "kvVersion": 2,
        "policies": [
            {"name": a.policy, "namespace": a.namespace, "services": list(a.services), "databases": list(a.databases), "hcl": a.hcl}
            for a in access
        ],
        "roles": [{**a.role.as_output(), "authPath": f"auth/{names.auth_path}"} for a in access],
        "chart": {
            "installed": s.vault_install,
            "version": v.chart_version,
            "source": v.chart_path or v.chart_repository,
            "ha": s.vault_ha,
            "devMode": v.dev_mode,
        },
        "credentials": credentials,
        "databaseMount": names.database_mount,
        "databases": _database_outputs(s, names, model.database_roles),
    }


def namespace_spec(workload: str, environment: str, protect: bool, flyte: bool = False) -> NamespaceSpec:
    """The namespace ``<workload>-<environment>`` (a Flyte project's ``<project>-<domain>``) with the stack's labels and protection."""
    return NamespaceSpec(conventions.namespace_name(workload, environment, flyte=flyte), conventions.labels(environment), protect)


def job_runner_spec(namespace: str, environment: str, secret_names: tuple[str, ...]) -> JobRunnerSpec:
    """The job runners' account, Role and RoleBinding in ``namespace``, reading exactly ``secret_names``."""
    return JobRunnerSpec(namespace, conventions.JOB_RUNNER, ROLE_NAME, secret_names, conventions.labels(environment))


def generated_credential_spec(cred: Credential, environment: str, namespaces: tuple[str, ...], protect: bool) -> GeneratedCredentialSpec:
    """``<service>-<env>-credentials``; each generated key's RandomPassword is ``<service>-<key slug>``."""
    passwords = {gen.key: conventions.password_resource_name(cred.service, gen.key) for gen in cred.generated}
    return GeneratedCredentialSpec(
        cred, conventions.credentials_name(cred.service, environment), namespaces, passwords, conventions.labels(environment), protect
    )


def registry_spec(reg: RegistrySecret, environment: str, namespaces: tuple[str, ...], protect: bool) -> RegistryPullSecretSpec:
    return RegistryPullSecretSpec(
        reg, conventions.pull_secret_name(reg.service, environment), namespaces, conventions.labels(environment), protect
    )


def tls_spec(tls: TlsSecret, environment: str, namespaces: tuple[str, ...], protect: bool) -> TlsSecretSpec:
    return TlsSecretSpec(
        tls, conventions.secret_name(tls.service, environment, tls.purpose), namespaces, conventions.labels(environment), protect
    )


def imported_spec(imported: tuple[ImportedSecret, ...], environment: str, service: str, protect: bool) -> ImportedSecretsSpec:
    return ImportedSecretsSpec(imported, service, conventions.labels(environment), protect)


def external_credential_spec(cred: Credential, settings: Settings, namespaces: tuple[str, ...]) -> ExternalCredentialSpec:
    """The bundle's Secret, Secret Manager secret and store; the accessor is ESO's GCP account (with a project)."""
    env, cfg = settings.environment, settings.config
    project = cfg.gcp.project
    pushed = {gen.key: conventions.password_resource_name(cred.service, gen.key) for gen in cred.generated} if cred.push else {}
    stand_ins = {key: conventions.stand_in_resource_name(cred.service, key) for key in cred.properties} if not project else {}
    return ExternalCredentialSpec(
        cred,
        conventions.credentials_name(cred.service, env),
        namespaces,
        store_name(env),
        conventions.labels(env),
        {**gcp_labels(env), "service": cred.service},
        settings.protect,
        cfg.external_secrets.refresh_interval,
        project,
        pushed,
        stand_ins,
        tuple(cfg.gcp.replica_locations),
        f"serviceAccount:{service_account_email(conventions.ESO_GCP_COMPONENT, env, project)}" if project else None,
    )


# The spec of every secret component: what a PlannedSecrets carries.
SecretArgs = GeneratedCredentialSpec | ExternalCredentialSpec | RegistryPullSecretSpec | TlsSecretSpec | ImportedSecretsSpec
A = TypeVar("A", GeneratedCredentialSpec, ExternalCredentialSpec, RegistryPullSecretSpec, TlsSecretSpec, ImportedSecretsSpec)


@dataclass(frozen=True)
class PlannedSecrets:
    """One secret component the stack will create: its name and args, the Secrets it makes, and how to create it."""

    name: str
    args: SecretArgs
    workloads: tuple[str, ...]
    """Workloads whose namespaces must exist first."""
    descriptors: tuple[SecretDescriptor, ...]
    """The Secrets it makes, described once here: the outputs, the CLI and the cross-stack check read these."""
    create: Callable[[pulumi.ResourceOptions], pulumi.ComponentResource] = field(repr=False, compare=False)
    backend: str = "kubernetes"
    """Which backend's resources the component needs (gcp-secret-manager: ESO and GCP)."""


def _planned(
    component: Callable[[str, A, pulumi.ResourceOptions], pulumi.ComponentResource],
    name: str,
    args: A,
    workloads: tuple[str, ...],
    describe_args: Callable[[A], list[SecretDescriptor]],
    backend: str = "kubernetes",
) -> PlannedSecrets:
    """A PlannedSecrets whose component, args and describe function agree on the args' type."""
    return PlannedSecrets(name, args, workloads, tuple(describe_args(args)), lambda opts: component(name, args, opts), backend)


def secret_plan(settings: Settings) -> list[PlannedSecrets]:
    """The secret components of a stack, in creation order; :func:`build` creates exactly these.

    Pure (registers nothing), so tools that only read a stack file (the CLI) see
    the same Secrets the program would create.
    """
    env, cfg, protect = settings.environment, settings.config, settings.protect

    def full(workloads: list[str]) -> tuple[str, ...]:
        return tuple(settings.namespace(w) for w in workloads)

    plan: list[PlannedSecrets] = []
    for cred in sorted(cfg.credentials, key=lambda c: c.service):
        if cred.backend == "kubernetes":
            args = generated_credential_spec(cred, env, full(cred.namespaces), protect)
            plan.append(_planned(GeneratedCredential, cred.service, args, tuple(cred.namespaces), describe_credential))
        elif cred.backend == "gcp-secret-manager":
            external = external_credential_spec(cred, settings, full(cred.namespaces))
            plan.append(_planned(ExternalCredential, cred.service, external, tuple(cred.namespaces), describe_external, cred.backend))
        # vault: no Kubernetes Secret; the agent injector reads Vault directly (see vault_outputs).
    for reg in sorted(cfg.registries, key=lambda r: r.service):
        registry = registry_spec(reg, env, full(reg.namespaces), protect)
        plan.append(_planned(RegistryPullSecret, reg.service, registry, tuple(reg.namespaces), describe_registry))
    for tls in sorted(cfg.tls_secrets, key=lambda t: (t.service, t.purpose)):
        tls_args = tls_spec(tls, env, full(tls.namespaces), protect)
        plan.append(_planned(PlatformTlsSecret, f"{tls.service}-{tls.purpose}", tls_args, tuple(tls.namespaces), describe_tls))
    if settings.imported:
        workload = cfg.imports.namespace
        imported = imported_spec(settings.imported, env, workload, protect)
        plan.append(_planned(ImportedSecrets, "repository", imported, (workload,), describe_imported))
    return plan


def descriptors_of(plan: list[PlannedSecrets]) -> list[SecretDescriptor]:
    """The Secrets of a plan, in the outputs' order (namespace, then name)."""
    return sorted((d for item in plan for d in item.descriptors), key=lambda d: (d.namespace, d.name))


def planned_descriptors(settings: Settings) -> list[SecretDescriptor]:
    """Every Secret the stack creates, described without creating anything (same order as outputs)."""
    return resolve(settings).descriptors


def build(settings: Settings, provider: k8s.Provider | None = None) -> Platform:
    cfg = settings.config
    provider = provider or kubernetes_provider(settings)
    base = pulumi.ResourceOptions(providers=[provider])
    model = resolve(settings)
    platform = Platform(model)

    for workload, ns_spec in model.namespaces.items():
        platform.namespaces[workload] = PlatformNamespace(workload, ns_spec, base)

    def after(workloads: list[str]) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions.merge(
            base, pulumi.ResourceOptions(depends_on=[platform.namespaces[w].namespace for w in sorted(set(workloads))])
        )

    gcp_provider = None
    if model.gcp_provider is not None:
        import pulumi_gcp as gcp

        gcp_provider = gcp.Provider(model.gcp_provider, project=cfg.gcp.project, region=cfg.gcp.region)
    providers: list[pulumi.ProviderResource] = [provider, gcp_provider] if gcp_provider else [provider]
    with_gcp = pulumi.ResourceOptions(providers=providers)

    if model.external_secrets is not None:
        platform.external_secrets = ExternalSecretsOperator("external-secrets", model.external_secrets, with_gcp)
    if model.vault_server is not None:
        platform.vault = VaultServer("vault", model.vault_server, base)

    for item in model.secrets:
        opts = after(list(item.workloads))
        if item.backend == "gcp-secret-manager":
            assert platform.external_secrets is not None, "settings require externalSecrets.enabled"
            opts = pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(providers=providers, depends_on=platform.external_secrets.ready)
            )
        platform.secret_components.append(item.create(opts))

    if platform.external_secrets is not None and model.environment_store is not None:
        fake = None
        if not cfg.gcp.project:  # local: ESO's fake provider holds the bundles' documents
            entries = [c.fake_entry for c in platform.secret_components if isinstance(c, ExternalCredential) and c.fake_entry is not None]
            fake = pulumi.Output.all(*entries).apply(lambda items: sorted(items, key=lambda e: e["key"]))
        platform.store = EnvironmentStore(
            "gcp-secret-manager",
            replace(model.environment_store, fake_data=fake),
            pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=platform.external_secrets.ready)),
        )

    for workload, access in model.access.items():
        platform.access[access.namespace] = JobRunnerAccess(workload, access, after([workload]))

    if model.vault_provider is not None:
        v, logins = cfg.vault, database_logins(settings)
        platform.vault_access = VaultAccess(
            "vault-access",
            VaultAccessArgs(
                model.vault_names,
                model.vault_access,
                v.kubernetes_host,
                v.address,
                model.vault_provider,
                tuple((role, logins[role.service]) for role in model.database_roles),
            ),
            pulumi.ResourceOptions(depends_on=[platform.vault] if platform.vault else None),
        )
    if not model.audit.empty:
        platform.audit = AuditLogs(
            "audit",
            model.audit,
            pulumi.ResourceOptions(providers=providers),
            vault_provider=platform.vault_access.provider if platform.vault_access else None,
        )
    return platform
