"""Resolve consumer references against a stack's catalog and say how to fix what does not resolve."""

from __future__ import annotations

from dataclasses import dataclass

from secrets_platform import conventions
from secrets_platform.cli.catalog import Catalog
from secrets_platform.cli.references import Reference
from secrets_platform.model.consumers import DOCKER_CONFIG_JSON, FLYTE_SECRETS_DIR, flyte_vault_field_problem

OK, FAIL, WARN = "ok", "fail", "warn"
MARK = {OK: "✓", FAIL: "✗", WARN: "!"}


@dataclass(frozen=True)
class Result:
    ref: Reference
    status: str
    detail: str
    fix: str | None = None


def resolve(ref: Reference, cat: Catalog) -> Result:
    if ref.unresolved:
        return Result(ref, FAIL, ref.unresolved, "use string literals or module-level string constants for group and key")
    if ref.secret is None:  # dbt: a key that envFrom of some Secret exposes
        found = cat.with_key(ref.key or "")
        if found:
            return Result(ref, OK, f"key of {_where(found)}")
        leased = [c for c in cat.settings.config.credentials if c.backend == "vault-database" and ref.key in c.properties]
        if leased:
            cred = leased[0]
            return Result(
                ref,
                OK,
                f"key of the env file the Vault agent renders for {cred.service} (a user leased from its vault-database role; "
                f"namespaces {', '.join(sorted(cat.settings.namespace(w) for w in cred.namespaces))})",
            )
        if ref.has_default:
            return Result(ref, WARN, f"in no Secret of {cat.stack}; dbt falls back to the default")
        return Result(ref, FAIL, f"NOT FOUND: no Secret of {cat.stack} has key {ref.key}", fix_missing_key(ref.key or "", cat, None))
    copies = cat.named(ref.secret)
    if not copies:
        vault = _vault_bundle(ref.secret, cat)
        if vault is not None:
            return _resolve_vault(ref, cat, vault)
        return Result(ref, FAIL, f"NOT FOUND in stack {cat.stack}", fix_missing_secret(ref.secret, cat, ref.key))
    if ref.pull and copies[0]["type"] != DOCKER_CONFIG_JSON:
        return Result(
            ref,
            FAIL,
            f"is {copies[0]['type']}, not a registry pull secret ({DOCKER_CONFIG_JSON})",
            f"declare a pull secret under secrets-platform:registries in {conventions.stack_file_name(cat.stack)}",
        )
    if ref.key is not None:
        if ref.key in copies[0]["keys"]:
            return Result(ref, OK, f"key of {_where(copies)}")
        other = [k for k in copies[0]["keys"] if k.lower() == ref.key.lower()]
        if other:
            return Result(
                ref,
                FAIL,
                f"{ref.secret} exists but has no key {ref.key} (did you mean {other[0]}? keys are case-sensitive)",
                f"in {ref.path}, reference key {other[0]} instead of {ref.key}",
            )
        return Result(ref, FAIL, f"{ref.secret} exists but has no key {ref.key}", fix_missing_key(ref.key, cat, ref.secret))
    return Result(ref, OK, f"exists in {', '.join(sorted(c['namespace'] for c in copies))}, {len(copies[0]['keys'])} keys")


def _vault_paths(mount: str, env: str, service: str) -> set[str]:
    """The group Flyte's Vault secret manager may name a bundle by: its KV path, or the KV v2 API path (the agent reads both)."""
    return {conventions.vault_path(mount, env, service), conventions.vault_kv_api_path(mount, env, service)}


def _vault_bundle(name: str, cat: Catalog):
    """The vault-backed bundle ``name`` means: its Secret-style name or its KV path ``<mount>/<env>/<service>``."""
    mount = getattr(getattr(cat.settings.config, "vault", None), "mount", None)
    for cred in cat.settings.config.credentials:
        if getattr(cred, "backend", "kubernetes") != "vault":
            continue
        names = {conventions.credentials_name(cred.service, cat.environment)}
        if mount:
            names |= _vault_paths(mount, cat.environment, cred.service)
        if name in names:
            return cred
    return None


