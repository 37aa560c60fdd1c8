"""vault-database bundles under mocks: Vault's database side, the namespace policies, the consumer snippets, the outputs.

What the mocks can't show (a lease, a login, a query) is the e2e tier's
(tests/e2e/test_vault_database_e2e.py) and tests/localcluster/test_postgres.py's.
"""

from __future__ import annotations

import json

from support import base_config, is_secret, run_program, stack_settings, unwrap

from secrets_platform import settings

MOUNT = "vault:index/mount:Mount"
CONNECTION = "vault:database/secretBackendConnection:SecretBackendConnection"
ROLE = "vault:database/secretBackendRole:SecretBackendRole"
PASSWORD = "db-admin-password-never-shown-71c"
DB = {
    "service": "warehouse",
    "backend": "vault-database",
    "namespaces": ["dagster", "floe-jobs"],
    "properties": {"WAREHOUSE_USER": "username", "WAREHOUSE_PASSWORD": "password"},
    "database": {"grantRoles": ["analytics_read"], "defaultTtl": "30m", "maxTtl": "8h"},
}
URL = "postgresql://warehouse.internal:5432/analytics?sslmode=verify-full"


def prd(address: str | None = "https://vault.prd.example.internal:8200", url: str = URL) -> settings.Settings:
    cfg = base_config("prd", vault={"enabled": True, "chartVersion": "0.34.1", "mount": "floe", "address": address})
    cfg["credentials"].append(DB)
    cfg["databaseConnections"] = {"warehouse": {"url": url, "username": "vault_admin", "password": PASSWORD}}
    return settings.from_mapping(cfg, {"databaseConnections"}, "prd", {})


def test_with_an_address_pulumi_vault_gets_the_mount_the_connection_and_the_role():
    run = run_program(prd())
    (mount,) = run.of_type(MOUNT)
    assert (mount.inputs["path"], mount.inputs["type"]) == ("database", "database")
    (conn,) = run.of_type(CONNECTION)
    assert conn.inputs["name"] == "warehouse-prd" and conn.inputs["allowedRoles"] == ["warehouse-prd"]
    assert conn.inputs["verifyConnection"] is True
    # the password makes the whole connection block a secret in the state
    assert is_secret(conn.inputs["postgresql"]), "the database password must reach the state as a secret"
    pg = unwrap(conn.inputs["postgresql"])
    assert pg["connectionUrl"] == "postgresql://{{username}}:{{password}}@warehouse.internal:5432/analytics?sslmode=verify-full"
    assert pg["username"] == "vault_admin"
    assert unwrap(pg["password"]) == PASSWORD
    (role,) = run.of_type(ROLE)
    assert (role.inputs["name"], role.inputs["dbName"], role.inputs["defaultTtl"], role.inputs["maxTtl"]) == (
        "warehouse-prd",
        "warehouse-prd",
        1800,
        28800,
    )
    assert role.inputs["creationStatements"] == [
        "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
        'GRANT "analytics_read" TO "{{name}}";',
    ]
    assert role.inputs["revocationStatements"] == ['DROP ROLE IF EXISTS "{{name}}";']


def test_without_an_address_nothing_is_applied_and_the_outputs_describe_it_without_the_password():
    run = run_program(prd(address=None))
    assert not run.of_type(MOUNT) and not run.of_type(CONNECTION) and not run.of_type(ROLE)
    out = run.outputs["vault"]
    (db,) = out["databases"]
    assert (db["credsPath"], db["connection"], db["roleName"], db["mount"]) == (
        "database/creds/warehouse-prd",
        "warehouse-prd",
        "warehouse-prd",
        "database",
    )
    assert (db["connectionUrl"], db["connectionUsername"]) == (URL, "vault_admin")
    assert db["passwordFrom"] == "secret config databaseConnections.warehouse.password"
    assert db["namespaces"] == ["dagster-prd", "floe-jobs-prd"] and db["keys"] == ["WAREHOUSE_PASSWORD", "WAREHOUSE_USER"]
    assert db["dbtProfile"] == {
        "type": "postgres",
        "user": "{{ env_var('WAREHOUSE_USER') }}",
        "password": "{{ env_var('WAREHOUSE_PASSWORD') }}",
        "host": "warehouse.internal",
        "port": 5432,
        "dbname": "analytics",
    }
    assert PASSWORD not in json.dumps(run.outputs)


