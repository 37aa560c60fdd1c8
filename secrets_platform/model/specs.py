"""The specs of the platform's Kubernetes-side and cloud-side components, as :func:`secrets_platform.model.resolve` resolves them.

Each holds final names, labels, protection and values: a component registers what its
spec says and reads nothing else. Pure: no Pulumi SDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from secrets_platform import conventions

# What the Data Access logs of each service must record (the pack checks DATA_READ for both).
SECRET_MANAGER = "secretmanager.googleapis.com"
KUBERNETES_ENGINE = "container.googleapis.com"
AUDITED_SERVICES = (SECRET_MANAGER, KUBERNETES_ENGINE)
LOG_TYPES = ("ADMIN_READ", "DATA_READ")
VAULT_AUDIT_PATH = "secrets-platform"


@dataclass(frozen=True)
class NamespaceSpec:
    """A namespace as the stack resolved it (:func:`secrets_platform.model.stack.namespace_spec`)."""

    name: str
    """The namespace's name, ``<workload>-<environment>`` (:func:`conventions.namespace_name`)."""
    labels: Mapping[str, str]
    """The CONVENTIONS labels of the stack; the Pod Security labels are added by the component."""
    protect: bool
    """Protect and retain the namespace (prd)."""


@dataclass(frozen=True)
class JobRunnerSpec:
    """One namespace's job-runner access as the stack resolved it (:func:`secrets_platform.model.stack.job_runner_spec`)."""

    namespace: str
    service_account: str
    """The job runners' service account (:data:`conventions.JOB_RUNNER`)."""
    role: str
    """The Role, and the RoleBinding of the same name (:data:`conventions.JOB_RUNNER_ROLE`)."""
    secret_names: tuple[str, ...]
    """The Secrets the platform creates in this namespace."""
    labels: Mapping[str, str]


@dataclass(frozen=True)
class ChartArgs:
    chart: str
    """Chart name in the repository, e.g. ``external-secrets``; also the release name, so
    object names are the chart's documented ones (``vault-0``, ``vault-internal``)."""
    version: str
    """Exact version; settings refuse ranges and ``latest``. With a local chart it is the
    version the folder or archive holds: the pack checks the rendered objects carry it."""
    repository: str
    """``https://...`` Helm repository, or ``oci://registry/path`` (the chart is ``<repository>/<chart>``)."""
    namespace: str
    labels: Mapping[str, str]
    """The CONVENTIONS labels of the stack: every rendered object gets them (components.helm.label_transform)."""
    values: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None
    """A local chart folder or ``.tgz`` (air-gapped clusters) used instead of the repository."""
    protect: bool = False
    """prd: the chart's Secrets are protected like every platform Secret (CONVENTIONS, data safety)."""


def chart_args(
    chart: str,
    version: str | None,
    repository: str,
    namespace: str,
    labels: Mapping[str, str],
    values: Mapping[str, Any],
    path: str | None,
    protect: bool,
) -> ChartArgs | None:
    """ChartArgs of an operator's pinned chart, or None when no version is pinned (then it is not installed)."""
    return ChartArgs(chart, version, repository, namespace, labels, values, path=path, protect=protect) if version else None


@dataclass(frozen=True)
class OperatorSpec:
    """What an operator's component registers, as the stack resolved it."""

    workload: str
    """Its namespace component's name (the workload token, e.g. ``external-secrets``)."""
    namespace: NamespaceSpec
    service_account: str
    """Its own service account in that namespace (the chart creates none)."""
    labels: Mapping[str, str]
    install: bool
    """Install the chart here (else an operator installs it)."""
    chart: ChartArgs | None
    """The pinned chart, None when no version is pinned."""
    chart_version: str | None = None
    chart_source: str | None = None
    """Where the chart comes from: its local path, else its repository."""


@dataclass(frozen=True)
class WorkloadIdentitySpec:
    """A GCP account and its one Kubernetes identity, as the stack resolved them (:func:`workload_identity_spec`)."""

    account_id: str
    """``<component>-<env>`` (6-30 chars, :func:`conventions.gcp_service_account_id`)."""
    email: str
    project: str
    member: str
    """The one Kubernetes identity allowed (:func:`conventions.workload_identity_member`)."""
    display_name: str
    description: str
    account_resource: str
    """``projects/<project>/serviceAccounts/<email>`` (:func:`conventions.gcp_service_account_resource_name`)."""


