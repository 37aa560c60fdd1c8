"""Run the benchmarks: ``.venv/bin/python bench/run.py`` (full) or ``... --quick`` (a few minutes; docs/PERFORMANCE.md).

One run measures, on generated catalogs (bench/catalog.py):

1. program evaluation under Pulumi's mocks for ours, a flat hand-written baseline
   and the SDK floor (bench/programs.py), each measurement in its own process
   (bench/worker.py), interleaved round by round so load hits all three alike;
   ms per registered custom resource, overhead ours/baseline, growth, peak memory;
2. the policy pack per resource and the stack rules at 1,000 / 5,000 / 10,000
   resources (bench/pack.py);
3. with the toolchain, the real engine (bench/engine.py): ``pulumi preview`` with and
   without the pack, ``up`` and a no-op ``up`` of ours and of the flat floor program at
   10 / 100 / 300 / 1,000 credentials, CPU and peak memory per process role;
4. only with ``--cold-build`` (off by default: 20 to 40 minutes), the toolchain built from
   empty Go caches step by step (bench/cold_build.py): wall and CPU time per step and the
   packages each compiled that no earlier step had.

Writes bench/results/<timestamp>.json and prints a table; the last line of
``--quick`` is ``overhead_ratio=<x> growth_ratio=<y> policy_us_per_resource=<z>
preview_pack_ratio=<r> ours_fair_floor_ratio=<f>``, where ``<r>`` is preview with the
pack over preview without and ``<f>`` our preview over the fair floor's (bench/flat.py
with components) on 300 credentials, or ``skipped`` without the toolchain (the table
says why).
docs/PERFORMANCE.md explains the method and the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import catalog

ROOT = Path(__file__).resolve().parents[1]

RESULTS = ROOT / "bench" / "results"
VARIANTS = ("ours", "baseline", "floor")


@dataclass(frozen=True)
class Plan:
    """What one run measures."""

    mode: str
    sizes: tuple[int, ...]
    rounds: dict[int, int]
    """Interleaved rounds (one measurement of each variant) per catalog size."""
    overhead_at: int
    growth: tuple[int, int]
    policy_credentials: int
    policy_repeats: int
    stack_sizes: tuple[int, ...] = (1_000, 5_000, 10_000)
    engine_sizes: tuple[int, ...] = (10, 100, 300, 1_000)
    engine_up_max: int = 300
    """``up`` and no-op ``up`` only up to this size: an ``up`` creating 1,000 credentials' 3,000 resources takes
    over an hour here, the engine writing the whole state after every step (docs/PERFORMANCE.md)."""
    engine_rounds: int = 3
    engine: bool = True
    engine_quick: bool = False
    """Only preview with and without the pack, ours, at the first engine size (``--quick``)."""
    engine_noop_rounds: int | None = None
    """No-op ``up``s per program and size (default: ``engine_rounds``)."""
    engine_up: bool = True
    engine_packs: tuple[tuple[str, str], ...] = ()
    """(label, policy pack directory) to measure side by side; default: ("pack", policies/)."""
    mocks: bool = True
    """Program evaluation under mocks and the pack in process (``--engine-only`` turns them off)."""
    targets: dict[str, float] = field(default_factory=lambda: dict(TARGETS))


TARGETS: dict[str, float] = {
    "overhead_ratio": 1.15,
    "growth_ratio": 3.3,
    "policy_us_per_resource": 50.0,
    "stack_linearity": 1.25,
    # the engine (issue 13), at the largest engine size
    "preview_pack_ratio": 1.2,
    "preview_ours_flat_ratio": 1.15,
    "ours_fair_floor_ratio": 1.15,
    "preview_per_resource_growth": 1.15,
}

FULL = Plan(
    mode="full",
    sizes=(10, 100, 1_000, 3_000),
    rounds={10: 7, 100: 7, 1_000: 5, 3_000: 3},
    overhead_at=1_000,
    growth=(1_000, 3_000),
    policy_credentials=1_000,
    policy_repeats=7,
)
QUICK = Plan(
    mode="quick",
    sizes=(100, 300),
    rounds={100: 3, 300: 3},
    overhead_at=300,
    growth=(100, 300),
    policy_credentials=100,
    policy_repeats=3,
    stack_sizes=(1_000, 5_000, 10_000),
    engine_sizes=(300,),
    engine_rounds=2,
    engine_quick=True,
)


# --------------------------------------------------------------------------- measuring


def measure_once(variant: str, credentials: int, in_process: bool = False) -> dict[str, Any]:
    """One measurement; in a fresh interpreter unless ``in_process`` (tests: fast, memory not isolated)."""
    if in_process:
        from bench import worker

        return worker.measure(variant, credentials)
    done = subprocess.run(
        [sys.executable, "-m", "bench.worker", variant, str(credentials)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.worker {variant} {credentials} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_programs(sizes: tuple[int, ...], rounds: dict[int, int], *, in_process: bool = False, progress=None) -> dict[str, Any]:
    """Per size: every variant measured ``rounds[size]`` times, interleaved round by round."""
    out: dict[str, Any] = {}
    for size in sizes:
        samples: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
        for r in range(rounds[size]):
            for variant in VARIANTS:
                sample = measure_once(variant, size, in_process)
                samples[variant].append(sample)
                if progress:
                    progress(
                        f"  {size:>5} credentials  round {r + 1}/{rounds[size]}  {variant:<8} {sample['cpu_seconds']:8.3f} s CPU  {sample['seconds']:8.3f} s wall"
                    )
        out[str(size)] = summarize_size(size, samples)
    return out


def summarize_size(size: int, samples: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Medians per variant and the side-by-side ratios; CPU seconds are the primary figure.

    CPU seconds of the measuring process are the program's own work; wall seconds
    also count the time other jobs held the CPU (this machine is shared), so they
    are kept beside it but not used for the ratios.
    """
    resources = catalog.custom_resource_count(size)
    variants = {}
    for variant, runs in samples.items():
        assert all(s["custom_resources"] == resources for s in runs), f"{variant} registered a different count"
        cpu = statistics.median(s["cpu_seconds"] for s in runs)
        variants[variant] = {
            "cpu_seconds": cpu,
            "seconds": statistics.median(s["seconds"] for s in runs),
            "cpu_samples": [s["cpu_seconds"] for s in runs],
            "wall_samples": [s["seconds"] for s in runs],
            "ms_per_resource": cpu / resources * 1e3,
            "wall_ms_per_resource": statistics.median(s["seconds"] for s in runs) / resources * 1e3,
            # Share of the wall time spent in Python's cyclic garbage collector.
            "gc_share": statistics.median(s["gc_seconds"] / s["seconds"] for s in runs),
            "component_resources": runs[0]["component_resources"],
            "peak_rss_mib": statistics.median(s["peak_rss_mib"] for s in runs),
            "program_peak_mib": statistics.median(s["program_peak_mib"] for s in runs),
        }
    ours, base, floor = (samples[v] for v in VARIANTS)

    def ratio(a: list[dict[str, Any]], b: list[dict[str, Any]], key: str = "cpu_seconds") -> float:
        # Ratios of measurements taken side by side (same round), then the median.
        return statistics.median(x[key] / y[key] for x, y in zip(a, b))

    return {
        "credentials": size,
        "custom_resources": resources,
        "variants": variants,
        "overhead_ratio": ratio(ours, base),
        "floor_ratio": ratio(ours, floor),
        "baseline_floor_ratio": ratio(base, floor),
        "wall_overhead_ratio": ratio(ours, base, "seconds"),
    }


