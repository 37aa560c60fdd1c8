"""The pack's fast paths read exactly what the plain copy would.

``Resource.get`` walks the engine's raw containers instead of copying a whole
top-level property, and the type filters and URN/stack facts are memoised per
string; none of that may change what a rule sees, unknowns included.
"""

from __future__ import annotations

import random

import pytest
from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policies import support
from policies.support import Resource, UnknownAtPreview, at, plain

KEYS = ["metadata", "name", "labels", "spec", "data", "x"]
LEAVES = ["s", "", None, 0, 1, True, False, 2.5, UNKNOWN_STRING_VALUE, UNKNOWN_OBJECT_VALUE, UNKNOWN_ARRAY_VALUE]
STEPS = [*KEYS, 0, 1, -1, True]


def _value(rng: random.Random, depth: int):
    roll = rng.random()
    if depth > 3 or roll < 0.3:
        return rng.choice(LEAVES)
    if roll < 0.65:
        return {rng.choice(KEYS): _value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]


def _outcome(read):
    try:
        return "value", repr(read())
    except UnknownAtPreview as unknown:
        return "unknown", unknown.where


@pytest.mark.parametrize("proxied", [True, False])
def test_get_reads_as_at_over_the_plain_copy(proxied: bool) -> None:
    rng = random.Random(7)
    opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)
    for _ in range(2_000):
        raw = {rng.choice(KEYS): _value(rng, 1) for _ in range(rng.randint(0, 5))}
        props = unknown_checking_proxy(raw) if proxied else raw
        args = ResourceValidationArgs("kubernetes:core/v1:Secret", props, "urn:pulumi:prd::p::t::n", "n", opts, None, {})
        resource, copy = Resource.of(args), plain(props)
        for _ in range(5):  # a mix of one-step reads (which copy) and deeper ones (which walk)
            path = tuple(rng.choice(STEPS) for _ in range(rng.randint(1, 4)))
            default = rng.choice([None, "default", {}])
            # each lambda runs at once, inside this iteration
            assert _outcome(lambda: resource.get(*path, default=default)) == _outcome(  # noqa: B023
                lambda: at(copy, *path, default=default)  # noqa: B023
            ), (raw, path)


def test_memoised_facts_match_their_definitions() -> None:
    for urn in ["urn:pulumi:prd::p::t::n", "urn:pulumi:::p::t::n", "not-a-urn", "urn:pulumi:dev::p::a$b::c"]:
        assert support.stack_of_urn(urn) == support.stack_of_urn(urn) == support._stack_of_urn.__wrapped__(urn)
    for t in ["kubernetes:core/v1:Secret", "kubernetes:helm.sh/v3:Release", "random:index/x:X", "kubernetes:a:b:c"]:
        assert support.k8s_kind(t) == support.k8s_kind.__wrapped__(t)
