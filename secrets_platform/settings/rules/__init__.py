r"""The cross-field rules of a stack's config, one module per area (pydantic checks each field's shape).

Each rule adds :class:`settings.errors.Problem`\ s through ``add``; :func:`settings.load.from_mapping`
runs them all and reports every problem at once. An area registers its rules in a :class:`Rules`
(small functions, one concern each) and its ``check`` runs them in the order they were registered,
so the problems, and the first one reported, come in the same order every time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

R = TypeVar("R", bound=Callable[..., None])

# Folders of the checkout that tools own: rendered plain-text Secrets (cluster) and operator charts (backends)
# never come from there. Here, so that no rule module imports another.
TOOL_DIRS = frozenset({".git", ".github", ".venv", ".state", ".pulumi-home", "bin", "build", "node_modules"})


class Rules:
    """An area's rules, run in the order they are registered (the order of the file)."""

    def __init__(self) -> None:
        self._rules: list[Callable[..., None]] = []

    def __call__(self, rule: R) -> R:
        """Register ``rule`` (a decorator); it runs after every rule registered before it."""
        self._rules.append(rule)
        return rule

    def __iter__(self) -> Iterator[Callable[..., None]]:
        """The registered rules, in the order they run."""
        return iter(tuple(self._rules))

    def run(self, *args: Any) -> None:
        """Run every rule with ``args``, in registration order."""
        for rule in self._rules:
            rule(*args)
