"""How a benchmark run is shown: the terminal table, the ``--quick`` line and docs/PERFORMANCE.md's markdown tables.

Output only, from a results dict (bench/run.py writes it as JSON; ``bench/run.py --markdown FILE`` reads one back).
"""

from __future__ import annotations

from typing import Any, Iterator

VARIANTS = ("ours", "baseline", "floor")
"""The programs measured under mocks (bench/programs.py), in the order they are measured and shown."""


def _program_sizes(results: dict[str, Any], sep: str) -> Iterator[tuple[dict[str, Any], dict[str, Any], str]]:
    """Each size of the program series: its figures, its variants' figures, and their program peaks (MiB) in VARIANTS'
    order, joined by ``sep``."""
    for size in results["programs"].values():
        v = size["variants"]
        yield size, v, sep.join(f"{v[k]['program_peak_mib']:.0f}" for k in VARIANTS)


def _pack_rules(p: dict[str, Any]) -> list[tuple[str, float, float]]:
    """The pack's per-resource figures in the order both reports show them: (what, CPU µs, wall µs) of the resource
    rules, the pack's analyzer and, when it was measured, pulumi_policy's analyzer."""
    measured = ("rules", "analyzer") + (("sdk_analyzer",) if "sdk_analyzer_us_per_resource" in p else ())
    return [(what, p[f"{what}_us_per_resource"], p[f"{what}_wall_us_per_resource"]) for what in measured]


def quick_line(s: dict[str, Any]) -> str:
    f = s["figures"]
    growth = "nan" if f["growth_ratio"] is None else f"{f['growth_ratio']:.3f}"
    pack = "skipped" if f.get("preview_pack_ratio") is None else f"{f['preview_pack_ratio']:.3f}"
    overhead = "nan" if f["overhead_ratio"] is None else f"{f['overhead_ratio']:.3f}"
    policy = "nan" if f["policy_us_per_resource"] is None else f"{f['policy_us_per_resource']:.1f}"
    fair = "skipped" if f.get("ours_fair_floor_ratio") is None else f"{f['ours_fair_floor_ratio']:.3f}"
    floors = " ".join(f"{key}={_or_skipped(f.get(key))}" for key in PACK_FLOORS)
    return (
        f"overhead_ratio={overhead} growth_ratio={growth} policy_us_per_resource={policy} preview_pack_ratio={pack} "
        f"ours_fair_floor_ratio={fair} {floors}"
    )


PACK_FLOORS = {"pack_engine_floor_ratio": "noop-go", "pack_python_floor_ratio": "noop-py"}
"""The ``--quick`` line's no-op analyzer figures (bench/noop.py): preview with that analyzer / preview without a pack."""


def _or_skipped(value: float | None) -> str:
    return "skipped" if value is None else f"{value:.3f}"


def mock_lines(results: dict[str, Any]) -> list[str]:
    lines = ["", "Program evaluation under mocks (median CPU ms per registered custom resource; ratios per round, median)", ""]
    head = (
        f"{'credentials':>11} {'resources':>9} | {'ours':>7} {'baseline':>8} {'floor':>7} | {'ours/base':>9} {'ours/floor':>10} | "
        f"{'peak MiB ours/base/floor':>24} | {'GC share ours':>13}"
    )
    lines += [head, "-" * len(head)]
    for size, v, mem in _program_sizes(results, "/"):
        lines.append(
            f"{size['credentials']:>11} {size['custom_resources']:>9} | {v['ours']['ms_per_resource']:7.3f} "
            f"{v['baseline']['ms_per_resource']:8.3f} {v['floor']['ms_per_resource']:7.3f} | {size['overhead_ratio']:9.3f} "
            f"{size['floor_ratio']:10.3f} | {mem:>24} | {v['ours']['gc_share']:13.0%}"
        )
    p = results["pack"]
    lines += [
        "",
        f"Policy pack ({p['resource_rules']} resource rules, {p['stack_rules']} stack rule; {p['resources']} resources "
        f"of a {p['credentials']}-credential prd catalog)",
        "",
    ]
    labels = {
        "rules": "all resource rules (our pack code)",
        "analyzer": "the pack's analyzer, Remediate+Analyze",
        "sdk_analyzer": "pulumi_policy's analyzer unchanged",
    }
    for what, cpu, wall in _pack_rules(p):
        lines.append(f"  {labels[what]:<40} {cpu:9.1f} us/resource (CPU; wall {wall:.1f})")
    for st in p["stack"]:
        lines.append(
            f"  stack rules on {st['resources']:>6} resources        {st['us_per_resource']:9.1f} us/resource  ({st['seconds'] * 1e3:.1f} ms)"
        )
    lines.append(
        f"  stack linearity (us/res at {p['stack'][-1]['resources']} / at {p['stack'][0]['resources']})  {p['stack_linearity']:9.3f}"
    )
    return lines


