"""``dbt-profile``: a profiles.yml whose credentials are only ``env_var()`` references to keys of a bundle."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secrets_platform import conventions
from secrets_platform.cli import dbt_profile as dbt_mod
from secrets_platform.cli.catalog import Catalog
from secrets_platform.cli.errors import InputError
from secrets_platform.model import vault_names
from secrets_platform.settings.vault_database import BACKEND as VAULT_DATABASE


@dataclass(frozen=True)
class Options:
    """The profile's own flags: adapter type, profile and target names, --map, --set and threads."""

    adapter: str | None
    profile_name: str
    target: str | None
    maps: tuple[str, ...]
    sets: tuple[str, ...]
    threads: int


@dataclass(frozen=True)
class Profile:
    name: str
    """The bundle's name (<service>-<env>-credentials)."""
    text: str


def pairs(values: tuple[str, ...], flag: str) -> dict[str, str]:
    out = {}
    for v in values:
        if "=" not in v:
            raise InputError(f"{flag} {v!r}: expected FIELD=VALUE")
        k, _, val = v.partition("=")
        out[k.strip()] = val.strip()
    return out


def run(stack: str, cat: Catalog, credential: str, opts: Options) -> Profile:
    """The profile of bundle ``credential`` (service or bundle name) of ``stack``'s catalog."""
    name = cat.bundle_name(credential)
    copies = cat.named(name)
    mapping, literals = pairs(opts.maps, "--map"), pairs(opts.sets, "--set")
    adapter = opts.adapter
    if copies:
        secret, service = copies[0], copies[0].get("service") or conventions.parse_credentials_name(name).service
        defaults: tuple[dict[str, str], dict[str, str]] = ({}, {})
        note = dbt_mod.ENVFROM_NOTE
    else:
        database = _vault_database_bundle(cat, name)
        if database is None:
            bundles = sorted(cat.bundle_names() | set(_vault_database_names(cat)))
            raise InputError(
                f"no credential bundle {name} in stack {stack}: bundles are {', '.join(bundles) or '(none)'}",
                "pass --credential with one of them",
            )
        service, secret, defaults, note = database
        if (adapter or "postgres") != "postgres":
            raise InputError(
                f"--type {adapter}: {service} is a vault-database bundle, whose users Vault issues in PostgreSQL", "drop --type (postgres)"
            )
        adapter = "postgres"
    text = dbt_mod.profile(
        stack=stack,
        secret=secret,
        service=service,
        adapter=adapter or service,
        profile_name=opts.profile_name,
        target=opts.target or stack,
        mapping={**defaults[0], **mapping},
        literals={**{k: v for k, v in defaults[1].items() if k not in mapping}, **literals},
        threads=opts.threads,
        source=note,
    )
    return Profile(name, text)


def write(output: Path, text: str) -> None:
    if not output.parent.is_dir():
        raise InputError(
            f"--output {output}: folder {output.parent} does not exist", f"create it first (mkdir -p {output.parent}) or write elsewhere"
        )
    try:
        output.write_text(text)
    except OSError as err:
        raise InputError(
            f"--output {output}: cannot be written ({err.strerror or err.__class__.__name__})", "pass a writable file path"
        ) from None


def _vault_database_names(cat: Catalog) -> list[str]:
    return [
        conventions.credentials_name(c.service, cat.environment, checked=False)
        for c in cat.settings.config.credentials
        if c.backend == VAULT_DATABASE
    ]


def _vault_database_bundle(cat: Catalog, name: str) -> tuple[str, dict[str, Any], tuple[dict[str, str], dict[str, str]], str] | None:
    """A vault-database bundle called ``name`` (``<service>-<env>-credentials``): it has no Secret; its keys are the
    ones the Vault agent renders into the job's env file. (service, secret-like entry, default fields, source note)."""
    for cred in cat.settings.config.credentials:
        if cred.backend != VAULT_DATABASE or conventions.credentials_name(cred.service, cat.environment, checked=False) != name:
            continue
        conn = cat.settings.config.database_connections.get(cred.service)
        names = vault_names(cat.settings)
        creds_path = names.database_creds_path(cred.service)
        secret = {"name": name, "keys": sorted(cred.properties)}
        note = dbt_mod.vault_database_source(creds_path, conventions.vault_secrets_file(conventions.vault_database_env_file(cred.service)))
        return cred.service, secret, dbt_mod.vault_database_defaults(dict(cred.properties), conn.url if conn else None), note
    return None
