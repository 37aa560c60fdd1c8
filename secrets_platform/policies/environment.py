"""What the isolation rules share: a resource's own environment, and whether a selector pins one.

Helpers, not rules: the rules of ``policies.rules.isolation`` import them from here so
that no rule module imports another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import wraps
from typing import Any

from secrets_platform import conventions
from secrets_platform.policies.support import Check, Resource, is_k8s_object, known

EnvCheck = Callable[[Resource, Mapping[str, Any], str], Iterator[str]]


def own_env(r: Resource) -> str | None:
    """The environment a resource belongs to: its stack's, else what its metadata says."""
    if r.env:
        return r.env
    if not is_k8s_object(r.type):
        return None
    namespace = r.k8s_namespace()
    label = r.get("metadata", "labels", conventions.LABEL_ENVIRONMENT)
    return (conventions.env_token_of_name(namespace) if namespace else None) or (label if label in conventions.ENVIRONMENTS else None)


def stack_env(r: Resource) -> str | None:
    """The environment of the resource's stack (its name is the token), else None."""
    return r.env


def in_env(env_of: Callable[[Resource], str | None]) -> Callable[[EnvCheck], Check]:
    """A check judged in the environment ``env_of`` reads from a resource (:func:`own_env`, :func:`stack_env`),
    given to it as a third argument; a resource without one passes (nothing to compare against)."""

    def judged_in(check: EnvCheck) -> Check:
        @wraps(check)
        def judged(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
            env = env_of(r)
            if env:
                yield from check(r, config, env)

        return judged

    return judged_in


def other_envs(reference: Any, env: str) -> set[str]:
    """The environments other than ``env`` that a reference names (``conventions.reference_env_tokens``); none for a non-string."""
    return conventions.reference_env_tokens(reference) - {env} if isinstance(reference, str) else set()


def fmt_envs(tokens: set[str]) -> str:
    """Environment tokens as a message shows them: sorted, comma-separated."""
    return ", ".join(sorted(tokens))


def selector_pins(selector: Any, env: str, where: str) -> str | None:
    """None when a label selector admits only ``env`` namespaces, else what is wrong."""
    selector = known(selector, where)
    if not isinstance(selector, Mapping):
        return "is not a label selector"
    match_labels = selector.get("matchLabels") or {}
    pinned = set()
    label = match_labels.get(conventions.LABEL_ENVIRONMENT)
    if isinstance(label, str):
        pinned.add(label)
    name = match_labels.get("kubernetes.io/metadata.name")
    if isinstance(name, str):
        pinned |= conventions.reference_env_tokens(name) or {"(none)"}
    for expression in selector.get("matchExpressions") or []:
        if not isinstance(expression, Mapping) or expression.get("operator") != "In":
            continue
        if expression.get("key") == conventions.LABEL_ENVIRONMENT:
            values = set(expression.get("values") or [])
            pinned |= values if values else {"(none)"}
    if not pinned:
        return f"does not pin {conventions.LABEL_ENVIRONMENT}: {env}, so it admits every environment's namespaces"
    if pinned != {env}:
        return f"admits {fmt_envs(pinned - {env})} namespaces"
    return None
