"""The benchmark runner works end to end on tiny catalogs (no timing assertions).

Benchmarks are not timed tests: these tests only prove that ``bench/run.py`` can
measure, summarise and print, so CI's ``bench/run.py --quick`` never breaks
unnoticed. Every figure must be a positive, finite number and the last line of a
quick run must keep its exact format (scripts parse it).
"""

from __future__ import annotations

import json
import math
import re

import pytest

from bench import catalog, engine, pack, plans, programs, report, run, worker

TINY = plans.Plan(
    mode="quick",
    sizes=(2, 4),
    rounds={2: 1, 4: 1},
    overhead_at=4,
    growth=(2, 4),
    policy_credentials=3,
    policy_repeats=1,
    stack_sizes=(10, 20),
    engine=False,
)
QUICK_LINE = re.compile(
    r"^overhead_ratio=\d+\.\d{3} growth_ratio=\d+\.\d{3} policy_us_per_resource=\d+\.\d "
    r"preview_pack_ratio=(\d+\.\d{3}|skipped) ours_fair_floor_ratio=(\d+\.\d{3}|skipped) "
    r"pack_engine_floor_ratio=(\d+\.\d{3}|skipped) pack_python_floor_ratio=(\d+\.\d{3}|skipped)$"
)


def positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def results():
    return run.run(TINY, in_process=True)


def test_catalog_is_a_valid_config_with_the_counted_resources():
    """The generated catalog passes settings validation and registers exactly the counted resources in every variant."""
    from secrets_platform import settings

    config = catalog.catalog(5)
    settings.from_mapping(config, set(), "prd", {})
    for variant in programs.VARIANTS:
        evaluation = programs.evaluate(variant, config, floor_count=catalog.custom_resource_count(5))
        assert evaluation.custom == catalog.custom_resource_count(5), variant
    assert programs.evaluate("ours", config).components == catalog.component_count(5)


def test_every_program_figure_is_positive_and_finite(results):
    for size in results["programs"].values():
        for name in ("overhead_ratio", "floor_ratio", "baseline_floor_ratio"):
            assert positive(size[name]), (size["credentials"], name)
        for variant, v in size["variants"].items():
            for name in ("cpu_seconds", "seconds", "ms_per_resource", "peak_rss_mib"):
                assert positive(v[name]), (size["credentials"], variant, name)


def test_pack_figures_are_positive_and_the_program_passes_the_pack(results):
    """The generated prd catalog is compliant, so a violation here means the bench measures the wrong thing."""
    p = results["pack"]
    assert positive(p["rules_us_per_resource"]) and positive(p["analyzer_us_per_resource"])
    assert [s["resources"] for s in p["stack"]] == [10, 20]
    assert all(positive(s["us_per_resource"]) for s in p["stack"]) and positive(p["stack_linearity"])
    assert p["rules_violations"] == 0 and p["analyzer_diagnostics"] == 0 == p["sdk_analyzer_diagnostics"]


def test_summary_targets_and_quick_line(results):
    s = results["summary"]
    assert set(s["targets"]) == set(plans.TARGETS)
    for key in ("overhead_ratio", "growth_ratio", "policy_us_per_resource"):
        assert positive(s["figures"][key]) and isinstance(s["targets"][key]["met"], bool)
    assert QUICK_LINE.match(report.quick_line(s)), report.quick_line(s)


def test_table_prints_every_section_and_says_when_the_engine_is_skipped(results):
    text = report.table(results)
    for heading in ("Program evaluation under mocks", "Policy pack", "Engine, local stack", "Targets"):
        assert heading in text
    assert "skipped: " in text
    assert "| target | measured | limit | met |" in report.markdown(results)


def test_results_are_written_as_json(results, tmp_path):
    path = run.write(results, tmp_path)
    assert json.loads(path.read_text())["summary"] == json.loads(json.dumps(results["summary"]))


def test_worker_measures_in_its_own_process():
    """The path the real run takes: one fresh interpreter per measurement, one JSON line back."""
    sample = run.measure_once("floor", 2)
    assert sample["custom_resources"] == catalog.custom_resource_count(2)
    assert positive(sample["cpu_seconds"]) and positive(sample["peak_rss_mib"])


def test_engine_availability_explains_a_missing_toolchain(tmp_path):
    reason = engine.availability(tmp_path)
    assert reason is not None and reason.startswith("no engine: ")
    assert engine.measure(root=tmp_path) == {"skipped": engine.availability(tmp_path)}
    assert engine.quick(root=tmp_path) == {"skipped": engine.availability(tmp_path)}


def test_quick_line_says_when_the_engine_ratio_was_skipped(results):
    line = report.quick_line(results["summary"])
    assert line.endswith(
        " preview_pack_ratio=skipped ours_fair_floor_ratio=skipped pack_engine_floor_ratio=skipped pack_python_floor_ratio=skipped"
    ) and QUICK_LINE.match(line)
    figures = {**results["summary"]["figures"], "preview_pack_ratio": 1.23456, "ours_fair_floor_ratio": 1.0987}
    measured = {**results["summary"], "figures": figures}
    line = report.quick_line(measured)
    assert line.endswith(
        " preview_pack_ratio=1.235 ours_fair_floor_ratio=1.099 pack_engine_floor_ratio=skipped pack_python_floor_ratio=skipped"
    )
    assert QUICK_LINE.match(line)


def test_pack_stack_resources_get_unique_urns():
    recorded = programs.evaluate("ours", catalog.catalog(2), record=True)
    resources = pack.stack_resources(recorded.wire, 3 * len(recorded.wire))
    assert len({r.urn for r in resources}) == len(resources)
    assert worker.WARMUP_CREDENTIALS > 0
