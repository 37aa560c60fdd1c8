"""Config of the vault-database backend: every mistake is one ConfigError naming the key, the value and the fix.

The connection of dev/stg/prd is secret config: its password (and with it any value of
the key) is never echoed.
"""

from __future__ import annotations

from typing import Any

import pytest
from support import base_config

from secrets_platform import settings
from secrets_platform.settings import ConfigError

VAULT = {"enabled": True, "chartVersion": "0.34.1", "mount": "floe"}
DB: dict[str, Any] = {
    "service": "warehouse",
    "backend": "vault-database",
    "namespaces": ["dagster"],
    "properties": {"WAREHOUSE_USER": "username", "WAREHOUSE_PASSWORD": "password"},
    "database": {"grantRoles": ["analytics_read"], "defaultTtl": "30m", "maxTtl": "8h"},
}
PASSWORD = "s3cret-db-admin-password-9f2"
CONNECTION = {
    "warehouse": {
        "url": "postgresql://warehouse.internal:5432/analytics?sslmode=verify-full",
        "username": "vault_admin",
        "password": PASSWORD,
    }
}


def cfg(env: str, cred=DB, connections=None, **overrides):
    c = base_config(env, **{"vault": VAULT, **overrides})
    c["credentials"] = c["credentials"] + [cred]
    if connections is not None:
        c["databaseConnections"] = connections
    return c


def ok(env: str = "prd", cred=DB, connections=CONNECTION, secret=True, **overrides) -> settings.Settings:
    return settings.from_mapping(cfg(env, cred, connections, **overrides), {"databaseConnections"} if secret else set(), env, {})


def expect(*needles: str, **kwargs) -> str:
    with pytest.raises(ConfigError) as exc:
        ok(**kwargs)
    text = str(exc.value)
    for needle in needles:
        assert needle in text, f"{needle!r} not in:\n{text}"
    assert "Fix:" in text and PASSWORD not in text
    return text


def with_db(**database):
    return {**DB, "database": {**DB["database"], **database}}


def test_a_valid_bundle_in_prd_and_local():
    s = ok("prd")
    cred = next(c for c in s.config.credentials if c.service == "warehouse")
    assert cred.database is not None
    assert cred.database.grant_roles == ["analytics_read"] and cred.database.default_ttl == "30m"
    assert s.config.database_connections["warehouse"].password.get_secret_value() == PASSWORD
    local = ok("local", connections=None, secret=False)
    assert local.config.vault.database_mount == "database"


def test_defaults_when_the_bundle_sets_no_database_section():
    from secrets_platform.settings.vault_database import database_of

    s = ok("prd", cred={k: v for k, v in DB.items() if k != "database"})
    db = database_of(next(c for c in s.config.credentials if c.service == "warehouse"))
    assert (db.plugin, db.grant_roles, db.default_ttl, db.max_ttl) == ("postgresql", [], "1h", "24h")


def test_needs_vault():
    expect("credentials[", "needs Vault", "vault.enabled: true", vault={"enabled": False})


@pytest.mark.parametrize(
    "extra, needle",
    [
        ({"values": {"WAREHOUSE_HOST": "db"}}, "holds no value of its own"),
        ({"generated": [{"key": "WAREHOUSE_TOKEN"}]}, "holds no value of its own"),
    ],
)
def test_holds_no_values(extra, needle):
    expect(needle, cred={**DB, **extra})


@pytest.mark.parametrize(
    "properties, needle",
    [
        ({}, "neither the user nor its password"),
        ({"WAREHOUSE_USER": "username", "WAREHOUSE_PASSWORD": "passwd"}, "names no half of an issued database user"),
        ({"WAREHOUSE_USER": "username"}, "maps no key to password"),
    ],
)
def test_properties_map_both_halves(properties, needle):
    expect(needle, cred={**DB, "properties": properties})


