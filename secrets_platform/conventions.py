"""The naming and labelling contract of secrets-platform, as code.

``../shared/CONVENTIONS.md`` (repeated in the README) is the contract; this module
is its single implementation. The program builds every name through it and the
policy pack checks every name against it, so the two can never disagree.

It deliberately knows nothing about Pulumi: plain functions over strings, cheap
enough to call for every resource the policy pack sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Literal, get_args

PROJECT = "secrets-platform"


@dataclass(frozen=True)
class EnvironmentTraits:
    """What an environment token implies, decided here once (settings, components and the pack read it)."""

    # Namespaces and Secrets are `protect`ed and `retainOnDelete` (CONVENTIONS, data safety).
    protected: bool
    # Vault runs HA with integrated storage (raft); it may not be turned off.
    vault_ha_required: bool
    # The operators' charts (External Secrets, Vault) are installed unless the stack says otherwise.
    installs_charts: bool
    # The policy pack fails closed on what it cannot see at preview (unknown values).
    fail_closed: bool
    # A generated bundle's freshness target when it sets no maxAge (None: no target).
    default_max_age: str | None


# The environment tokens, in promotion order: local on loopback, then dev -> stg -> prd. The type
# the settings model validates `environment` with; ENVIRONMENTS and TRAITS follow it.
Environment = Literal["local", "dev", "stg", "prd"]
ENVIRONMENTS: tuple[str, ...] = get_args(Environment)
# Written out for messages: "local, dev, stg, prd".
ENVIRONMENT_LIST = ", ".join(ENVIRONMENTS)

TRAITS: dict[str, EnvironmentTraits] = {
    "local": EnvironmentTraits(protected=False, vault_ha_required=False, installs_charts=False, fail_closed=False, default_max_age=None),
    "dev": EnvironmentTraits(protected=False, vault_ha_required=False, installs_charts=True, fail_closed=False, default_max_age="365d"),
    "stg": EnvironmentTraits(protected=False, vault_ha_required=True, installs_charts=True, fail_closed=False, default_max_age="180d"),
    "prd": EnvironmentTraits(protected=True, vault_ha_required=True, installs_charts=True, fail_closed=True, default_max_age="90d"),
}
assert tuple(TRAITS) == ENVIRONMENTS, "every environment has its traits, in the same order"


def traits(env: str) -> EnvironmentTraits:
    """The traits of an environment token; a stack whose name is no token gets prd's (the strictest)."""
    return TRAITS.get(env, TRAITS["prd"])


# Label keys every platform Kubernetes object carries.
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_PART_OF = "app.kubernetes.io/part-of"
LABEL_ENVIRONMENT = "secrets-platform.io/environment"

# What stakater Reloader needs: Secrets opt in with this annotation, and
# workloads that want a rolling restart on change add RELOADER_CONSUMER_ANNOTATION.
RELOADER_SECRET_ANNOTATION = "reloader.stakater.com/match"
RELOADER_CONSUMER_ANNOTATION = "reloader.stakater.com/search"
# The workload kinds Reloader rolls (long-running), and those it never touches (batch: a Job or a
# CronJob's run reads its Secrets when it starts and finishes on them; secrets_platform/localcluster/reloader.py).
RELOADER_ROLLED_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
RELOADER_BATCH_KINDS = ("Job", "CronJob")

# The key names a platform Secret holds, comma separated: known at preview even when the
# values (and so the provider's data map) are not, so the pack checks the keys before
# anything exists and, once the data is known, that the Secret holds exactly these.
SECRET_KEYS_ANNOTATION = "secrets-platform.io/keys"

JOB_RUNNER = "job-runner"

# RFC 1123 label: lower-case alphanumerics and '-', starting and ending alphanumeric.
MAX_NAME = 63
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
# A Secret key that envFrom can expose as an environment variable.
ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
# GCP service account ids: 6-30 chars, start with a letter.
_GCP_SA_ID = re.compile(r"^[a-z]([-a-z0-9]{4,28})[a-z0-9]\Z")

