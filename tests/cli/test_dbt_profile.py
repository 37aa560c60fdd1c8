"""`secrets-platform dbt-profile`: credentials only as env_var() of keys the stack has (floe's compile flow)."""

from __future__ import annotations

import yaml

from cli_support import invoke, make_app

BASE = (
    "dbt-profile",
    "--stack",
    "local",
    "--credential",
    "snowflake",
    "--set",
    "database=ANALYTICS",
    "--set",
    "warehouse=TRANSFORMING",
    "--set",
    "schema=dbt",
    "--profile",
    "floe",
)


def test_profile_is_env_var_only_and_validates(tmp_path):
    result = invoke(make_app(), *BASE)
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(result.stdout)
    out = doc["floe"]["outputs"]["local"]
    assert doc["floe"]["target"] == "local"
    assert out["type"] == "snowflake"
    assert out["password"] == "{{ env_var('SNOWFLAKE_PASSWORD') }}"
    assert out["account"] == "{{ env_var('SNOWFLAKE_ACCOUNT') }}" and out["user"] == "{{ env_var('SNOWFLAKE_USER') }}"
    assert out["database"] == "ANALYTICS" and out["threads"] == 4
    assert "local-dev" not in result.stdout and "svc_pipelines_local" not in result.stdout  # no value, not even fixed ones
    f = tmp_path / "profiles.yml"
    assert invoke(make_app(), *BASE, "--output", str(f)).exit_code == 0
    checked = invoke(make_app(), "validate", "--stack", "local", str(f))
    assert checked.exit_code == 0 and "All 3 references resolve" in checked.output


def test_map_to_a_missing_key_exits_2():
    result = invoke(make_app(), *BASE, "--map", "role=SNOWFLAKE_ROLE")
    assert result.exit_code == 2 and "has no key SNOWFLAKE_ROLE" in result.stderr


def test_credential_literal_refused():
    result = invoke(make_app(), *BASE, "--set", "private_key_passphrase=hunter2")
    assert result.exit_code == 2 and "must come from the stack" in result.stderr and "hunter2" not in result.output


def test_missing_required_fields_named():
    result = invoke(make_app(), "dbt-profile", "--stack", "local", "--credential", "snowflake")
    assert result.exit_code == 2 and "needs database, warehouse, schema" in result.stderr and "--set database=<value>" in result.stderr


def test_unknown_credential_exits_2():
    result = invoke(make_app(), "dbt-profile", "--stack", "local", "--credential", "oracle")
    assert result.exit_code == 2 and "no credential bundle oracle-local-credentials" in result.stderr
