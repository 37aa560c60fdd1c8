"""The program as the engine runs it: config from the engine, `__main__` wiring, exports."""

from __future__ import annotations

import gc
import json
import runpy
from typing import Any

import pytest
from pulumi.runtime import config as runtime_config
from support import ROOT, base_config, run_program

from secrets_platform import settings

REGISTRY = {"service": "ghcr", "server": "ghcr.io", "username": "bot", "password": "pw", "namespaces": ["dagster"]}


def engine_config(cfg: dict) -> dict[str, str]:
    """Config as the language host passes it: namespaced keys, structured values as JSON."""
    return {f"secrets-platform:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in cfg.items()}


@pytest.fixture
def engine_settings():
    threshold = gc.get_threshold()
    yield
    runtime_config.set_all_config({}, [])
    gc.unfreeze()  # __main__ tunes the collector for its process (secrets_platform/collector.py); this is the test process
    gc.set_threshold(*threshold)


def test_main_tunes_the_collector_before_the_program_registers(engine_settings):
    from secrets_platform import collector

    seen: dict[str, Any] = {}

    def body(_):
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")

    def build(settings_):
        seen["threshold"], seen["frozen"] = gc.get_threshold(), gc.get_freeze_count()
        return real_build(settings_)

    from secrets_platform.components import platform

    real_build = platform.build
    runtime_config.set_all_config(engine_config(base_config("dev")), [])
    stub = settings.from_mapping(base_config("dev"), set(), "dev", {})
    gc.unfreeze()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(platform, "build", build)
        run_program(stub, body)
    assert seen["threshold"][0] == collector.YOUNG_THRESHOLD and seen["frozen"] > 0


def test_main_wires_settings_into_the_platform(engine_settings):
    runtime_config.set_all_config(engine_config(base_config("dev", registries=[REGISTRY])), ["secrets-platform:registries"])
    holder = {}

    def body(_):
        holder["settings"] = settings.from_pulumi(environ={})
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")

    stub = settings.from_mapping(base_config("dev"), set(), "dev", {})
    run = run_program(stub, body)
    assert holder["settings"].config.registries[0].server == "ghcr.io"
    names = {r.inputs.get("metadata", {}).get("name") for r in run.of_type("kubernetes:core/v1:Secret")}
    assert names == {"snowflake-dev-credentials", "ghcr-dev-pull-secret"}


def test_engine_config_in_plain_text_is_refused(engine_settings):
    runtime_config.set_all_config(engine_config(base_config("dev", registries=[REGISTRY])), [])

    def body(_):
        settings.from_pulumi(environ={})

    stub = settings.from_mapping(base_config("dev"), set(), "dev", {})
    with pytest.raises(settings.ConfigError, match="registries: holds password values but is stored in plain text"):
        run_program(stub, body)


def test_config_of_other_namespaces_is_ignored(engine_settings):
    cfg = engine_config(base_config("dev"))
    cfg["kubernetes:context"] = "elsewhere"
    runtime_config.set_all_config(cfg, [])
    stub = settings.from_mapping(base_config("dev"), set(), "dev", {})
    holder: dict[str, settings.Settings] = {}
    run_program(stub, lambda _: holder.setdefault("s", settings.from_pulumi(environ={})))
    assert holder["s"].environment == "dev"
