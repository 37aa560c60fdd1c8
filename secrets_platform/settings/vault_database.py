"""Rules of the vault-database backend: short-lived PostgreSQL users issued by Vault's database secrets engine.

A ``backend: vault-database`` bundle stores nothing: each job-runner login reads
``<databaseMount>/creds/<service>-<env>`` and gets a user of its own that Vault
creates with the bundle's grants and drops when the lease ends. What Vault
connects with comes from the local cluster's PostgreSQL in local
(``secrets_platform/localcluster/postgres.py``) and from the secret config ``databaseConnections``
in dev, stg and prd (docs/backends.md).
"""

from __future__ import annotations

import re
from typing import Callable
from urllib.parse import urlsplit

from secrets_platform.parsers import ParseError, conninfo
from secrets_platform.settings.model import DATABASE_PROPERTIES, StackConfig, VaultDatabase, parse_ttl
from secrets_platform.settings.problems import Problem, full_key

BACKEND = "vault-database"
# Unquoted PostgreSQL role names: what the creation statement can name without quoting tricks.
_PG_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}\Z")
# Predefined roles that reach the server's files or programs: as good as superuser, never granted.
_PG_FORBIDDEN_GRANTS = frozenset({"pg_execute_server_program", "pg_read_server_files", "pg_write_server_files"})
# A Vault mount or auth path: what the API takes as one path segment.
MOUNT_NAME = re.compile(r"^[a-z0-9][-a-z0-9_]*\Z")
# Outside local the connection is TLS only, as every other remote the platform reaches.
_TLS_SSLMODES = ("require", "verify-ca", "verify-full")
_PLAIN_SSLMODES = ("disable", "allow", "prefer")


def mount_name_problem(path: list[str], value: str, what: str, example: str) -> Problem | None:
    """The problem of a Vault mount setting at ``path`` that is not a plain mount name (None when it is)."""
    if MOUNT_NAME.match(value):
        return None
    return Problem(full_key(path), f"is not a plain {what}", f"use a-z, 0-9, '-' and '_' without slashes, e.g. {example}", value)


def database_of(cred) -> VaultDatabase:
    """The bundle's database settings, with the defaults when it sets none."""
    return cred.database or VaultDatabase()


def check(cfg: StackConfig, env: str, secret_keys: frozenset[str], add: Callable[[Problem], None]) -> None:
    """Every vault-database rule; problems of the secret ``databaseConnections`` never show their values."""
    vault = cfg.vault
    services: set[str] = set()
    for i, cred in enumerate(cfg.credentials):
        base = ["credentials", i]
        key = lambda *more, base=base: full_key(base + list(more))  # noqa: E731
        if cred.backend != BACKEND:
            if cred.database is not None:
                add(Problem(key("database"), f"only applies to backend {BACKEND}", f"remove it, or set backend: {BACKEND}", cred.backend))
            continue
        services.add(cred.service)
        if not vault.enabled:
            add(Problem(key("backend"), "needs Vault, which is off for this stack", "set vault.enabled: true", cred.backend))
        if cred.values or cred.generated or cred.push:
            add(
                Problem(
                    key("backend"),
                    "issues a new database user per login; the bundle holds no value of its own",
                    "remove `values`, `generated` and `push`, and map the user's two halves under `properties`",
                    cred.backend,
                )
            )
        _check_properties(cred, key, add)
        _check_database(database_of(cred), vault.token_ttl, key, add)

    if vault.enabled and (services or cfg.database_connections):
        bad_mount = mount_name_problem(["vault", "databaseMount"], vault.database_mount, "mount name", "database")
        if bad_mount:
            add(bad_mount)
        elif vault.database_mount == vault.mount:
            add(
                Problem(
                    full_key(["vault", "databaseMount"]),
                    "is also the KV mount (vault.mount), but a mount holds one secrets engine",
                    "give the database engine a mount of its own, e.g. database",
                    vault.database_mount,
                )
            )
    _check_connections(cfg, env, services, "databaseConnections" in secret_keys, add)


def _check_properties(cred, key, add) -> None:
    if not cred.properties:
        add(
            Problem(
                key("properties"),
                "is empty, so consumers would get neither the user nor its password",
                "map both: `WAREHOUSE_USER: username` and `WAREHOUSE_PASSWORD: password`",
            )
        )
        return
    for k, prop in sorted(cred.properties.items()):
        if prop not in DATABASE_PROPERTIES:
            add(Problem(key("properties", k), "names no half of an issued database user", "use username or password", prop))
    missing = [p for p in DATABASE_PROPERTIES if p not in cred.properties.values()]
    if missing:
        add(
            Problem(
                key("properties"),
                f"maps no key to {' and '.join(missing)}, so consumers could not log in",
                f"add a key for it, e.g. {cred.service.upper().replace('-', '_')}_{missing[0].upper()}: {missing[0]}",
            )
        )