def measure_pack(credentials: int, repeats: int, stack_sizes: tuple[int, ...]) -> dict[str, Any]:
    """The policy pack over the resources our program registers for ``credentials`` bundles (prd)."""
    from bench import pack, programs

    recorded = programs.evaluate("ours", catalog.catalog(credentials, "prd"), record=True)
    result = pack.measure(recorded.wire, repeats=repeats, stack_sizes=stack_sizes)
    result["credentials"] = credentials
    return result


def measure_engine(plan: Plan, progress=None) -> dict[str, Any]:
    from bench import engine

    if plan.engine_quick:
        return engine.quick(plan.engine_sizes[0], plan.engine_rounds, progress=progress)
    packs = {label: Path(path) for label, path in plan.engine_packs} or None
    return engine.measure(
        plan.engine_sizes,
        plan.engine_rounds,
        packs=packs,
        up=plan.engine_up,
        up_max=plan.engine_up_max,
        noop_rounds=plan.engine_noop_rounds,
        progress=progress,
    )


def engine_figures(e: dict[str, Any]) -> dict[str, float | None]:
    """The engine targets' figures: at the largest size measured; per-resource growth from 100 (or the smallest) to it."""
    sizes = e.get("sizes") or {}
    if "skipped" in e or not sizes:
        return {
            "preview_pack_ratio": None,
            "preview_ours_flat_ratio": None,
            "ours_fair_floor_ratio": None,
            "preview_per_resource_growth": None,
        }
    keys = sorted(sizes, key=int)
    top = sizes[keys[-1]]
    base = sizes["100"] if "100" in sizes and keys[-1] != "100" else sizes[keys[0]]
    growth = None
    if base is not top and "ours preview" in top["ops"]:
        growth = top["ops"]["ours preview"]["ms_per_resource"] / base["ops"]["ours preview"]["ms_per_resource"]
    return {
        "preview_pack_ratio": top["ratios"].get("pack_ratio"),
        "preview_ours_flat_ratio": top["ratios"].get("ours_flat_preview"),
        "ours_fair_floor_ratio": top["ratios"].get("ours_fair_preview"),
        "preview_per_resource_growth": growth,
    }


