"""Run the benchmarks: ``.venv/bin/python bench/run.py`` (full) or ``... --quick`` (about a minute).

One run measures, on generated catalogs (bench/catalog.py):

1. program evaluation under Pulumi's mocks for ours, a flat hand-written baseline
   and the SDK floor (bench/programs.py), each measurement in its own process
   (bench/worker.py), interleaved round by round so load hits all three alike;
   ms per registered custom resource, overhead ours/baseline, growth, peak memory;
2. the policy pack per resource and the stack rules at 1,000 / 5,000 / 10,000
   resources (bench/pack.py);
3. with the toolchain, the engine on the local stack (bench/engine.py).

Writes bench/results/<timestamp>.json and prints a table; the last line of
``--quick`` is ``overhead_ratio=<x> growth_ratio=<y> policy_us_per_resource=<z>``.
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

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import catalog  # noqa: E402

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
    engine_repeats: int = 3
    engine: bool = True
    targets: dict[str, float] = field(default_factory=lambda: dict(TARGETS))


TARGETS = {"overhead_ratio": 1.15, "growth_ratio": 3.3, "policy_us_per_resource": 50.0, "stack_linearity": 1.25, "engine_pack_ratio": 1.5}

FULL = Plan(mode="full", sizes=(10, 100, 1_000, 3_000), rounds={10: 7, 100: 7, 1_000: 5, 3_000: 3}, overhead_at=1_000,
            growth=(1_000, 3_000), policy_credentials=1_000, policy_repeats=7)
QUICK = Plan(mode="quick", sizes=(100, 300), rounds={100: 3, 300: 3}, overhead_at=300, growth=(100, 300),
             policy_credentials=100, policy_repeats=3, stack_sizes=(1_000, 5_000, 10_000), engine=False)


# --------------------------------------------------------------------------- measuring


def measure_once(variant: str, credentials: int, in_process: bool = False) -> dict[str, Any]:
    """One measurement; in a fresh interpreter unless ``in_process`` (tests: fast, memory not isolated)."""
    if in_process:
        from bench import worker

        return worker.measure(variant, credentials)
    done = subprocess.run([sys.executable, "-m", "bench.worker", variant, str(credentials)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench.worker {variant} {credentials} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_programs(sizes: tuple[int, ...], rounds: dict[int, int], *, in_process: bool = False,
                     progress=None) -> dict[str, Any]:
    """Per size: every variant measured ``rounds[size]`` times, interleaved round by round."""
    out: dict[str, Any] = {}
    for size in sizes:
        samples: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
        for r in range(rounds[size]):
            for variant in VARIANTS:
                sample = measure_once(variant, size, in_process)
                samples[variant].append(sample)
                if progress:
                    progress(f"  {size:>5} credentials  round {r + 1}/{rounds[size]}  {variant:<8} {sample['cpu_seconds']:8.3f} s CPU  {sample['seconds']:8.3f} s wall")
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


def measure_engine(repeats: int) -> dict[str, Any]:
    from bench import engine

    return engine.measure(repeats)


# --------------------------------------------------------------------------- summary and output


def summary(results: dict[str, Any], plan: Plan) -> dict[str, Any]:
    programs = results["programs"]
    growth = None
    if all(str(s) in programs for s in plan.growth):
        lo, hi = (programs[str(s)]["variants"]["ours"]["cpu_seconds"] for s in plan.growth)
        growth = hi / lo
    figures: dict[str, float | None] = {
        "overhead_ratio": programs[str(plan.overhead_at)]["overhead_ratio"],
        "growth_ratio": growth,
        "policy_us_per_resource": results["pack"]["rules_us_per_resource"],
        "stack_linearity": results["pack"]["stack_linearity"],
        "engine_pack_ratio": results.get("engine", {}).get("pack_ratio"),
    }
    targets = {}
    for key, limit in plan.targets.items():
        value = figures.get(key)
        targets[key] = {"value": value, "limit": limit, "met": None if value is None else value <= limit}
    return {"figures": figures, "targets": targets, "overhead_at": plan.overhead_at, "growth": list(plan.growth),
            "growth_ideal": plan.growth[1] / plan.growth[0]}


def quick_line(s: dict[str, Any]) -> str:
    f = s["figures"]
    growth = "nan" if f["growth_ratio"] is None else f"{f['growth_ratio']:.3f}"
    return (f"overhead_ratio={f['overhead_ratio']:.3f} growth_ratio={growth} "
            f"policy_us_per_resource={f['policy_us_per_resource']:.1f}")


def table(results: dict[str, Any]) -> str:
    lines = ["", "Program evaluation under mocks (median CPU ms per registered custom resource; ratios per round, median)", ""]
    head = (f"{'credentials':>11} {'resources':>9} | {'ours':>7} {'baseline':>8} {'floor':>7} | {'ours/base':>9} {'ours/floor':>10} | "
            f"{'peak MiB ours/base/floor':>24} | {'GC share ours':>13}")
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
    lines += ["", f"Policy pack ({p['resource_rules']} resource rules, {p['stack_rules']} stack rule; {p['resources']} resources "
                  f"of a {p['credentials']}-credential prd catalog)", ""]
    lines.append(f"  all resource rules (our pack code)       {p['rules_us_per_resource']:9.1f} us/resource (CPU; wall {p['rules_wall_us_per_resource']:.1f})")
    lines.append(f"  pulumi_policy analyzer, Analyze()        {p['analyzer_us_per_resource']:9.1f} us/resource (CPU; wall {p['analyzer_wall_us_per_resource']:.1f})")
    for st in p["stack"]:
        lines.append(f"  stack rules on {st['resources']:>6} resources        {st['us_per_resource']:9.1f} us/resource  ({st['seconds'] * 1e3:.1f} ms)")
    lines.append(f"  stack linearity (us/res at {p['stack'][-1]['resources']} / at {p['stack'][0]['resources']})  {p['stack_linearity']:9.3f}")
    e = results.get("engine", {})
    lines += ["", "Engine, local stack (median seconds)", ""]
    if "skipped" in e:
        lines.append(f"  skipped: {e['skipped']}")
    else:
        for k, v in e["seconds"].items():
            lines.append(f"  {k:<28} {v:8.2f} s")
        lines.append(f"  preview with pack / without  {e['pack_ratio']:8.3f}")
    s = results["summary"]
    lines += ["", "Targets", ""]
    for key, t in s["targets"].items():
        state = "n/a" if t["met"] is None else ("met" if t["met"] else "NOT met")
        value = "-" if t["value"] is None else f"{t['value']:.3f}"
        lines.append(f"  {key:<24} {value:>9}  (limit {t['limit']})  {state}")
    lines.append(f"  growth is time({s['growth'][1]})/time({s['growth'][0]}) for ours; linear would be {s['growth_ideal']:.1f}")
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    """The tables of docs/PERFORMANCE.md, from a results file (``bench/run.py --markdown FILE``)."""
    out = ["| credentials | custom resources (+ our components) | ours ms/res | baseline ms/res | floor ms/res | ours / baseline | ours / floor | "
           "baseline / floor | program peak MiB ours / baseline / floor | GC share of ours |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
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
    out += ["", "| policy pack | µs per resource (CPU) | wall |", "|---|---:|---:|",
            f"| all {p['resource_rules']} resource rules, our pack code ({p['resources']:,} resources) | {p['rules_us_per_resource']:.1f} | "
            f"{p['rules_wall_us_per_resource']:.1f} |",
            f"| pulumi_policy's `Analyze()` per resource (SDK + our rules) | {p['analyzer_us_per_resource']:.1f} | {p['analyzer_wall_us_per_resource']:.1f} |"]
    for st in p["stack"]:
        out.append(f"| stack rules, {st['resources']:,} resources ({st['cpu_seconds'] * 1e3:.0f} ms) | {st['us_per_resource']:.1f} | "
                   f"{st['wall_us_per_resource']:.1f} |")
    e = results.get("engine", {})
    out += [""]
    if "skipped" in e:
        out.append(f"Engine: skipped ({e['skipped']}).")
    else:
        out += ["| engine, local stack | median seconds |", "|---|---:|"]
        out += [f"| `{k}` | {v:.2f} |" for k, v in e["seconds"].items()]
        out.append(f"| preview with pack / without (per pair, median) | {e['pack_ratio']:.3f} |")
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
    results: dict[str, Any] = {"mode": plan.mode, "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                               "environment": environment(), "plan": {"sizes": list(plan.sizes), "rounds": plan.rounds}}
    if progress:
        progress("program evaluation (one process per measurement)")
    results["programs"] = measure_programs(plan.sizes, plan.rounds, in_process=in_process, progress=progress)
    if progress:
        progress("policy pack")
    results["pack"] = measure_pack(plan.policy_credentials, plan.policy_repeats, plan.stack_sizes)
    if plan.engine:
        if progress:
            progress("engine (local stack)")
        results["engine"] = measure_engine(plan.engine_repeats)
    else:
        results["engine"] = {"skipped": "not measured with --quick (run the full benchmark)"}
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
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats (about a minute; no engine)")
    parser.add_argument("--no-engine", action="store_true", help="skip the engine measurements")
    parser.add_argument("--plot", type=Path, help="also draw ms per resource against catalog size to this PNG (needs matplotlib)")
    parser.add_argument("--sizes", type=int, nargs="+", help="catalog sizes to measure instead of the plan's")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per size instead of the plan's")
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

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results = run(plan, progress=progress)
    path = write(results)
    print(table(results))
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
