"""Build one stack: map the resolved model's specs to ComponentResources, and nothing else.

``__main__`` calls :func:`build` with the validated settings; tests call it under mocks.
What the stack resolves to (names, specs, the secret plan with its descriptors, Vault's
policies and roles, the outputs' content) is :func:`secrets_platform.model.resolve`'s: the
components read their spec, the build reads the model, and neither reads the config again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pulumi
import pulumi_kubernetes as k8s

from secrets_platform.components.access import JobRunnerAccess
from secrets_platform.components.audit import AuditLogs
from secrets_platform.components.credentials import GeneratedCredential
from secrets_platform.components.external_secrets import EnvironmentStore, ExternalCredential, ExternalSecretsOperator
from secrets_platform.components.imported_secrets import ImportedSecrets
from secrets_platform.components.namespace import PlatformNamespace
from secrets_platform.components.provider import kubernetes_provider
from secrets_platform.components.registry_secret import RegistryPullSecret
from secrets_platform.components.tls_secret import PlatformTlsSecret
from secrets_platform.components.vault import VaultAccess, VaultServer
from secrets_platform.model import PlannedSecrets, SecretDescriptor, StackModel, resolve
from secrets_platform.model.outputs import copied
from secrets_platform.model.secrets import (
    ExternalCredentialSpec,
    GeneratedCredentialSpec,
    ImportedSecretsSpec,
    RegistryPullSecretSpec,
    TlsSecretSpec,
)
from secrets_platform.settings import Settings

# Which component registers each kind of secret spec.
SECRET_COMPONENTS: dict[type, Callable[..., pulumi.ComponentResource]] = {
    GeneratedCredentialSpec: GeneratedCredential,
    ExternalCredentialSpec: ExternalCredential,
    RegistryPullSecretSpec: RegistryPullSecret,
    TlsSecretSpec: PlatformTlsSecret,
    ImportedSecretsSpec: ImportedSecrets,
}


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
    def plan(self) -> list[PlannedSecrets]:
        """The secret plan the components were created from."""
        return list(self.model.secrets)

    @property
    def descriptors(self) -> list[SecretDescriptor]:
        return self.model.descriptors

    def outputs(self) -> dict[str, Any]:
        """Stack outputs: names, keys and consumer snippets; never a value (the model's, :mod:`secrets_platform.model.outputs`)."""
        return copied(dict(self.model.outputs))


def build(settings: Settings, provider: k8s.Provider | None = None) -> Platform:
    model = resolve(settings)
    provider = provider or kubernetes_provider(model.providers)
    base = pulumi.ResourceOptions(providers=[provider])
    platform = Platform(model)

    for workload, ns_spec in model.namespaces.items():
        platform.namespaces[workload] = PlatformNamespace(workload, ns_spec, base)

    def after(workloads: list[str]) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions.merge(
            base, pulumi.ResourceOptions(depends_on=[platform.namespaces[w].namespace for w in sorted(set(workloads))])
        )

    gcp_provider = None
    if model.providers.gcp is not None:
        import pulumi_gcp as gcp

        gcp_provider = gcp.Provider(model.providers.gcp, project=model.providers.gcp_project, region=model.providers.gcp_region)
    providers: list[pulumi.ProviderResource] = [provider, gcp_provider] if gcp_provider else [provider]

    if model.external_secrets is not None:
        platform.external_secrets = ExternalSecretsOperator(
            "external-secrets", model.external_secrets, pulumi.ResourceOptions(providers=providers)
        )
    if model.vault_server is not None:
        platform.vault = VaultServer("vault", model.vault_server, base)

    for item in model.secrets:
        opts = after(list(item.workloads))
        if item.backend == "gcp-secret-manager":
            assert platform.external_secrets is not None, "settings require externalSecrets.enabled"
            opts = pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(providers=providers, depends_on=platform.external_secrets.ready)
            )
        # The component of the planned secret, chosen by its spec's type: called here, not through a helper, as the SDK
        # walks every frame of the stack for each resource it registers (each of the component's children included).
        platform.secret_components.append(SECRET_COMPONENTS[type(item.args)](item.name, item.args, opts))

    if platform.external_secrets is not None and model.environment_store is not None:
        platform.store = _store(platform, model, base)

    for workload, access in model.access.items():
        platform.access[access.namespace] = JobRunnerAccess(workload, access, after([workload]))

    if model.vault_apply is not None:
        platform.vault_access = VaultAccess(
            "vault-access", model.vault_apply, pulumi.ResourceOptions(depends_on=[platform.vault] if platform.vault else None)
        )
    if not model.audit.empty:
        platform.audit = AuditLogs(
            "audit",
            model.audit,
            pulumi.ResourceOptions(providers=providers),
            vault_provider=platform.vault_access.provider if platform.vault_access else None,
        )
    return platform


def _store(platform: Platform, model: StackModel, base: pulumi.ResourceOptions) -> EnvironmentStore:
    """The ClusterSecretStore; local: ESO's fake provider holds the bundles' documents (Pulumi secrets)."""
    assert platform.external_secrets is not None and model.environment_store is not None
    fake = None
    if not model.environment_store.project:
        entries = [c.fake_entry for c in platform.secret_components if isinstance(c, ExternalCredential) and c.fake_entry is not None]
        fake = pulumi.Output.all(*entries).apply(lambda items: sorted(items, key=lambda e: e["key"]))
    return EnvironmentStore(
        "gcp-secret-manager",
        model.environment_store,
        pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=platform.external_secrets.ready)),
        fake_data=fake,
    )
