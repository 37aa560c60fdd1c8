"""Rules of the Secrets a stack declares: namespaces, credential bundles, registry pull secrets, TLS secrets.

Names are built by :mod:`conventions`; each rule adds a Problem naming the key, the value and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from secrets_platform import conventions
from secrets_platform.settings.errors import Problem, full_key
from secrets_platform.settings.model import StackConfig
from secrets_platform.settings.rules import Rules

# PEM armor of the two keys a kubernetes.io/tls Secret requires (tls.crt, tls.key).
_PEM_CERTIFICATE = "-----BEGIN " + "CERTIFICATE-----"
_PEM_PRIVATE_KEY = re.compile(r"-----BEGIN ([A-Z]+ )?" + "PRIVATE" + r" KEY-----")
_ENV_WORD = "carries an environment token as a word, so names built from it would name two environments"
_ENV_WORD_FIX = f"drop the token ({conventions.ENVIRONMENT_LIST}): the platform adds the stack's environment to every name"
_PROPERTY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")


@dataclass
class _Declared:
    """What the rules of one stack's Secrets share: the config, and what the rules before have seen."""

    cfg: StackConfig
    env: str
    secret_keys: frozenset[str]
    add: Callable[[Problem], None]
    workloads: set[str] = field(default_factory=set)
    """The declared namespaces (workloads), once each."""
    taken: dict[tuple[str, str], str] = field(default_factory=dict)
    """Which entry claims each (workload, Secret name)."""


RULES = Rules()


def check(cfg: StackConfig, env: str, secret_keys: frozenset[str], add) -> dict[tuple[str, str], str]:
    """Names, references and duplicates of every declared Secret; returns which entry claims each (workload, Secret name).

    Entries of keys stored as secrets (``registries``, ``tlsSecrets``) are reported without their values:
    not even a service or purpose set with ``--secret`` is echoed.
    """
    declared = _Declared(cfg, env, secret_keys, add)
    RULES.run(declared)
    return declared.taken


@RULES
def _namespaces(d: _Declared) -> None:
    """Each workload once, without an environment token, making a valid namespace name."""
    for i, workload in enumerate(d.cfg.namespaces):
        key = full_key(["namespaces", i])
        if workload in d.workloads:
            d.add(Problem(key, "is listed twice", "remove the duplicate", workload))
            continue
        d.workloads.add(workload)
        if conventions.env_suffix(workload):
            d.add(Problem(key, "already ends in an environment token", f"list the workload only (the platform appends -{d.env})", workload))
        elif conventions.env_tokens_in(workload):
            d.add(Problem(key, _ENV_WORD, _ENV_WORD_FIX, workload))
        try:
            conventions.check_dns_label(workload, "workload")
            conventions.namespace_name(workload, d.env)
        except conventions.ConventionError as err:
            d.add(Problem(key, str(err), "use a shorter lower-case name of a-z, 0-9 and '-'", workload))


def _claim(d: _Declared, namespace_key: str, workloads_list: list[str], name: str, owner: str, hide: bool = False) -> None:
    """``owner`` creates the Secret ``name`` in each listed workload's namespace: declared, once, and not claimed before."""
    seen: set[str] = set()
    for j, workload in enumerate(workloads_list):
        key = f"{namespace_key}[{j}]"
        if workload not in d.workloads:
            d.add(
                Problem(key, "is not a declared namespace", f"add it to {full_key(['namespaces'])} or remove it here", workload, not hide)
            )
            continue
        if workload in seen:
            d.add(Problem(key, "is listed twice", "remove the duplicate", workload, not hide))
            continue
        seen.add(workload)
        slot = (workload, name)
        if slot in d.taken:
            if hide:
                why = f"creates the same Secret in the same namespace as {d.taken[slot]}"
                d.add(Problem(owner, why, "give one of them another service or purpose", show_value=False))
            else:
                why = f"creates Secret {name!r} in namespace {workload}-{d.env}, which {d.taken[slot]} creates too"
                d.add(Problem(owner, why, "give one of them another service or purpose", name))
        d.taken[slot] = owner


