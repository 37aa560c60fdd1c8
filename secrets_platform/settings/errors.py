"""The one error bad stack config produces.

Every problem is reported as ``<key>: <what is wrong> (got <value>). Fix: <how>``, all
problems of one run in one message, before any resource is registered. Values of
secret keys are never echoed: they show as ``[secret]``.
"""

from __future__ import annotations

from typing import Iterable

import pulumi

from secrets_platform.settings.problems import NAMESPACE, SECRET_PLACEHOLDER, Problem, full_key

__all__ = ["NAMESPACE", "SECRET_PLACEHOLDER", "ConfigError", "Problem", "full_key"]


class ConfigError(pulumi.RunError):
    """Invalid stack config. A RunError, so Pulumi prints the message without a traceback."""

    def __init__(self, problems: Iterable[Problem], source: str = "stack config"):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p.render()}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"invalid {source}: {count} {noun}; nothing was created.\n{lines}")
