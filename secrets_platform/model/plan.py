"""The secret plan: every Secret component of a stack, its spec (resolved values only) and the Secrets it makes.

Pure: :func:`secret_plan` registers nothing; :func:`secrets_platform.components.platform.build`
creates exactly these, and the outputs, the CLI and the cross-stack check read their descriptors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, TypeVar

from secrets_platform import conventions
from secrets_platform.model.descriptors import SecretDescriptor, Sensitive
from secrets_platform.model.secrets import (
    ExternalCredentialSpec,
    GeneratedCredentialSpec,
    Generator,
    ImportedSecretsSpec,
    ImportedVariable,
    RegistryPullSecretSpec,
    SecretSpec,
    TlsSecretSpec,
    describe_credential,
    describe_external,
    describe_imported,
    describe_registry,
    describe_tls,
)
from secrets_platform.model.specs import gcp_labels

if TYPE_CHECKING:
    from secrets_platform.settings import Credential, GeneratedKey, ImportedSecret, RegistrySecret, Settings, TlsSecret


def generators(keys: Iterable[GeneratedKey]) -> tuple[Generator, ...]:
    """The generated keys' recipes, sorted by key."""
    return tuple(
        Generator(g.key, g.length, g.upper, g.lower, g.numeric, g.special, g.override_special) for g in sorted(keys, key=lambda g: g.key)
    )


def bundle_keys(cred: Credential) -> tuple[str, ...]:
    generated = [gen.key for gen in cred.generated]
    if cred.rotation_strategy == "dual":
        generated += [conventions.previous_key(k) for k in generated]
    return tuple(sorted({*cred.values, *generated}))


def remote_properties(cred: Credential) -> dict[str, str]:
    """Secret key -> property of the remote JSON document; pushed keys are stored under their own name."""
    pushed = {k: k for k in cred.values} | {g.key: g.key for g in cred.generated} if cred.push else {}
    return {**pushed, **cred.properties}


def generated_credential_spec(cred: Credential, environment: str, namespaces: tuple[str, ...], protect: bool) -> GeneratedCredentialSpec:
    """``<service>-<env>-credentials``; each generated key's RandomPassword is ``<service>-<key slug>`` (dual: ``-slot-<a|b>``)."""
    passwords = {gen.key: conventions.password_resource_name(cred.service, gen.key) for gen in cred.generated}
    slots = (
        {key: {slot: conventions.slot_resource_name(base, slot) for slot in ("a", "b")} for key, base in passwords.items()}
        if cred.rotation_strategy == "dual"
        else {}
    )
    dual = cred.rotation_strategy == "dual"
    return GeneratedCredentialSpec(
        cred.service,
        conventions.credentials_name(cred.service, environment),
        namespaces,
        bundle_keys(cred),
        dict(cred.values),
        generators(cred.generated),
        cred.rotation,
        cred.rotation_strategy,
        cred.generation,
        passwords,
        slots,
        {gen.key: conventions.previous_key(gen.key) for gen in cred.generated} if dual else {},
        conventions.labels(environment),
        protect,
    )


def registry_spec(reg: RegistrySecret, environment: str, namespaces: tuple[str, ...], protect: bool) -> RegistryPullSecretSpec:
    return RegistryPullSecretSpec(
        reg.service,
        conventions.pull_secret_name(reg.service, environment),
        namespaces,
        conventions.labels(environment),
        protect,
        reg.server,
        reg.username,
        Sensitive(reg.password.get_secret_value()),
        reg.email,
    )


def tls_spec(tls: TlsSecret, environment: str, namespaces: tuple[str, ...], protect: bool) -> TlsSecretSpec:
    return TlsSecretSpec(
        tls.service,
        conventions.secret_name(tls.service, environment, tls.purpose),
        namespaces,
        conventions.labels(environment),
        protect,
        tls.certificate,
        Sensitive(tls.private_key.get_secret_value()),
    )


def imported_spec(imported: tuple[ImportedSecret, ...], environment: str, service: str, protect: bool) -> ImportedSecretsSpec:
    variables = tuple(
        ImportedVariable(i.variable, i.name, i.namespace, Sensitive(i.value.get_secret_value()))
        for i in sorted(imported, key=lambda i: i.variable)
    )
    return ImportedSecretsSpec(variables, service, conventions.labels(environment), protect)


