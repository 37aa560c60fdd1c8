"""The real program, run under the shared test mocks for every stack, passes the pack.

Uses the harness in tests/support.py (``run_program``, ``stack_settings``): the
mock monitor records each registration's inputs in the engine's wire form, which is
exactly what the pack sees, and the ``protect`` option of each registration, so
``safety-object-prd-protected`` runs too.
"""

from __future__ import annotations

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from policies.rules import ALL_POLICIES


@pytest.mark.parametrize("stack", ["local", "dev", "stg", "prd"])
def test_program_passes_every_policy(stack):
    import support  # tests/support.py: the program's own harness

    run = support.run_program(support.stack_settings(stack))
    assert run.resources, "the program registered nothing"

    def opts(r):
        return PolicyResourceOptions(r.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)

    violations = []
    for r in run.resources:
        props = support.unwrap(r.inputs)
        for policy in ALL_POLICIES:
            if isinstance(policy, StackValidationPolicy):
                continue
            args = ResourceValidationArgs(r.type, unknown_checking_proxy(props), r.urn, r.name, opts(r), None, {})
            policy.validate(args, lambda message, urn=None, p=policy.name, u=r.urn: violations.append(f"{p} {u}: {message}"))
    resources = [
        PolicyResource(r.type, unknown_checking_proxy(support.unwrap(r.inputs)), r.urn, r.name, opts(r), None, None, [], {})
        for r in run.resources
    ]
    for policy in ALL_POLICIES:
        if isinstance(policy, StackValidationPolicy):
            policy.validate(StackValidationArgs(resources), lambda message, urn=None, p=policy.name: violations.append(f"{p}: {message}"))
    assert violations == []
