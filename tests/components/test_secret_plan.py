"""The pure secret plan: what tools (the CLI) read from a stack file without the engine."""

from __future__ import annotations

import pytest
from support import run_program, stack_settings

from secrets_platform.model import planned_descriptors

CANARY = "xoxb-canary-plan-7f3a"


_SECRET_SIG = "4dabf18193072939515e22adb298388d"  # how the mocks' inputs mark a whole-map Pulumi secret


def _keys(string_data: dict) -> list[str]:
    return sorted(string_data["value"] if _SECRET_SIG in string_data else string_data)


@pytest.mark.parametrize("stack", ["local", "dev", "stg", "prd"])
def test_outputs_list_exactly_the_secrets_the_program_creates(stack):
    """Consumers and the CLI trust the outputs' `secrets`: each one listed is a Secret the program registers
    (directly, or through the ExternalSecret that writes it) with exactly the listed keys, and none is left out."""
    s = stack_settings(stack, {"DAGSTER_SECRET_SLACK_TOKEN": CANARY})
    run = run_program(s)
    created: dict[tuple[str, str], list[str]] = {}
    for r in run.of_type("kubernetes:core/v1:Secret"):
        created[(r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"])] = _keys(r.inputs["stringData"])
    for r in run.of_type("kubernetes:external-secrets.io/v1:ExternalSecret"):
        spec = r.inputs["spec"]
        created[(r.inputs["metadata"]["namespace"], spec["target"]["name"])] = sorted(d["secretKey"] for d in spec["data"])
    listed = {(o["namespace"], o["name"]): sorted(o["keys"]) for o in run.outputs["secrets"]}
    assert created, "the stack must create Secrets for this to mean anything"
    assert listed == created


def test_plan_registers_nothing():
    """Describing a stack must not need a Pulumi runtime (no mocks are set here)."""
    names = {d.name for d in planned_descriptors(stack_settings("prd"))}
    # Vault bundles (salesforce) are read by the agent injector and make no Kubernetes Secret.
    assert names == {"snowflake-prd-credentials", "minio-prd-credentials", "polaris-prd-credentials", "cube-prd-credentials"}