_ENV_ALT = "|".join(ENVIRONMENTS)
CREDENTIALS_NAME = re.compile(rf"^(?P<service>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-(?P<env>{_ENV_ALT})-credentials\Z")
OTHER_SECRET_NAME = re.compile(
    rf"^(?P<service>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-(?P<env>{_ENV_ALT})-(?P<purpose>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-secret\Z"
)
NAMESPACE_NAME = re.compile(rf"^(?P<workload>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-(?P<env>{_ENV_ALT})\Z")

# Flyte runs project P of domain D in namespace ``P-D`` (flyteadmin's default namespace_mapping,
# ``{{ project }}-{{ domain }}``), with the domains development, staging and production by default.
# A workload the stack declares a Flyte project (``flyte.projects``) gets the namespace
# ``<project>-<domain>`` of its environment's domain, so Flyte's executions find its Secrets. Each
# environment's domain is spelled once, here, and every check reads that spelling as the environment:
# ``flytesnacks-production`` is prd. local has no Flyte domain of its own in a default Flyte, and shares
# none with dev (a namespace must name one environment): its domain is ``local`` (a Flyte sandbox pointed at
# the local cluster adds the domain ``local``), so a Flyte project's local namespace is ``<project>-local``.
FLYTE_DOMAINS: dict[str, str] = {"local": "local", "dev": "development", "stg": "staging", "prd": "production"}
assert tuple(FLYTE_DOMAINS) == ENVIRONMENTS, "every environment has its Flyte domain"
assert len(set(FLYTE_DOMAINS.values())) == len(FLYTE_DOMAINS), "no two environments share a Flyte domain"
ENV_OF_FLYTE_DOMAIN: dict[str, str] = {domain: env for env, domain in FLYTE_DOMAINS.items()}
# The domains spelled otherwise than their environment token (local's is the token itself).
_FLYTE_ALT = "|".join(d for d in FLYTE_DOMAINS.values() if d not in ENVIRONMENTS)
FLYTE_NAMESPACE_NAME = re.compile(rf"^(?P<project>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-(?P<domain>{_FLYTE_ALT})\Z")
VAULT_PATH = re.compile(rf"^(?P<mount>[a-z0-9][-a-z0-9_]*)/(?P<env>{_ENV_ALT})/(?P<service>[a-z0-9][-a-z0-9_]*)\Z")


class ConventionError(ValueError):
    """A name that breaks CONVENTIONS; the message says which rule and how to fix it."""


def is_dns_label(value: str) -> bool:
    return len(value) <= MAX_NAME and bool(_DNS_LABEL.match(value))


def check_dns_label(value: str, what: str) -> str:
    """Return ``value`` if it is an RFC 1123 label, else raise with the reason."""
    if len(value) > MAX_NAME:
        raise ConventionError(f"{what} {value!r} is {len(value)} characters; Kubernetes allows at most {MAX_NAME}")
    if not _DNS_LABEL.match(value):
        raise ConventionError(
            f"{what} {value!r} is not a lower-case RFC 1123 label (a-z, 0-9 and '-', starting and ending with a letter or digit)"
        )
    return value


def namespace_name(workload: str, env: str, *, flyte: bool = False) -> str:
    """``<workload>-<env>``; a Flyte project's is ``<project>-<domain>`` (:data:`FLYTE_DOMAINS`: ``flytesnacks-production``)."""
    if flyte:
        return check_dns_label(f"{workload}-{flyte_domain(env)}", "namespace")
    return check_dns_label(f"{workload}-{env}", "namespace")


def flyte_domain(env: str) -> str:
    """The Flyte domain an environment's executions run in: ``prd`` -> ``production`` (:data:`FLYTE_DOMAINS`)."""
    return FLYTE_DOMAINS[env]


