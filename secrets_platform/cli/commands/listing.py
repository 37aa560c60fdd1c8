"""``list``: the stack's Secrets (the catalog) and the age of each generated bundle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from secrets_platform.cli import catalog as catalog_mod
from secrets_platform.cli import freshness as freshness_mod
from secrets_platform.cli.context import StackContext


@dataclass(frozen=True)
class Listing:
    catalog: catalog_mod.Catalog
    ages: dict[str, freshness_mod.Age]

    def age_of(self, secret: dict[str, Any]) -> freshness_mod.Age | None:
        """The age of a bundle's Secret (None for any other Secret)."""
        return self.ages.get(secret.get("service") or "") if catalog_mod.is_bundle(secret) else None


def catalog(stack: StackContext, source: str) -> catalog_mod.Catalog:
    """The stack's Secrets from ``source`` (see :func:`catalog.load`: one engine workspace at most)."""
    return catalog_mod.load(stack, source)


def of(cat: catalog_mod.Catalog) -> Listing:
    return Listing(cat, ages(cat))


def ages(cat: catalog_mod.Catalog) -> dict[str, freshness_mod.Age]:
    """service -> Age of each generated bundle, from the rotation value of what the catalog lists.

    From deployed state that is the deployed Secret's own rotation (a rotation committed but not
    applied does not make a credential younger); the maxAge target comes from the stack file.
    """
    targets = {c.service: c.effective_max_age(cat.environment) for c in cat.settings.config.credentials if c.generated}
    return {
        s["service"]: freshness_mod.age(s.get("rotation"), targets[s["service"]])
        for s in cat.secrets
        if s.get("service") in targets and catalog_mod.is_bundle(s)
    }
