"""The typed shape of a stack's config (``secrets-platform:*`` keys).

Field names are snake_case in Python and camelCase in ``Pulumi.<env>.yaml``. Every
model forbids unknown keys and is strict (no ``"yes"`` turning into ``True``).
Cross-field rules that need the environment (names, namespaces, duplicates) live
in :mod:`settings.rules` (one module per area), run by :mod:`settings.load`, which has the environment at hand.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic.alias_generators import to_camel

from secrets_platform import conventions

# Keys whose name says they hold a credential may not be plain `values` entries (they
# would sit unencrypted in the stack file): conventions.looks_like_credential_key decides,
# the detector the policy pack uses too. Its words, kept under the old name for callers.
CREDENTIAL_WORDS = tuple(sorted(w.upper() for w in conventions.CREDENTIAL_KEY_WORDS))


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


Backend = Literal["kubernetes", "gcp-secret-manager", "vault", "vault-database"]
RotationStrategy = Literal["single", "dual"]

# A freshness target: a whole number of hours, days or weeks (`90d`, `12w`, `36h`).
DURATION = re.compile(r"^([1-9][0-9]{0,4})([hdw])\Z")
_UNIT_HOURS = {"h": 1, "d": 24, "w": 24 * 7}
# maxAge of a generated bundle that sets none: stricter the closer to production (local: no target).
DEFAULT_MAX_AGE = {env: t.default_max_age for env, t in conventions.TRAITS.items()}
# The suffix of the key that holds a dual bundle's previous value (conventions.previous_key builds the key).
PREVIOUS_SUFFIX = conventions.PREVIOUS_SUFFIX


def parse_duration(text: str) -> dt.timedelta:
    """``90d`` -> 90 days; a ValueError naming the accepted forms otherwise."""
    m = DURATION.match(text)
    if not m:
        raise ValueError("is not a duration: use a whole number of hours, days or weeks, e.g. 90d, 12w, 36h")
    return dt.timedelta(hours=int(m.group(1)) * _UNIT_HOURS[m.group(2)])


# A rotation is text: the stack file may hold a string or a bare number (`rotation: 2`), and the
# number is kept as its text, so after validation the field is always a str (what mypy sees).
if TYPE_CHECKING:
    RotationText = str
else:
    RotationText = Annotated[str | int, AfterValidator(str)]


# A lease length of Vault's database engine: whole seconds, minutes or hours (`90s`, `15m`, `1h`).
TTL = re.compile(r"^([1-9][0-9]{0,5})([smh])\Z")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
# What a vault-database bundle's `properties` may name: the issued user's two halves.
DATABASE_PROPERTIES = ("username", "password")


def parse_ttl(text: str) -> int:
    """``15m`` -> 900 seconds; a ValueError naming the accepted forms otherwise."""
    m = TTL.match(text)
    if not m:
        raise ValueError("is not a lease length: use a whole number of seconds, minutes or hours, e.g. 90s, 15m, 1h")
    return int(m.group(1)) * _UNIT_SECONDS[m.group(2)]


class VaultDatabase(_Model):
    """backend vault-database: Vault's database secrets engine issues a short-lived PostgreSQL user per lease."""

    plugin: Literal["postgresql"] = "postgresql"
    # PostgreSQL roles every issued user is granted (their privileges are the database owner's, e.g.
    # a read-only group role, or the predefined pg_read_all_data). Empty: the user can log in, nothing more.
    grant_roles: list[str] = Field(default_factory=list)
    # How long an issued user lives unless renewed, and at most with renewals.
    default_ttl: str = "1h"
    max_ttl: str = "24h"

    @field_validator("default_ttl", "max_ttl")
    @classmethod
    def _is_a_ttl(cls, value: str) -> str:
        parse_ttl(value)
        return value


class DatabaseConnection(_Model):
    """dev/stg/prd: the database Vault manages users in, for one vault-database bundle (secret config)."""

    # postgresql://host[:port]/dbname?sslmode=verify-full, without user-info (username and password are keys of their own).
    url: str
    # The PostgreSQL user Vault creates and drops the issued users with (CREATEROLE).
    username: str = Field(min_length=1)
    password: SecretStr


class Credential(_Model):
    """A credential bundle: the users, passwords and tokens of one service."""

    service: str
    # Workloads (namespace prefixes) that get a copy of the bundle.
    namespaces: list[str] = Field(min_length=1)
    # Any string; changing it regenerates every generated key of a `single` bundle. A date
    # (YYYY-MM-DD, what `secrets-platform rotate` writes) is also the bundle's age.
    rotation: RotationText = "1"
    # single: one value per generated key, replaced on rotation. dual: two slots per key,
    # <KEY> (current) and <KEY>_PREVIOUS; each rotation (generation + 1) regenerates the older slot.
    rotation_strategy: RotationStrategy = "single"
    # dual only: counts rotations; its parity says which slot is current (odd: a, even: b).
    generation: int = Field(default=1, ge=1)
    # Freshness target from the rotation date (e.g. 90d); None = the environment's default.
    max_age: str | None = None
    values: dict[str, str] = Field(default_factory=dict)
    generated: list[GeneratedKey] = Field(default_factory=list)
    # Where the values live (docs/backends.md):
    # - kubernetes: the platform writes a Secret per namespace (values + generated);
    # - gcp-secret-manager: a Secret Manager secret (JSON of key -> value) that an
    #   ExternalSecret per namespace copies into the same Secret name;
    # - vault: a KV v2 entry at <mount>/<env>/<service>, read by the Vault agent injector.
    backend: Backend = "kubernetes"
    # External backends only: Secret key -> property of the remote JSON document
    # (e.g. SNOWFLAKE_PASSWORD: password). Keys pushed from `values`/`generated` need no entry.
    properties: dict[str, str] = Field(default_factory=dict)
    # gcp-secret-manager only: push `values` + `generated` to Secret Manager as one
    # version (JSON of key -> value), generated once by pulumi-random.
    push: bool = False
    # vault-database only: the role Vault issues users with (docs/backends.md).
    database: VaultDatabase | None = None

    @field_validator("max_age")
    @classmethod
    def _max_age_is_a_duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    def effective_max_age(self, environment: str) -> str | None:
        return self.max_age or DEFAULT_MAX_AGE.get(environment)


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

    # local only: write manifests to this folder (git-ignored) instead of applying them
    # (`make render`); unset, the local stack applies to the local cluster.
    render_dir: str | None = None
    # The kubeconfig file the provider reads: local defaults to the local cluster's
    # (.cluster/kubeconfig, relative to the project); elsewhere ambient when unset.
    kubeconfig: str | None = None
    # dev/stg/prd: the kubeconfig context of the environment's GKE cluster (ambient when unset).
    context: str | None = None


