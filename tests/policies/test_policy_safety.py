"""Data safety: prd Secrets and Namespaces are protected."""

from __future__ import annotations

import pytest
from policy_fixtures import fx  # noqa: F401  (the fixture this module's tests take)

from secrets_platform.policies.rules import safety

SECRET = "kubernetes:core/v1:Secret"
NAMESPACE = "kubernetes:core/v1:Namespace"


@pytest.mark.parametrize("resource_type,build", [(SECRET, "secret"), (NAMESPACE, "namespace")])
def test_protected_in_prd_passes(fx, resource_type, build):
    assert fx.run(safety.prd_protected, resource_type, getattr(fx, build)("prd"), protect=True) == []


@pytest.mark.parametrize("resource_type,build", [(SECRET, "secret"), (NAMESPACE, "namespace")])
def test_unprotected_in_prd_fails(fx, resource_type, build):
    """A dropped line or a `pulumi destroy` must not delete prd data."""
    [message] = fx.run(safety.prd_protected, resource_type, getattr(fx, build)("prd"), protect=False)
    assert "protect=True, retain_on_delete=True" in message and fx.CANARY not in message


@pytest.mark.parametrize("stack", ["local", "dev", "stg"])
def test_unprotected_outside_prd_passes(fx, stack):
    assert fx.run(safety.prd_protected, SECRET, fx.secret(stack), stack=stack, protect=False) == []


def test_unrecognised_stack_is_treated_as_prd(fx):
    """Fail closed: a stack not named after an environment might be prd."""
    [message] = fx.run(safety.prd_protected, SECRET, fx.secret(), stack="production", protect=False)
    assert "treated as prd" in message


def test_other_types_are_ignored(fx):
    assert fx.run(safety.prd_protected, "kubernetes:core/v1:ConfigMap", fx.configmap(), protect=False) == []