def namespace_env(name: str) -> str | None:
    """The environment a platform namespace belongs to: ``dagster-prd`` and ``flytesnacks-production`` are prd; else None."""
    m = NAMESPACE_NAME.match(name)
    if m:
        return m.group("env")
    m = FLYTE_NAMESPACE_NAME.match(name)
    return ENV_OF_FLYTE_DOMAIN[m.group("domain")] if m else None


def credentials_name(service: str, env: str, *, checked: bool = True) -> str:
    """A credential bundle: ``<service>-<env>-credentials``; ``checked=False`` for a name only looked up, never created."""
    name = f"{service}-{env}-credentials"
    return check_dns_label(name, "credential bundle name") if checked else name


def secret_name(service: str, env: str, purpose: str) -> str:
    return check_dns_label(f"{service}-{env}-{purpose}-secret", "secret name")


def gcp_service_account_id(component: str, env: str) -> str:
    value = f"{component}-{env}"
    if not _GCP_SA_ID.match(value):
        raise ConventionError(f"GCP service account id {value!r} must be 6-30 characters of a-z, 0-9 and '-', starting with a letter")
    return value


def vault_path(mount: str, env: str, service: str) -> str:
    return f"{mount}/{env}/{service}"


def pull_secret_name(service: str, env: str) -> str:
    """A registry pull secret: ``<service>-<env>-pull-secret``."""
    return secret_name(service, env, "pull")


def key_slug(key: str) -> str:
    """An environment-variable-style key as a name part: ``SNOWFLAKE_PASSWORD`` -> ``snowflake-password``."""
    return key.lower().replace("_", "-")


def password_resource_name(service: str, key: str) -> str:
    """The resource name of a generated key's RandomPassword: ``<service>-<key slug>`` (part of its URN)."""
    return f"{service}-{key_slug(key)}"


def slot_resource_name(base: str, slot: str) -> str:
    """A dual bundle's slot of a generated key: ``<service>-<key slug>-slot-<a|b>``."""
    return f"{base}-slot-{slot}"


def stand_in_resource_name(service: str, key: str) -> str:
    """local: a Secret Manager property's stand-in RandomPassword: ``<service>-<key slug>-stand-in``."""
    return f"{password_resource_name(service, key)}-stand-in"


def key_prefix(service: str) -> str:
    """The variable prefix a service's keys carry: ``snowflake-db`` -> ``SNOWFLAKE_DB_``."""
    return service.upper().replace("-", "_") + "_"


def vault_database_role(service: str, env: str) -> str:
    """The database secrets engine's connection and role of a vault-database bundle: ``<service>-<env>``."""
    return check_dns_label(f"{service}-{env}", "Vault database role name")


def vault_database_creds_path(mount: str, service: str, env: str) -> str:
    """Where a job runner reads a short-lived database user: ``<mount>/creds/<service>-<env>``."""
    return vault_creds_path(mount, vault_database_role(service, env))


def vault_creds_path(mount: str, role: str) -> str:
    """The creds path of a database engine's role: ``<mount>/creds/<role>``."""
    return f"{mount}/creds/{role}"


def vault_kv_api_path(mount: str, env: str, service: str) -> str:
    """The KV v2 API path the agent reads a bundle at: ``<mount>/data/<env>/<service>``."""
    return f"{mount}/data/{env}/{service}"


def vault_kv_metadata_path(mount: str, env: str, service: str) -> str:
    """The KV v2 metadata path of a bundle (versions, listing): ``<mount>/metadata/<env>/<service>``."""
    return f"{mount}/metadata/{env}/{service}"


def vault_agent_file_name(service: str, key: str) -> str:
    """The file the Vault agent renders one key of a bundle to (under /vault/secrets): ``<service>-<key slug>``."""
    return f"{service}-{key_slug(key)}"


def vault_database_env_file(service: str) -> str:
    """The file the Vault agent renders a vault-database bundle's user into: ``<service>-database.env``."""
    return f"{service}-database.env"