# --------------------------------------------------------------------------- summary and output


def summary(results: dict[str, Any], plan: Plan) -> dict[str, Any]:
    programs = results.get("programs", {})
    pack = results.get("pack", {})
    growth = None
    if all(str(s) in programs for s in plan.growth):
        lo, hi = (programs[str(s)]["variants"]["ours"]["cpu_seconds"] for s in plan.growth)
        growth = hi / lo
    figures: dict[str, float | None] = {
        "overhead_ratio": programs.get(str(plan.overhead_at), {}).get("overhead_ratio"),
        "growth_ratio": growth,
        "policy_us_per_resource": pack.get("rules_us_per_resource"),
        "stack_linearity": pack.get("stack_linearity"),
        **engine_figures(results.get("engine", {})),
    }
    targets = {}
    for key, limit in plan.targets.items():
        value = figures.get(key)
        targets[key] = {"value": value, "limit": limit, "met": None if value is None else value <= limit}
    return {
        "figures": figures,
        "targets": targets,
        "overhead_at": plan.overhead_at,
        "growth": list(plan.growth),
        "growth_ideal": plan.growth[1] / plan.growth[0],
    }


def quick_line(s: dict[str, Any]) -> str:
    f = s["figures"]
    growth = "nan" if f["growth_ratio"] is None else f"{f['growth_ratio']:.3f}"
    pack = "skipped" if f.get("preview_pack_ratio") is None else f"{f['preview_pack_ratio']:.3f}"
    overhead = "nan" if f["overhead_ratio"] is None else f"{f['overhead_ratio']:.3f}"
    policy = "nan" if f["policy_us_per_resource"] is None else f"{f['policy_us_per_resource']:.1f}"
    fair = "skipped" if f.get("ours_fair_floor_ratio") is None else f"{f['ours_fair_floor_ratio']:.3f}"
    return (
        f"overhead_ratio={overhead} growth_ratio={growth} policy_us_per_resource={policy} preview_pack_ratio={pack} "
        f"ours_fair_floor_ratio={fair}"
    )


