"""The naming and labelling contract of secrets-platform, as code.

``../shared/CONVENTIONS.md`` (repeated in the README) is the contract; this module
is its single implementation. The program builds every name through it and the
policy pack checks every name against it, so the two can never disagree.

It deliberately knows nothing about Pulumi: plain functions over strings, cheap
enough to call for every resource the policy pack sees.
"""

from __future__ import annotations

import re
from typing import Iterable, NamedTuple

# Every public name of the submodules is this module's too (each submodule's __all__).
from secrets_platform.conventions.environments import *  # noqa: F403 (re-exported: its __all__)

# What this module itself uses of them, by name.
from secrets_platform.conventions.environments import ENV_OF_FLYTE_DOMAIN, ENVIRONMENT_LIST, ENVIRONMENTS, FLYTE_DOMAINS, flyte_domain
from secrets_platform.conventions.errors import *  # noqa: F403 (re-exported: its __all__)
from secrets_platform.conventions.errors import ConventionError, matched, refuse
from secrets_platform.conventions.keys import *  # noqa: F403 (re-exported: its __all__)
from secrets_platform.conventions.paths import *  # noqa: F403 (re-exported: its __all__)
from secrets_platform.conventions.paths import key_slug, vault_creds_path
from secrets_platform.conventions.resources import *  # noqa: F403 (re-exported: its __all__)

PROJECT = "secrets-platform"

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
# The Role (and its RoleBinding) that lets a namespace's job runner read that namespace's platform Secrets.
JOB_RUNNER_ROLE = "job-runner-secrets"

# RFC 1123 label: lower-case alphanumerics and '-', starting and ending alphanumeric.
MAX_NAME = 63
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
# A Secret key that envFrom can expose as an environment variable.
ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")

_ENV_ALT = "|".join(ENVIRONMENTS)
CREDENTIALS_NAME = re.compile(rf"^(?P<service>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-(?P<env>{_ENV_ALT})-credentials\Z")
OTHER_SECRET_NAME = re.compile(
    rf"^(?P<service>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-(?P<env>{_ENV_ALT})-(?P<purpose>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-secret\Z"
)
NAMESPACE_NAME = re.compile(rf"^(?P<workload>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-(?P<env>{_ENV_ALT})\Z")

# The domains spelled otherwise than their environment token (local's is the token itself).
_FLYTE_ALT = "|".join(d for d in FLYTE_DOMAINS.values() if d not in ENVIRONMENTS)
FLYTE_NAMESPACE_NAME = re.compile(rf"^(?P<project>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-(?P<domain>{_FLYTE_ALT})\Z")
VAULT_PATH = re.compile(rf"^(?P<mount>[a-z0-9][-a-z0-9_]*)/(?P<env>{_ENV_ALT})/(?P<service>[a-z0-9][-a-z0-9_]*)\Z")


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


def namespace_name(workload: str, env: str, *, flyte: bool = False, checked: bool = True) -> str:
    """``<workload>-<env>``; a Flyte project's is ``<project>-<domain>`` (:data:`FLYTE_DOMAINS`: ``flytesnacks-production``).

    ``checked=False`` for a name only looked up (a CLI filter), never created."""
    name = f"{workload}-{flyte_domain(env) if flyte else env}"
    return check_dns_label(name, "namespace") if checked else name


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


def vault_path(mount: str, env: str, service: str) -> str:
    return f"{mount}/{env}/{service}"


def pull_secret_name(service: str, env: str) -> str:
    """A registry pull secret: ``<service>-<env>-pull-secret``."""
    return secret_name(service, env, "pull")


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


# --------------------------------------------------------------------------- names parsed back
# Each builder above has its inverse here: a small typed value, or a ConventionError naming the value and its form.


class ServiceEnv(NamedTuple):
    """What a bundle's name carries: ``snowflake-prd-credentials`` -> (snowflake, prd)."""

    service: str
    env: str


class SecretName(NamedTuple):
    service: str
    env: str
    purpose: str


class NamespaceName(NamedTuple):
    """``dagster-prd`` -> (dagster, prd, False); a Flyte project's ``flytesnacks-production`` -> (flytesnacks, prd, True)."""

    workload: str
    env: str
    flyte: bool


class VaultPath(NamedTuple):
    mount: str
    env: str
    service: str


def parse_credentials_name(name: str) -> ServiceEnv:
    """The inverse of :func:`credentials_name`."""
    m = matched(CREDENTIALS_NAME, "credential bundle name", name, f"'<service>-<env>-credentials' (env one of {ENVIRONMENT_LIST})")
    return ServiceEnv(m["service"], m["env"])