def external_credential_spec(cred: Credential, settings: Settings, namespaces: tuple[str, ...]) -> ExternalCredentialSpec:
    """The bundle's Secret, Secret Manager secret and store; the accessor is ESO's GCP account (with a project)."""
    env, cfg = settings.environment, settings.config
    project = cfg.gcp.project
    pushed = {gen.key: conventions.password_resource_name(cred.service, gen.key) for gen in cred.generated} if cred.push else {}
    stand_ins = {key: conventions.stand_in_resource_name(cred.service, key) for key in cred.properties} if not project else {}
    return ExternalCredentialSpec(
        cred.service,
        conventions.credentials_name(cred.service, env),
        namespaces,
        conventions.store_name(env),
        conventions.labels(env),
        {**gcp_labels(env), "service": cred.service},
        settings.protect,
        cfg.external_secrets.refresh_interval,
        project,
        remote_properties(cred),
        cred.rotation,
        cred.push,
        dict(cred.values) if cred.push else {},
        generators(cred.generated) if cred.push else (),
        pushed,
        stand_ins,
        tuple(cfg.gcp.replica_locations),
        conventions.gcp_service_account_member(conventions.gcp_service_account_email(conventions.ESO_GCP_COMPONENT, env, project))
        if project
        else None,
        conventions.gcp_secret_resource_name(project, conventions.credentials_name(cred.service, env)) if project else None,
    )


A = TypeVar("A", GeneratedCredentialSpec, ExternalCredentialSpec, RegistryPullSecretSpec, TlsSecretSpec, ImportedSecretsSpec)


@dataclass(frozen=True)
class PlannedSecrets:
    """One secret component the stack will create: its name and spec, and the Secrets it makes.

    Which component class registers it follows from the spec's type
    (:data:`secrets_platform.components.platform.SECRET_COMPONENTS`).
    """

    name: str
    args: SecretSpec
    workloads: tuple[str, ...]
    """Workloads whose namespaces must exist first."""
    descriptors: tuple[SecretDescriptor, ...]
    """The Secrets it makes, described once here: the outputs, the CLI and the cross-stack check read these."""
    backend: str = "kubernetes"
    """Which backend's resources the component needs (gcp-secret-manager: ESO and GCP)."""


def _planned(
    name: str, args: A, workloads: tuple[str, ...], describe_args: Callable[[A], list[SecretDescriptor]], backend: str = "kubernetes"
) -> PlannedSecrets:
    """A PlannedSecrets whose spec and describe function agree on the spec's type."""
    return PlannedSecrets(name, args, workloads, tuple(describe_args(args)), backend)


def secret_plan(settings: Settings) -> list[PlannedSecrets]:
    """The secret components of a stack, in creation order; ``build`` creates exactly these.

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
            plan.append(_planned(cred.service, args, tuple(cred.namespaces), describe_credential))
        elif cred.backend == "gcp-secret-manager":
            external = external_credential_spec(cred, settings, full(cred.namespaces))
            plan.append(_planned(cred.service, external, tuple(cred.namespaces), describe_external, cred.backend))
        # vault: no Kubernetes Secret; the agent injector reads Vault directly (see the vault outputs).
    for reg in sorted(cfg.registries, key=lambda r: r.service):
        registry = registry_spec(reg, env, full(reg.namespaces), protect)
        plan.append(_planned(reg.service, registry, tuple(reg.namespaces), describe_registry))
    for tls in sorted(cfg.tls_secrets, key=lambda t: (t.service, t.purpose)):
        tls_args = tls_spec(tls, env, full(tls.namespaces), protect)
        plan.append(_planned(conventions.tls_component_name(tls.service, tls.purpose), tls_args, tuple(tls.namespaces), describe_tls))
    if settings.imported:
        workload = cfg.imports.namespace
        imported = imported_spec(settings.imported, env, workload, protect)
        plan.append(_planned("repository", imported, (workload,), describe_imported))
    return plan


def descriptors_of(plan: Iterable[PlannedSecrets]) -> list[SecretDescriptor]:
    """The Secrets of a plan, in the outputs' order (namespace, then name)."""
    return sorted((d for item in plan for d in item.descriptors), key=lambda d: (d.namespace, d.name))
