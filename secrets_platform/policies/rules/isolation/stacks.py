"""Isolation of stacks: a stack is named after one environment, and reads no other environment's stack.

Part of the isolation rules (see ``policies.rules.isolation``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from secrets_platform import conventions
from secrets_platform.policies.environment import fmt_envs
from secrets_platform.policies.support import (
    MANDATORY,
    STACK_REFERENCE,
    Resource,
    engine_stack,
    resource_rule,
    show,
    stack_rule,
)

_ENVS = ", ".join(conventions.ENVIRONMENTS)

# --------------------------------------------------------------------------- stacks


@resource_rule("isolation-stackreference-env", MANDATORY, frozenset({STACK_REFERENCE}))
def stackreference_env(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """A StackReference never reads another environment's stack."""
    env = r.env
    name = r.get("name")
    if not env or not isinstance(name, str):
        return
    last = name.rsplit("/", 1)[-1]
    target = conventions.env_of_stack(name)
    tokens = {target} if target else conventions.env_tokens_in(last)
    if tokens - {env}:
        yield (
            f"StackReference {show(r.name)} in {env} reads the stack {show(name)} of {fmt_envs(tokens - {env})}; "
            f"read the {env} stack, so no output of another environment flows into this one."
        )


ENVIRONMENT_CONFIG_KEY = "environmentConfigKey"


@stack_rule(
    "isolation-stack-single-env",
    MANDATORY,
    extra_config={
        ENVIRONMENT_CONFIG_KEY: {
            "type": "string",
            "default": f"{conventions.PROJECT}:environment",
            "description": "The stack config key naming the environment; when set in the stack it must equal the stack name.",
        }
    },
)
def stack_single_env(resources: list[Resource], config: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
    """A stack is named after one environment token, and the engine, the resources and the stack config agree on it.

    The stack name is an environment token, and the engine, the URNs and the stack config agree on it.
    """
    stacks = sorted({r.stack for r in resources if r.stack})
    if not stacks:
        return
    if len(stacks) > 1:
        yield (
            f"Resources of more than one stack were analysed together ({', '.join(show(s) for s in stacks)}); a stack provisions one environment.",
            None,
        )
        return
    stack = stacks[0]
    if conventions.env_of_stack(stack) is None:
        yield (
            (
                f"The stack {show(stack)} is not named after an environment ({_ENVS}); the stack name is the environment "
                f"token (`pulumi up -s prd`), and without it no environment check can hold. Rename or re-create the stack."
            ),
            None,
        )
        return
    engine = engine_stack()
    if engine and engine != stack:
        yield (
            f"The engine runs stack {show(engine)} but the resources belong to {show(stack)}; run the pack on the stack it analyses.",
            None,
        )
    key = config.get(ENVIRONMENT_CONFIG_KEY) or f"{conventions.PROJECT}:environment"
    try:
        import pulumi.runtime

        configured = pulumi.runtime.get_config(key)
    except Exception:  # noqa: BLE001 - no runtime config outside the engine
        configured = None
    if configured is not None and configured != stack:
        yield (
            (
                f"The stack {show(stack)} is configured for environment {show(configured)} ({show(key)}); a stack provisions "
                f"exactly the environment it is named after. Set {show(key)} to {show(stack)} or use the right stack."
            ),
            None,
        )


POLICIES = [stackreference_env, stack_single_env]