def test_the_dbt_profile_names_the_server_libpq_would_reach():
    """?host=, ?port= and ?dbname= override the URL's parts, as libpq (and so dbt's psycopg) reads them."""
    url = "postgresql://ignored.internal:6000/ignored?host=warehouse%2Einternal&port=6432&dbname=analytics&sslmode=require"
    (db,) = run_program(prd(address=None, url=url)).outputs["vault"]["databases"]
    assert (db["dbtProfile"]["host"], db["dbtProfile"]["port"], db["dbtProfile"]["dbname"]) == ("warehouse.internal", 6432, "analytics")


def test_each_listed_namespace_reads_exactly_its_database_users():
    out = run_program(prd(address=None)).outputs["vault"]
    policies = {p["namespace"]: p for p in out["policies"]}
    assert set(policies) == {"dagster-prd", "floe-jobs-prd"}, "dagster has only the database bundle and still gets a policy"
    for ns in ("dagster-prd", "floe-jobs-prd"):
        assert 'path "database/creds/warehouse-prd" {\n  capabilities = ["read"]\n}' in policies[ns]["hcl"]
        assert policies[ns]["databases"] == ["warehouse"]
        assert "*" not in policies[ns]["hcl"]
    assert "database/" not in json.dumps([p["hcl"] for p in out["policies"] if p["namespace"] not in policies])
    roles = {r["boundServiceAccountNamespaces"][0] for r in out["roles"]}
    assert roles == {"dagster-prd", "floe-jobs-prd"}


def test_the_snippet_renders_one_env_file_from_one_lease():
    out = run_program(prd(address=None)).outputs["vault"]
    snippet = out["databases"][0]["consumers"]["dagster-prd"]
    ann = snippet["podAnnotations"]
    assert ann["vault.hashicorp.com/role"] == "job-runner-dagster-prd"
    secrets = [k for k in ann if k.startswith("vault.hashicorp.com/agent-inject-secret-")]
    assert secrets == ["vault.hashicorp.com/agent-inject-secret-warehouse-database.env"], "one file, so user and password share a lease"
    assert ann[secrets[0]] == "database/creds/warehouse-prd"
    template = ann["vault.hashicorp.com/agent-inject-template-warehouse-database.env"]
    assert template == (
        '{{- with secret "database/creds/warehouse-prd" -}}\n'
        "WAREHOUSE_PASSWORD='{{ .Data.password }}'\nWAREHOUSE_USER='{{ .Data.username }}'\n{{- end }}"
    )
    assert snippet["envFile"] == "/vault/secrets/warehouse-database.env"
    assert snippet["files"] == {
        "WAREHOUSE_PASSWORD": "/vault/secrets/warehouse-database.env",
        "WAREHOUSE_USER": "/vault/secrets/warehouse-database.env",
    }
    assert snippet["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]["audience"] == "vault"


def test_the_local_stack_describes_its_database_as_the_local_clusters():
    out = run_program(stack_settings("local")).outputs["vault"]
    (db,) = out["databases"]
    assert db["service"] == "warehouse" and db["namespaces"] == ["dagster-local"]
    assert db["connectionUrl"] is None and "local cluster's PostgreSQL" in db["passwordFrom"]
    assert db["grantRoles"] == ["pg_read_all_data"]


def test_a_stack_without_database_bundles_has_an_empty_list():
    out = run_program(stack_settings("dev")).outputs["vault"]
    assert out["databases"] == []