def mock_lines(results: dict[str, Any]) -> list[str]:
    lines = ["", "Program evaluation under mocks (median CPU ms per registered custom resource; ratios per round, median)", ""]
    head = (
        f"{'credentials':>11} {'resources':>9} | {'ours':>7} {'baseline':>8} {'floor':>7} | {'ours/base':>9} {'ours/floor':>10} | "
        f"{'peak MiB ours/base/floor':>24} | {'GC share ours':>13}"
    )
    lines += [head, "-" * len(head)]
    for size in results["programs"].values():
        v = size["variants"]
        mem = "/".join(f"{v[k]['program_peak_mib']:.0f}" for k in VARIANTS)
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
    lines.append(
        f"  all resource rules (our pack code)       {p['rules_us_per_resource']:9.1f} us/resource (CPU; wall {p['rules_wall_us_per_resource']:.1f})"
    )
    lines.append(
        f"  the pack's analyzer, Remediate+Analyze   {p['analyzer_us_per_resource']:9.1f} us/resource (CPU; wall {p['analyzer_wall_us_per_resource']:.1f})"
    )
    if "sdk_analyzer_us_per_resource" in p:
        lines.append(
            f"  pulumi_policy's analyzer unchanged       {p['sdk_analyzer_us_per_resource']:9.1f} us/resource "
            f"(CPU; wall {p['sdk_analyzer_wall_us_per_resource']:.1f})"
        )
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
    for size in results["programs"].values():
        v = size["variants"]
        mem = " / ".join(f"{v[k]['program_peak_mib']:.0f}" for k in VARIANTS)
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
        f"| all {p['resource_rules']} resource rules, our pack code ({p['resources']:,} resources) | {p['rules_us_per_resource']:.1f} | "
        f"{p['rules_wall_us_per_resource']:.1f} |",
        f"| the pack's analyzer (secrets_platform/policies/analyzer.py), `Remediate()` + `Analyze()` per resource | {p['analyzer_us_per_resource']:.1f} | "
        f"{p['analyzer_wall_us_per_resource']:.1f} |",
    ]
    if "sdk_analyzer_us_per_resource" in p:
        out.append(
            f"| pulumi_policy's analyzer unchanged, the same calls | {p['sdk_analyzer_us_per_resource']:.1f} | "
            f"{p['sdk_analyzer_wall_us_per_resource']:.1f} |"
        )
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


def environment() -> dict[str, Any]:
    from importlib import metadata

    def version(pkg: str) -> str | None:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return None

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = None
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "commit": commit,
        "packages": {p: version(p) for p in ("pulumi", "pulumi-kubernetes", "pulumi-random", "pulumi-policy", "pydantic")},
    }


