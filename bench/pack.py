"""The policy pack's cost: every resource rule over what the program registers, and the stack rules.

Resources are the program's own registrations, recorded by the mock monitor in
wire form (camelCase properties, secrets as signature objects, the ``protect``
option as sent): what the engine hands the analyzer at preview.

Three figures:

- ``rules``: each resource's ``ResourceValidationArgs`` built once, as
  tests/policies builds them (pulumi_policy's ``deserialize_properties`` and
  ``unknown_checking_proxy``), then every resource rule's ``validate``: all that
  our pack code costs per resource (type filter, exemptions, ``Resource.of``,
  the checks, messages);
- ``analyzer``: the servicer the pack serves (secrets_platform/policies/analyzer.py), its
  ``Remediate`` and ``Analyze`` per resource on the protobuf request, no gRPC
  transport: what the pack's process spends per resource; ``sdk_analyzer`` the
  same with pulumi_policy's servicer unchanged, which decodes the properties
  again for every rule;
- ``stack``: every stack rule over 1,000 / 5,000 / 10,000 resources (the
  recorded ones repeated under new names), to show it is linear.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.programs import Wire

STACK_SIZES = (1_000, 5_000, 10_000)


class Clock:
    """Wall and CPU seconds of repeated runs; medians of each."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self) -> "Clock":
        self._cpu, self._wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall.append(time.perf_counter() - self._wall)
        self.cpu.append(time.process_time() - self._cpu)

    @property
    def seconds(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_seconds(self) -> float:
        return statistics.median(self.cpu)


def _policies():
    from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

    from secrets_platform.policies.rules import ALL_POLICIES

    resource = [p for p in ALL_POLICIES if isinstance(p, ResourceValidationPolicy)]
    stack = [p for p in ALL_POLICIES if isinstance(p, StackValidationPolicy)]
    return resource, stack


def _options(w: Wire):
    from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions

    return PolicyResourceOptions(w.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], w.parent or None)


def _props(w: Wire):
    from pulumi_policy.deserialize import deserialize_properties
    from pulumi_policy.proxy import unknown_checking_proxy

    return unknown_checking_proxy(deserialize_properties(w.props))


def resource_args(wire: list[Wire]) -> list[Any]:
    from pulumi_policy import ResourceValidationArgs

    return [ResourceValidationArgs(w.type, _props(w), w.urn, w.name, _options(w), None, {}) for w in wire]


def _timed_violations(run: Callable[[Callable[..., None]], None], repeats: int) -> tuple[Clock, list[str]]:
    """``run(report)`` timed ``repeats`` times, after a garbage collection each; the violations of the last round."""
    violations: list[str] = []

    def report(message, urn=None):
        violations.append(message)

    clock = Clock()
    for _ in range(repeats):
        violations.clear()
        gc.collect()
        with clock:
            run(report)
    return clock, list(violations)


def time_rules(args: list[Any], repeats: int) -> tuple[Clock, list[str]]:
    """Every resource rule over every resource, ``repeats`` times; the violations seen."""
    policies, _ = _policies()

    def run(report: Callable[..., None]) -> None:
        for a in args:
            for policy in policies:
                policy.validate(a, report)

    return _timed_violations(run, repeats)


def analyze_requests(wire: list[Wire]) -> list[Any]:
    from google.protobuf import struct_pb2
    from pulumi.runtime import proto

    out = []
    for w in wire:
        struct = struct_pb2.Struct()
        struct.update(w.props)
        out.append(
            proto.AnalyzeRequest(
                type=w.type,
                properties=struct,
                urn=w.urn,
                name=w.name,
                options=proto.AnalyzerResourceOptions(protect=w.protect, parent=w.parent),
            )
        )
    return out


