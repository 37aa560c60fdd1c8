"""Isolation of Vault objects: policies, Kubernetes-auth roles and database connections and roles serve one
environment, and no policy reaches Vault's control paths.

Part of the isolation rules (see ``policies.rules.isolation``).
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator, Mapping
from typing import Any

from secrets_platform import conventions
from secrets_platform.parsers import ParseError, conninfo, vault_policy
from secrets_platform.policies.environment import fmt_envs, in_env, other_envs, selector_pins, stack_env
from secrets_platform.policies.support import (
    MANDATORY,
    VAULT_DB_CONNECTION,
    VAULT_DB_ROLE,
    VAULT_K8S_ROLE,
    VAULT_POLICY,
    Resource,
    resource_rule,
    show,
    strings,
)

# --------------------------------------------------------------------------- Vault


@resource_rule("isolation-vault-role-env", MANDATORY, frozenset({VAULT_K8S_ROLE}))
@in_env(stack_env)
def vault_role_env(r: Resource, config: Mapping[str, Any], env: str) -> Iterator[str]:
    """A Vault Kubernetes-auth role is bound only to its own environment's namespaces and service accounts."""
    subject = f"Vault role {show(r.get('roleName') or r.name)} in {env}"
    for namespace in strings(r.get("boundServiceAccountNamespaces"), "boundServiceAccountNamespaces"):
        tokens = conventions.reference_env_tokens(namespace)
        if tokens != {env}:
            belongs = f"belongs to {fmt_envs(tokens - {env})}" if tokens - {env} else f"does not end in '-{env}'"
            yield (
                f"{subject} is bound to namespace {show(namespace)}, which {belongs} (boundServiceAccountNamespaces); "
                f"bind only '<workload>-{env}' namespaces."
            )
    for field in ("boundServiceAccountNames", "roleName", "audience", "tokenPolicies", "backend", "policies"):
        for value in strings(r.get(field), field):
            others = conventions.reference_env_tokens(value) - {env}
            if others:
                yield f"{subject}: {field} names {show(value)} of {fmt_envs(others)}; use the {env} one."
    selector = r.get("boundServiceAccountNamespaceSelector")
    if selector:
        try:
            parsed = json.loads(selector) if isinstance(selector, str) else selector
        except ValueError:
            parsed = None
        problem = selector_pins(parsed, env, "boundServiceAccountNamespaceSelector") if parsed is not None else "is not JSON"
        if problem:
            yield f"{subject}: boundServiceAccountNamespaceSelector {problem}; pin {conventions.LABEL_ENVIRONMENT}: {env}."


def _policy_subject(r: Resource) -> str:
    name = r.get("name")
    return f"Vault policy {show(name if isinstance(name, str) else r.name)}"


def _vault_grants(r: Resource, subject: str) -> Generator[str, None, tuple[vault_policy.Grant, ...]]:
    """The policy's grants that allow something, as Vault parses them (:mod:`parsers.vault_policy`); a policy that
    does not parse yields the message refusing it and grants nothing (``for g in (yield from _vault_grants(...))``)."""
    text = r.get("policy")
    if not isinstance(text, str):
        return ()
    try:
        return tuple(grant for grant in vault_policy.grants(text) if grant.allows)  # deny grants nothing
    except ParseError as err:
        yield (
            f'{subject}: the policy {err}, so what it grants cannot be judged; write plain `path "<path>" '
            "{ capabilities = [...] }` blocks (HCL or the same in JSON) with known keys and capabilities."
        )
        return ()


@resource_rule("isolation-vault-policy-env", MANDATORY, frozenset({VAULT_POLICY}))
@in_env(stack_env)
def vault_policy_env(r: Resource, config: Mapping[str, Any], env: str) -> Iterator[str]:
    """A Vault policy grants only paths of its own environment.

    The policy is read by Vault's own grammar (HCL v1 or JSON, through pyhcl): a path written
    as JSON, as ``path"x"`` without a space, under a quoted ``"path"`` key or beside another
    block on one line is the same grant. A policy that does not parse is refused.
    """
    name = r.get("name")
    subject = f"{_policy_subject(r)} in {env}"
    others = other_envs(name, env)
    if others:
        yield f"{subject} is named for {fmt_envs(others)}; name it for {env}."
    for grant in (yield from _vault_grants(r, subject)):
        tokens = conventions.env_tokens_in(grant.path)
        if tokens != {env}:
            problem = (
                f"belongs to {fmt_envs(tokens - {env})}"
                if tokens - {env}
                else "names no environment, so it may reach every environment's paths"
            )
            yield (
                f"{subject} grants the path {show(grant.path)}, which {problem}; grant only '<mount>/data/{env}/<service>' "
                "and '<mount>/metadata/{env}/<service>' paths of the credentials declared for the namespace.".replace("{env}", env)
            )