def workload_identity_spec(
    component: str, environment: str, project: str, namespace: str, kubernetes_service_account: str
) -> WorkloadIdentitySpec:
    """``<component>-<env>@<project>``, which only ``<namespace>/<kubernetes_service_account>`` may act as."""
    email = conventions.gcp_service_account_email(component, environment, project)
    return WorkloadIdentitySpec(
        conventions.gcp_service_account_id(component, environment),
        email,
        project,
        conventions.workload_identity_member(project, namespace, kubernetes_service_account),
        f"{component} ({environment})",
        f"secrets-platform: {component} of {environment}, keyless via Workload Identity",
        conventions.gcp_service_account_resource_name(project, email),
    )


def gcp_labels(environment: str) -> dict[str, str]:
    """The CONVENTIONS labels in GCP's label alphabet (no '/' or '.' in keys)."""
    return {"managed-by": "pulumi", "part-of": conventions.PROJECT, "environment": environment}


@dataclass(frozen=True)
class ExternalSecretsOperatorSpec(OperatorSpec):
    """ESO's namespace, service account and chart, and its GCP identity (:func:`secrets_platform.model.stack.external_secrets_spec`)."""

    identity: WorkloadIdentitySpec | None = None
    """None in local (no GCP project, no Workload Identity)."""
    refresh_interval: str = "1h"
    """How often the ExternalSecrets re-read their remote keys."""


@dataclass(frozen=True)
class VaultServerSpec(OperatorSpec):
    """Vault's namespace, token-reviewer account, its ClusterRoleBinding and chart (:func:`secrets_platform.model.stack.vault_server_spec`)."""

    auth_delegator: str = ""
    """The token reviewer's ClusterRoleBinding: ``vault-auth-delegator-<env>``."""
    ha: bool = False
    dev_mode: bool = False
    audience: str = "vault"
    """The audience a job runner's projected token carries to Vault's Kubernetes auth."""
    token_ttl: int = 3600


@dataclass(frozen=True)
class EnvironmentStoreSpec:
    """The environment's ClusterSecretStore as the stack resolved it (:func:`secrets_platform.model.stack.store_spec`).

    local: the fake provider's data is the bundles' documents, Pulumi secrets known only
    once the components exist; the build hands them to the component beside this spec.
    """

    name: str
    """``gcp-secret-manager-<env>`` (:func:`conventions.store_name`)."""
    labels: Mapping[str, str]
    namespaces: tuple[str, ...]
    """Exactly the namespaces that may use the store (the environment's)."""
    project: str | None
    """GCP project of the gcpsm provider; None selects the fake provider (local)."""
    operator_namespace: str
    region: str | None = None
    cluster_name: str | None = None


@dataclass(frozen=True)
class DataAccessLogSpec:
    """One service's Data Access logs in one project."""

    resource_name: str
    project: str
    service: str
    log_types: tuple[str, ...]


@dataclass(frozen=True)
class VaultAuditSpec:
    """One Vault audit device: its path, type and options (never ``log_raw``)."""

    resource_name: str
    path: str
    type: str
    options: tuple[tuple[str, str], ...]
    description: str


@dataclass(frozen=True)
class AuditSpec:
    """What the stack turns on (:func:`secrets_platform.model.stack.audit_spec`); empty for local."""

    data_access: tuple[DataAccessLogSpec, ...]
    vault: VaultAuditSpec | None
    protect: bool

    @property
    def empty(self) -> bool:
        return not self.data_access and self.vault is None


@dataclass(frozen=True)
class ProviderSpec:
    """The stack's explicit providers: kubernetes (always), gcp (a project), vault (Vault with an address)."""

    kubernetes: str
    """``kubernetes-<env>`` (:func:`conventions.provider_name`)."""
    render_dir: str | None
    """local with ``renderDir``: write manifests there instead of applying them."""
    kubeconfig: str | None
    context: str | None
    gcp: str | None = None
    gcp_project: str | None = None
    gcp_region: str | None = None
    vault: str | None = None
    vault_address: str | None = None
