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

# What this module itself uses of them, by name.
from secrets_platform.conventions.dns import *  # noqa: F403 (re-exported: its __all__)
from secrets_platform.conventions.dns import check_dns_label

# Every public name of the submodules is this module's too (each submodule's __all__).
from secrets_platform.conventions.environments import *  # noqa: F403 (re-exported: its __all__)
from secrets_platform.conventions.environments import (
    ENV_OF_FLYTE_DOMAIN,
    ENVIRONMENT_LIST,
    ENVIRONMENTS,
    FLYTE_DOMAINS,
    flyte_domain,
    split_env_suffix,
)
from secrets_platform.conventions.errors import *  # noqa: F403 (re-exported: its __all__)
from secrets_platform.conventions.errors import ConventionError, between, matched, refuse
from secrets_platform.conventions.forms import *  # noqa: F403 (re-exported: its __all__)
from secrets_platform.conventions.keys import *  # noqa: F403 (re-exported: its __all__)
from secrets_platform.conventions.operators import *  # noqa: F403 (re-exported: its __all__)
from secrets_platform.conventions.paths import *  # noqa: F403 (re-exported: its __all__)
from secrets_platform.conventions.paths import key_slug, parse_vault_creds_path, vault_creds_path
from secrets_platform.conventions.principals import *  # noqa: F403 (re-exported: its __all__)
from secrets_platform.conventions.resources import *  # noqa: F403 (re-exported: its __all__)
from secrets_platform.conventions.urns import *  # noqa: F403 (re-exported: its __all__)

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


# The suffix of the key that holds a dual bundle's previous value.
PREVIOUS_SUFFIX = "_PREVIOUS"


def previous_key(key: str) -> str:
    """The key of a dual bundle that holds ``key``'s previous value: ``<KEY>_PREVIOUS``."""
    return f"{key}{PREVIOUS_SUFFIX}"


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


def env_name_suffix(env: str) -> str:
    """``-<env>``: what a name of the environment ends in (``<workload>-<env>`` namespaces); :func:`env_suffix` reads it."""
    return f"-{env}"


def env_suffix(name: str) -> str | None:
    """The environment token ``name`` ends in as its last '-' word (``dagster-prd`` -> prd), or None."""
    head, sep, last = name.rpartition("-")
    return last if sep and last in ENVIRONMENTS else None


def parse_vault_database_role(name: str) -> ServiceEnv:
    """The inverse of :func:`vault_database_role`."""
    return ServiceEnv(*split_env_suffix(name, "Vault database role name", "'<service>-<env>'"))


class DatabaseCredsPath(NamedTuple):
    mount: str
    service: str
    env: str


def parse_vault_database_creds_path(path: str) -> DatabaseCredsPath:
    """The inverse of :func:`vault_database_creds_path`."""
    try:
        creds = parse_vault_creds_path(path)
        return DatabaseCredsPath(creds.mount, *parse_vault_database_role(creds.role))
    except ConventionError:
        raise refuse("Vault database creds path", path, f"'<mount>/creds/<service>-<env>' (env one of {ENVIRONMENT_LIST})") from None


def parse_pull_secret_name(name: str) -> ServiceEnv:
    """The inverse of :func:`pull_secret_name`."""
    parsed = parse_secret_name(name) if name.endswith("-pull-secret") else None
    if parsed is None or parsed.purpose != "pull":
        raise refuse("pull secret name", name, f"'<service>-<env>-pull-secret' (env one of {ENVIRONMENT_LIST})")
    return ServiceEnv(parsed.service, parsed.env)


def parse_password_resource_name(name: str, service: str) -> str:
    """The inverse of :func:`password_resource_name` given the service: the key's slug."""
    return between(name, f"generated password of {service}", f"'{service}-<key slug>'", prefix=f"{service}-")


def parse_stand_in_resource_name(name: str, service: str) -> str:
    """The inverse of :func:`stand_in_resource_name` given the service: the key's slug."""
    return between(name, f"stand-in of {service}", f"'{service}-<key slug>-stand-in'", prefix=f"{service}-", suffix="-stand-in")


def parse_tls_component_name(name: str, service: str) -> str:
    """The inverse of :func:`tls_component_name` given the service: the purpose."""
    return between(name, f"TLS component of {service}", f"'{service}-<purpose>'", prefix=f"{service}-")


_KEY_PREFIX = re.compile(r"^(?P<words>[A-Z0-9]+(?:_[A-Z0-9]+)*)_\Z")


def parse_previous_key(name: str) -> str:
    """The inverse of :func:`previous_key`: the key whose previous value it holds."""
    return between(name, "previous-value key", f"'<KEY>{PREVIOUS_SUFFIX}'", suffix=PREVIOUS_SUFFIX)


def parse_key_prefix(prefix: str) -> str:
    """The inverse of :func:`key_prefix`: the service (``SNOWFLAKE_DB_`` -> ``snowflake-db``)."""
    return matched(_KEY_PREFIX, "key prefix", prefix, "'<SERVICE>_' (upper-case words joined by '_')")["words"].lower().replace("_", "-")


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
