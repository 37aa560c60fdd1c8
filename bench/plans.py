"""What a benchmark run measures: the full and the quick plan, and a plan adjusted by bench/run.py's options."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from bench import noop


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
    engine_noops: tuple[str, ...] = noop.LABELS
    """The no-op analyzers (bench/noop.py) measured beside the packs in every engine round."""
    mocks: bool = True
    """Program evaluation under mocks and the pack in process (``--engine-only`` turns them off)."""
    targets: dict[str, float] = field(default_factory=lambda: dict(TARGETS))


TARGETS: dict[str, float] = {
    "overhead_ratio": 1.15,
    "growth_ratio": 3.3,
    "policy_us_per_resource": 50.0,
    "stack_linearity": 1.25,
    # the engine (issues 13 and 25), at the largest engine size
    "preview_pack_ratio": 1.15,
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
    engine_noops=("noop-go",),  # the Python one too would add about a minute (--engine-noops noop-go noop-py)
)


def of_args(args: argparse.Namespace) -> Plan:
    """The plan bench/run.py's options ask for: ``--quick``'s or the full one, with each option's change; ValueError for a --pack without ``=``."""
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
    if args.engine_noops is not None:
        plan = Plan(**{**plan.__dict__, "engine_noops": tuple(args.engine_noops)})
    if args.pack:
        packs = tuple((label, str(Path(path).resolve())) for label, path in (p.split("=", 1) for p in args.pack))
        plan = Plan(**{**plan.__dict__, "engine_packs": packs})
    return plan