def _check_database(db: VaultDatabase, token_ttl: int, key, add) -> None:
    seen: set[str] = set()
    for j, role in enumerate(db.grant_roles):
        k = key("database", "grantRoles", j)
        if not _PG_ROLE.match(role):
            add(Problem(k, "is not a plain PostgreSQL role name", "use lower-case a-z, 0-9 and '_', starting with a letter or '_'", role))
        elif role in _PG_FORBIDDEN_GRANTS:
            add(
                Problem(
                    k,
                    "reaches the database server's files or programs, as good as superuser",
                    "grant a role with the table privileges the jobs need instead",
                    role,
                )
            )
        elif role in seen:
            add(Problem(k, "is listed twice", "remove the duplicate", role))
        seen.add(role)
    default_ttl, max_ttl = parse_ttl(db.default_ttl), parse_ttl(db.max_ttl)
    if default_ttl > max_ttl:
        add(
            Problem(
                key("database", "defaultTtl"), f"is longer than database.maxTtl ({db.max_ttl})", "lower it or raise maxTtl", db.default_ttl
            )
        )
    if default_ttl > token_ttl:
        add(
            Problem(
                key("database", "defaultTtl"),
                f"is longer than vault.tokenTtl ({token_ttl} s): Vault revokes the user when the login token that leased it expires",
                "lower it to the token's TTL or less, or raise vault.tokenTtl",
                db.default_ttl,
            )
        )


def _check_connections(cfg: StackConfig, env: str, services: set[str], hidden: bool, add) -> None:
    """local: the local cluster's PostgreSQL, so none; elsewhere exactly one per vault-database bundle, TLS only."""
    connections = cfg.database_connections
    if env == "local":
        if connections:
            add(
                Problem(
                    full_key(["databaseConnections"]),
                    "is set for local, whose database is the local cluster's PostgreSQL (make up starts it)",
                    "remove it",
                    show_value=False,
                )
            )
        return
    for service in sorted(services - set(connections)):
        add(
            Problem(
                full_key(["databaseConnections", service]),
                f"is missing: the vault-database bundle {service} needs the database Vault connects to",
                f"set url and username, then the password with `pulumi config set --secret --path 'databaseConnections.{service}.password' -s {env}`",
            )
        )
    for service, conn in sorted(connections.items()):
        base = ["databaseConnections", service]
        if service not in services:
            add(
                Problem(
                    full_key(base),
                    "names no vault-database bundle of this stack",
                    "remove it, or declare the bundle with backend: vault-database",
                    show_value=False,
                )
            )
            continue
        _check_url(conn.url, full_key(base + ["url"]), hidden, add)
        if not conn.password.get_secret_value():
            add(
                Problem(
                    full_key(base + ["password"]),
                    "is empty",
                    f"set it with `pulumi config set --secret --path 'databaseConnections.{service}.password' -s {env}`",
                )
            )


def _credential_problem(url: str, params: dict[str, str], key: str) -> Problem | None:
    """A URL that carries a credential, a user or Vault's placeholders (its values are never shown)."""
    credentials = sorted(k for k in params if k in conninfo.SECRET_KEYWORDS)
    if not (credentials or "user" in params or "{{" in url):
        return None
    named = ", ".join(credentials + (["user"] if "user" in params else []))
    return Problem(
        key,
        f"carries user-info, a credential ({named}) or placeholders; Vault's connection user and password are keys of their own"
        if named
        else "carries placeholders; Vault fills in the issued user's name and password itself",
        "drop user:password@ and ?password=/passfile/sslpassword/user from the URL and set "
        "databaseConnections.<service>.username and .password (--secret)",
        show_value=False,
    )


def _check_url(url: str, key: str, hidden: bool, add) -> None:
    """The URL as libpq reads it (:mod:`parsers.conninfo`): a server, a database, TLS, and no credential anywhere.

    libpq takes a password from the user-info and from ``?password=`` (and a file of them from
    ``?passfile=``, a client key's passphrase from ``?sslpassword=``); every keyword outside the
    known set is refused, so nothing the check does not judge reaches Vault. A value is shown
    only when the URL carries no credential and the key is not secret.
    """
    fix = "give postgresql://host:5432/dbname?sslmode=verify-full"
    if not isinstance(url, str) or not url.startswith(conninfo.SCHEMES):
        add(Problem(key, "is not a postgresql:// URL", fix, url, not hidden))
        return
    try:
        params = conninfo.parse(url)
    except ParseError as err:
        add(Problem(key, str(err), fix, show_value=False))
        return
    credential = _credential_problem(url, params, key)
    if credential:
        add(credential)
        return
    unknown = sorted(set(params) - conninfo.ALLOWED_KEYWORDS)
    if unknown:
        add(
            Problem(
                key,
                f"sets libpq keywords the platform does not judge ({', '.join(unknown)})",
                f"remove them; allowed: {', '.join(sorted(conninfo.ALLOWED_KEYWORDS))}",
                show_value=False,
            )
        )
        return
    try:
        conninfo.database(url)
    except ParseError as err:
        add(Problem(key, str(err), fix, url, not hidden))
        return
    sslmode = params.get("sslmode", "")
    if sslmode not in _TLS_SSLMODES:
        # libpq's other modes are named; any other text is not echoed (it could be a pasted password)
        shown = sslmode if sslmode in _PLAIN_SSLMODES else "<not a libpq mode>" if sslmode else "unset"
        add(
            Problem(
                key,
                f"connects without TLS (sslmode={shown})",
                "add ?sslmode=verify-full (or require, verify-ca)",
                url,
                not hidden,
            )
        )


def connection_url_template(url: str) -> str:
    """Vault's connection_url: the configured URL with the ``{{username}}:{{password}}@`` Vault fills in."""
    parts = urlsplit(url)
    return parts._replace(netloc="{{username}}:{{password}}@" + parts.netloc).geturl()
