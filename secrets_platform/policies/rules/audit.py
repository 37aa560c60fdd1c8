"""Audit rules: every read of a credential is recorded, and never with its value.

CONVENTIONS, "Audit": reads are recorded where they happen (the Kubernetes API
server, a Vault audit device, GCP Data Access logs for Secret Manager and the
Kubernetes API). Admin Activity logs are always on; Data Access logs are off until
a project's audit config turns them on, so a prd stack (and any stack not named
after a non-prd environment) that manages GCP resources must turn them on with
DATA_READ for both services, exempting no one; a prd stack that applies Vault's side
(pulumi-vault resources) must enable an audit device. An audit device never logs
raw values (``log_raw``) or plain token accessors, in any environment.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from secrets_platform.policies.support import (
    MANDATORY,
    Resource,
    UnknownAtPreview,
    entries,
    fails_closed,
    known,
    resource_rule,
    show,
    stack_rule,
)

AUDIT_CONFIG = "gcp:projects/iAMAuditConfig:IAMAuditConfig"
VAULT_AUDIT = "vault:index/audit:Audit"
# The services whose Data Access logs record credential reads (secrets_platform/components/audit.py turns them on).
REQUIRED_SERVICES = {
    "secretmanager.googleapis.com": "Secret Manager (AccessSecretVersion)",
    "container.googleapis.com": "the Kubernetes API of GKE (k8s.io reads of Secrets)",
}
ALL_SERVICES = "allServices"
REQUIRED_LOG_TYPE = "DATA_READ"


def _data_read_services(configs: list[Resource]) -> set[str]:
    """Services whose DATA_READ logs some audit config turns on for everyone (no exempted member)."""
    on: set[str] = set()
    for r in configs:
        service = known(r.get("service"), "service")
        for where, item in entries(r.get("auditLogConfigs"), "auditLogConfigs"):
            item = known(item, where)
            if not isinstance(item, Mapping) or item.get("logType") != REQUIRED_LOG_TYPE:
                continue
            if item.get("exemptedMembers"):
                continue  # reads by the exempted identities would go unrecorded: not on for everyone
            if isinstance(service, str):
                on.add(service)
    if ALL_SERVICES in on:
        on |= set(REQUIRED_SERVICES)
    return on


@stack_rule("audit-stack-prd-logs-on", MANDATORY)
def prd_logs_on(resources: list[Resource], config: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
    """A prd stack that manages GCP resources turns on Data Access audit logs (DATA_READ, nobody exempted) for Secret Manager and the Kubernetes Engine API; one that applies Vault's side enables a Vault audit device.

    A prd stack with GCP resources turns on DATA_READ for both services; with pulumi-vault resources, an audit device.
    """
    env = next((r.env for r in resources if r.stack), None)
    if not fails_closed(env):
        return
    where = f"the {env} stack" if env else "a stack not named after an environment (treated as prd)"
    gcp = [r for r in resources if r.type.startswith("gcp:")]
    if gcp:
        on = _data_read_services([r for r in gcp if r.type == AUDIT_CONFIG])
        for service, what in sorted(REQUIRED_SERVICES.items()):
            if service not in on:
                yield (
                    f"{where} manages GCP resources but does not turn on the Data Access audit logs ({REQUIRED_LOG_TYPE}, no "
                    f"exempted members) of {show(service)}, so reads of {what} are not recorded. Keep the stack's "
                    "projects.IAMAuditConfig from secrets_platform/components/audit.py (resolved by secrets_platform/model/stack.py audit_spec).",
                    None,
                )
    applies_vault = any(r.type.startswith("vault:") for r in resources)
    if applies_vault and not any(r.type == VAULT_AUDIT for r in resources):
        yield (
            f"{where} applies Vault's side with pulumi-vault but enables no Vault audit device, so reads of Vault paths and "
            "database leases are not recorded. Keep the stack's vault.Audit from secrets_platform/components/audit.py.",
            None,
        )


@resource_rule("audit-vault-device-hmac", MANDATORY, frozenset({VAULT_AUDIT}))
def vault_device_hmac(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """A Vault audit device never logs values or token accessors in the clear (no log_raw, hmac_accessor kept).

    A Vault audit device HMACs values and accessors (``log_raw`` off, ``hmac_accessor`` not off).
    """
    options = r.get("options")
    if options is not None and not isinstance(options, Mapping):
        raise UnknownAtPreview("options", "it is not a map the pack can read")
    options = options or {}
    raw = known(options.get("log_raw"), "options.log_raw")
    accessor = known(options.get("hmac_accessor"), "options.hmac_accessor")
    if str(raw).lower() in ("true", "1", "t", "yes"):
        yield (
            f"{r.describe()} sets log_raw, so every secret value read through Vault lands in its log in the clear. "
            "Remove log_raw (Vault HMACs values by default)."
        )
    if accessor is not None and str(accessor).lower() in ("false", "0", "f", "no"):
        yield (
            f"{r.describe()} sets hmac_accessor false, so token accessors (which can look up and revoke tokens) are logged "
            "in the clear. Remove hmac_accessor."
        )


POLICIES = [prd_logs_on, vault_device_hmac]
