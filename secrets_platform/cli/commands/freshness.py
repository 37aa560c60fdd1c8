"""``freshness``: every generated bundle's age against its maxAge; which fail the check."""

from __future__ import annotations

from dataclasses import dataclass

from secrets_platform import conventions
from secrets_platform.cli import freshness as freshness_mod
from secrets_platform.cli.context import StackContext


@dataclass(frozen=True)
class Freshness:
    environment: str
    ages: dict[str, freshness_mod.Age]
    """service -> Age of every generated bundle."""
    fail_on_unknown: bool
    """Asked for, or always in a fail-closed environment (prd)."""

    def bundle(self, service: str) -> str:
        return conventions.credentials_name(service, self.environment)

    @property
    def unknown(self) -> list[str]:
        return sorted(svc for svc, a in self.ages.items() if a.days is None and a.max_age)

    @property
    def failing(self) -> list[str]:
        """The bundles that fail the check: overdue, then (when they count) of unknown age."""
        overdue = sorted(svc for svc, a in self.ages.items() if a.overdue)
        return [self.bundle(svc) for svc in overdue + (self.unknown if self.fail_on_unknown else [])]


def run(stack: StackContext, fail_on_unknown: bool) -> Freshness:
    s = stack.settings
    return Freshness(s.environment, freshness_mod.bundle_ages(s), fail_on_unknown or s.traits.fail_closed)