def _resolve_vault(ref: Reference, cat: Catalog, cred) -> Result:
    """Vault-backed bundles are no Kubernetes Secret: the Vault agent injects them (Flyte's Vault secret manager).

    Flyte's injector renders ``{{ .Data.data.<key> }}`` of the entry at ``<group>`` into
    /etc/flyte/secrets/<group>/<key>, and flytekit reads that file with the key lower-cased: the key
    must be the KV field's own, lower-case name (``client_id``), never the platform's Secret-style key
    (``SALESFORCE_CLIENT_ID``, which renders ``<no value>``). It mounts files only (no ENV_VAR), and a
    group_version moves flytekit's file (``<group>/<version>/<key>``) away from the one the injector writes.
    """
    mount = cat.settings.config.vault.mount
    path = conventions.vault_path(mount, cat.environment, cred.service)
    if ref.kind != "flyte" or ref.secret not in _vault_paths(mount, cat.environment, cred.service):
        return Result(
            ref,
            FAIL,
            f"{cred.service} is vault-backed: no Kubernetes Secret {ref.secret} exists",
            f"read it through the Vault agent injector from {path} (stack output `vault`), or move {cred.service} to backend kubernetes",
        )
    fields = dict(cred.properties)  # Secret-style key -> KV field
    by_field = {field: key for key, field in fields.items()}
    key = ref.key or ""
    if key not in by_field:
        if key in fields:
            why = f"{key} is the platform's name for field {fields[key]}; Flyte's Vault injector reads the field by the name given, so the task would get <no value>"
            fix = f"in {ref.path}, write key={fields[key]!r} (the KV field of {path})"
        elif key.lower() in {f.lower() for f in by_field}:
            field = next(f for f in by_field if f.lower() == key.lower())
            why = f"Vault entry {path} has field {field}, not {key} (fields are case-sensitive)"
            fix = f"in {ref.path}, write key={field!r}"
        else:
            why = f"Vault entry {path} has no field {key} (its fields: {', '.join(sorted(by_field)) or 'none'})"
            fix = (
                f"add the field under `properties` of {cred.service} in {conventions.stack_file_name(cat.stack)}, or use one of its fields"
            )
        return Result(ref, FAIL, why, fix)
    problem = flyte_vault_field_problem(key)
    if problem:
        return Result(
            ref, FAIL, f"field {key} of Vault entry {path}: {problem}", f"rename the field in Vault and in `properties` of {cred.service}"
        )
    if ref.mount == "ENV_VAR":
        return Result(
            ref,
            FAIL,
            "Flyte's Vault secret manager mounts files only: it refuses mount_requirement ENV_VAR",
            f"in {ref.path}, use mount_requirement=Secret.MountType.FILE (or leave it out)",
        )
    if ref.group_version is not None:
        return Result(
            ref,
            FAIL,
            f"group_version={ref.group_version!r}: flytekit then reads <group>/{ref.group_version}/<key>, but the Vault injector writes <group>/<key>",
            f'in {ref.path}, drop group_version (flytepropeller\'s vault secret manager reads KV v2 with kvVersion: "2")',
        )
    return Result(ref, OK, f"field {key} of Vault entry {path} ({FLYTE_SECRETS_DIR}/{ref.secret}/{key})")


def _where(found: list[dict]) -> str:
    by_name: dict[str, list[str]] = {}
    for s in found:
        by_name.setdefault(s["name"], []).append(s["namespace"])
    return "; ".join(f"{n} ({', '.join(sorted(ns))})" for n, ns in sorted(by_name.items()))


def _credential_index(cat: Catalog, service: str) -> int | None:
    for i, cred in enumerate(cat.settings.config.credentials):
        if cred.service == service:
            return i
    return None


def _looks_secret(key: str) -> bool:
    return conventions.looks_like_credential_key(key)


def _add_key(stack: str, index: int, key: str, position: int) -> str:
    if _looks_secret(key):
        return f"pulumi config set --path 'credentials[{index}].generated[{position}].key' {key} -s {stack}"
    return f"pulumi config set --path 'credentials[{index}].values.{key}' '<value>' -s {stack}"


def fix_missing_key(key: str, cat: Catalog, secret: str | None) -> str:
    """The command that adds ``key`` to the right bundle (or declares the bundle)."""
    stack, creds = cat.stack, cat.settings.config.credentials
    service = None
    if secret:
        m = conventions.CREDENTIALS_NAME.match(secret)
        service = m.group("service") if m else None
        if service is None:
            return f"{secret} is not a credential bundle; its keys are fixed by its type or source"
    else:
        for cred in creds:
            if key.upper().startswith(conventions.key_prefix(cred.service)):
                service = cred.service
    index = _credential_index(cat, service) if service else None
    if index is not None:
        return _add_key(stack, index, key, len(creds[index].generated))
    guess = service or key.split("_", 1)[0].lower()
    return declare_credential(cat, guess, key)


def declare_credential(cat: Catalog, service: str, key: str | None) -> str:
    stack, index = cat.stack, len(cat.settings.config.credentials)
    workload = cat.settings.config.namespaces[0]
    cmds = [
        f"pulumi config set --path 'credentials[{index}].service' {service} -s {stack}",
        f"pulumi config set --path 'credentials[{index}].namespaces[0]' {workload} -s {stack}",
    ]
    if key:
        cmds.append(_add_key(stack, index, key, 0))
    return " && ".join(cmds)


def fix_missing_secret(name: str, cat: Catalog, key: str | None) -> str:
    env, stack = cat.environment, cat.stack
    m = conventions.CREDENTIALS_NAME.match(name)
    if m:
        if m.group("env") != env:
            local = conventions.credentials_name(m.group("service"), env)
            exists = " (it exists)" if cat.named(local) else ""
            return f"{name} names environment {m.group('env')}, not {env}: reference {local} in {stack}{exists}"
        return declare_credential(cat, m.group("service"), key)
    m = conventions.OTHER_SECRET_NAME.match(name)
    if m:
        svc, purpose = m.group("service"), m.group("purpose")
        if m.group("env") != env:
            return f"{name} names environment {m.group('env')}, not {env}: reference {svc}-{env}-{purpose}-secret in {stack}"
        imports = cat.settings.config.imports
        if svc == imports.namespace and imports.enabled:
            variable = conventions.import_variable(purpose, imports.prefix)
            return f"gh secret set {variable} --env {stack}  # then re-run the deploy workflow, which imports {imports.prefix}* secrets"
        if purpose == "pull":
            return f"declare a pull secret for {svc} under secrets-platform:registries in {conventions.stack_file_name(stack)} (password with `pulumi config set --secret`)"
        return f"declare {purpose} for {svc} under secrets-platform:tlsSecrets in {conventions.stack_file_name(stack)} (privateKey with `pulumi config set --secret`)"
    return (
        f"{name} does not follow the platform's names (<service>-{env}-credentials or <service>-{env}-<purpose>-secret); "
        f"reference one of: {', '.join(cat.names()) or '(none)'}"
    )
