"""Dual-slot rotation with the real engine on the local cluster: two rotations, each replaces exactly
one RandomPassword, and <KEY>_PREVIOUS is always the former current value."""

from __future__ import annotations

import pytest
from local_project import LocalProject, engine_missing

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(engine_missing() is not None, reason=engine_missing() or "")]

KEY = "dagster-local/snowflake-local-credentials"
REPLACING = {"replace", "create-replacement", "delete-replaced"}


def set_snowflake(project: LocalProject, **fields) -> None:
    def change(config):
        for cred in config["secrets-platform:credentials"]:
            if cred["service"] == "snowflake":
                cred.update(fields)

    project.edit_stack(change)


def test_two_dual_rotations_each_replace_one_password_and_keep_the_former_value(tmp_path, cluster):
    p = LocalProject(tmp_path, cluster)
    set_snowflake(p, rotationStrategy="dual", generation=1)
    p.pulumi("up", "-s", "local", "--yes")
    try:
        values = [p.secrets()[KEY]]
        assert values[0]["SNOWFLAKE_PASSWORD"] != values[0]["SNOWFLAKE_PASSWORD_PREVIOUS"]
        for generation in (2, 3):
            set_snowflake(p, generation=generation)
            steps = p.preview_steps()
            replaced = {urn for urn, op in steps.items() if "RandomPassword" in urn and op in REPLACING}
            assert len(replaced) == 1, steps
            slot = "b" if generation % 2 == 0 else "a"
            assert next(iter(replaced)).endswith(f"-slot-{slot}"), replaced
            p.pulumi("up", "-s", "local", "--yes")
            now = p.secrets()[KEY]
            before = values[-1]
            assert now["SNOWFLAKE_PASSWORD_PREVIOUS"] == before["SNOWFLAKE_PASSWORD"], (
                f"generation {generation}: _PREVIOUS is not the former current value"
            )
            assert now["SNOWFLAKE_PASSWORD"] not in (before["SNOWFLAKE_PASSWORD"], before["SNOWFLAKE_PASSWORD_PREVIOUS"])
            values.append(now)
    finally:
        p.pulumi("destroy", "-s", "local", "--yes", check=False)
