"""rotationStrategy: dual: two slots per generated key, each rotation regenerates only the older one."""

from __future__ import annotations

import pytest
from support import base_config, is_secret, run_program, unwrap

from secrets_platform import settings
from secrets_platform.model.secrets import current_slot, slot_generations

PASSWORD = "random:index/randomPassword:RandomPassword"


def dual(generation: int = 1, **cred) -> settings.Settings:
    cfg = base_config("dev")
    cfg["credentials"][0].update(rotationStrategy="dual", generation=generation, **cred)
    return settings.from_mapping(cfg, set(), "dev", {})


def passwords(run) -> dict[str, dict]:
    return {r.name: r.plain()["keepers"] for r in run.resources if r.type == PASSWORD}


def test_each_generation_step_changes_the_keeper_of_exactly_one_slot_and_alternates():
    rotated = []
    for g in range(1, 6):
        before, after = slot_generations(g), slot_generations(g + 1)
        changed = [slot for slot in "ab" if before[slot] != after[slot]]
        assert len(changed) == 1, (g, before, after)
        assert changed[0] == current_slot(g + 1)  # the regenerated slot becomes current
        rotated.append(changed[0])
    assert rotated == ["b", "a", "b", "a", "b"]


def test_a_dual_bundle_has_two_passwords_and_a_previous_key():
    run = run_program(dual(3))
    assert passwords(run) == {
        "snowflake-snowflake-password-slot-a": {"slot": "a", "generation": "3"},
        "snowflake-snowflake-password-slot-b": {"slot": "b", "generation": "2"},
    }
    secret = next(r for r in run.resources if r.type == "kubernetes:core/v1:Secret")
    assert is_secret(secret.inputs["stringData"])
    data = unwrap(secret.inputs["stringData"])
    assert data["SNOWFLAKE_PASSWORD"] == "generated-snowflake-snowflake-password-slot-a"
    assert data["SNOWFLAKE_PASSWORD_PREVIOUS"] == "generated-snowflake-snowflake-password-slot-b"
    [out] = [s for s in run.outputs["secrets"] if s["namespace"] == "dagster-dev"]
    assert out["keys"] == ["SNOWFLAKE_PASSWORD", "SNOWFLAKE_PASSWORD_PREVIOUS", "SNOWFLAKE_USER"]
    assert (out["rotationStrategy"], out["generation"], out["currentSlot"]) == ("dual", "3", "a")


def test_a_single_bundle_keeps_one_password_keyed_by_rotation():
    run = run_program(settings.from_mapping(base_config("dev"), set(), "dev", {}))
    assert passwords(run) == {"snowflake-snowflake-password": {"rotation": "1"}}
    assert all("rotationStrategy" not in s for s in run.outputs["secrets"])


@pytest.mark.parametrize(
    "change, key, words",
    [
        ({"rotationStrategy": "triple"}, "credentials[0].rotationStrategy", "single or dual"),
        ({"maxAge": "90 days"}, "credentials[0].maxAge", "is not a duration"),
        ({"maxAge": "0d"}, "credentials[0].maxAge", "is not a duration"),
        ({"generation": 2}, "credentials[0].generation", "only applies to rotationStrategy: dual"),
        (
            {"rotationStrategy": "dual", "values": {"SNOWFLAKE_PASSWORD_PREVIOUS": "x"}},
            "credentials[0].rotationStrategy",
            "SNOWFLAKE_PASSWORD_PREVIOUS",
        ),
        ({"rotationStrategy": "dual", "generated": []}, "credentials[0].rotationStrategy", "no `generated` keys"),
    ],
)
def test_bad_rotation_settings_are_one_clear_error(change, key, words):
    cfg = base_config("dev")
    cfg["credentials"][0].update(change)
    with pytest.raises(settings.ConfigError) as err:
        settings.from_mapping(cfg, set(), "dev", {})
    text = str(err.value)
    assert key in text and words in text, text
    assert "Traceback" not in text


def test_max_age_defaults_are_stricter_in_prd():
    cfg = base_config("prd")
    cred = settings.from_mapping(cfg, set(), "prd", {}).config.credentials[0]
    assert cred.effective_max_age("prd") == "90d" and cred.effective_max_age("dev") == "365d"
    assert cred.effective_max_age("local") is None
