"""Isolation of GCP IAM grants: a grant on a project, secret or service account never crosses environments.

Part of the isolation rules (see ``policies.rules.isolation``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from secrets_platform import conventions
from secrets_platform.policies.environment import fmt_envs
from secrets_platform.policies.support import (
    MANDATORY,
    PROJECT_IAM_TYPES,
    SECRET_IAM_TYPES,
    SERVICE_ACCOUNT_IAM_TYPES,
    UNREADABLE_POLICY,
    Resource,
    policy_bindings,
    resource_rule,
    show,
    strings,
)

# --------------------------------------------------------------------------- GCP IAM


def iam_members(r: Resource) -> Iterator[tuple[str, str]]:
    """``(where, member)`` for the members an IAM member/binding/policy resource grants to."""
    for where in ("member",):
        member = r.get(where)
        if isinstance(member, str):
            yield where, member
    for member in strings(r.get("members"), "members"):
        yield "members", member
    for index, binding in policy_bindings(r):
        if index < 0:
            yield "policyData", UNREADABLE_POLICY
        for member in binding.get("members") or []:
            yield f"policyData.bindings[{index}]", member


# Members that are every identity there is: no environment can be shown.
_EVERYONE = frozenset({"allUsers", "allAuthenticatedUsers"})
_WORKLOAD_IDENTITY = re.compile(r"\.svc\.id\.goog\[(?P<namespace>[^/\]]*)/[^\]]*\]\Z")


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text) if w in conventions.ENVIRONMENTS}


def _conditions(r: Resource) -> Iterator[tuple[str, Any]]:
    yield "condition", r.get("condition")
    for index, binding in policy_bindings(r):
        if index >= 0:
            yield f"policyData.bindings[{index}].condition", binding.get("condition")


def _member_problem(member: str, env: str) -> str | None:
    """Why an IAM member cannot be shown to be of ``env`` (None: it can, or it names no environment)."""
    if member in _EVERYONE:
        return "is every identity, of every environment"
    workload = _WORKLOAD_IDENTITY.search(member)
    if workload:  # all clusters of a project share its workload pool: only the namespace tells environments apart
        tokens = conventions.reference_env_tokens(workload.group("namespace"))
        if tokens != {env}:
            return f"is the Kubernetes account of namespace {show(workload.group('namespace'))}, " + (
                f"of {fmt_envs(tokens - {env})}" if tokens - {env} else f"which does not end in '-{env}'"
            )
        return None
    if member.startswith("principalSet://"):
        try:
            namespace = conventions.parse_workload_identity_namespace_set(member)
        except conventions.ConventionError:
            namespace = None
        if namespace is None or conventions.reference_env_tokens(namespace) != {env}:
            return f"is a set of principals not confined to one '<workload>-{env}' namespace"
        return None
    others = conventions.reference_env_tokens(member) - {env}
    return f"is of {fmt_envs(others)}" if others else None


@resource_rule("isolation-gcp-iam-env", MANDATORY, SECRET_IAM_TYPES | SERVICE_ACCOUNT_IAM_TYPES | PROJECT_IAM_TYPES)
def gcp_iam_env(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """A GCP IAM grant on a project, secret or service account never gives one environment's resource to another environment's identity, or to identities spanning environments."""
    kind = r.type.rsplit(":", 1)[-1]
    target_field = "secretId" if r.type in SECRET_IAM_TYPES else "serviceAccountId" if r.type in SERVICE_ACCOUNT_IAM_TYPES else None
    target = r.get(target_field) if target_field else None
    target_tokens = conventions.reference_env_tokens(target) if isinstance(target, str) else set()
    env = r.env or (next(iter(target_tokens)) if len(target_tokens) == 1 else None)
    if not env:
        return
    if target_tokens - {env}:
        yield (
            f"{kind} {show(r.name)} in {env} grants on {show(target)} of "
            f"{fmt_envs(target_tokens - {env})} ({target_field}); grant only on {env} secrets and accounts."
        )
    elif r.type in SECRET_IAM_TYPES and isinstance(target, str) and not target_tokens:
        yield (
            f"{kind} {show(r.name)} in {env} grants on the secret {show(target)} (secretId), which names no environment, "
            f"so nothing shows it is not another environment's; grant only on '<service>-{env}-...' secrets."
        )
    for where, condition in _conditions(r):
        if isinstance(condition, Mapping):
            text = " ".join(str(condition.get(k) or "") for k in ("title", "expression"))
            others = _words(text) - {env}
            if others:
                yield f"{kind} {show(r.name)} in {env} has a condition naming {fmt_envs(others)} ({where}); condition only on {env} resources."
    for where, member in iam_members(r):
        if member == UNREADABLE_POLICY:
            yield (
                f"{r.type.rsplit(':', 1)[-1]} {show(r.name)} in {env} has a policyData that is not valid JSON, so its members "
                "can't be shown to belong to this environment; fix the policy document."
            )
            continue
        problem = _member_problem(member, env) if isinstance(member, str) else None
        if problem:
            on = show(target) if isinstance(target, str) else "the project"
            yield (
                f"{kind} {show(r.name)} grants {on} ({env}) to {show(member)}, which {problem} ({where}); "
                "each environment's accounts get only that environment's secrets."
            )


POLICIES = [gcp_iam_env]