@resource_rule("isolation-vault-policy-no-control-paths", MANDATORY, frozenset({VAULT_POLICY}))
def vault_policy_control(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """A Vault policy grants nothing on Vault's control paths (auth/, sys/, identity/) and no sudo, so no token can change roles or policies.

    ``update`` on ``auth/kubernetes-<env>/role/<role>`` re-points a role (any namespace, any
    policy), ``sys/policies/acl/<name>`` rewrites a policy, ``identity/`` attaches policies to
    entities and groups: on a shared Vault a job runner could give itself another environment's
    paths. Every environment, whatever the capability (``deny`` aside).
    """
    subject = _policy_subject(r)
    for grant in (yield from _vault_grants(r, subject)):
        mount = vault_policy.control_mount(grant.path)
        if mount:
            yield (
                f"{subject} grants {', '.join(sorted(grant.allows))} on {show(grant.path)}, which reaches Vault's {mount} "
                "(auth methods and their roles, policies, tokens, entities): a token holding it could change what it or "
                "others may read; remove the path (the platform applies roles and policies itself)."
            )
        elif "sudo" in grant.allows:
            yield f"{subject} grants sudo on {show(grant.path)}; remove it (job runners only read their credentials)."


@resource_rule("isolation-vault-database-env", MANDATORY, frozenset({VAULT_DB_CONNECTION, VAULT_DB_ROLE}))
@in_env(stack_env)
def vault_database_env(r: Resource, config: Mapping[str, Any], env: str) -> Iterator[str]:
    """A Vault database connection or role serves only its own environment: its name, allowed roles and connection carry the environment, and its connection URL (read by libpq's rules) carries no credential but Vault's placeholders.

    A database-engine connection or role of one environment names only that environment (``<service>-<env>``).
    """
    kind = "connection" if r.type == VAULT_DB_CONNECTION else "role"
    subject = f"Vault database {kind} {show(r.get('name') or r.name)} in {env}"
    fields = ("name", "allowedRoles") if kind == "connection" else ("name", "dbName")
    for field in fields:
        for value in strings(r.get(field), field):
            tokens = conventions.env_tokens_in(value)
            if tokens != {env}:
                problem = (
                    f"names {fmt_envs(tokens - {env})}"
                    if tokens - {env}
                    else "names no environment, so every environment's users could share it"
                )
                yield f"{subject}: {field} {show(value)} {problem}; use '<service>-{env}'."
    if kind == "connection":
        yield from _connection_url_problems(r, subject)


# The placeholders Vault fills in with its connection user; anything else in the URL's user-info is a credential.
_VAULT_URL_TEMPLATES = {"user": "{{username}}", "password": "{{password}}"}


def _connection_url_problems(r: Resource, subject: str) -> Iterator[str]:
    """postgresql.connectionUrl read by libpq's rules: it parses, and carries no credential but Vault's placeholders."""
    url = r.get("postgresql", "connectionUrl")
    if not isinstance(url, str):
        return
    try:
        params = conninfo.parse(url)
    except ParseError as err:
        yield f"{subject}: postgresql.connectionUrl {err}; give postgresql://{{{{username}}}}:{{{{password}}}}@host:5432/dbname?sslmode=verify-full."
        return
    found = sorted(k for k in params if (k in conninfo.SECRET_KEYWORDS or k == "user") and params[k] != _VAULT_URL_TEMPLATES.get(k))
    if found:
        yield (
            f"{subject}: postgresql.connectionUrl carries {', '.join(found)} (as libpq reads it), a credential in the URL; "
            "keep only Vault's {{username}}:{{password}} placeholders and give the connection user in postgresql.username/password."
        )


POLICIES = [vault_policy_env, vault_policy_control, vault_role_env, vault_database_env]
