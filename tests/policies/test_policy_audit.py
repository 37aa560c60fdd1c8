"""Audit: a prd stack turns on the Data Access logs and a Vault audit device; no device logs values."""

from __future__ import annotations

import pytest
from policy_fixtures import fx  # noqa: F401  (the fixture this module's tests take)
from support import run_program, stack_settings

from secrets_platform.policies.rules import audit

AUDIT_CONFIG = audit.AUDIT_CONFIG
SM_SECRET = "gcp:secretmanager/secret:Secret"


def audit_config(service: str, *log_types: str, exempted: list[str] | None = None) -> dict:
    configs = [{"logType": t, **({"exemptedMembers": exempted} if exempted else {})} for t in log_types]
    return {"project": "example-data-platform", "service": service, "auditLogConfigs": configs}


def compliant(fx, stack: str = "prd") -> list:
    return [
        fx.policy_resource(SM_SECRET, {"secretId": f"polaris-{stack}-credentials"}, stack=stack, name="polaris"),
        fx.policy_resource(AUDIT_CONFIG, audit_config("secretmanager.googleapis.com", "ADMIN_READ", "DATA_READ"), stack=stack, name="sm"),
        fx.policy_resource(AUDIT_CONFIG, audit_config("container.googleapis.com", "ADMIN_READ", "DATA_READ"), stack=stack, name="gke"),
    ]


def test_prd_with_both_services_passes(fx):
    assert fx.run_stack(audit.prd_logs_on, compliant(fx)) == []


@pytest.mark.parametrize("dropped", ["sm", "gke"])
def test_prd_without_one_service_fails_naming_it(fx, dropped):
    resources = [r for r in compliant(fx) if r.name != dropped]
    [(message, _)] = fx.run_stack(audit.prd_logs_on, resources)
    service = "secretmanager.googleapis.com" if dropped == "sm" else "container.googleapis.com"
    assert f"'{service}'" in message and "DATA_READ" in message and "secrets_platform/components/audit.py" in message


def test_prd_with_admin_read_only_fails(fx):
    resources = compliant(fx)[:2] + [
        fx.policy_resource(AUDIT_CONFIG, audit_config("container.googleapis.com", "ADMIN_READ"), name="gke"),
    ]
    [(message, _)] = fx.run_stack(audit.prd_logs_on, resources)
    assert "container.googleapis.com" in message


def test_an_exempted_member_does_not_count(fx):
    """Exempting an identity leaves its reads unrecorded: the logs are not on for everyone."""
    resources = compliant(fx)[:2] + [
        fx.policy_resource(
            AUDIT_CONFIG, audit_config("container.googleapis.com", "DATA_READ", exempted=["user:ops@example.com"]), name="gke"
        ),
    ]
    [(message, _)] = fx.run_stack(audit.prd_logs_on, resources)
    assert "container.googleapis.com" in message and "exempted" in message


def test_all_services_covers_both(fx):
    resources = [compliant(fx)[0], fx.policy_resource(AUDIT_CONFIG, audit_config("allServices", "DATA_READ"), name="all")]
    assert fx.run_stack(audit.prd_logs_on, resources) == []


def test_unknown_service_fails_closed_in_prd(fx):
    resources = compliant(fx)[:2] + [
        fx.policy_resource(AUDIT_CONFIG, {**audit_config("x", "DATA_READ"), "service": fx.UNKNOWN}, name="gke")
    ]
    [(message, _)] = fx.run_stack(audit.prd_logs_on, resources)
    assert "unknown" in message.lower()


@pytest.mark.parametrize("stack", ["local", "dev", "stg"])
def test_outside_prd_nothing_is_required(fx, stack):
    resources = [fx.policy_resource(SM_SECRET, {"secretId": f"polaris-{stack}-credentials"}, stack=stack)]
    assert fx.run_stack(audit.prd_logs_on, resources) == []


def test_a_stack_without_gcp_resources_needs_no_audit_config(fx):
    assert fx.run_stack(audit.prd_logs_on, [fx.policy_resource("kubernetes:core/v1:Secret", fx.secret("prd"))]) == []


def test_prd_applying_vault_without_a_device_fails(fx):
    policy = fx.policy_resource("vault:index/policy:Policy", {"name": "floe-dagster-prd-read", "policy": ""}, name="p")
    [(message, _)] = fx.run_stack(audit.prd_logs_on, [policy])
    assert "Vault audit device" in message
    device = fx.policy_resource(audit.VAULT_AUDIT, {"type": "file", "path": "secrets-platform", "options": {"file_path": "stdout"}})
    assert fx.run_stack(audit.prd_logs_on, [policy, device]) == []


def test_unnamed_stack_is_treated_as_prd(fx):
    resources = [fx.policy_resource(SM_SECRET, {"secretId": "polaris-prd-credentials"}, stack="production")]
    messages = [m for m, _ in fx.run_stack(audit.prd_logs_on, resources)]
    assert len(messages) == 2 and all("treated as prd" in m for m in messages)


def test_the_prd_program_without_its_audit_configs_fails(fx):
    """The prd program's own resources (mock monitor, wire form): they pass; without the audit configs, both services fail."""
    import support

    run = run_program(stack_settings("prd"))
    assert {r.inputs["service"] for r in run.of_type(AUDIT_CONFIG)} == set(audit.REQUIRED_SERVICES)
    assert all(r.retain_on_delete and r.protect for r in run.of_type(AUDIT_CONFIG))
    resources = [
        fx.policy_resource(r.type, support.unwrap(r.inputs), stack="prd", name=r.name)
        for r in run.resources
        if not r.type.startswith("pulumi:")
    ]
    assert fx.run_stack(audit.prd_logs_on, resources) == []
    dropped = [r for r in resources if r.resource_type != AUDIT_CONFIG]
    messages = [m for m, _ in fx.run_stack(audit.prd_logs_on, dropped)]
    assert len(messages) == 2 and {s for s in audit.REQUIRED_SERVICES if any(s in m for m in messages)} == set(audit.REQUIRED_SERVICES)


def test_device_with_log_raw_fails(fx):
    [message] = fx.run(audit.vault_device_hmac, audit.VAULT_AUDIT, {"type": "file", "options": {"file_path": "stdout", "log_raw": "true"}})
    assert "log_raw" in message
    [message] = fx.run(audit.vault_device_hmac, audit.VAULT_AUDIT, {"type": "file", "options": {"hmac_accessor": "false"}})
    assert "hmac_accessor" in message


def test_device_with_defaults_passes(fx):
    assert fx.run(audit.vault_device_hmac, audit.VAULT_AUDIT, {"type": "file", "options": {"file_path": "stdout"}}) == []