def table(results: dict[str, Any]) -> str:
    lines: list[str] = mock_lines(results) if "programs" in results else []
    lines += ["", "Engine, local stack in render mode (median seconds after a warm-up; ratios per round, median)", ""]
    lines += engine_lines(results.get("engine", {}))
    s = results["summary"]
    lines += ["", "Targets", ""]
    for key, t in s["targets"].items():
        state = "n/a" if t["met"] is None else ("met" if t["met"] else "NOT met")
        value = "-" if t["value"] is None else f"{t['value']:.3f}"
        lines.append(f"  {key:<24} {value:>9}  (limit {t['limit']})  {state}")
    lines.append(f"  growth is time({s['growth'][1]})/time({s['growth'][0]}) for ours; linear would be {s['growth_ideal']:.1f}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the engine's tables


ROLE_COLUMNS = ("engine", "language host", "program", "analyzer", "kubernetes provider")


def _op(size: dict[str, Any], op: str, key: str = "seconds", fmt: str = "{:.2f}") -> str:
    found = size["ops"].get(op)
    return "-" if found is None or found.get(key) is None else fmt.format(found[key])


def _ratio(size: dict[str, Any], key: str) -> str:
    value = size["ratios"].get(key)
    return "-" if value is None else f"{value:.3f}"


def engine_lines(e: dict[str, Any]) -> list[str]:
    if "skipped" in e:
        return [f"  skipped: {e['skipped']}"]
    lines: list[str] = []
    for size in e["sizes"].values():
        lines.append(
            f"  {size['credentials']} credentials ({size['custom_resources']} custom resources + {size['component_resources']} "
            f"components in ours)"
        )
        for op, o in size["ops"].items():
            samples = ", ".join(f"{x:.2f}" for x in o["samples"])
            noise = "" if o["spread"] is None else f"  spread {o['spread']:.0%}"
            lines.append(f"    {op:<40} {o['seconds']:8.2f} s  {o['ms_per_resource']:7.2f} ms/res  [{samples}]{noise}")
        for key, value in size["ratios"].items():
            if value is not None:
                lines.append(f"    {key:<40} {value:8.3f}")
        pack_op = next((op for op in size["ops"] if "--policy-pack" in op), "ours preview")
        roles = size["ops"][pack_op]["roles"]
        lines.append(
            f"    {pack_op}: CPU s / peak RSS MiB by process: "
            + "; ".join(f"{r} {v['cpu_seconds']:.1f} / {v['peak_rss_mib']:.0f}" for r, v in roles.items())
        )
    return lines


def engine_markdown(e: dict[str, Any]) -> list[str]:
    if "skipped" in e:
        return [f"Engine: skipped ({e['skipped']})."]
    packs = list(e.get("packs") or {"pack": None})
    head = [
        "credentials (custom resources)",
        "`preview` ours",
        *[f"with `{p}`" for p in packs],
        "`preview` flat",
        "`preview` fair",
        *[f"{p} / without" for p in packs],
        "ours / flat",
        "ours / fair",
        "`up` ours / flat",
        "no-op `up` ours / flat",
        "preview ms/res ours / flat",
        "spread of preview repeats",
    ]
    out = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for size in e["sizes"].values():
        spreads = [o["spread"] for op, o in size["ops"].items() if "preview" in op and o["spread"] is not None]
        out.append(
            "| "
            + " | ".join(
                [
                    f"{size['credentials']:,} ({size['custom_resources']:,})",
                    _op(size, "ours preview"),
                    *[_op(size, f"ours preview --policy-pack {p}") for p in packs],
                    _op(size, "flat preview"),
                    _op(size, "fair preview"),
                    *[_ratio(size, f"{p}_ratio") for p in packs],
                    _ratio(size, "ours_flat_preview"),
                    _ratio(size, "ours_fair_preview"),
                    f"{_op(size, 'ours up')} / {_op(size, 'flat up')}",
                    f"{_op(size, 'ours up (no-op)')} / {_op(size, 'flat up (no-op)')}",
                    f"{_op(size, 'ours preview', 'ms_per_resource')} / {_op(size, 'flat preview', 'ms_per_resource')}",
                    f"{min(spreads):.0%} to {max(spreads):.0%}" if spreads else "-",
                ]
            )
            + " |"
        )
    pack_op = f"ours preview --policy-pack {packs[0]}"
    out += [
        "",
        f"CPU seconds / peak RSS MiB per process role, median over the repeats of `{pack_op.removeprefix('ours ')}` (ours):",
        "",
        "| credentials | " + " | ".join(ROLE_COLUMNS) + " |",
        "|" + "---:|" * (len(ROLE_COLUMNS) + 1),
    ]
    for size in e["sizes"].values():
        roles = size["ops"].get(pack_op, size["ops"].get("ours preview", {})).get("roles", {})
        cells = [f"{roles[r]['cpu_seconds']:.1f} / {roles[r]['peak_rss_mib']:.0f}" if r in roles else "-" for r in ROLE_COLUMNS]
        out.append(f"| {size['credentials']:,} | " + " | ".join(cells) + " |")
    return out


def mock_markdown(results: dict[str, Any]) -> list[str]:
    out = [
        "| credentials | custom resources (+ our components) | ours ms/res | baseline ms/res | floor ms/res | ours / baseline | ours / floor | "
        "baseline / floor | program peak MiB ours / baseline / floor | GC share of ours |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, v, mem in _program_sizes(results, " / "):
        out.append(
            f"| {size['credentials']:,} | {size['custom_resources']:,} (+{v['ours']['component_resources']:,}) | "
            f"{v['ours']['ms_per_resource']:.2f} | {v['baseline']['ms_per_resource']:.2f} | {v['floor']['ms_per_resource']:.2f} | "
            f"{size['overhead_ratio']:.3f} | {size['floor_ratio']:.2f} | {size['baseline_floor_ratio']:.2f} | {mem} | "
            f"{v['ours'].get('gc_share', float('nan')):.0%} |"
        )
    p = results["pack"]
    out += [
        "",
        "| policy pack | µs per resource (CPU) | wall |",
        "|---|---:|---:|",
    ]
    labels = {
        "rules": f"all {p['resource_rules']} resource rules, our pack code ({p['resources']:,} resources)",
        "analyzer": "the pack's analyzer (secrets_platform/policies/analyzer.py), `Remediate()` + `Analyze()` per resource",
        "sdk_analyzer": "pulumi_policy's analyzer unchanged, the same calls",
    }
    out += [f"| {labels[what]} | {cpu:.1f} | {wall:.1f} |" for what, cpu, wall in _pack_rules(p)]
    for st in p["stack"]:
        out.append(
            f"| stack rules, {st['resources']:,} resources ({st['cpu_seconds'] * 1e3:.0f} ms) | {st['us_per_resource']:.1f} | "
            f"{st['wall_us_per_resource']:.1f} |"
        )
    return out


def markdown(results: dict[str, Any]) -> str:
    """The tables of docs/PERFORMANCE.md, from a results file (``bench/run.py --markdown FILE``)."""
    out: list[str] = mock_markdown(results) if "programs" in results else []
    out += [""] + engine_markdown(results.get("engine", {}))
    s = results["summary"]
    out += ["", "| target | measured | limit | met |", "|---|---:|---:|---|"]
    for key, t in s["targets"].items():
        value = "-" if t["value"] is None else f"{t['value']:.3f}"
        met = "n/a" if t["met"] is None else ("yes" if t["met"] else "**no**")
        out.append(f"| {key} | {value} | {t['limit']} | {met} |")
    return "\n".join(out)