def run(plan: Plan, *, in_process: bool = False, progress=None) -> dict[str, Any]:
    started = time.time()
    results: dict[str, Any] = {
        "mode": plan.mode,
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "environment": environment(),
        "plan": {"sizes": list(plan.sizes), "rounds": plan.rounds},
    }
    if plan.mocks:
        if progress:
            progress("program evaluation (one process per measurement)")
        results["programs"] = measure_programs(plan.sizes, plan.rounds, in_process=in_process, progress=progress)
        if progress:
            progress("policy pack")
        results["pack"] = measure_pack(plan.policy_credentials, plan.policy_repeats, plan.stack_sizes)
    if plan.engine:
        if progress:
            progress("engine (local stack, render mode)")
        results["engine"] = measure_engine(plan, progress)
    else:
        results["engine"] = {"skipped": "not measured (--no-engine)"}
    results["summary"] = summary(results, plan)
    results["environment"]["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    results["seconds"] = time.time() - started
    return results


def write(results: dict[str, Any], directory: Path = RESULTS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"{stamp}-{results['mode']}.json"
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller sizes and fewer repeats; the engine: only preview with/without the pack at 300 credentials (about 2.5 min, 6 with the engine)",
    )
    parser.add_argument("--no-engine", action="store_true", help="skip the engine measurements")
    parser.add_argument("--plot", type=Path, help="also draw ms per resource against catalog size to this PNG (needs matplotlib)")
    parser.add_argument("--sizes", type=int, nargs="+", help="catalog sizes to measure instead of the plan's")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per size instead of the plan's")
    parser.add_argument("--engine-only", action="store_true", help="only the engine series (no mocks, no in-process pack)")
    parser.add_argument("--engine-sizes", type=int, nargs="+", help="engine catalog sizes instead of the plan's")
    parser.add_argument("--engine-rounds", type=int, help="engine rounds per size instead of the plan's")
    parser.add_argument("--engine-noop-rounds", type=int, help="no-op ups per program and size (default: the engine rounds)")
    parser.add_argument("--engine-previews-only", action="store_true", help="no up and no-op up in the engine series")
    parser.add_argument(
        "--pack",
        action="append",
        metavar="LABEL=DIR",
        default=[],
        help="a policy pack directory to measure in every engine round (repeatable; default pack=policies)",
    )
    parser.add_argument(
        "--cold-build",
        action="store_true",
        help="also build the toolchain from empty Go caches, step by step (bench/cold_build.py; off by default: 20-40 min, 20 GB of disk)",
    )
    parser.add_argument("--markdown", type=Path, metavar="RESULTS", help="print the docs/PERFORMANCE.md tables of a results file and exit")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text())))
        return 0
    plan = QUICK if args.quick else FULL
    if args.no_engine:
        plan = Plan(**{**plan.__dict__, "engine": False})
    if args.sizes:  # a focused run, e.g. more rounds at one size: --sizes 1000 --rounds 10 --no-engine
        sizes = tuple(args.sizes)
        rounds = {s: args.rounds or plan.rounds.get(s, 3) for s in sizes}
        overhead_at = plan.overhead_at if plan.overhead_at in sizes else sizes[-1]
        plan = Plan(**{**plan.__dict__, "mode": f"{plan.mode}-sizes", "sizes": sizes, "rounds": rounds, "overhead_at": overhead_at})
    elif args.rounds:
        plan = Plan(**{**plan.__dict__, "rounds": {s: args.rounds for s in plan.sizes}})
    if args.engine_only:
        plan = Plan(**{**plan.__dict__, "mode": f"{plan.mode}-engine", "mocks": False, "engine": True})
    if args.engine_sizes:
        plan = Plan(**{**plan.__dict__, "engine_sizes": tuple(args.engine_sizes)})
    if args.engine_rounds:
        plan = Plan(**{**plan.__dict__, "engine_rounds": args.engine_rounds})
    if args.engine_noop_rounds is not None:
        plan = Plan(**{**plan.__dict__, "engine_noop_rounds": args.engine_noop_rounds})
    if args.engine_previews_only:
        plan = Plan(**{**plan.__dict__, "engine_up": False})
    if args.pack:
        try:
            packs = tuple((label, str(Path(path).resolve())) for label, path in (p.split("=", 1) for p in args.pack))
        except ValueError:
            parser.error("--pack takes LABEL=DIR, e.g. --pack pack=policies")
        plan = Plan(**{**plan.__dict__, "engine_packs": packs})

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results = run(plan, progress=progress)
    if args.cold_build:
        from bench import cold_build

        results["cold_build"] = cold_build.measure(progress=progress)
    path = write(results)
    print(table(results))
    if args.cold_build:
        print("\nCold toolchain build (bench/cold_build.py)\n")
        print(cold_build.table(results["cold_build"]))
    print(f"\nresults: {path.relative_to(ROOT)}  ({results['seconds']:.0f} s)")
    if args.plot:
        from bench import plot

        plot.draw(results, args.plot)
        print(f"plot: {args.plot}")
    if args.quick:
        print(quick_line(results["summary"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
