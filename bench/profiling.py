"""Where program evaluation (or the pack) spends its time: cProfile, grouped by who owns the code.

    .venv/bin/python bench/profiling.py                  # ours, 1,000 credentials
    .venv/bin/python bench/profiling.py --variant baseline --credentials 300
    .venv/bin/python bench/profiling.py --pack           # every resource rule over the program's resources
    .venv/bin/python bench/profiling.py --engine --credentials 1000   # the pack's process inside a real `pulumi preview`

Prints the share of self time per owner (our code, the Pulumi SDK, the provider
SDKs, pulumi_policy, asyncio and the rest of the standard library), the time the
cyclic garbage collector ran (which cProfile charges to whatever function was
running), and the top functions. docs/PERFORMANCE.md quotes its output.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, Python puts bench/ on sys.path, not the checkout; bench is not installed (the wheel holds
# only secrets_platform), so the checkout is appended: nothing there shadows an installed module.
sys.path.append(str(ROOT))

OWNERS = (
    # the pack also as bench/engine.py copies it (a temp dir's packs/<label>/policies/)
    (
        "ours",
        (
            f"{ROOT}/secrets_platform/components/",
            f"{ROOT}/secrets_platform/settings/",
            f"{ROOT}/secrets_platform/model/",
            "/secrets_platform/conventions/",
            "/secrets_platform/policies/",
        ),
    ),
    ("bench harness", (f"{ROOT}/bench/",)),
    ("pulumi SDK", ("/site-packages/pulumi/",)),
    ("pulumi_policy", ("/site-packages/pulumi_policy/",)),
    ("provider SDKs", ("/site-packages/pulumi_kubernetes/", "/site-packages/pulumi_random/")),
    ("pydantic", ("/site-packages/pydantic",)),
    ("protobuf/grpc", ("/site-packages/google/", "/site-packages/grpc")),
    ("asyncio", ("/asyncio/",)),
)


def owner(filename: str) -> str:
    for name, prefixes in OWNERS:
        if any(p in filename for p in prefixes):
            return name
    return "builtins" if filename == "~" else "stdlib/other"


def report(stats: pstats.Stats, total: float, gc_seconds: float, top: int) -> str:
    by_owner: Counter[str] = Counter()
    rows = []
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        by_owner[owner(filename)] += tt
        rows.append((tt, ct, nc, f"{Path(filename).name}:{line}({func})", owner(filename)))
    out = [
        f"profiled {total:.2f} s; cyclic GC ran {gc_seconds:.2f} s of it ({gc_seconds / total:.0%}, charged to whatever ran)",
        "",
        "self time by owner:",
    ]
    for name, tt in by_owner.most_common():
        out.append(f"  {name:<16} {tt:8.2f} s  {tt / total:6.1%}")
    out += ["", f"top {top} functions by self time:"]
    for tt, ct, nc, where, who in sorted(rows, reverse=True)[:top]:
        out.append(f"  {tt:7.2f} s self {ct:7.2f} s cum {nc:>8} calls  [{who}] {where}")
    ours = sorted((r for r in rows if r[4] == "ours"), key=lambda r: r[1], reverse=True)[:top]
    out += ["", "our functions by cumulative time (includes the SDK calls they make):"]
    for tt, ct, nc, where, _who in ours:
        out.append(f"  {ct:7.2f} s cum {tt:7.2f} s self {nc:>8} calls  {where}")
    return "\n".join(out)


def engine_profile(credentials: int, top: int) -> int:
    """One ``pulumi preview`` with the pack under bench/pack_hook.py, beside unprofiled previews with and without it."""
    import json
    import tempfile

    from bench import catalog, engine

    why = engine.availability()
    if why:
        print(f"skipped: {why}")
        return 0
    resources = catalog.custom_resource_count(credentials)
    with tempfile.TemporaryDirectory(prefix="secrets-platform-profile-") as tmp:
        work = Path(tmp)
        out = work / "pack-profile.json"
        project = engine.Project.create(work, "ours", credentials)
        plain = engine.pack_dir(work, "pack", ROOT / "policies")
        profiled = engine.pack_dir(work, "profiled", ROOT / "policies", profile=out)
        project.run("preview", pack=plain)  # warm-up
        runs = {
            "preview": project.run("preview"),
            "preview --policy-pack": project.run("preview", pack=plain),
            "preview --policy-pack (profiled)": project.run("preview", pack=profiled),
        }
        hook = json.loads(out.read_text())
        stats = pstats.Stats(str(out.with_suffix(".pstats")))
    print(
        f"ours, {credentials} credentials, {resources} custom resources + {catalog.component_count(credentials)} components, "
        "local stack in render mode"
    )
    for name, r in runs.items():
        roles = "; ".join(f"{k} {v['cpu_seconds']:.1f} s CPU, {v['peak_rss_mib']:.0f} MiB" for k, v in r["roles"].items())
        print(f"  {name:<34} {r['seconds']:7.2f} s wall   {roles}")
    print("inside the pack's process (profiled run):")
    print(
        f"  process start -> pulumi_policy imported: {hook['hook_installed_after_start']:.2f} s; -> serving: "
        f"{hook.get('serving_after_start', float('nan')):.2f} s; -> first call: "
        f"{hook.get('first_call_after_start', float('nan')):.2f} s; process CPU {hook['process_cpu_seconds']:.2f} s"
    )
    for name in ("Remediate", "Analyze", "AnalyzeStack"):
        h = hook.get(name, {})
        if h.get("calls"):
            print(
                f"  {name:<13} {h['calls']:>6} calls  {h['cpu_seconds']:7.2f} s CPU  {h['wall_seconds']:7.2f} s wall  "
                f"({h['cpu_seconds'] / h['calls'] * 1e6:.0f} us CPU per call; waited for the lock {h['waited_seconds']:.2f} s)"
            )
    total = sum(hook.get(n, {}).get("wall_seconds", 0.0) for n in ("Remediate", "Analyze", "AnalyzeStack")) or 1.0
    print(report(stats, total, 0.0, top))
    return 0


def main(argv: list[str] | None = None) -> int:
    import gc
    import time

    from bench import catalog, pack, programs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="ours", choices=tuple(programs.PROGRAMS))
    parser.add_argument("--credentials", type=int, default=1_000)
    parser.add_argument("--pack", action="store_true", help="profile the policy pack instead of the program")
    parser.add_argument("--engine", action="store_true", help="profile the pack's process inside a real `pulumi preview` (toolchain)")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    if args.engine:
        return engine_profile(args.credentials, args.top)

    config = catalog.catalog(args.credentials)
    count = catalog.custom_resource_count(args.credentials)
    programs.evaluate(args.variant, catalog.catalog(20), floor_count=catalog.custom_resource_count(20))  # warm-up
    collected = [0.0, 0.0]

    def gc_clock(phase: str, info: dict) -> None:
        if phase == "start":
            collected[1] = time.perf_counter()
        else:
            collected[0] += time.perf_counter() - collected[1]

    profiler = cProfile.Profile()
    if args.pack:
        recorded = programs.evaluate("ours", config, record=True)
        resource_args = pack.resource_args(recorded.wire)
        pack.time_rules(resource_args, 1)
        gc.callbacks.append(gc_clock)
        start = time.perf_counter()
        profiler.enable()
        pack.time_rules(resource_args, 3)
        profiler.disable()
    else:
        gc.callbacks.append(gc_clock)
        start = time.perf_counter()
        profiler.enable()
        programs.evaluate(args.variant, config, floor_count=count)
        profiler.disable()
    total = time.perf_counter() - start
    gc.callbacks.remove(gc_clock)
    what = "the policy pack (3 passes)" if args.pack else f"{args.variant}"
    print(f"{what}, {args.credentials} credentials, {count} custom resources")
    print(report(pstats.Stats(profiler), total, collected[0], args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
