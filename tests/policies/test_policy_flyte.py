"""Flyte projects' namespaces ('<project>-<domain>') read as their environment in every rule of the pack."""

from __future__ import annotations

import pytest
from policy_fixtures import fx  # noqa: F401  (the fixture this module's tests take)

from secrets_platform import conventions
from secrets_platform.policies.rules import isolation, naming

SECRET = "kubernetes:core/v1:Secret"
NAMESPACE = "kubernetes:core/v1:Namespace"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"


def flyte_namespace(fx, env: str) -> dict:
    props = fx.namespace(env)
    props["metadata"]["name"] = conventions.namespace_name("flytesnacks", env, flyte=True)
    return props


def flyte_secret(fx, env: str) -> dict:
    props = fx.secret(env)
    props["metadata"]["namespace"] = conventions.namespace_name("flytesnacks", env, flyte=True)
    return props


@pytest.mark.parametrize("env", ["local", "dev", "stg", "prd"])
def test_a_flyte_project_namespace_of_its_own_stack_passes(fx, env):
    assert fx.run(naming.namespace_env_suffix, NAMESPACE, flyte_namespace(fx, env), stack=env) == []
    assert fx.run(isolation.object_env_agree, NAMESPACE, flyte_namespace(fx, env), stack=env) == []
    assert fx.run(isolation.object_env_agree, SECRET, flyte_secret(fx, env), stack=env) == []


@pytest.mark.parametrize(("domain_env", "stack"), [("prd", "dev"), ("dev", "prd"), ("stg", "prd")])
def test_a_flyte_namespace_of_another_environment_is_refused(fx, domain_env, stack):
    """flytesnacks-production is prd: a dev Secret placed there mixes two environments."""
    props = flyte_secret(fx, stack)
    props["metadata"]["namespace"] = conventions.namespace_name("flytesnacks", domain_env, flyte=True)
    [message] = fx.run(isolation.object_env_agree, SECRET, props, stack=stack)
    assert props["metadata"]["namespace"] in message and domain_env in message


def test_a_binding_to_a_job_runner_in_a_flyte_namespace_of_another_environment_is_refused(fx):
    props = fx.role_binding("dev")
    props["subjects"][0]["namespace"] = "flytesnacks-production"
    messages = fx.run(isolation.binding_subject_env, ROLE_BINDING, props, stack="dev")
    assert messages and "flytesnacks-production" in messages[0]
