"""The three programs measured under Pulumi's mocks, and one timed evaluation of each.

- ``ours``: what ``__main__`` does: ``settings.from_mapping`` of the generated
  config, ``components.platform.build``, then the stack outputs;
- ``baseline``: a hand-written flat program registering the same Kubernetes and
  random resources (same count, kinds, inputs and options: provider, protect,
  depends_on, secret outputs) with no settings layer and no components. The ratio
  ours/baseline is the overhead our layers add;
- ``floor``: one bare ``pulumi.CustomResource`` with no inputs per resource, same
  count: what the Python SDK costs per registration, whatever the program.

Mocks are the SDK's own (``pulumi.runtime.set_mocks`` + ``pulumi.runtime.test``),
as in tests/conftest.py, with the same realistic state (a RandomPassword's secret
``result``, ids derived from ``metadata.name``).
"""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import pulumi
from google.protobuf import json_format
from pulumi.runtime import rpc

PROJECT = "secrets-platform"


class BenchMocks(pulumi.runtime.Mocks):
    """tests/conftest.py's RealisticMocks: the inputs as state, a secret password, a name-derived id."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        state = dict(args.inputs)
        if args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = {rpc._special_sig_key: rpc._special_secret_sig, "value": f"generated-{args.name}"}
        name = (args.inputs.get("metadata") or {}).get("name", args.name)
        return f"{name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


@dataclass
class Wire:
    """One registration as the engine receives it (the analyzer gets the same inputs)."""

    type: str
    name: str
    urn: str
    parent: str
    protect: bool
    props: dict[str, Any]


class CountingMonitor(pulumi.runtime.mocks.MockMonitor):
    """The SDK's mock monitor, counting registrations; with ``record``, keeping their wire form."""

    def __init__(self, mocks: pulumi.runtime.Mocks, record: bool = False) -> None:
        super().__init__(mocks)
        self.custom = 0
        self.components = 0
        self.record = record
        self.wire: list[Wire] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        if request.custom:
            self.custom += 1
            if self.record:
                self.wire.append(Wire(request.type, request.name, response.urn, request.parent, bool(request.protect),
                                      json_format.MessageToDict(request.object)))
        else:
            self.components += 1
        return response


# --------------------------------------------------------------------------- the programs


def ours(config: dict[str, Any], stack: str) -> None:
    import settings
    from components.platform import build

    platform = build(settings.from_mapping(config, set(), stack, {}))
    for key, value in platform.outputs().items():
        pulumi.export(key, value)


def baseline(config: dict[str, Any], stack: str) -> None:
    """The same resources written flat, the way a one-file program would (no settings, no components)."""
    import pulumi_kubernetes as k8s
    import pulumi_random as random

    env = config["environment"]
    protect = env == "prd"
    safety = {"protect": protect, "retain_on_delete": protect}
    labels = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": PROJECT, "secrets-platform.io/environment": env}
    provider = k8s.Provider(f"kubernetes-{env}", context=None, enable_server_side_apply=True)
    base = pulumi.ResourceOptions(provider=provider)

    namespaces = {}
    for workload in sorted(config["namespaces"]):
        ns = f"{workload}-{env}"
        namespaces[workload] = k8s.core.v1.Namespace(
            ns,
            metadata={"name": ns, "labels": {**labels, "pod-security.kubernetes.io/enforce": "restricted",
                                             "pod-security.kubernetes.io/enforce-version": "latest",
                                             "pod-security.kubernetes.io/audit": "restricted",
                                             "pod-security.kubernetes.io/warn": "restricted"}},
            opts=pulumi.ResourceOptions(provider=provider, **safety),
        )
        k8s.core.v1.ServiceAccountPatch(
            f"{ns}/default",
            metadata={"name": "default", "namespace": ns, "labels": labels},
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions(provider=provider, depends_on=[namespaces[workload]]),
        )

    names: dict[str, list[str]] = {w: [] for w in config["namespaces"]}
    for cred in sorted(config["credentials"], key=lambda c: c["service"]):
        deps = pulumi.ResourceOptions(provider=provider, depends_on=[namespaces[w] for w in sorted(set(cred["namespaces"]))])
        passwords = {
            gen["key"]: random.RandomPassword(
                f"{cred['service']}-{gen['key'].lower().replace('_', '-')}",
                length=gen.get("length", 32), upper=True, lower=True, numeric=True, special=True,
                keepers={"rotation": cred.get("rotation", "1")}, opts=deps,
            )
            for gen in cred["generated"]
        }
        values = cred.get("values", {})
        string_data = pulumi.Output.all(**{k: p.result for k, p in passwords.items()}).apply(lambda v, values=values: {**values, **v})
        secret_name = f"{cred['service']}-{env}-credentials"
        for workload in sorted(cred["namespaces"]):
            ns = f"{workload}-{env}"
            names[workload].append(secret_name)
            k8s.core.v1.Secret(
                f"{ns}/{secret_name}",
                metadata={"name": secret_name, "namespace": ns, "labels": labels, "annotations": {"reloader.stakater.com/match": "true"}},
                type="Opaque",
                string_data=pulumi.Output.secret(string_data),
                opts=pulumi.ResourceOptions(provider=provider, depends_on=deps.depends_on,
                                            additional_secret_outputs=["data", "stringData"], **safety),
            )

    for workload in sorted(config["namespaces"]):
        ns = f"{workload}-{env}"
        opts = pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=[namespaces[workload]]))
        k8s.core.v1.ServiceAccount(f"{ns}/job-runner", metadata={"name": "job-runner", "namespace": ns, "labels": labels}, opts=opts)
        rules = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": sorted(set(names[workload]))}]
        k8s.rbac.v1.Role(f"{ns}/job-runner-secrets", metadata={"name": "job-runner-secrets", "namespace": ns, "labels": labels},
                         rules=rules if names[workload] else [], opts=opts)
        k8s.rbac.v1.RoleBinding(
            f"{ns}/job-runner-secrets",
            metadata={"name": "job-runner-secrets", "namespace": ns, "labels": labels},
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "job-runner-secrets"},
            subjects=[{"kind": "ServiceAccount", "name": "job-runner", "namespace": ns}],
            opts=opts,
        )


def floor(config: dict[str, Any], stack: str, count: int = 0) -> None:
    """``count`` bare custom resources of one made-up type, no inputs, no options."""
    for i in range(count):
        pulumi.CustomResource("bench:index:Thing", f"thing-{i}", {})


PROGRAMS: dict[str, Callable[..., None]] = {"ours": ours, "baseline": baseline, "floor": floor}
VARIANTS = tuple(PROGRAMS)


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


def evaluate(variant: str, config: dict[str, Any], *, stack: str | None = None, floor_count: int = 0,
             record: bool = False) -> Evaluation:
    """Run one program once under fresh mocks and wait for every output; time it.

    The clock covers what a ``pulumi preview`` spends in the program: validating
    the config (ours), registering every resource and resolving every output.
    """
    stack = stack or config["environment"]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    mocks = BenchMocks()
    monitor = CountingMonitor(mocks, record)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    program = PROGRAMS[variant]

    @pulumi.runtime.test
    def run():
        if variant == "floor":
            program(config, stack, floor_count)
        else:
            program(config, stack)

    gc.collect()
    collector = _GcClock()
    gc.callbacks.append(collector)
    try:
        cpu, start = time.process_time(), time.perf_counter()
        run()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        gc.callbacks.remove(collector)
    loop.close()
    return Evaluation(variant, seconds, cpu, collector.seconds, monitor.custom, monitor.components, monitor.wire)


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
