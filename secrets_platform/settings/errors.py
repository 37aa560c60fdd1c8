"""The one error bad stack config produces.

Every problem is reported as ``<key>: <what is wrong> (got <value>). Fix: <how>``, all
problems of one run in one message, before any resource is registered. Values of
secret keys are never echoed: they show as ``[secret]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import pulumi

NAMESPACE = "secrets-platform"
SECRET_PLACEHOLDER = "[secret]"


@dataclass(frozen=True)
class Problem:
    key: str
    message: str
    fix: str
    value: Any = None
    show_value: bool = True

    def render(self) -> str:
        got = ""
        if self.show_value and self.value is not None:
            shown = repr(self.value)
            if len(shown) > 80:
                shown = shown[:77] + "..."
            got = f" (got {shown})"
        elif not self.show_value:
            got = f" (got {SECRET_PLACEHOLDER})"
        return f"{self.key}: {self.message}{got}. Fix: {self.fix}"


class ConfigError(pulumi.RunError):
    """Invalid stack config. A RunError, so Pulumi prints the message without a traceback."""

    def __init__(self, problems: Iterable[Problem], source: str = "stack config"):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p.render()}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"invalid {source}: {count} {noun}; nothing was created.\n{lines}")


def full_key(path: Iterable[Any]) -> str:
    """``("credentials", 0, "generated")`` -> ``secrets-platform:credentials[0].generated``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return f"{NAMESPACE}:{out}"
