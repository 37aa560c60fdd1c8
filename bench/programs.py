"""The three programs measured under Pulumi's mocks, and one timed evaluation of each.

- ``ours``: what ``__main__`` does: ``settings.from_mapping`` of the generated
  config, ``components.platform.build``, then the stack outputs;
- ``baseline``: the hand-written flat program of bench/flat.py, registering the
  same Kubernetes and random resources (same names, inputs and options) with no
  settings layer and no components. The ratio ours/baseline is the overhead our
  layers add; the engine benchmark runs the same program as its floor;
- ``fair``: the same flat program with ours' component resources around the same
  custom resources (bench/flat.py, ``components=True``): the fair floor, what the
  mission's component resources cost without our secrets_platform/settings/resolve/spec layers;
- ``floor``: one bare ``pulumi.CustomResource`` with no inputs per resource, same
  count: what the Python SDK costs per registration, whatever the program.

Mocks are the SDK's own (``pulumi.runtime.set_mocks`` + ``pulumi.runtime.test``)
with the tests' state: tests/mocks.py, shared with tests/conftest.py.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import mocks
import pulumi
from google.protobuf import json_format

from bench import flat


@dataclass
class Wire:
    """One custom resource's registration as the engine receives it (the analyzer gets the same inputs)."""

    type: str
    name: str
    urn: str
    parent: str
    protect: bool
    props: dict[str, Any]


# --------------------------------------------------------------------------- the programs


def ours(config: dict[str, Any], stack: str) -> None:
    from secrets_platform import settings
    from secrets_platform.components.platform import build

    platform = build(settings.from_mapping(config, set(), stack, {}))
    for key, value in platform.outputs().items():
        pulumi.export(key, value)


def baseline(config: dict[str, Any], stack: str) -> None:
    """The same resources written flat (bench/flat.py): no settings, no components."""
    flat.program(config)


def fair(config: dict[str, Any], stack: str) -> None:
    """The fair floor (bench/flat.py with ``components=True``): ours' components and custom resources, no layers."""
    flat.program(config, components=True)


def floor(config: dict[str, Any], stack: str, count: int = 0) -> None:
    """``count`` bare custom resources of one made-up type, no inputs, no options."""
    for i in range(count):
        pulumi.CustomResource("bench:index:Thing", f"thing-{i}", {})


PROGRAMS: dict[str, Callable[..., None]] = {"ours": ours, "baseline": baseline, "floor": floor, "fair": fair}
VARIANTS = ("ours", "baseline", "floor")
"""The variants the mock series measures (``fair`` is measured on the engine, bench/engine.py)."""


# --------------------------------------------------------------------------- one evaluation


@dataclass
class Evaluation:
    variant: str
    seconds: float
    """Wall-clock seconds."""
    cpu_seconds: float
    """CPU seconds of this process (all threads): the work itself, not the time other jobs took the CPU."""
    gc_seconds: float
    """Of the wall seconds, the time Python's cyclic garbage collector ran (gc.callbacks)."""
    custom: int
    components: int
    wire: list[Wire] = field(default_factory=list)


def evaluate(variant: str, config: dict[str, Any], *, stack: str | None = None, floor_count: int = 0, record: bool = False) -> Evaluation:
    """Run one program once under fresh mocks and wait for every output; time it.

    The clock covers what a ``pulumi preview`` spends in the program: validating
    the config (ours), registering every resource and resolving every output.
    """
    stack = stack or config["environment"]
    program = PROGRAMS[variant]

    def run() -> None:
        if variant == "floor":
            program(config, stack, floor_count)
        else:
            program(config, stack)

    gc.collect()
    collector = _GcClock()
    gc.callbacks.append(collector)
    try:
        cpu, start = time.process_time(), time.perf_counter()
        monitor = mocks.evaluate(run, stack, record=record)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        gc.callbacks.remove(collector)
    wire = [Wire(r.type, r.name, r.urn, r.parent, r.protect, json_format.MessageToDict(r.object)) for r in monitor.registered if r.custom]
    return Evaluation(variant, seconds, cpu, collector.seconds, monitor.custom, monitor.components, wire)


class _GcClock:
    """Sums the time between the collector's "start" and "stop" callbacks."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