def parse_secret_name(name: str) -> SecretName:
    """The inverse of :func:`secret_name`; refuses a name that splits more than one way (an env token in the purpose)."""
    form = f"'<service>-<env>-<purpose>-secret' (env one of {ENVIRONMENT_LIST})"
    body = name.removesuffix("-secret")
    words = body.split("-")
    splits = [
        SecretName("-".join(words[:i]), words[i], "-".join(words[i + 1 :])) for i in range(1, len(words) - 1) if words[i] in ENVIRONMENTS
    ]
    splits = [s for s in splits if OTHER_SECRET_NAME.match(f"{s.service}-{s.env}-{s.purpose}-secret")]
    if body == name or not splits:
        raise refuse("secret name", name, form)
    if len(splits) > 1:
        raise ConventionError(
            f"secret name {name!r} reads more than one way ({len(splits)} environment tokens): keep env tokens out of the purpose"
        )
    return splits[0]


def parse_namespace_name(name: str) -> NamespaceName:
    """The inverse of :func:`namespace_name` (``<project>-local`` reads as a plain namespace: the two are one name)."""
    m = NAMESPACE_NAME.match(name)
    if m:
        return NamespaceName(m["workload"], m["env"], False)
    m = FLYTE_NAMESPACE_NAME.match(name)
    if m:
        return NamespaceName(m["project"], ENV_OF_FLYTE_DOMAIN[m["domain"]], True)
    raise refuse("namespace", name, f"'<workload>-<env>' (env one of {ENVIRONMENT_LIST}) or '<flyte project>-<flyte domain>'")


def parse_vault_path(path: str) -> VaultPath:
    """The inverse of :func:`vault_path`."""
    m = matched(VAULT_PATH, "Vault KV path", path, f"'<mount>/<env>/<service>' (env one of {ENVIRONMENT_LIST})")
    return VaultPath(m["mount"], m["env"], m["service"])


def _suffix_env(name: str, what: str, form: str) -> tuple[str, str]:
    head, _, env = name.rpartition("-")
    if not head or env not in ENVIRONMENTS:
        raise refuse(what, name, f"{form} (env one of {ENVIRONMENT_LIST})")
    return head, env


def env_suffix(name: str) -> str | None:
    """The environment token ``name`` ends in as its last '-' word (``dagster-prd`` -> prd), or None."""
    head, sep, last = name.rpartition("-")
    return last if sep and last in ENVIRONMENTS else None


def parse_vault_database_role(name: str) -> ServiceEnv:
    """The inverse of :func:`vault_database_role`."""
    return ServiceEnv(*_suffix_env(name, "Vault database role name", "'<service>-<env>'"))


def parse_store_name(name: str) -> str:
    """The inverse of :func:`store_name`: the environment."""
    head, env = _suffix_env(name, "store name", f"'{STORE_BACKEND}-<env>'")
    if head != STORE_BACKEND:
        raise refuse("store name", name, f"'{STORE_BACKEND}-<env>'")
    return env


def parse_vault_auth_path(path: str) -> str:
    """The inverse of :func:`vault_auth_path`: the environment."""
    head, env = _suffix_env(path, "Vault auth path", "'kubernetes-<env>'")
    if head != "kubernetes":
        raise refuse("Vault auth path", path, "'kubernetes-<env>'")
    return env


def parse_vault_policy_name(name: str, mount: str) -> str:
    """The inverse of :func:`vault_policy_name` given the mount (a mount may hold '-'): the namespace."""
    namespace = name.removeprefix(f"{mount}-").removesuffix("-read")
    if not name.startswith(f"{mount}-") or not name.endswith("-read") or not namespace:
        raise refuse("Vault policy name", name, f"'{mount}-<namespace>-read'")
    return namespace


def parse_vault_role_name(name: str) -> str:
    """The inverse of :func:`vault_role_name`: the namespace."""
    namespace = name.removeprefix(f"{JOB_RUNNER}-")
    if namespace == name or not namespace:
        raise refuse("Vault role name", name, f"'{JOB_RUNNER}-<namespace>'")
    return namespace


def parse_provider_name(name: str) -> tuple[str, str]:
    """The inverse of :func:`provider_name`: (kind, env)."""
    return _suffix_env(name, "provider name", "'<kind>-<env>'")


def parse_slot_resource_name(name: str) -> tuple[str, str]:
    """The inverse of :func:`slot_resource_name`: (base, slot)."""
    base, sep, slot = name.rpartition("-slot-")
    if not sep or not base or not slot:
        raise refuse("slot resource name", name, "'<base>-slot-<slot>'")
    return base, slot


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
