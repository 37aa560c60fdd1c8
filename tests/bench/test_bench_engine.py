"""The engine benchmark's parts that need no engine: the projects it writes, the flat floor, the /proc sampler, the tables.

The engine series itself only runs with the toolchain (bench/run.py); these tests
prove its inputs are what it claims (the floor registers ours' resources, the
stack config is a valid render-mode local stack) and that its bookkeeping counts
what it should (per-round ratios, spread, roles of processes).
"""

from __future__ import annotations

import subprocess
import sys
import time

import mocks
import yaml
from pulumi.runtime import rpc

from bench import catalog, engine, programs, report, run
from secrets_platform import settings


def _custom(variant: str, config: dict) -> list[tuple]:
    env = config["environment"]
    monitor = mocks.evaluate(lambda: programs.PROGRAMS[variant](config, env), env)
    rows = [(r.type, r.name, rpc.deserialize_properties(r.object), r.protect, r.retain_on_delete) for r in monitor.registered if r.custom]
    return sorted(rows, key=lambda r: (r[0], r[1]))


def test_the_flat_floor_registers_exactly_our_custom_resources():
    """Same types, names, inputs and data-safety options as ours, for the engine's local catalog and for prd."""
    for env in ("local", "prd"):
        config = catalog.catalog(6, env)
        ours, flat = _custom("ours", config), _custom("baseline", config)
        assert len(ours) == catalog.custom_resource_count(6)
        assert ours == flat, env


def _every(variant: str, config: dict) -> list[tuple]:
    """Every registration (components included): kind, type, name, URN, parent URN, inputs, data-safety options."""
    env = config["environment"]
    monitor = mocks.evaluate(lambda: programs.PROGRAMS[variant](config, env), env)
    rows = [
        (r.custom, r.type, r.name, r.urn, r.parent, rpc.deserialize_properties(r.object), r.protect, r.retain_on_delete)
        for r in monitor.registered
    ]
    return sorted(rows, key=lambda r: r[3])


def test_the_fair_floor_registers_our_components_and_custom_resources_with_the_same_parents():
    """The fair floor: ours' component resources (types, names, parents) around ours' custom resources, nothing else."""
    for env in ("local", "prd"):
        config = catalog.catalog(6, env)
        ours, fair = _every("ours", config), _every("fair", config)
        assert sum(1 for r in ours if r[0]) == catalog.custom_resource_count(6)
        assert sum(1 for r in ours if not r[0]) == catalog.component_count(6)
        assert ours == fair, env
        # The flat floor has the same custom resources but no components: the two floors differ by exactly that.
        assert {r[1] for r in fair if not r[0]} == {
            "secrets-platform:namespaces:PlatformNamespace",
            "secrets-platform:credentials:GeneratedCredential",
            "secrets-platform:access:JobRunnerAccess",
        }
        assert not any(r[0] is False for r in _every("baseline", config))


def test_stack_config_is_a_valid_render_mode_local_stack():
    text = engine.stack_config(7)
    doc = yaml.safe_load(text)
    assert doc["encryptionsalt"] == yaml.safe_load((engine.ROOT / "Pulumi.local.yaml").read_text())["encryptionsalt"]
    values = {k.removeprefix("secrets-platform:"): v for k, v in doc["config"].items()}
    loaded = settings.from_mapping(values, set(), "local", {})
    assert loaded.render_dir == engine.RENDER_DIR and len(loaded.config.credentials) == 7


def test_roles_and_the_sampler_see_a_child_process():
    """A child whose command line names pulumi.policy is the analyzer; its CPU and memory are counted."""
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass\ntime.sleep(0.3)"
    parent = subprocess.Popen(
        [sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', {burn!r}, '-m', 'pulumi.policy'])"]
    )
    sampler = engine.Sampler(parent.pid)
    parent.wait(timeout=30)
    time.sleep(0.05)
    roles = sampler.stop()
    assert set(roles) == {"engine", "analyzer"}, roles
    assert roles["analyzer"]["cpu_seconds"] >= 0.2 and roles["analyzer"]["peak_rss_mib"] > 1


def _sample(seconds: float) -> dict:
    return {"seconds": seconds, "roles": {"engine": {"cpu_seconds": seconds / 2, "peak_rss_mib": 100.0, "processes": 1}}}


def test_ratios_are_per_round_and_the_tables_show_them():
    series = engine.Series(100)
    for a, b, c, d in ((10.0, 12.0, 8.0, 9.0), (20.0, 25.0, 16.0, 16.0), (11.0, 13.2, 9.0, 10.0)):
        series.add("ours preview", _sample(a))
        series.add("ours preview --policy-pack pack", _sample(b))
        series.add("flat preview", _sample(c))
        series.add("fair preview", _sample(d))
    summary = engine.summarize(series, ["pack"])
    assert summary["ratios"]["pack_ratio"] == sorted([1.2, 1.25, 1.2])[1]
    assert summary["ratios"]["ours_flat_preview"] == sorted([10 / 8, 20 / 16, 11 / 9])[1]
    assert summary["ratios"]["ours_fair_preview"] == sorted([10 / 9, 20 / 16, 11 / 10])[1]
    assert summary["ops"]["ours preview"]["spread"] == (20.0 - 10.0) / 11.0
    assert summary["ratios"]["ours_flat_up"] is None
    result = {"rounds": 3, "packs": {"pack": "policies"}, "sizes": {"100": summary}}
    figures = run.engine_figures(result)
    assert figures["preview_pack_ratio"] == summary["ratios"]["pack_ratio"] and figures["preview_per_resource_growth"] is None
    assert figures["ours_fair_floor_ratio"] == summary["ratios"]["ours_fair_preview"]
    text = "\n".join(report.engine_markdown(result))
    assert "| 100 (321) | 11.00 | 13.20 | 9.00 | 10.00 | 1.200 | 1.250 | 1.111 |" in text
    assert "ours preview --policy-pack pack" in "\n".join(report.engine_lines(result))


def test_the_environment_limit_is_where_execve_fails():
    """Upstream's hosts pass the stack config as one environment string: over the limit no process starts (ours pipes it)."""
    import errno
    import json

    def start_with_config(credentials: int) -> None:
        cfg = catalog.catalog(credentials, "local")
        value = json.dumps({f"secrets-platform:{k}": json.dumps(v, separators=(",", ":")) for k, v in cfg.items()}, separators=(",", ":"))
        subprocess.run([sys.executable, "-c", "pass"], env={"PULUMI_CONFIG": value}, check=True)

    small, large = 300, 1_000
    assert engine.config_env_bytes(small) < engine.ENV_STRING_LIMIT < engine.config_env_bytes(large)
    start_with_config(small)
    try:
        start_with_config(large)
    except OSError as err:
        assert err.errno == errno.E2BIG
    else:
        raise AssertionError("a config over the limit started a process")
