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


LOCAL_POSTGRES = ("--set", "host=127.0.0.1", "--set", "port=5432", "--set", "dbname=pipelines", "--set", "schema=public")


def test_a_vault_database_bundle_gets_a_postgres_profile_of_its_leased_user(tmp_path):
    """No Secret holds a vault-database bundle: user and password are the keys the agent renders from one lease."""
    result = invoke(make_app(), "dbt-profile", "--stack", "local", "--from", "file", "--credential", "warehouse", *LOCAL_POSTGRES)
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(result.stdout)
    out = doc["default"]["outputs"]["local"]
    assert out["type"] == "postgres"
    assert out["user"] == "{{ env_var('WAREHOUSE_USER') }}" and out["password"] == "{{ env_var('WAREHOUSE_PASSWORD') }}"
    assert (out["host"], out["port"], out["dbname"], out["schema"]) == ("127.0.0.1", 5432, "pipelines", "public")
    assert "database/creds/warehouse-local" in result.stdout and "/vault/secrets/warehouse-database.env" in result.stdout
    f = tmp_path / "profiles.yml"
    f.write_text(result.stdout)
    checked = invoke(make_app(), "validate", "--stack", "local", "--from", "file", str(f))
    assert checked.exit_code == 0, checked.output


def test_a_vault_database_bundle_by_its_bundle_name_and_with_its_keys_mapped():
    result = invoke(
        make_app(),
        "dbt-profile",
        "--stack",
        "local",
        "--from",
        "file",
        "--credential",
        "warehouse-local-credentials",
        "--map",
        "user=WAREHOUSE_PASSWORD",
        "--map",
        "password=WAREHOUSE_USER",
        *LOCAL_POSTGRES,
    )
    assert result.exit_code == 0, result.output
    out = yaml.safe_load(result.stdout)["default"]["outputs"]["local"]
    assert out["user"] == "{{ env_var('WAREHOUSE_PASSWORD') }}", "--map wins over the default fields"


def test_a_vault_database_bundle_names_what_is_missing_and_refuses_another_adapter():
    result = invoke(make_app(), "dbt-profile", "--stack", "local", "--from", "file", "--credential", "warehouse")
    assert result.exit_code == 2 and "a postgres profile needs host, port, dbname, schema" in result.stderr
    other = invoke(make_app(), "dbt-profile", "--stack", "local", "--from", "file", "--credential", "warehouse", "--type", "snowflake")
    assert other.exit_code == 2 and "vault-database bundle" in other.stderr


def test_vault_database_fields_come_from_the_connection_url():
    from secrets_platform.cli.dbt_profile import vault_database_defaults

    mapping, literals = vault_database_defaults(
        {"WH_LOGIN": "username", "WH_SECRET": "password"}, "postgresql://warehouse.internal:6432/analytics?sslmode=verify-full"
    )
    assert mapping == {"user": "WH_LOGIN", "password": "WH_SECRET"}
    assert literals == {"host": "warehouse.internal", "port": "6432", "dbname": "analytics", "sslmode": "verify-full"}


def test_unknown_credential_lists_vault_database_bundles_too():
    result = invoke(make_app(), "dbt-profile", "--stack", "local", "--from", "file", "--credential", "oracle")
    assert result.exit_code == 2 and "warehouse-local-credentials" in result.stderr
