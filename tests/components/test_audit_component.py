"""secrets_platform/components/audit.py: what each stack turns on, resolved once (audit_spec) and registered exactly (AuditLogs)."""

from __future__ import annotations

import pytest
from support import run_program, stack_settings

from secrets_platform.model import resolve
from secrets_platform.model.specs import AUDITED_SERVICES, AuditSpec
from secrets_platform.model.stack import audit_spec

AUDIT_CONFIG = "gcp:projects/iAMAuditConfig:IAMAuditConfig"
VAULT_AUDIT = "vault:index/audit:Audit"


def test_local_turns_on_nothing_in_the_cloud():
    """local has no project and applies Vault with its own tool: the local cluster writes its own audit files."""
    spec = resolve(stack_settings("local")).audit
    assert spec == AuditSpec((), None, False) and spec.empty
    run = run_program(stack_settings("local"))
    assert not run.of_type(AUDIT_CONFIG) and not run.of_type(VAULT_AUDIT)
    assert not [r for r in run.resources if r.type == "secrets-platform:audit:Logs"]


@pytest.mark.parametrize("stack", ["dev", "stg", "prd"])
def test_each_cloud_stack_turns_on_data_read_for_both_services_in_its_project(stack):
    s = stack_settings(stack)
    run = run_program(s)
    configs = run.of_type(AUDIT_CONFIG)
    assert sorted(r.inputs["service"] for r in configs) == sorted(AUDITED_SERVICES)
    for r in configs:
        assert r.inputs["project"] == s.config.gcp.project
        assert [c["logType"] for c in r.inputs["auditLogConfigs"]] == ["ADMIN_READ", "DATA_READ"]
        assert "exemptedMembers" not in str(r.inputs)
        assert r.retain_on_delete and r.protect == (stack == "prd"), r.urn
        assert r.urn.endswith(f"-{stack}"), "the resource name carries the environment"
    # the example stacks set no vault.address: Vault's side (and its audit device) is an operator's
    assert not run.of_type(VAULT_AUDIT)


def test_a_vault_address_adds_an_hmac_device_on_the_stacks_vault_provider():
    from test_platform import fixed_prd_settings

    s = fixed_prd_settings()  # Vault with an address
    assert s.config.vault.address
    spec = audit_spec(s)
    assert spec.vault is not None
    assert spec.vault.type == "file" and dict(spec.vault.options) == {"file_path": "stdout"}
    run = run_program(s)
    [device] = run.of_type(VAULT_AUDIT)
    assert device.inputs["options"] == {"file_path": "stdout"} and device.inputs["path"] == "secrets-platform"
    assert device.retain_on_delete and device.protect