class GcpSettings(_Model):
    """The environment's GCP project (dev/stg/prd only; local never talks to GCP)."""

    project: str | None = None
    # The GKE cluster's location; with cluster_name, pinned into the store's workloadIdentity
    # (otherwise ESO reads both from the GKE metadata server).
    region: str | None = None
    cluster_name: str | None = None
    # Secret Manager replication: empty = automatic (Google picks); else user-managed in these locations.
    replica_locations: list[str] = Field(default_factory=list)


class _OperatorSettings(_Model):
    """What both operators' sections start with: on or off, and the chart they are installed from, into which namespace."""

    enabled: bool = False
    # Install the chart with the platform; None = every stack but local (Helm can't fetch offline;
    # local may set it to true with a chartPath).
    install: bool | None = None
    # An exact chart version (e.g. "2.9.0"); required when the chart is installed.
    chart_version: str | None = None
    # A Helm repository (https://...) or an OCI registry path (oci://registry/path; the chart is <it>/<chart name>).
    chart_repository: str
    # Air-gapped clusters: a local chart folder or .tgz instead of the repository (relative to the
    # project folder). chartVersion is still required and must be the version the chart holds.
    chart_path: str | None = None
    # Workload token of the operator's namespace: <namespace>-<env>.
    namespace: str


class ExternalSecretsSettings(_OperatorSettings):
    """External Secrets Operator: chart, store and refresh of gcp-secret-manager credentials."""

    chart_repository: str = "https://charts.external-secrets.io"
    namespace: str = "external-secrets"
    refresh_interval: str = "1h"


class VaultSettings(_OperatorSettings):
    """HashiCorp Vault: chart, Kubernetes auth, one read-only policy and role per namespace with Vault credentials."""

    chart_repository: str = "https://helm.releases.hashicorp.com"
    namespace: str = "vault"
    # Dev mode (in-memory, unsealed, root token) is refused outside local.
    dev_mode: bool = False
    # HA with integrated storage (raft); None = on in stg and prd, where it is required.
    ha: bool | None = None
    replicas: int = Field(default=3, ge=1, le=9)
    # When set, Vault's own side (auth backend, policy, role) is applied with pulumi-vault
    # (token from VAULT_TOKEN in the deploy environment); otherwise it is exported for an operator.
    address: str | None = None
    # KV v2 mount; paths are <mount>/<env>/<service>.
    mount: str = "secret"
    # Database secrets engine mount of vault-database bundles: users from <databaseMount>/creds/<service>-<env>.
    database_mount: str = "database"
    # Path of the Kubernetes auth method; None = kubernetes-<env>.
    auth_path: str | None = None
    kubernetes_host: str = "https://kubernetes.default.svc"
    # Audience the job-runner's projected token must carry.
    audience: str = "vault"
    token_ttl: int = Field(default=3600, ge=60)
    token_max_ttl: int = Field(default=14400, ge=60)


class FlyteSettings(_Model):
    """Workloads that are Flyte projects: their namespace follows Flyte's ``<project>-<domain>`` (conventions.FLYTE_DOMAINS)."""

    # Workloads of `namespaces` whose namespace is <project>-<domain of the environment>, where Flyte's
    # default namespace_mapping runs the project's executions: flytesnacks -> flytesnacks-production in prd.
    projects: list[str] = Field(default_factory=list)


class StackConfig(_Model):
    """Everything under ``secrets-platform:`` in one stack file."""

    environment: conventions.Environment
    namespaces: list[str] = Field(min_length=1)
    credentials: list[Credential] = Field(default_factory=list)
    registries: list[RegistrySecret] = Field(default_factory=list)
    tls_secrets: list[TlsSecret] = Field(default_factory=list)
    imports: Imports = Field(default_factory=Imports)
    kubernetes: KubernetesSettings = Field(default_factory=KubernetesSettings)
    gcp: GcpSettings = Field(default_factory=GcpSettings)
    external_secrets: ExternalSecretsSettings = Field(default_factory=ExternalSecretsSettings)
    vault: VaultSettings = Field(default_factory=VaultSettings)
    flyte: FlyteSettings = Field(default_factory=FlyteSettings)
    # dev/stg/prd, secret config: per vault-database bundle (by service), the database Vault connects to.
    database_connections: dict[str, DatabaseConnection] = Field(default_factory=dict)


# Top-level keys that hold secret input and must be set with `pulumi config set --secret`.
SECRET_KEYS = {"registries": "password", "tlsSecrets": "privateKey", "databaseConnections": "password"}