def _named(d: _Declared, key: str, build, *parts: str, hide: bool = False) -> str | None:
    """The Secret name ``build(*parts)`` makes, or None after adding why it makes none."""
    for part_key, part in zip((key, key.rsplit(".", 1)[0] + ".purpose"), (parts[0], parts[2] if len(parts) > 2 else "")):
        if conventions.env_tokens_in(part):
            d.add(Problem(part_key, _ENV_WORD, _ENV_WORD_FIX, part, not hide))
            return None
    try:
        return build(*parts)
    except conventions.ConventionError as err:
        if hide:
            d.add(
                Problem(
                    key,
                    "does not make a valid Secret name (lower-case RFC 1123 label, at most 63 characters in all)",
                    "use a shorter lower-case service (and purpose) of a-z, 0-9 and '-'",
                    show_value=False,
                )
            )
        else:
            d.add(Problem(key, str(err), "use a shorter lower-case name of a-z, 0-9 and '-'", parts[0]))
        return None


@RULES
def _credentials(d: _Declared) -> None:
    """Each credential bundle: its service once, its keys, backend and rotation, the namespaces it is created in."""
    services: set[str] = set()
    for i, cred in enumerate(d.cfg.credentials):
        base = ["credentials", i]
        if cred.service in services:
            d.add(Problem(full_key(base + ["service"]), "is declared twice", "merge the two entries into one bundle", cred.service))
        services.add(cred.service)
        name = _named(d, full_key(base + ["service"]), conventions.credentials_name, cred.service, d.env)
        keys = _check_values(cred, base, d.add)
        _check_generated(cred, base, keys, d.add)
        _check_backend(cred, base, keys, d.add)
        _check_rotation_strategy(cred, base, keys, d.add)
        keys |= set(cred.properties)
        if not keys:
            d.add(Problem(full_key(base), "has no keys", "add `values` or `generated` entries", cred.service))
        if name:
            _claim(d, full_key(base + ["namespaces"]), cred.namespaces, name, full_key(base))


def _check_values(cred, base: list, add) -> set[str]:
    """Plain ``values``: environment-variable names, and nothing that looks like a credential; returns their keys."""
    keys: set[str] = set()
    for k, value in cred.values.items():
        kk = full_key(base + ["values", k])
        if not conventions.ENV_KEY.match(k):
            add(Problem(kk, "is not a valid environment variable name", "use A-Z, 0-9 and '_', not starting with a digit", k))
        if conventions.looks_like_credential_key(k):
            add(
                Problem(
                    kk,
                    "looks like a credential but is a plain value in the stack file",
                    "move it to `generated` (or import it from the deploy environment)",
                    show_value=False,
                )
            )
        elif conventions.has_url_userinfo(value):
            add(
                Problem(
                    kk,
                    "holds a URL with user-info (user:password@), a credential in plain text in the stack file",
                    "drop the user-info from the URL and give user and password as keys of their own (the password under `generated`)",
                    show_value=False,
                )
            )
        keys.add(k)
    return keys


def _check_generated(cred, base: list, keys: set[str], add) -> None:
    """``generated`` keys: environment-variable names, one source per key, some character class on; added to ``keys``."""
    for j, gen in enumerate(cred.generated):
        kk = full_key(base + ["generated", j, "key"])
        if not conventions.ENV_KEY.match(gen.key):
            add(Problem(kk, "is not a valid environment variable name", "use A-Z, 0-9 and '_', not starting with a digit", gen.key))
        if gen.key in keys:
            add(Problem(kk, "is a duplicate key of this bundle", "give every key of a bundle one source: `values` or `generated`", gen.key))
        if not (gen.upper or gen.lower or gen.numeric or gen.special):
            add(
                Problem(
                    full_key(base + ["generated", j]),
                    "turns off every character class",
                    "keep at least one of upper, lower, numeric, special",
                    gen.key,
                )
            )
        keys.add(gen.key)


@RULES
def _resource_names(d: _Declared) -> None:
    _check_resource_names(d.cfg, d.add)