def time_analyzer(requests: list[Any], repeats: int, *, filtered: bool = True) -> tuple[Clock, int]:
    """The pack's servicer analysing every request, ``repeats`` times; diagnostics seen.

    ``filtered``: the servicer the pack serves (secrets_platform/policies/analyzer.py); else pulumi_policy's unchanged.
    The requests are not wrapped in gRPC; the engine also calls ``Remediate`` per resource, counted here too.
    """
    from pulumi_policy import EnforcementLevel
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    from secrets_platform.policies import analyzer
    from secrets_platform.policies.rules import ALL_POLICIES

    cls = analyzer.servicer_class() if filtered else _PolicyAnalyzerServicer
    servicer = cls("secrets-platform", "0.1.0", ALL_POLICIES, EnforcementLevel.MANDATORY)
    clock, diagnostics = Clock(), 0
    for _ in range(repeats):
        diagnostics = 0
        gc.collect()
        with clock:
            for request in requests:
                servicer.Remediate(request, None)
                diagnostics += len(servicer.Analyze(request, None).diagnostics)
    return clock, diagnostics


def stack_resources(wire: list[Wire], count: int) -> list[Any]:
    """``count`` PolicyResources cycling through the recorded ones, each with its own URN."""
    from pulumi_policy import PolicyResource

    out = []
    for i in range(count):
        w = wire[i % len(wire)]
        name = f"{w.name}-{i}"
        urn = f"{w.urn}-{i}"
        out.append(PolicyResource(w.type, _props(w), urn, name, _options(w), None, None, [], {}))
    return out


def time_stack(resources: list[Any], repeats: int) -> tuple[Clock, list[str]]:
    from pulumi_policy import StackValidationArgs

    _, policies = _policies()

    def run(report: Callable[..., None]) -> None:
        for policy in policies:
            policy.validate(StackValidationArgs(resources, {}), report)

    return _timed_violations(run, repeats)


def measure(wire: list[Wire], *, repeats: int = 5, stack_sizes: tuple[int, ...] = STACK_SIZES) -> dict[str, Any]:
    """All three figures for one recorded program; microseconds per resource."""
    resource_policies, stack_policies = _policies()
    args = resource_args(wire)
    time_rules(args[: min(len(args), 50)], 1)  # warm-up: imports, regex caches
    rules, violations = time_rules(args, repeats)
    requests = analyze_requests(wire)
    time_analyzer(requests[: min(len(requests), 50)], 1)
    analyzer, diagnostics = time_analyzer(requests, repeats)
    sdk_analyzer, sdk_diagnostics = time_analyzer(requests, repeats, filtered=False)
    stack: list[dict[str, Any]] = []
    for size in stack_sizes:
        resources = stack_resources(wire, size)
        clock, stack_violations = time_stack(resources, repeats)
        stack.append(
            {
                "resources": size,
                "seconds": clock.seconds,
                "cpu_seconds": clock.cpu_seconds,
                "us_per_resource": clock.cpu_seconds / size * 1e6,
                "wall_us_per_resource": clock.seconds / size * 1e6,
                "violations": len(stack_violations),
            }
        )
    per = stack[-1]["us_per_resource"] / stack[0]["us_per_resource"] if len(stack) > 1 else 1.0
    n = len(wire)
    return {
        "resources": n,
        "resource_rules": len(resource_policies),
        "stack_rules": len(stack_policies),
        # CPU time per resource (what the pack's work costs); wall time beside it.
        "rules_us_per_resource": rules.cpu_seconds / n * 1e6,
        "rules_wall_us_per_resource": rules.seconds / n * 1e6,
        "rules_violations": len(violations),
        "analyzer_us_per_resource": analyzer.cpu_seconds / n * 1e6,
        "analyzer_wall_us_per_resource": analyzer.seconds / n * 1e6,
        "analyzer_diagnostics": diagnostics,
        "sdk_analyzer_us_per_resource": sdk_analyzer.cpu_seconds / n * 1e6,
        "sdk_analyzer_wall_us_per_resource": sdk_analyzer.seconds / n * 1e6,
        "sdk_analyzer_diagnostics": sdk_diagnostics,
        "stack": stack,
        # Per-resource time at the largest size over the smallest: 1.0 is perfectly linear.
        "stack_linearity": per,
    }