def vault_delegator_binding_name(env: str) -> str:
    """The ClusterRoleBinding of Vault's token reviewer to ``system:auth-delegator``: ``vault-auth-delegator-<env>``."""
    return f"{VAULT_AUTH_SERVICE_ACCOUNT}-delegator-{env}"


def data_access_log_resource_name(service: str, env: str) -> str:
    """The IAMAuditConfig of one audited GCP service: ``data-access-logs-<first label of the service>-<env>``."""
    return f"data-access-logs-{service.split('.')[0]}-{env}"


def vault_audit_resource_name(env: str) -> str:
    """The stack's Vault audit device resource: ``vault-audit-<env>``."""
    return f"vault-audit-{env}"


def tls_component_name(service: str, purpose: str) -> str:
    """The component of one TLS secret: ``<service>-<purpose>``."""
    return f"{service}-{purpose}"


def gcp_secret_resource_name(project: str, secret: str) -> str:
    """A Secret Manager secret's resource name (IAM, audit logs): ``projects/<project>/secrets/<secret>``."""
    return f"projects/{project}/secrets/{secret}"


def gcp_service_account_resource_name(project: str, email: str) -> str:
    """A GCP service account's resource name (IAM): ``projects/<project>/serviceAccounts/<email>``."""
    return f"projects/{project}/serviceAccounts/{email}"


def gcp_service_account_email(component: str, env: str, project: str) -> str:
    """The GCP service account's email: ``<component>-<env>@<project>.iam.gserviceaccount.com``."""
    return f"{gcp_service_account_id(component, env)}@{project}.iam.gserviceaccount.com"


def object_key(namespace: str, name: str) -> str:
    """``<namespace>/<name>`` (``dagster-prd/job-runner``): a namespaced object's key and its Pulumi resource name."""
    return f"{namespace}/{name}"


# Where the Vault agent renders files in a pod, its annotations' prefix, and where a Flyte task reads its secrets.
VAULT_SECRETS_DIR = "/vault/secrets"
VAULT_ANNOTATION_PREFIX = "vault.hashicorp.com/"
AGENT_INJECT_KINDS = ("secret", "template")
FLYTE_SECRETS_DIR = "/etc/flyte/secrets"


def vault_auth_mount(auth_path: str) -> str:
    """The API path of an auth method, as the injector's ``auth-path`` annotation spells it: ``auth/<path>``."""
    return f"auth/{auth_path}"


def vault_secrets_file(name: str) -> str:
    """Where the agent writes file ``name`` in the pod: ``/vault/secrets/<name>``."""
    return f"{VAULT_SECRETS_DIR}/{name}"


def agent_inject_annotation(kind: str, file: str) -> str:
    """``vault.hashicorp.com/agent-inject-<secret|template>-<file>``."""
    if kind not in AGENT_INJECT_KINDS:
        raise ConventionError(f"agent annotation kind {kind!r} is not one of {', '.join(AGENT_INJECT_KINDS)}")
    return f"{VAULT_ANNOTATION_PREFIX}agent-inject-{kind}-{file}"


def flyte_secret_file(group: str, key: str) -> str:
    """The file a Flyte task reads ``Secret(group, key)`` from: ``/etc/flyte/secrets/<group>/<key>`` (the group may hold '/')."""
    return f"{FLYTE_SECRETS_DIR}/{group}/{key}"


# The job runners' Role (and RoleBinding) in every platform namespace: it may get exactly that namespace's Secrets.
JOB_RUNNER_ROLE = "job-runner-secrets"


def import_secret_name(variable: str, prefix: str, service: str, env: str) -> str:
    """Name of the Secret an imported repository variable becomes.

    ``DAGSTER_SECRET_SLACK_BOT_OAUTH_TOKEN`` with prefix ``DAGSTER_SECRET_`` in prd
    becomes ``dagster-prd-slack-bot-oauth-token-secret``.
    """
    return secret_name(service, env, key_slug(variable[len(prefix) :]))