@RULES
def _registries(d: _Declared) -> None:
    """Registry pull secrets: a valid name, a password, declared namespaces (shown without values when stored as secrets)."""
    hide = "registries" in d.secret_keys
    for i, reg in enumerate(d.cfg.registries):
        base = ["registries", i]
        name = _named(d, full_key(base + ["service"]), conventions.secret_name, reg.service, d.env, "pull", hide=hide)
        if not reg.password.get_secret_value():
            fix = f"set it with `pulumi config set --secret --path 'registries[{i}].password'`"
            d.add(Problem(full_key(base + ["password"]), "is empty", fix))
        if name:
            _claim(d, full_key(base + ["namespaces"]), reg.namespaces, name, full_key(base), hide)


@RULES
def _tls_secrets(d: _Declared) -> None:
    """TLS secrets: a valid name, a PEM certificate and private key, declared namespaces."""
    hide = "tlsSecrets" in d.secret_keys
    for i, tls in enumerate(d.cfg.tls_secrets):
        base = ["tlsSecrets", i]
        name = _named(d, full_key(base + ["service"]), conventions.secret_name, tls.service, d.env, tls.purpose, hide=hide)
        if _PEM_CERTIFICATE not in tls.certificate and tls.certificate != "[encrypted]":
            what = (
                "is not a PEM certificate (the Secret's required key tls.crt)",
                "give the PEM-encoded certificate chain (BEGIN CERTIFICATE armor)",
            )
            d.add(Problem(full_key(base + ["certificate"]), *what, show_value=False))
        key_text = tls.private_key.get_secret_value()
        if key_text != "[encrypted]" and not _PEM_PRIVATE_KEY.search(key_text):
            what = (
                "is not a PEM private key (the Secret's required key tls.key)",
                "give the PEM-encoded private key (BEGIN PRIVATE KEY armor, or BEGIN RSA/EC PRIVATE KEY)",
            )
            d.add(Problem(full_key(base + ["privateKey"]), *what, show_value=False))
        if name:
            _claim(d, full_key(base + ["namespaces"]), tls.namespaces, name, full_key(base), hide)


def _check_resource_names(cfg: StackConfig, add) -> None:
    """Keys whose derived names collide are refused before anything is registered.

    A generated key's RandomPassword is named ``<service>-<key in lower case, '_' as '-'>`` (a dual
    key's two slots add ``-slot-a``/``-slot-b``, a local Secret Manager property's stand-in
    ``-stand-in``: :mod:`conventions`); two equal names are one URN, which the engine refuses in the
    middle of an ``up``. Within a bundle, two keys that differ only by letter case also name one
    file of the Vault agent (``<service>-<key slug>``).
    """
    owners: dict[str, str] = {}
    for i, cred in enumerate(cfg.credentials):
        base = ["credentials", i]
        slugs: dict[str, tuple[str, str]] = {}
        keyed = [(k, full_key(base + ["values", k])) for k in cred.values]
        keyed += [(g.key, full_key(base + ["generated", j, "key"])) for j, g in enumerate(cred.generated)]
        keyed += [(k, full_key(base + ["properties", k])) for k in cred.properties if k not in {g.key for g in cred.generated}]
        for k, where in keyed:
            slug = conventions.key_slug(k)
            if slug in slugs and slugs[slug][0] != k:
                add(
                    Problem(
                        where,
                        f"differs from the key {slugs[slug][0]} of this bundle only by letter case, so both make the name {cred.service}-{slug}",
                        "rename one of the two keys",
                        k,
                    )
                )
            slugs.setdefault(slug, (k, where))
        names: list[tuple[str, str, str]] = []
        for j, gen in enumerate(cred.generated):
            where = full_key(base + ["generated", j, "key"])
            name = conventions.password_resource_name(cred.service, gen.key)
            if cred.rotation_strategy == "dual":
                names += [(conventions.slot_resource_name(name, slot), where, gen.key) for slot in ("a", "b")]
            else:
                names.append((name, where, gen.key))
        if cred.backend == "gcp-secret-manager":
            names += [
                (conventions.stand_in_resource_name(cred.service, k), full_key(base + ["properties", k]), k)
                for k in sorted(cred.properties)
            ]
        for name, where, k in names:
            owner = owners.get(name)
            if owner is not None and owner != where:
                add(
                    Problem(
                        where,
                        f"makes the resource name {name!r}, which {owner} makes too (one URN: the engine would stop the deploy half-way)",
                        "rename one of the two keys (or services); names are <service>-<key in lower case with '-'>, dual keys add -slot-a/-slot-b",
                        k,
                    )
                )
                continue
            owners.setdefault(name, where)


