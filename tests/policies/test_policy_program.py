"""The real program, run under the shared test mocks for every stack, passes the whole pack.

Uses the harness in tests/support.py (``run_program``, ``stack_settings``): the
mock monitor records each registration's inputs in the engine's wire form, which is
exactly what the pack sees, and the ``protect`` option of each registration, so
``safety-object-prd-protected`` runs too. Like the engine
(pkg/resource/deploy/step_generator.go, ``getProviderResource``), each resource is
sent with the inputs of the provider it is registered on: the explicit provider it
names, else the engine's default provider of its package (``default_<version>``,
no inputs). Every type registered must be one the pack allow-lists.
"""

from __future__ import annotations

from typing import Any

import mocks
import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from secrets_platform.policies.rules import ALL_POLICIES, coverage

STACKS = ["local", "dev", "stg", "prd"]


class ProviderRecordingMonitor(mocks.RecordingMonitor):
    """The shared monitor, also keeping each registration's provider reference (``<urn>::<id>``)."""

    providers: dict[str, str] = {}

    def RegisterResource(self, request):  # noqa: N802
        response = super().RegisterResource(request)
        ProviderRecordingMonitor.providers[response.urn] = request.provider
        return response


def _run(settings, monkeypatch):
    import support  # tests/support.py: the program's own harness

    ProviderRecordingMonitor.providers = {}
    monkeypatch.setattr(mocks, "RecordingMonitor", ProviderRecordingMonitor)
    run = support.run_program(settings)
    assert run.resources, "the program registered nothing"
    return run, dict(ProviderRecordingMonitor.providers)


def _provider(r, refs: dict[str, str], by_urn: dict[str, Any]) -> PolicyProviderResource | None:
    import support

    if r.type.startswith("pulumi:providers:"):
        return None
    ref = refs.get(r.urn) or ""
    urn = ref.rsplit("::", 1)[0] if ref else ""
    if urn in by_urn:
        p = by_urn[urn]
        return PolicyProviderResource(p.type, unknown_checking_proxy(support.unwrap(p.inputs)), p.urn, p.name)
    package = r.type.split(":", 1)[0]
    if package.startswith("secrets-platform") or package == "pulumi":
        return None  # the program's own components: no provider
    stack = r.urn.split("::", 1)[0].removeprefix("urn:pulumi:")
    name = "default_4_0_0"
    return PolicyProviderResource(
        f"pulumi:providers:{package}",
        unknown_checking_proxy({}),
        f"urn:pulumi:{stack}::secrets-platform::pulumi:providers:{package}::{name}",
        name,
    )


def pack_violations(run, refs: dict[str, str]) -> list[str]:
    import support

    def opts(r):
        return PolicyResourceOptions(r.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)

    by_urn = {r.urn: r for r in run.resources}
    violations: list[str] = []

    def report_as(prefix: str) -> ReportViolation:
        return lambda message, urn: violations.append(f"{prefix}: {message}")

    for r in run.resources:
        props = support.unwrap(r.inputs)
        provider = _provider(r, refs, by_urn)
        for policy in ALL_POLICIES:
            if isinstance(policy, StackValidationPolicy):
                continue
            assert isinstance(policy, ResourceValidationPolicy), policy.name
            args = ResourceValidationArgs(r.type, unknown_checking_proxy(props), r.urn, r.name, opts(r), provider, {})
            policy.validate(args, report_as(f"{policy.name} {r.urn}"))
    resources = [
        PolicyResource(
            r.type, unknown_checking_proxy(support.unwrap(r.inputs)), r.urn, r.name, opts(r), _provider(r, refs, by_urn), None, [], {}
        )
        for r in run.resources
    ]
    for policy in ALL_POLICIES:
        if isinstance(policy, StackValidationPolicy):
            policy.validate(StackValidationArgs(resources), report_as(policy.name))
    return violations


@pytest.mark.parametrize("stack", STACKS)
def test_program_passes_every_policy(stack, monkeypatch):
    import support

    run, refs = _run(support.stack_settings(stack), monkeypatch)
    assert pack_violations(run, refs) == []


def full_settings(env: str):
    """Every kind of resource the program can register: each backend, pull and TLS Secrets, an import, Vault with an
    address and a database connection, on the stack's explicit provider."""
    from support import base_config, pem

    from secrets_platform import settings

    vault_address = f"https://vault.{env}.example.internal:8200"
    cfg = base_config(
        env,
        registries=[{"service": "ghcr", "server": "ghcr.io", "username": "bot", "password": "x", "namespaces": ["dagster", "floe-jobs"]}],
        tlsSecrets=[
            {"service": "dagster-web", "certificate": pem("CERTIFICATE"), "privateKey": pem("PRIVATE KEY"), "namespaces": ["dagster"]}
        ],
        gcp={"project": "example-data-platform"},
        externalSecrets={"enabled": True, "chartVersion": "2.9.0"},
        vault={"enabled": True, "chartVersion": "0.34.1", "mount": "floe", "address": vault_address},
    )
    if env != "local":
        cfg["kubernetes"] = {"context": f"gke_example-data-platform_europe-west1_data-{env}"}
        cfg["gcp"].update(clusterName=f"data-{env}", region="europe-west1")
    cfg["credentials"] += [
        {
            "service": "polaris",
            "backend": "gcp-secret-manager",
            "namespaces": ["floe-jobs"],
            "properties": {"POLARIS_CLIENT_SECRET": "client_secret"},
        },
        {
            "service": "cube",
            "backend": "gcp-secret-manager",
            "push": True,
            "namespaces": ["dagster"],
            "generated": [{"key": "CUBE_API_SECRET"}],
        },
        {"service": "salesforce", "backend": "vault", "namespaces": ["floe-jobs"], "properties": {"SALESFORCE_TOKEN": "token"}},
        {
            "service": "warehouse",
            "backend": "vault-database",
            "namespaces": ["dagster"],
            "properties": {"WAREHOUSE_USER": "username", "WAREHOUSE_PASSWORD": "password"},
            "database": {"grantRoles": ["analytics_read"], "defaultTtl": "30m", "maxTtl": "8h"},
        },
    ]
    cfg["databaseConnections"] = {
        "warehouse": {
            "url": f"postgresql://warehouse-{env}.internal:5432/analytics?sslmode=verify-full",
            "username": "vault_admin",
            "password": "x",
        }
    }
    if env == "local":  # local talks to neither GCP nor a Vault address; its database is the local cluster's
        for key in ("gcp", "databaseConnections"):
            cfg.pop(key)
        del cfg["vault"]["address"]
    environ = {"DAGSTER_SECRET_SLACK_TOKEN": "imported-value"}
    return settings.from_mapping(cfg, {"registries", "tlsSecrets", "databaseConnections"}, env, environ)


@pytest.mark.parametrize("stack", STACKS)
def test_every_kind_of_resource_the_program_registers_passes_every_policy(stack, monkeypatch):
    run, refs = _run(full_settings(stack), monkeypatch)
    types = {r.type for r in run.resources}
    if stack != "local":
        for expected in ("vault:index/policy:Policy", "vault:database/secretBackendConnection:SecretBackendConnection"):
            assert expected in types, sorted(types)
    assert pack_violations(run, refs) == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_type_the_program_registers_is_allow_listed(stack, monkeypatch):
    """The allow-list holds what the program registers, nothing by accident: each type's row says what judges it."""
    import support

    for settings in (support.stack_settings(stack), full_settings(stack)):
        run, _ = _run(settings, monkeypatch)
        assert {r.type for r in run.resources} - set(coverage.ALLOWED) == set()
