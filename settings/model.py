"""The typed shape of a stack's config (``secrets-platform:*`` keys).

Field names are snake_case in Python and camelCase in ``Pulumi.<env>.yaml``. Every
model forbids unknown keys and is strict (no ``"yes"`` turning into ``True``).
Cross-field rules that need the environment (names, namespaces, duplicates) live
in :mod:`settings.load`, which has the environment at hand.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic.alias_generators import to_camel

# Keys whose name says they hold a credential; such a key may not be a plain
# `values` entry (it would sit unencrypted in the stack file).
CREDENTIAL_WORDS = ("PASSWORD", "PASSWD", "TOKEN", "SECRET", "PRIVATE_KEY", "API_KEY", "ACCESS_KEY", "CLIENT_SECRET")


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        strict=True,
        frozen=True,
        hide_input_in_errors=True,
    )


class GeneratedKey(_Model):
    """One key of a credential bundle whose value pulumi-random generates."""

    key: str
    length: int = Field(default=32, ge=16, le=256)
    upper: bool = True
    lower: bool = True
    numeric: bool = True
    special: bool = True
    # Restrict special characters for systems that reject some (e.g. "!#%*-_" for URLs).
    override_special: str | None = None


class Credential(_Model):
    """A credential bundle: the users, passwords and tokens of one service."""

    service: str
    # Workloads (namespace prefixes) that get a copy of the bundle.
    namespaces: list[str] = Field(min_length=1)
    # Any string; changing it regenerates every generated key of this bundle.
    rotation: str | int = "1"
    values: dict[str, str] = Field(default_factory=dict)
    generated: list[GeneratedKey] = Field(default_factory=list)

    @field_validator("rotation")
    @classmethod
    def _rotation_as_text(cls, value: str | int) -> str:
        return str(value)


class RegistrySecret(_Model):
    """A docker-registry pull secret (`kubernetes.io/dockerconfigjson`)."""

    service: str
    server: str = Field(min_length=1)
    username: str = Field(min_length=1)
    password: SecretStr
    email: str | None = None
    namespaces: list[str] = Field(min_length=1)


class TlsSecret(_Model):
    """A TLS secret (`kubernetes.io/tls`): a PEM certificate chain and its private key."""

    service: str
    purpose: str = "tls"
    certificate: str
    private_key: SecretStr
    namespaces: list[str] = Field(min_length=1)


class Imports(_Model):
    """Repository secrets imported from the deploy environment (seed 000's pipeline)."""

    enabled: bool = True
    prefix: str = "DAGSTER_SECRET_"
    # The workload whose namespace receives the imported Secrets; also the service token.
    namespace: str = "dagster"


class KubernetesSettings(_Model):
    """How the kubernetes provider reaches a cluster."""

    # local only: write manifests to this folder (git-ignored) instead of applying them.
    render_dir: str | None = None
    # dev/stg/prd: the kubeconfig context of the environment's GKE cluster (ambient when unset).
    context: str | None = None


class StackConfig(_Model):
    """Everything under ``secrets-platform:`` in one stack file."""

    environment: Literal["local", "dev", "stg", "prd"]
    namespaces: list[str] = Field(min_length=1)
    credentials: list[Credential] = Field(default_factory=list)
    registries: list[RegistrySecret] = Field(default_factory=list)
    tls_secrets: list[TlsSecret] = Field(default_factory=list)
    imports: Imports = Field(default_factory=Imports)
    kubernetes: KubernetesSettings = Field(default_factory=KubernetesSettings)


# Top-level keys that hold secret input and must be set with `pulumi config set --secret`.
SECRET_KEYS = {"registries": "password", "tlsSecrets": "privateKey"}