def import_variable(purpose: str, prefix: str) -> str:
    """The inverse of :func:`import_secret_name`: the purpose ``slack-bot-oauth-token`` -> ``DAGSTER_SECRET_SLACK_BOT_OAUTH_TOKEN``."""
    return prefix + purpose.upper().replace("-", "_")


# --------------------------------------------------------------------------- the operators' names
# External Secrets: its service account in its namespace, the GCP service account's component,
# and one ClusterSecretStore per environment.
ESO_SERVICE_ACCOUNT = "external-secrets"
ESO_GCP_COMPONENT = "eso"
STORE_BACKEND = "gcp-secret-manager"
# Vault: the service account whose token Vault uses to review job runners' tokens.
VAULT_AUTH_SERVICE_ACCOUNT = "vault-auth"
# The local cluster's Vault agent injector (localcluster/injector.py): its MutatingWebhookConfiguration
# and the webhook in it (upstream's webhook name, so the API server's errors read as they do elsewhere).
VAULT_INJECTOR_WEBHOOK_CONFIGURATION = "secrets-platform-vault-agent-injector"
VAULT_INJECTOR_WEBHOOK = "vault.hashicorp.com"


def store_name(env: str) -> str:
    """The environment's ClusterSecretStore: ``gcp-secret-manager-<env>``."""
    return check_dns_label(f"{STORE_BACKEND}-{env}", "store name")


def vault_auth_path(env: str) -> str:
    """The default path of the environment's Kubernetes auth method in Vault: ``kubernetes-<env>``."""
    return f"kubernetes-{env}"


def vault_policy_name(mount: str, namespace: str) -> str:
    """The read-only policy of one namespace's job runner: ``<mount>-<namespace>-read``."""
    return check_dns_label(f"{mount}-{namespace}-read", "Vault policy name")


def vault_role_name(namespace: str) -> str:
    """The Kubernetes-auth role of one namespace's job runner: ``job-runner-<namespace>``."""
    return check_dns_label(f"{JOB_RUNNER}-{namespace}", "Vault role name")


def provider_name(kind: str, env: str) -> str:
    """The stack's explicit provider of ``kind`` (``kubernetes``, ``gcp``): ``<kind>-<env>``."""
    return f"{kind}-{env}"


# --------------------------------------------------------------------------- chart versions
# One exact release (SemVer 2: MAJOR.MINOR.PATCH, optional pre-release and build metadata, an
# optional leading v): what the settings require of chartVersion and the pack of a chart's version.
EXACT_CHART_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?\Z")


def is_exact_chart_version(version: str) -> bool:
    """True for one release (``2.9.0``, ``v0.34.1``, ``1.0.0-rc.1``); False for ranges, ``latest`` or ``2.9``."""
    return bool(EXACT_CHART_VERSION.match(version))


def labels(env: str) -> dict[str, str]:
    """The three labels every platform Kubernetes object carries."""
    return {LABEL_MANAGED_BY: "pulumi", LABEL_PART_OF: PROJECT, LABEL_ENVIRONMENT: env}


def env_token_of_name(name: str) -> str | None:
    """The environment token a platform name carries, or None when it carries none.

    Secret names carry it before the suffix (``snowflake-prd-credentials``), namespaces
    and service-account ids at the end (``dagster-prd``, ``eso-prd``; a Flyte project's
    namespace its environment's domain, ``flytesnacks-production``), Vault paths and
    Secret Manager ids in the second segment or like a Secret.
    """
    for pattern in (CREDENTIALS_NAME, OTHER_SECRET_NAME, VAULT_PATH):
        m = pattern.match(name)
        if m:
            return m.group("env")
    return namespace_env(name)


def env_tokens_in(name: str) -> set[str]:
    """Every environment token that appears as a whole '-'/'/'-separated word of ``name``."""
    words = re.split(r"[-/_.\[\]:@]", name)
    return {w for w in words if w in ENVIRONMENTS}


