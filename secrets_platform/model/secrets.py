"""The Secret components' specs, resolved values only, and the Secrets each makes (its descriptors).

A spec holds final names, the keys and every value a component writes: plain values as
they are (stack config), secret-config values as :class:`Sensitive`, which never prints.
No spec carries a config object, so a component reads its spec and nothing else.

Dual rotation (``rotationStrategy: dual``): every generated key has two RandomPasswords,
slots ``a`` and ``b``. The bundle's ``generation`` picks them: slot a was last regenerated
at the latest odd generation, slot b at the latest even one (:func:`slot_generations`);
the current slot is the one of the generation's parity (:func:`current_slot`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Protocol

from secrets_platform.model.descriptors import DOCKER_CONFIG_JSON, OPAQUE, TLS, SecretDescriptor, Sensitive

SLOTS = ("a", "b")
# The one key Kubernetes requires of a dockerconfigjson Secret, and the two of a TLS Secret.
REGISTRY_KEY = ".dockerconfigjson"
TLS_KEYS = ("tls.crt", "tls.key")


@dataclass(frozen=True)
class Generator:
    """How pulumi-random generates one key: its length and character classes."""

    key: str
    length: int
    upper: bool
    lower: bool
    numeric: bool
    special: bool
    override_special: str | None


def slot_generations(generation: int) -> dict[str, int]:
    """The generation at which each slot was last regenerated: a at odd ones, b at even ones (0 = the first value)."""
    odd = generation if generation % 2 else generation - 1
    even = generation if generation % 2 == 0 else generation - 1
    return {"a": odd, "b": even}


def current_slot(generation: int) -> str:
    return "a" if generation % 2 else "b"


@dataclass(frozen=True)
class GeneratedCredentialSpec:
    """A generated bundle as the stack resolved it (:func:`secrets_platform.model.plan.generated_credential_spec`)."""

    service: str
    secret_name: str
    """``<service>-<env>-credentials`` (:func:`conventions.credentials_name`)."""
    namespaces: tuple[str, ...]
    """Full namespace names that get a copy of the Secret."""
    keys: tuple[str, ...]
    """Every key the Secret holds (dual: with each generated key's ``_PREVIOUS``)."""
    values: Mapping[str, str] = field(repr=False)
    """The bundle's fixed values (stack config; written as Pulumi secrets)."""
    generated: tuple[Generator, ...]
    """Sorted by key."""
    rotation: str
    rotation_strategy: str
    generation: int
    password_names: Mapping[str, str]
    """Per generated key, the resource name of its RandomPassword (single); dual: per key, per slot (``slot_names``)."""
    slot_names: Mapping[str, Mapping[str, str]]
    """dual: per generated key, each slot's RandomPassword resource name (``<service>-<key slug>-slot-<a|b>``)."""
    previous_keys: Mapping[str, str]
    """dual: per generated key, the key that holds its previous value (``<KEY>_PREVIOUS``)."""
    labels: Mapping[str, str]
    protect: bool
    """Protect and retain the Secrets (prd)."""


class OneSecret(Protocol):
    """A spec of one Secret copied into each consumer namespace (what its descriptors and its component read)."""

    @property
    def service(self) -> str: ...
    @property
    def secret_name(self) -> str: ...
    @property
    def namespaces(self) -> tuple[str, ...]: ...
    @property
    def labels(self) -> Mapping[str, str]: ...
    @property
    def protect(self) -> bool: ...


@dataclass(frozen=True)
class CopiedSecretSpec:
    """The fields a spec of one Secret copied into each namespace starts with (:class:`OneSecret`), then its values."""

    service: str
    secret_name: str
    """The Secret's name in every namespace (each spec says which conventions name)."""
    namespaces: tuple[str, ...]
    labels: Mapping[str, str]
    protect: bool


def _in_each_namespace(
    spec: OneSecret,
    secret_type: str,
    keys: tuple[str, ...],
    *,
    backend: str = "kubernetes",
    rotation: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> list[SecretDescriptor]:
    """The descriptor of ``spec``'s Secret in each of its namespaces, sorted (the copies its component writes)."""
    return [
        SecretDescriptor(spec.secret_name, namespace, secret_type, keys, backend, spec.service, rotation, dict(extra or {}))
        for namespace in sorted(spec.namespaces)
    ]


def describe_credential(spec: GeneratedCredentialSpec) -> list[SecretDescriptor]:
    """What the component creates, without creating it (pure: the CLI reads a stack file with it)."""
    extra = {}
    if spec.rotation_strategy == "dual":  # single bundles describe themselves as before
        extra = {"rotationStrategy": "dual", "generation": str(spec.generation), "currentSlot": current_slot(spec.generation)}
    return _in_each_namespace(spec, OPAQUE, spec.keys, rotation=spec.rotation, extra=extra)


@dataclass(frozen=True)
class ExternalCredentialSpec:
    """A gcp-secret-manager bundle as the stack resolved it (:func:`secrets_platform.model.plan.external_credential_spec`)."""

    service: str
    secret_name: str
    """``<service>-<env>-credentials``: the Secret ESO writes and the Secret Manager secret (:func:`conventions.credentials_name`)."""
    namespaces: tuple[str, ...]
    store: str
    """The ClusterSecretStore the ExternalSecrets read (:func:`conventions.store_name`)."""
    labels: Mapping[str, str]
    """The CONVENTIONS labels: on the ExternalSecrets and on the Secrets ESO writes."""
    gcp_labels: Mapping[str, str]
    """The Secret Manager secret's labels (GCP's alphabet, with ``service``)."""
    protect: bool
    refresh_interval: str
    project: str | None
    """None in local: no Secret Manager resources, the fake store stands in."""
    properties: Mapping[str, str]
    """Secret key -> property of the remote JSON document (pushed keys under their own name)."""
    rotation: str
    push: bool
    values: Mapping[str, str] = field(repr=False)
    """Pushed fixed values (push only; stack config)."""
    generated: tuple[Generator, ...]
    """Pushed generated keys (push only), sorted by key."""
    password_names: Mapping[str, str]
    """Per pushed generated key, its RandomPassword's resource name (``<service>-<key slug>``)."""
    stand_in_names: Mapping[str, str]
    """local: per declared property key, its stand-in RandomPassword's resource name (``<service>-<key slug>-stand-in``)."""
    replica_locations: tuple[str, ...] = ()
    accessor: str | None = None
    """The one IAM member granted secretAccessor on this secret (``serviceAccount:eso-<env>@...``)."""
    secret_resource: str | None = None
    """With a project: the Secret Manager secret's resource name (``projects/<project>/secrets/<secret_name>``)."""


def describe_external(spec: ExternalCredentialSpec) -> list[SecretDescriptor]:
    """The Secrets ESO writes for this bundle (pure, like the other describe_* functions)."""
    keys = tuple(sorted(spec.properties))
    extra = {"remoteKey": spec.secret_name, "store": spec.store}
    return _in_each_namespace(spec, OPAQUE, keys, backend="gcp-secret-manager", rotation=spec.rotation, extra=extra)


@dataclass(frozen=True)
class RegistryPullSecretSpec(CopiedSecretSpec):
    """A registry's pull secret as the stack resolved it (:func:`secrets_platform.model.plan.registry_spec`):
    ``secret_name`` is ``<service>-<env>-pull-secret`` (:func:`conventions.pull_secret_name`).

    The server, user and e-mail come from secret config (the whole ``registries`` key is
    stored with ``--secret``): none of them prints, and the descriptors leave them out.
    """

    server: str = field(repr=False)
    username: str = field(repr=False)
    password: Sensitive = field(repr=False)
    email: str | None = field(repr=False)


def describe_registry(spec: RegistryPullSecretSpec) -> list[SecretDescriptor]:
    """What the component creates, without creating it (pure: never touches the password).

    The registry's server is left out on purpose: it comes from secret config (the
    whole ``registries`` key is stored with ``--secret``), and these descriptors become
    plain stack outputs.
    """
    return _in_each_namespace(spec, DOCKER_CONFIG_JSON, (REGISTRY_KEY,))


@dataclass(frozen=True)
class TlsSecretSpec(CopiedSecretSpec):
    """A TLS secret as the stack resolved it (:func:`secrets_platform.model.plan.tls_spec`): ``secret_name`` is
    ``<service>-<env>-<purpose>-secret`` (:func:`conventions.secret_name`)."""

    certificate: str = field(repr=False)
    private_key: Sensitive = field(repr=False)


def describe_tls(spec: TlsSecretSpec) -> list[SecretDescriptor]:
    """What the component creates, without creating it (pure: never touches the key)."""
    return _in_each_namespace(spec, TLS, TLS_KEYS)


@dataclass(frozen=True)
class ImportedVariable:
    """One deploy-environment variable and the Secret it becomes (its name and namespace from settings)."""

    variable: str
    name: str
    namespace: str
    value: Sensitive = field(repr=False)


@dataclass(frozen=True)
class ImportedSecretsSpec:
    """The imported variables as the stack resolved them (:func:`secrets_platform.model.plan.imported_spec`), sorted by variable."""

    imported: tuple[ImportedVariable, ...]
    service: str
    labels: Mapping[str, str]
    protect: bool


def describe_imported(spec: ImportedSecretsSpec) -> list[SecretDescriptor]:
    """What the component creates, without creating it (pure: names and keys only)."""
    return [SecretDescriptor(i.name, i.namespace, OPAQUE, (i.variable,), "imported", spec.service) for i in spec.imported]


# The spec of every secret component.
SecretSpec = GeneratedCredentialSpec | ExternalCredentialSpec | RegistryPullSecretSpec | TlsSecretSpec | ImportedSecretsSpec
