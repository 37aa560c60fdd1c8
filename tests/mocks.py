"""The program without the engine: Pulumi's own mocks, answering like this platform's providers.

One module for the tests (tests/conftest.py) and the benchmarks (bench/programs.py),
so both evaluate the program against the same state:

- :class:`PlatformMocks`: a resource's state is its inputs, plus a secret
  ``result`` for a ``RandomPassword``; its id is derived from ``metadata.name``,
  like the kubernetes provider's;
- :class:`RecordingMonitor`: the SDK's mock monitor, counting custom and component
  registrations and, with ``record``, keeping each one as sent (type, name, URN,
  parent, options, the wire properties);
- :func:`evaluate`: one program run under fresh mocks on its own event loop,
  waiting for every registration and output.

Never imported by the program or the pack.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import rpc

from secrets_platform import conventions

RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"


class PlatformMocks(pulumi.runtime.Mocks):
    """The inputs as state, a secret generated password, a name-derived id."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        state = dict(args.inputs)
        if args.typ == RANDOM_PASSWORD:
            state["result"] = {rpc._special_sig_key: rpc._special_secret_sig, "value": f"generated-{args.name}"}
        name = (args.inputs.get("metadata") or {}).get("name", args.name)
        return f"{name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


@dataclass
class Registration:
    """One registration as the engine would receive it."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    protect: bool
    retain_on_delete: bool
    object: struct_pb2.Struct
    """The wire properties (camelCase; secrets as signature objects)."""


class RecordingMonitor(pulumi.runtime.mocks.MockMonitor):
    """The SDK's mock monitor, counting registrations; with ``record``, keeping each one in order."""

    def __init__(self, mocks: pulumi.runtime.Mocks, record: bool = True) -> None:
        super().__init__(mocks)
        self.custom = 0
        self.components = 0
        self.record = record
        self.registered: list[Registration] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        if request.custom:
            self.custom += 1
        else:
            self.components += 1
        if self.record:
            self.registered.append(
                Registration(
                    request.type,
                    request.name,
                    response.urn,
                    request.parent,
                    bool(request.custom),
                    bool(request.protect),
                    bool(request.retainOnDelete),
                    request.object,
                )
            )
        return response


def evaluate(program: Callable[[], Any], stack: str, *, record: bool = True, mocks: pulumi.runtime.Mocks | None = None) -> RecordingMonitor:
    """Run ``program`` once under fresh mocks for ``stack`` and wait for everything it registered."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    mocks = mocks or PlatformMocks()
    monitor = RecordingMonitor(mocks, record)
    pulumi.runtime.set_mocks(mocks, project=conventions.PROJECT, stack=stack, preview=False, monitor=monitor)
    try:
        pulumi.runtime.test(program)()
    finally:
        loop.close()
    return monitor
