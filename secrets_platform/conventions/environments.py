"""The environment tokens and what each implies (part of :mod:`secrets_platform.conventions`, re-exported there)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from secrets_platform.conventions.errors import refuse

__all__ = [
    "ENV_OF_FLYTE_DOMAIN",
    "ENVIRONMENT_LIST",
    "ENVIRONMENTS",
    "FLYTE_DOMAINS",
    "TRAITS",
    "Environment",
    "EnvironmentTraits",
    "flyte_domain",
    "split_env_suffix",
    "traits",
]


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


def flyte_domain(env: str) -> str:
    """The Flyte domain an environment's executions run in: ``prd`` -> ``production`` (:data:`FLYTE_DOMAINS`)."""
    return FLYTE_DOMAINS[env]


def split_env_suffix(name: str, what: str, form: str) -> tuple[str, str]:
    """``<head>-<env>`` -> (head, env), or the error naming ``what``, the value and ``form`` (with the tokens)."""
    head, _, env = name.rpartition("-")
    if not head or env not in ENVIRONMENTS:
        raise refuse(what, name, f"{form} (env one of {ENVIRONMENT_LIST})")
    return head, env