@pytest.mark.parametrize(
    "database, needle",
    [
        ({"grantRoles": ["Analytics Read"]}, "is not a plain PostgreSQL role name"),
        ({"grantRoles": ['x"; DROP TABLE t; --']}, "is not a plain PostgreSQL role name"),
        ({"grantRoles": ["pg_execute_server_program"]}, "as good as superuser"),
        ({"grantRoles": ["analytics_read", "analytics_read"]}, "is listed twice"),
        ({"defaultTtl": "2d"}, "is not a lease length"),
        ({"maxTtl": "soon"}, "is not a lease length"),
        ({"defaultTtl": "9h", "maxTtl": "8h"}, "is longer than database.maxTtl"),
        ({"defaultTtl": "2h", "maxTtl": "8h"}, "Vault revokes the user when the login token that leased it expires"),
        ({"plugin": "mysql"}, "use postgresql"),
    ],
)
def test_database_settings(database, needle):
    expect(needle, cred=with_db(**database))


def test_database_section_only_on_its_backend():
    expect("only applies to backend vault-database", cred={**DB, "backend": "vault", "properties": {"WAREHOUSE_TOKEN": "token"}})


def test_database_mount_is_its_own():
    expect("vault.databaseMount", "is also the KV mount", vault={**VAULT, "databaseMount": "floe"})
    expect("vault.databaseMount", "is not a plain mount name", vault={**VAULT, "databaseMount": "db/prd"})


def test_prd_needs_the_connection():
    expect(
        "databaseConnections.warehouse",
        "is missing",
        "pulumi config set --secret --path 'databaseConnections.warehouse.password'",
        connections={},
    )


def test_local_refuses_a_connection():
    expect("databaseConnections", "local cluster's PostgreSQL", env="local", cred=DB)


def test_a_connection_for_no_bundle_is_refused():
    expect("databaseConnections.other", "names no vault-database bundle", connections={**CONNECTION, "other": CONNECTION["warehouse"]})


@pytest.mark.parametrize(
    "url, needle",
    [
        ("mysql://db:3306/x?sslmode=require", "is not a postgresql:// URL"),
        ("postgresql://db:5432/analytics", "connects without TLS (sslmode=unset)"),
        ("postgresql://db:5432/analytics?sslmode=disable", "connects without TLS (sslmode=disable)"),
        ("postgresql://db:5432/?sslmode=require", "names no database"),
        ("postgresql://db:notaport/x?sslmode=require", "has a port that is not a number"),
    ],
)
def test_connection_urls(url, needle):
    expect(needle, connections={"warehouse": {**CONNECTION["warehouse"], "url": url}})


def test_user_info_in_the_url_is_refused_without_echoing_it():
    text = expect(
        "carries user-info",
        connections={"warehouse": {**CONNECTION["warehouse"], "url": f"postgresql://admin:{PASSWORD}x@db/analytics?sslmode=require"}},
    )
    assert f"{PASSWORD}x" not in text


@pytest.mark.parametrize(
    "url, needle",
    [
        # What hypothesis found: a second URL pasted after a newline makes the first "host" the text before it.
        (f"postgresql://{PASSWORD}\npostgresql://", "has a host that is not a host name"),
        (f"postgresql://db:{PASSWORD}/x?sslmode=require", "has a port that is not a number"),
        (f"postgresql://db/x?sslmode={PASSWORD}", "connects without TLS (sslmode=<not a libpq mode>)"),
        ("postgresql://db:987654321/x?sslmode=require", "has a port out of range (1 to 65535)"),
    ],
)
def test_what_stands_where_a_host_port_or_sslmode_should_is_not_echoed(url, needle):
    text = expect(needle, connections={"warehouse": {**CONNECTION["warehouse"], "url": url}})
    assert PASSWORD not in text and "987654321" not in text


def test_an_empty_password_is_named():
    expect("databaseConnections.warehouse.password", "is empty", connections={"warehouse": {**CONNECTION["warehouse"], "password": ""}})


def test_a_plain_text_connection_is_refused():
    text = expect("databaseConnections", "stored in plain text", "databaseConnections.<service>.password", secret=False)
    assert PASSWORD not in text


def test_vault_connection_url_template():
    from secrets_platform.settings.vault_database import connection_url_template

    assert connection_url_template("postgresql://db.internal:5432/analytics?sslmode=verify-full") == (
        "postgresql://{{username}}:{{password}}@db.internal:5432/analytics?sslmode=verify-full"
    )