def disagreeing(facts: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    """Given (fact, env-or-None) pairs, return the facts when they name more than one env."""
    known = {fact: env for fact, env in facts if env}
    return known if len(set(known.values())) > 1 else {}


def env_of_stack(stack: str) -> str | None:
    """The environment a stack provisions: its name is the token (``prd``), else None.

    Accepts a fully qualified ``org/project/stack`` name too, as a StackReference spells it.
    """
    last = stack.rsplit("/", 1)[-1]
    return last if last in ENVIRONMENTS else None


def reference_env_tokens(reference: str) -> set[str]:
    """The environment tokens a reference to another object carries.

    A reference is a namespace, a remote key (``floe/prd/snowflake``,
    ``projects/p/secrets/snowflake-prd-credentials``), a service-account email or a
    stack name. A name following the contract yields exactly its token; anything
    else yields every token that appears in it as a whole word, so a reference
    that mentions two environments yields both.
    """
    token = env_token_of_name(reference)
    return {token} if token else env_tokens_in(reference)


# --------------------------------------------------------------------------- credential-looking keys
# The one detector of keys that hold a credential, shared by the settings (a plain
# `values` entry may not be one), the CLI and the policy pack (ConfigMaps, labels,
# annotations). It works on *words* of the key, not substrings, and tells a
# credential (SNOWFLAKE_PASSWORD, DB_PWD, CUBE_JWT) from a reference to one
# (SNOWFLAKE_PASSWORD_FILE, TOKEN_TTL, SECRET_NAME), so it neither lets a password
# through nor cries wolf on a setting.

# Words that on their own name a credential. Plurals are left out on purpose where
# they name kinds or counts ("secrets", "tokens": external-secrets.io, MAX_TOKENS),
# but "credentials" is a credential file's usual name (AWS_CREDENTIALS, GOOGLE_CREDENTIALS).
CREDENTIAL_KEY_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pw",
        "pass",
        "passphrase",
        "passcode",
        "secret",
        "token",
        "credential",
        "credentials",
        "apikey",
        "privatekey",
        "accesskey",
        "secretkey",
        "clientsecret",
        "jwt",
        "bearer",
        "dsn",
        "cookie",
    }
)
# "key" is a credential only after one of these (ACCESS_KEY, PRIVATE_KEY); a bare
# PARTITION_KEY or sort-key is not.
CREDENTIAL_KEY_QUALIFIERS = frozenset(
    {
        "private",
        "access",
        "api",
        "secret",
        "signing",
        "encryption",
        "ssh",
        "master",
        "client",
        "account",
        "sa",
        "hmac",
        "session",
        "auth",
        "webhook",
        "license",
        "shared",
        "service",
    }
)
# A key ending in one of these refers to a credential instead of holding one.
CREDENTIAL_REFERENCE_SUFFIXES = frozenset(
    {
        "name",
        "names",
        "ref",
        "path",
        "file",
        "dir",
        "id",
        "arn",
        "mount",
        "namespace",
        "store",
        "version",
        "ttl",
        "expiry",
        "expires",
        "rotation",
        "length",
        "enabled",
        "url",
        "header",
        "audience",
        "issuer",
        "type",
        "kind",
        "count",
        "size",
        "timeout",
        "interval",
        "policy",
        "prefix",
        "hint",
    }
)
_KEY_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def credential_key_words(key: str) -> list[str]:
    """``SNOWFLAKE_PRIVATE_KEY`` / ``snowflakePrivateKey`` -> ``['snowflake', 'private', 'key']``."""
    return [w.lower() for w in _KEY_WORD.findall(key)]


