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
preview_pack_ratio=<r> ours_fair_floor_ratio=<f> pack_engine_floor_ratio=<g>
pack_python_floor_ratio=<p>``, where ``<r>`` is preview with the
pack over preview without, ``<f>`` our preview over the fair floor's (bench/flat.py
with components), ``<g>`` and ``<p>`` preview with a no-op analyzer (bench/noop.py: Go,
the engine's own cost of a pack; Python, plus serving from pulumi_policy's server) over
preview without, on 300 credentials, or ``skipped`` without the toolchain (the table
says why); ``--quick`` measures only the Go one unless ``--engine-noops noop-go noop-py``.
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
from pathlib import Path
from typing import Any

# Run as a script (``python bench/run.py``), Python puts bench/ on sys.path, not the checkout; bench is not
# installed (the wheel holds only secrets_platform), so the checkout is appended: nothing there shadows an installed module.
sys.path.append(str(Path(__file__).resolve().parents[1]))

from bench import catalog, noop, plans
from bench.commands import run_checked
from bench.plans import Plan
from bench.report import PACK_FLOORS, VARIANTS, markdown, quick_line, table

ROOT = Path(__file__).resolve().parents[1]

RESULTS = ROOT / "bench" / "results"


# --------------------------------------------------------------------------- measuring


def measure_once(variant: str, credentials: int, in_process: bool = False) -> dict[str, Any]:
    """One measurement; in a fresh interpreter unless ``in_process`` (tests: fast, memory not isolated)."""
    if in_process:
        from bench import worker

        return worker.measure(variant, credentials)
    stdout = run_checked(
        [sys.executable, "-m", "bench.worker", variant, str(credentials)],
        f"bench.worker {variant} {credentials}",
        cwd=ROOT,
        tail=2000,
        separator=" failed:\n",
    )
    return json.loads(stdout.strip().splitlines()[-1])


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
        return engine.quick(plan.engine_sizes[0], plan.engine_rounds, plan.engine_noops, progress=progress)
    packs = {label: Path(path) for label, path in plan.engine_packs} or None
    return engine.measure(
        plan.engine_sizes,
        plan.engine_rounds,
        packs=packs,
        up=plan.engine_up,
        up_max=plan.engine_up_max,
        noop_rounds=plan.engine_noop_rounds,
        noops=plan.engine_noops,
        progress=progress,
    )


def engine_figures(e: dict[str, Any]) -> dict[str, float | None]:
    """The engine targets' figures: at the largest size measured; per-resource growth from 100 (or the smallest) to it."""
    sizes = e.get("sizes") or {}
    if "skipped" in e or not sizes:
        return {
            "preview_pack_ratio": None,
            **dict.fromkeys(PACK_FLOORS),
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
        **{key: top["ratios"].get(f"{label}_ratio") for key, label in PACK_FLOORS.items()},
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


def arguments() -> argparse.ArgumentParser:
    """bench/run.py's options (docs/PERFORMANCE.md shows them in use)."""
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
        "--engine-noops",
        nargs="*",
        choices=noop.LABELS,
        help="the no-op analyzers (bench/noop.py) measured beside the packs (default: both, --quick: noop-go; none with no value)",
    )
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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = arguments()
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text())))
        return 0
    try:
        plan = plans.of_args(args)
    except ValueError:
        parser.error("--pack takes LABEL=DIR, e.g. --pack pack=policies")

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
