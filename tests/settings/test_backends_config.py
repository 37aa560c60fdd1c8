"""Config of the External Secrets, GCP and Vault backends: every mistake is one ConfigError
naming the key, the value and the fix, before any resource exists."""

from __future__ import annotations

import pytest
from support import base_config

from secrets_platform import settings
from secrets_platform.settings import ConfigError

ESO = {"enabled": True, "chartVersion": "2.9.0"}
VAULT = {"enabled": True, "chartVersion": "0.34.1", "mount": "floe"}
GCP = {"project": "example-data-platform"}
SM_CRED = {
    "service": "polaris",
    "backend": "gcp-secret-manager",
    "namespaces": ["floe-jobs"],
    "properties": {"POLARIS_CLIENT_SECRET": "client_secret"},
}
VAULT_CRED = {"service": "salesforce", "backend": "vault", "namespaces": ["floe-jobs"], "properties": {"SALESFORCE_TOKEN": "token"}}


def cfg(env: str = "prd", creds=(), **overrides):
    c = base_config(env, **overrides)
    c["credentials"] = c["credentials"] + [dict(x) for x in creds]
    return c


def ok(env: str = "prd", creds=(), **overrides) -> settings.Settings:
    return settings.from_mapping(cfg(env, creds, **overrides), set(), env, {})


def expect(*needles: str, env: str = "prd", creds=(), **overrides) -> str:
    with pytest.raises(ConfigError) as exc:
        ok(env, creds, **overrides)
    text = str(exc.value)
    for needle in needles:
        assert needle in text, f"{needle!r} not in:\n{text}"
    assert "Fix:" in text
    return text


def test_valid_backends_in_prd_and_local():
    s = ok("prd", [SM_CRED, VAULT_CRED], gcp=GCP, externalSecrets=ESO, vault=VAULT)
    assert s.eso_install and s.vault_install and s.vault_ha
    assert s.vault_auth_path == "kubernetes-prd"
    local = ok("local", [SM_CRED, VAULT_CRED], externalSecrets={"enabled": True}, vault={"enabled": True})
    assert not local.eso_install and not local.vault_install


def test_backends_are_off_by_default_and_kubernetes_is_the_default_backend():
    s = ok("prd")
    assert not s.config.external_secrets.enabled and not s.config.vault.enabled
    assert s.config.credentials[0].backend == "kubernetes"
    assert s.config.external_secrets.refresh_interval == "1h"
    assert (s.config.vault.audience, s.config.vault.token_ttl, s.config.vault.token_max_ttl) == ("vault", 3600, 14400)


def test_gcp_secret_manager_credential_without_project():
    expect("secrets-platform:gcp.project", "is required", "gcp-secret-manager credentials", creds=[SM_CRED], externalSecrets=ESO)


def test_gcp_secret_manager_credential_without_external_secrets():
    expect("secrets-platform:credentials[1].backend", "'gcp-secret-manager'", "externalSecrets.enabled: true", creds=[SM_CRED], gcp=GCP)


def test_vault_credential_without_vault():
    expect("secrets-platform:credentials[1].backend", "'vault'", "vault.enabled: true", creds=[VAULT_CRED])


def test_unknown_backend():
    expect(
        "secrets-platform:credentials[1].backend", "'aws'", "kubernetes, gcp-secret-manager, vault", creds=[{**SM_CRED, "backend": "aws"}]
    )


@pytest.mark.parametrize("version", ["^2.10.0", "latest", "2.x", ">=0.34", "2.10"])
def test_unpinned_chart_version(version):
    expect(
        "secrets-platform:externalSecrets.chartVersion",
        repr(version),
        "exact version",
        gcp=GCP,
        externalSecrets={**ESO, "chartVersion": version},
    )
    expect("secrets-platform:vault.chartVersion", repr(version), vault={**VAULT, "chartVersion": version})


def test_missing_chart_version_when_installed():
    expect(
        "secrets-platform:externalSecrets.chartVersion",
        "is required when the chart is installed",
        gcp=GCP,
        externalSecrets={"enabled": True},
    )
    expect("secrets-platform:vault.chartVersion", "is required", vault={"enabled": True})


def test_no_chart_needed_when_not_installed():
    s = ok("dev", gcp=GCP, externalSecrets={"enabled": True, "install": False}, vault={"enabled": True, "install": False})
    assert not s.eso_install and not s.vault_install


@pytest.mark.parametrize("env", ["dev", "stg", "prd"])
def test_dev_mode_outside_local(env):
    expect("secrets-platform:vault.devMode", f"is true for {env}", "only local", env=env, vault={**VAULT, "devMode": True})


def test_dev_mode_in_local_is_allowed():
    assert ok("local", vault={"enabled": True, "devMode": True}).config.vault.dev_mode


@pytest.mark.parametrize("env", ["stg", "prd"])
def test_no_ha_in_stg_and_prd(env):
    expect("secrets-platform:vault.ha", "raft", env=env, vault={**VAULT, "ha": False})


