"""Settings rules are small registered functions, run in the order they were registered."""

from __future__ import annotations

import inspect

import pytest
from support import base_config

from secrets_platform import settings
from secrets_platform.settings import ConfigError
from secrets_platform.settings.rules import Rules, backends, secrets


def test_rules_run_in_registration_order_and_stay_plain_functions():
    rules = Rules()
    seen: list[tuple[str, int]] = []

    @rules
    def first(x: int) -> None:
        seen.append(("first", x))

    @rules
    def second(x: int) -> None:
        seen.append(("second", x))

    rules.run(7)
    rules.run(8)
    assert seen == [("first", 7), ("second", 7), ("first", 8), ("second", 8)]
    first(1)  # the decorator returns the function itself
    assert seen[-1] == ("first", 1)


def test_every_area_rule_is_small():
    for area in (secrets.RULES, backends.RULES):
        assert len(list(area)) >= 5
        for rule in area:
            assert len(inspect.getsourcelines(rule)[0]) <= 60, rule.__name__


def test_problems_come_in_the_rules_order():
    """Namespaces, then credentials, then registries: the first problem reported stays the first."""
    cfg = base_config(
        "prd",
        namespaces=["dagster", "dagster", "floe-jobs"],
        credentials=[{"service": "snowflake", "namespaces": ["dagster"]}],
        registries=[{"service": "ghcr", "server": "ghcr.io", "username": "u", "password": "", "namespaces": ["nowhere"]}],
    )
    with pytest.raises(ConfigError) as exc:
        settings.from_mapping(cfg, {"registries"}, "prd", {})
    keys = [p.key for p in exc.value.problems]
    assert keys.index("secrets-platform:namespaces[1]") < keys.index("secrets-platform:credentials[0]")
    assert keys.index("secrets-platform:credentials[0]") < keys.index("secrets-platform:registries[0].password")