def _check_rotation_strategy(cred, base: list, keys: set[str], add) -> None:
    """dual: generated keys on the kubernetes backend, and no <KEY>_PREVIOUS of its own."""
    key = lambda *more: full_key(base + list(more))  # noqa: E731
    if cred.rotation_strategy == "single":
        if cred.generation != 1:
            add(
                Problem(
                    key("generation"),
                    "only applies to rotationStrategy: dual",
                    "remove it (single bundles rotate with `rotation`)",
                    cred.generation,
                )
            )
        return
    if cred.backend != "kubernetes":
        add(
            Problem(
                key("rotationStrategy"),
                f"dual needs the kubernetes backend, not {cred.backend}",
                "use rotationStrategy: single, or backend: kubernetes",
                "dual",
            )
        )
    if not cred.generated:
        add(
            Problem(
                key("rotationStrategy"),
                "dual keeps two generated values per key, but the bundle has no `generated` keys",
                "add `generated` keys or remove rotationStrategy",
                "dual",
            )
        )
    for gen in cred.generated:
        previous = conventions.previous_key(gen.key)
        if previous in keys - {gen.key}:
            add(
                Problem(
                    key("rotationStrategy"), f"dual adds the key {previous}, which the bundle already has", f"rename {previous}", "dual"
                )
            )


def _check_properties(cred, base: list, keys: set[str], add) -> None:
    """``properties``: environment-variable names read from a remote document's property, one source per key."""
    key = lambda *more: full_key(base + list(more))  # noqa: E731
    for k, prop in cred.properties.items():
        if not conventions.ENV_KEY.match(k):
            add(
                Problem(
                    key("properties", k), "is not a valid environment variable name", "use A-Z, 0-9 and '_', not starting with a digit", k
                )
            )
        if k in keys:
            add(Problem(key("properties", k), "is also a `values` or `generated` key of this bundle", "give every key one source", k))
        if not _PROPERTY.match(prop):
            add(
                Problem(
                    key("properties", k),
                    "is not a property name of the remote JSON document",
                    "use letters, digits, '_', '-' and '.'",
                    prop,
                )
            )


def _check_backend(cred, base: list, keys: set[str], add) -> None:
    """Per-credential rules of the three backends (docs/backends.md)."""
    _check_properties(cred, base, keys, add)
    key = lambda *more: full_key(base + list(more))  # noqa: E731
    if cred.backend == "kubernetes":
        if cred.properties:
            add(
                Problem(
                    key("properties"),
                    "only applies to the gcp-secret-manager, vault and vault-database backends",
                    "remove it, or set backend",
                    sorted(cred.properties),
                )
            )
        if cred.push:
            add(
                Problem(
                    key("push"),
                    "only applies to the gcp-secret-manager backend",
                    "remove it, or set backend: gcp-secret-manager",
                    cred.push,
                )
            )
        return
    if cred.backend == "gcp-secret-manager" and not cred.push and (cred.values or cred.generated):
        add(
            Problem(
                key("push"),
                "is false, but the bundle has `values`/`generated` keys that would never reach Secret Manager",
                "set push: true to store them as a Secret Manager version, or add them to the secret yourself and list them under `properties`",
                cred.push,
            )
        )
    if cred.backend == "vault":
        if cred.values or cred.generated or cred.push:
            add(
                Problem(
                    key("backend"),
                    "vault credentials are written to Vault by their owner; the platform pushes nothing there",
                    "remove `values`, `generated` and `push`, and list the KV keys under `properties`",
                    cred.backend,
                )
            )
        if not cred.properties:
            add(Problem(key("properties"), "is empty, so consumers would get no file", "list each KV key: `ENV_NAME: kv-key`"))
