"""Isolation of Kubernetes objects: an object's own environment facts agree, and a binding binds only its environment.

Part of the isolation rules (see ``policies.rules.isolation``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from secrets_platform import conventions
from secrets_platform.policies.environment import fmt_envs, in_env, other_envs, own_env
from secrets_platform.policies.support import (
    BINDING_TYPES,
    MANDATORY,
    Resource,
    at,
    entries,
    is_k8s_object,
    resource_rule,
    show,
)

# --------------------------------------------------------------------------- metadata

# A pure function of the name; a stack's objects share a handful of namespaces.
_env_token_of_namespace = lru_cache(maxsize=1024)(conventions.env_token_of_name)


@resource_rule("isolation-object-env-agree", MANDATORY, is_k8s_object)
def object_env_agree(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """A Kubernetes object's stack, namespace, environment label and own name all name the same environment."""
    env = r.env
    namespace = r.k8s_namespace()
    namespace_env = _env_token_of_namespace(namespace) if namespace else None
    label = r.get("metadata", "labels", conventions.LABEL_ENVIRONMENT)  # raises if unknown: an env fact
    label_env = label if isinstance(label, str) and label in conventions.ENVIRONMENTS else None
    name = r.k8s_name()
    name_env = conventions.env_token_of_name(name) if name else None
    if len({e for e in (env, namespace_env, label_env, name_env) if e}) < 2:
        return  # every fact that names an environment names the same one: nothing to say, nothing to format
    facts: list[tuple[str, str | None]] = [(f"the stack {show(r.stack)}", env)]
    if namespace:
        facts.append((f"its namespace {show(namespace)}", namespace_env))
    if label_env:
        facts.append((f"its label {conventions.LABEL_ENVIRONMENT}", label_env))
    if name:
        facts.append((f"its name {show(name)}", name_env))
    disagree = conventions.disagreeing(facts)
    if disagree:
        said = "; ".join(f"{fact} says {env}" for fact, env in disagree.items())
        yield (
            f"{r.describe()} mixes environments: {said}. An object belongs to exactly one environment: "
            "create it in that environment's stack, in that environment's namespace, with names and labels "
            "built by conventions for that environment."
        )


# --------------------------------------------------------------------------- RBAC

# Groups Kubernetes fills with identities of every namespace (and so of every environment).
SPANNING_GROUPS = frozenset({"system:serviceaccounts", "system:authenticated", "system:unauthenticated"})


@resource_rule("isolation-binding-subject-env", MANDATORY, BINDING_TYPES)
@in_env(own_env)
def binding_subject_env(r: Resource, config: Mapping[str, Any], env: str) -> Iterator[str]:
    """A RoleBinding or ClusterRoleBinding binds no subject or role of another environment, and no group spanning every namespace."""
    binding_namespace = r.k8s_namespace()
    for where, subject in entries(r.get("subjects", default=[]), "subjects"):
        kind = at(subject, "kind", where=f"{where}.kind")
        name = at(subject, "name", where=f"{where}.name", default="")
        if kind == "Group" and name in SPANNING_GROUPS:
            yield (
                f"{r.describe()} in {env} binds the Group {show(name)} ({where}), which holds the accounts of every namespace, "
                f"i.e. of every environment. Bind each {env} ServiceAccount (or 'system:serviceaccounts:<namespace>-{env}')."
            )
            continue
        tokens = conventions.reference_env_tokens(name) if isinstance(name, str) else set()
        if kind == "ServiceAccount":
            namespace = at(subject, "namespace", where=f"{where}.namespace") or binding_namespace
            if isinstance(namespace, str):
                tokens |= conventions.reference_env_tokens(namespace)
                name = conventions.object_key(namespace, name)
        others = tokens - {env}
        if others:
            yield (
                f"{r.describe()} in {env} binds {kind} {show(name)} of {fmt_envs(others)} ({where}). "
                f"Bind only {env} subjects: each environment has its own job-runner in its own namespace."
            )
    role = r.get("roleRef", "name")
    others = other_envs(role, env)
    if others:
        yield f"{r.describe()} in {env} refers to the role {show(role)} of {fmt_envs(others)}; refer to the {env} role."


POLICIES = [object_env_agree, binding_subject_env]
