"""The pure secret plan: what tools (the CLI) read from a stack file without the engine."""

from __future__ import annotations

import pytest

from components.consumers import describe
from components.platform import planned_descriptors
from conftest import run_program, stack_settings

CANARY = "xoxb-canary-plan-7f3a"


@pytest.mark.parametrize("stack", ["local", "dev", "stg", "prd"])
def test_plan_describes_exactly_what_the_program_exports(stack):
    """The CLI lists a stack from its file with planned_descriptors; it must match the program's outputs."""
    s = stack_settings(stack, {"DAGSTER_SECRET_SLACK_TOKEN": CANARY})
    run = run_program(s)
    assert [describe(d) for d in planned_descriptors(s)] == run.outputs["secrets"]


def test_plan_registers_nothing():
    """Describing a stack must not need a Pulumi runtime (no mocks are set here)."""
    names = {d.name for d in planned_descriptors(stack_settings("prd"))}
    # Vault bundles (salesforce) are read by the agent injector and make no Kubernetes Secret.
    assert names == {"snowflake-prd-credentials", "minio-prd-credentials", "polaris-prd-credentials", "cube-prd-credentials"}