def looks_like_credential_key(key: str) -> bool:
    """True when a key (env var, config field, label or annotation key) looks like it holds a credential.

    ``DB_PWD``, ``GPG_PASSPHRASE``, ``OPENAI_APIKEY``, ``AWS_CREDENTIALS``, ``CUBE_JWT``,
    ``Password`` are credentials; ``TOKEN_TTL``, ``SECRET_NAME``, ``PASSWORD_FILE`` refer to one.
    """
    words = credential_key_words(key)
    if words[-2:] == ["key", "id"]:
        words = words[:-1]  # AWS_ACCESS_KEY_ID: half of a key pair, kept with its secret half
    if not words or words[-1] in CREDENTIAL_REFERENCE_SUFFIXES:
        return False
    if any(w in CREDENTIAL_KEY_WORDS for w in words):
        return True
    return any(a in CREDENTIAL_KEY_QUALIFIERS and b == "key" for a, b in zip(words, words[1:]))


# scheme://user[:password]@host: credentials written into a URL (a DSN with its password).
_URL_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@]+@")


def has_url_userinfo(value: str) -> bool:
    """True when ``value`` holds a URL with user-info (``postgres://user:pw@host/db``, ``https://token@host``)."""
    return bool(_URL_USERINFO.search(value))


# --------------------------------------------------------------------------- the deploy toolchain's variables
# Variables of the deploy runner and its tools: what GitHub Actions, the runner, Pulumi,
# gcloud, Vault, the cloud SDKs, kubectl/Helm and the shell put in the environment.
# Nothing the platform imports may be one of them (CONVENTIONS, least privilege): a
# prefix that could reach one is refused, and such a variable is never imported.
TOOLCHAIN_VARIABLE_PREFIXES: tuple[str, ...] = (
    "GITHUB_",
    "ACTIONS_",
    "RUNNER_",
    "INPUT_",
    "STATE_",
    "GH_",
    "PULUMI_",
    "GOOGLE_",
    "CLOUDSDK_",
    "GCLOUD_",
    "GCE_",
    "GCP_",
    "GKE_",
    "GCS_",
    "VAULT_",
    "AWS_",
    "AZURE_",
    "ARM_",
    "KUBE",
    "HELM_",
    "DOCKER_",
    "CONTAINERS_",
    "REGISTRY_",
    "SSH_",
    "GIT_",
    "GPG_",
    "GNUPG",
    "NPM_",
    "NODE_",
    "PIP_",
    "PYTHON",
    "VIRTUAL_ENV",
    "GO",
    "CI_",
    "XDG_",
    "LD_",
    "DYLD_",
    "SECRETS_PLATFORM_",
    "SECRETS_",
    "DAGSTER_CLOUD_",
    "OTEL_",
    "HTTP_",
    "HTTPS_",
    "NO_PROXY",
    "REQUESTS_",
    "SSL_",
    "CURL_",
)
TOOLCHAIN_VARIABLES = frozenset(
    {
        "CI",
        "HOME",
        "PATH",
        "USER",
        "SHELL",
        "PWD",
        "TMPDIR",
        "KUBECONFIG",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "ALL_PROXY",
        "TOKEN",
        "ACCESS_TOKEN",
        "ID_TOKEN",
        "DAGSTER_HOME",
    }
)


def is_toolchain_variable(name: str) -> bool:
    """True when ``name`` is (or could be) a variable of the deploy toolchain."""
    upper = name.upper()
    return upper in {v.upper() for v in TOOLCHAIN_VARIABLES} or upper.startswith(TOOLCHAIN_VARIABLE_PREFIXES)


def toolchain_prefix_conflict(prefix: str) -> str | None:
    """The toolchain prefix or variable an import ``prefix`` could reach, or None when it reaches none.

    ``GITHUB_`` and ``PULUMI_CONFIG_`` reach the toolchain's own variables; so does a
    shorter prefix that one of them starts with (``DAGSTER_`` reaches ``DAGSTER_CLOUD_*``).
    """
    upper = prefix.upper()
    for known in TOOLCHAIN_VARIABLE_PREFIXES:
        if upper.startswith(known) or known.startswith(upper):
            return known
    for known in sorted(TOOLCHAIN_VARIABLES):
        if known.upper().startswith(upper):
            return known
    return None