def test_dev_defaults_to_a_single_server():
    assert not ok("dev", vault=VAULT).vault_ha


@pytest.mark.parametrize("replicas", [1, 2, 4])
def test_raft_needs_an_odd_quorum(replicas):
    expect("secrets-platform:vault.replicas", str(replicas), "3 or 5", vault={**VAULT, "replicas": replicas})


def test_helm_install_in_local():
    expect("secrets-platform:externalSecrets.install", "cannot fetch charts offline", env="local", externalSecrets={**ESO, "install": True})
    expect("secrets-platform:vault.install", env="local", vault={**VAULT, "install": True})


def test_local_never_talks_to_gcp_or_vault():
    expect("secrets-platform:gcp.project", "never talks to GCP", env="local", gcp=GCP, externalSecrets={"enabled": True})
    expect(
        "secrets-platform:vault.address", "never talks to Vault", env="local", vault={"enabled": True, "address": "http://127.0.0.1:8200"}
    )


def test_bad_project_and_address():
    expect("secrets-platform:gcp.project", "'Example Project'", gcp={"project": "Example Project"}, externalSecrets=ESO)
    expect("secrets-platform:vault.address", "'vault:8200'", "http(s)", vault={**VAULT, "address": "vault:8200"})


def test_cluster_name_needs_region():
    expect("secrets-platform:gcp.region", "clusterName", gcp={**GCP, "clusterName": "data-prd"}, externalSecrets=ESO)


def test_token_ttl_longer_than_max():
    expect("secrets-platform:vault.tokenTtl", "7200", "tokenMaxTtl", vault={**VAULT, "tokenTtl": 7200, "tokenMaxTtl": 3600})


def test_audience_wildcard_and_bad_mount():
    expect("secrets-platform:vault.audience", "'*'", vault={**VAULT, "audience": "*"})
    expect("secrets-platform:vault.mount", "'floe/prd'", vault={**VAULT, "mount": "floe/prd"})


def test_auth_path_of_another_environment():
    expect("secrets-platform:vault.authPath", "'kubernetes-dev'", vault={**VAULT, "authPath": "kubernetes-dev"})


def test_refresh_interval_is_a_duration():
    expect(
        "secrets-platform:externalSecrets.refreshInterval", "'hourly'", "1h", gcp=GCP, externalSecrets={**ESO, "refreshInterval": "hourly"}
    )


def test_push_and_properties_only_for_external_backends():
    cred = base_config()["credentials"][0]
    expect("secrets-platform:credentials[1].push", "gcp-secret-manager backend", creds=[{**cred, "service": "other", "push": True}])
    expect("secrets-platform:credentials[1].properties", "only applies", creds=[{**cred, "service": "other", "properties": {"A": "a"}}])


def test_values_without_push_never_reach_secret_manager():
    cred = {**SM_CRED, "generated": [{"key": "POLARIS_TOKEN"}]}
    expect(
        "secrets-platform:credentials[1].push", "would never reach Secret Manager", "push: true", creds=[cred], gcp=GCP, externalSecrets=ESO
    )


def test_push_with_generated_keys_is_valid():
    cred = {
        "service": "cube",
        "backend": "gcp-secret-manager",
        "push": True,
        "namespaces": ["dagster"],
        "generated": [{"key": "CUBE_API_SECRET"}],
    }
    s = ok("prd", [cred], gcp=GCP, externalSecrets=ESO)
    assert s.config.credentials[1].push


def test_vault_credentials_are_written_by_their_owner():
    expect(
        "secrets-platform:credentials[1].backend", "pushes nothing", creds=[{**VAULT_CRED, "generated": [{"key": "X_TOKEN"}]}], vault=VAULT
    )
    expect("secrets-platform:credentials[1].properties", "is empty", creds=[{**VAULT_CRED, "properties": {}}], vault=VAULT)


def test_property_keys_and_names():
    expect(
        "secrets-platform:credentials[1].properties.bad-key",
        "environment variable",
        creds=[{**SM_CRED, "properties": {"bad-key": "x"}}],
        gcp=GCP,
        externalSecrets=ESO,
    )
    expect(
        "secrets-platform:credentials[1].properties.A",
        "'a b'",
        creds=[{**SM_CRED, "properties": {"A": "a b"}}],
        gcp=GCP,
        externalSecrets=ESO,
    )


def test_operator_namespace_must_not_be_a_consumer_namespace():
    expect("secrets-platform:externalSecrets.namespace", "consumer namespace", gcp=GCP, externalSecrets={**ESO, "namespace": "dagster"})


def test_all_problems_in_one_error():
    text = expect(
        "vault.devMode",
        "vault.ha",
        "externalSecrets.chartVersion",
        "gcp.project",
        creds=[SM_CRED],
        externalSecrets={"enabled": True, "chartVersion": "latest"},
        vault={**VAULT, "devMode": True, "ha": False},
    )
    assert text.count("\n  - ") >= 4
