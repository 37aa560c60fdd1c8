"""Isolation of External Secrets objects: what an ExternalSecret, PushSecret, ClusterExternalSecret or store
reads, admits and writes belongs to its own environment.

Part of the isolation rules (see ``policies.rules.isolation``).
"""

from __future__ import annotations

import re

# CPython's own regex parser (what _regex_confined reads ESO's namespace patterns with); typeshed has no stubs for it.
import re._constants as _regex_constants  # type: ignore[import-not-found]
import re._parser as _regex_parser  # type: ignore[import-not-found]
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from secrets_platform import conventions
from secrets_platform.policies.environment import fmt_envs, in_env, other_envs, own_env, selector_pins
from secrets_platform.policies.support import (
    CLUSTER_EXTERNAL_SECRET_TYPES,
    CLUSTER_STORE_TYPES,
    EXTERNAL_SECRET_TYPES,
    MANDATORY,
    PUSH_SECRET_TYPES,
    STORE_TYPES,
    Resource,
    at,
    entries,
    known,
    resource_rule,
    show,
    strings,
)

# --------------------------------------------------------------------------- External Secrets Operator


def _remote_refs(spec: Any, base: str) -> Iterator[tuple[str, str]]:
    """``(where, reference)`` for every remote key an ExternalSecret spec names (its finds: :func:`_finds`)."""
    for where, item in entries(at(spec, "data", where=base, default=[]), f"{base}.data"):
        key = at(item, "remoteRef", "key", where=where)
        if isinstance(key, str):
            yield f"{where}.remoteRef.key", key
    for where, item in entries(at(spec, "dataFrom", where=base, default=[]), f"{base}.dataFrom"):
        key = at(item, "extract", "key", where=where)
        if isinstance(key, str):
            yield f"{where}.extract.key", key


def _finds(spec: Any, base: str) -> Iterator[tuple[str, str | None, str | None]]:
    """``(where, path, name regexp)`` of every ``dataFrom[].find`` (each None when absent)."""
    for where, item in entries(at(spec, "dataFrom", where=base, default=[]), f"{base}.dataFrom"):
        find = at(item, "find", where=where)
        if isinstance(find, Mapping):
            path = at(find, "path", where=f"{where}.find.path")
            regexp = at(find, "name", "regexp", where=f"{where}.find.name.regexp")
            yield f"{where}.find", path if isinstance(path, str) else None, regexp if isinstance(regexp, str) else None


def _find_problem(path: str | None, regexp: str | None, env: str) -> str | None:
    """Why a find may read keys of another environment, or None when it reads only ``env``'s.

    A path of the environment (``floe/<env>/``) scopes the search. Without one, the name regexp must:
    ESO keeps every key ``regexp.MatchString(regexp, key)`` (Go's RE2, an unanchored search:
    pkg/find/find.go), so the pack reads it with CPython's regex parser and admits only a literal
    prefix anchored by '^' that carries the environment whole (``^snowflake-<env>-``), optionally
    followed by ``.*`` or ``$``: every key it matches then starts with that prefix. Alternation, classes
    and every other construct are refused: the guard cannot show what they match.
    """
    path_problem = _remote_key_problem(path, env) if path else None
    if path and (path_problem is None or conventions.reference_env_tokens(path) - {env}):
        return path_problem  # scoped to this environment, or to another one whatever the regexp says
    if regexp is None:
        return _remote_key_problem(path or "", env)
    prefix = _literal_prefix(regexp)
    if prefix is None:
        return (
            f"is a pattern the pack cannot confine to {env} (it admits '^<literal>', '^<literal>.*' and '^<literal>$' only, "
            f"the literal carrying {env} whole)"
        )
    literal = prefix.removesuffix("$")
    tokens = conventions.reference_env_tokens(literal.rstrip("-/_.")) if literal else set()
    if tokens != {env} or not prefix.endswith(("-", "/", "_", "$")):
        return f"does not confine its matches to {env} keys: its literal prefix {prefix!r} must carry {env} whole and end at a separator"
    return None


def _parsed_regex(pattern: str) -> list[Any] | None:
    """``pattern``'s top-level items as CPython's regex parser reads it, or None when it cannot be read: a syntax
    error, or a warning (a possible nested set, where Go's POSIX classes and Python's sets part ways)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return list(_regex_parser.parse(pattern))
    except (re.error, FutureWarning, DeprecationWarning, RecursionError, OverflowError):
        return None


def _literal_prefix(regexp: str) -> str | None:
    """The literal text a regexp anchors its matches on (``'$'`` appended when it anchors the end too), or None
    when it is anything but ``^<literal>``, ``^<literal>.*`` or ``^<literal>$`` to CPython's regex parser."""
    items = _parsed_regex(regexp)
    if items is None:
        return None
    c = _regex_constants
    if not items or items[0] != (c.AT, c.AT_BEGINNING):
        return None
    items = items[1:]
    end = ""
    if items and items[-1] == (c.AT, c.AT_END):
        items, end = items[:-1], "$"
    elif (
        items
        and items[-1][0] in (c.MAX_REPEAT, c.MIN_REPEAT)
        and items[-1][1][:2] == (0, c.MAXREPEAT)
        and list(items[-1][1][2]) == [(c.ANY, None)]
    ):
        items = items[:-1]
    if not items or any(op != c.LITERAL for op, _ in items):
        return None
    return "".join(chr(value) for _, value in items) + end


def _remote_key_problem(reference: str, env: str) -> str | None:
    tokens = conventions.reference_env_tokens(reference) if reference else set()
    if tokens == {env}:
        return None
    if not tokens:
        return "names no environment, so nothing shows it is not shared with another one"
    return f"belongs to {fmt_envs(tokens - {env}) or fmt_envs(tokens)}"


def _store_refs(spec: Any, base: str) -> Iterator[tuple[str, Any]]:
    """``(where, name)`` of every store and generator an ExternalSecret spec reads through."""
    yield f"{base}.secretStoreRef.name", at(spec, "secretStoreRef", "name", where=base)
    for field in ("data", "dataFrom"):
        for where, item in entries(at(spec, field, where=base, default=[]), f"{base}.{field}"):
            yield f"{where}.sourceRef.storeRef.name", at(item, "sourceRef", "storeRef", "name", where=where)
            yield f"{where}.sourceRef.generatorRef.name", at(item, "sourceRef", "generatorRef", "name", where=where)


def _external_secret_spec(subject: str, spec: Any, base: str, env: str) -> Iterator[str]:
    """What an ExternalSecret spec reads (remote keys, stores) and writes (its target) belongs to ``env``."""
    refs = [(where, reference, _remote_key_problem(reference, env)) for where, reference in _remote_refs(spec, base)]
    for where, path, regexp in _finds(spec, base):
        refs.append((where, " ".join(s for s in (path, regexp) if s), _find_problem(path, regexp, env)))
    for where, reference, problem in refs:
        if problem:
            yield (
                f"{subject} in {env} reads the remote key {show(reference)} ({where}), which {problem}. "
                f"Read the {env} copy: Secret Manager ids are the Secret's name (e.g. 'snowflake-{env}-credentials'), "
                f"Vault paths are '<mount>/{env}/<service>'."
            )
    for where, store in _store_refs(spec, base):
        if other_envs(store, env):
            yield f"{subject} in {env} uses the store {show(store)} of another environment ({where}); use the {env} store."
    target = at(spec, "target", "name", where=base)
    others = other_envs(target, env)
    if others:
        yield (
            f"{subject} in {env} writes the Secret {show(target)} of {fmt_envs(others)} "
            f"({base}.target.name); write the {env} Secret ('<service>-{env}-credentials')."
        )
    for where, item in entries(
        at(spec, "target", "template", "templateFrom", where=base, default=[]), f"{base}.target.template.templateFrom"
    ):
        for source in ("secret", "configMap"):
            name = at(item, source, "name", where=where)
            if other_envs(name, env):
                yield f"{subject} in {env} templates from the {source} {show(name)} of another environment ({where}.{source}.name); use the {env} one."
    label = at(spec, "target", "template", "metadata", "labels", conventions.LABEL_ENVIRONMENT, where=base)
    if label is not None and label != env:
        yield (
            f"{subject} in {env} labels the Secret it writes {conventions.LABEL_ENVIRONMENT}={show(label)} "
            f"({base}.target.template.metadata.labels); label it {env}."
        )


@resource_rule("isolation-externalsecret-remote-key-env", MANDATORY, EXTERNAL_SECRET_TYPES)
@in_env(own_env)
def externalsecret_remote_key_env(r: Resource, config: Mapping[str, Any], env: str) -> Iterator[str]:
    """An ExternalSecret reads only remote keys and stores of its own environment, and writes only its environment's Secret."""
    yield from _external_secret_spec(r.describe(), r.get("spec", default={}), "spec", env)


@resource_rule("isolation-pushsecret-env", MANDATORY, PUSH_SECRET_TYPES)
@in_env(own_env)
def pushsecret_env(r: Resource, config: Mapping[str, Any], env: str) -> Iterator[str]:
    """A PushSecret pushes only its own environment's Secrets, through its environment's stores, to its environment's remote keys."""
    subject = f"{r.describe()} in {env}"
    for where, ref in entries(r.get("spec", "secretStoreRefs", default=[]), "spec.secretStoreRefs"):
        store = at(ref, "name", where=where)
        if other_envs(store, env):
            yield f"{subject} pushes through the store {show(store)} of another environment ({where}.name); use the {env} store."
    for where in ("spec.selector.secret.name", "spec.selector.generatorRef.name"):
        name = r.get(*where.split("."))
        if other_envs(name, env):
            yield f"{subject} pushes {show(name)} of another environment ({where}); push only {env} Secrets."
    for where, item in entries(r.get("spec", "data", default=[]), "spec.data"):
        key = at(item, "match", "remoteRef", "remoteKey", where=where)
        if isinstance(key, str):
            problem = _remote_key_problem(key, env)
            if problem:
                yield (
                    f"{subject} writes the remote key {show(key)} ({where}.match.remoteRef.remoteKey), which {problem}. "
                    f"Push to the {env} key (e.g. 'snowflake-{env}-credentials')."
                )


@resource_rule("isolation-clusterexternalsecret-env", MANDATORY, CLUSTER_EXTERNAL_SECRET_TYPES)
@in_env(own_env)
def clusterexternalsecret_env(r: Resource, config: Mapping[str, Any], env: str) -> Iterator[str]:
    """A ClusterExternalSecret selects only its own environment's namespaces and reads only its environment's remote keys and stores."""
    subject = f"{r.describe()} in {env}"
    selected = False
    for namespace in strings(r.get("spec", "namespaces"), "spec.namespaces"):
        selected = True
        tokens = conventions.reference_env_tokens(namespace)
        if tokens != {env}:
            belongs = f"belongs to {fmt_envs(tokens - {env})}" if tokens - {env} else f"does not end in '-{env}'"
            yield f"{subject} writes into namespace {show(namespace)}, which {belongs} (spec.namespaces); list only '<workload>-{env}' namespaces."
    selectors = [("spec.namespaceSelector", r.get("spec", "namespaceSelector"))]
    selectors += list(entries(r.get("spec", "namespaceSelectors", default=[]), "spec.namespaceSelectors"))
    for where, selector in selectors:
        if selector is None:
            continue
        selected = True
        problem = selector_pins(selector, env, where)
        if problem:
            yield f"{subject}: the selector {where} {problem}; add matchLabels {{{conventions.LABEL_ENVIRONMENT}: {env}}}."
    if not selected:
        yield f"{subject} selects no namespace (spec.namespaces, spec.namespaceSelectors); list the {env} namespaces it writes into."
    name = r.get("spec", "externalSecretName")
    if other_envs(name, env):
        yield f"{subject} names its ExternalSecrets {show(name)} of another environment (spec.externalSecretName)."
    yield from _external_secret_spec(
        subject.rsplit(" in ", 1)[0], r.get("spec", "externalSecretSpec", default={}), "spec.externalSecretSpec", env
    )


def _regex_confined(pattern: str, env: str) -> bool:
    """True when every namespace the regex can match ends in '-<env>'.

    ESO admits a namespace when ``regexp.MatchString(pattern, namespace)`` is true (Go's RE2
    syntax, an unanchored search: pkg/controllers/secretstore/client_manager.go). The pattern is
    read by CPython's own regex parser, not by string tests of ours: its top level must be a
    sequence that ends in the literal '-<env>' and the end-of-text anchor '$'. Then every match
    ends there, whatever comes before; a top-level alternation, however it is hidden (behind a
    '(' inside a character class, say), is one BRANCH item and cannot end that way.
    Where the two syntaxes differ, the pattern is refused: Go-only syntax (``\\z``, ``\\Q...\\E``,
    ``(?U)``) does not parse here, and a POSIX class (``[[:alpha:]]``, where Go's class may end
    later than Python's) makes Python warn of a nested set, which is refused too. Go's '$' without
    the m flag is the end of the text; Python's also matches before a final newline, which no
    namespace name holds. No other environment may be mentioned, and probe namespaces of the other
    environments must not match. Anything else is reported; rewrite it as a plain list of namespaces.
    """
    if conventions.env_tokens_in(pattern) - {env}:
        return False
    items = _parsed_regex(pattern)
    if items is None:
        return False
    compiled = re.compile(pattern)
    suffix = [(_regex_constants.LITERAL, ord(char)) for char in conventions.env_name_suffix(env)] + [
        (_regex_constants.AT, _regex_constants.AT_END)
    ]
    if items[-len(suffix) :] != suffix:
        return False
    probes = [
        conventions.namespace_name(w, other, checked=False)
        for w in ("a", "dagster", "floe-jobs")
        for other in conventions.ENVIRONMENTS
        if other != env
    ]
    return not any(compiled.search(p) for p in probes)


# Provider fields that name an account, project, cluster, namespace, path or server: none may name another
# environment. Namespaces a provider *reads from* (the kubernetes provider's remoteNamespace) must name this one.
_PROVIDER_REF_KEYS = frozenset(
    {
        "namespace",
        "projectID",
        "clusterProjectID",
        "clusterName",
        "path",
        "mountPath",
        "role",
        "name",
        "server",
        "url",
        "vaultUrl",
        "remoteNamespace",
        "serviceAccount",
    }
)
_PROVIDER_READS_NAMESPACE = frozenset({"remoteNamespace"})


def _provider_refs(value: Any, where: str) -> Iterator[tuple[str, str]]:
    value = known(value, where)
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in _PROVIDER_REF_KEYS and isinstance(item, str):
                yield f"{where}.{key}", item
            else:
                yield from _provider_refs(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _provider_refs(item, f"{where}[{index}]")


@resource_rule("isolation-secretstore-namespace-env", MANDATORY, STORE_TYPES)
@in_env(own_env)
def secretstore_namespace_env(r: Resource, config: Mapping[str, Any], env: str) -> Iterator[str]:
    """A ClusterSecretStore or SecretStore admits only its own environment's namespaces and uses only its environment's accounts."""
    subject = f"{r.describe()} in {env}"
    if r.type in CLUSTER_STORE_TYPES:
        for where, condition in entries(r.get("spec", "conditions", default=[]), "spec.conditions"):
            for namespace in strings(at(condition, "namespaces", where=where), f"{where}.namespaces"):
                tokens = conventions.reference_env_tokens(namespace)
                if tokens != {env}:
                    belongs = f"belongs to {fmt_envs(tokens - {env})}" if tokens - {env} else f"does not end in '-{env}'"
                    yield f"{subject} admits namespace {show(namespace)}, which {belongs} ({where}.namespaces); admit only '<workload>-{env}' namespaces."
            for pattern in strings(at(condition, "namespaceRegexes", where=where), f"{where}.namespaceRegexes"):
                if not _regex_confined(pattern, env):
                    yield (
                        f"{subject} admits namespaces by the regex {show(pattern)} ({where}.namespaceRegexes), which is not "
                        f"confined to '-{env}$' namespaces; list the namespaces instead, or use one anchored '^<workload>-{env}$' "
                        "pattern without alternation."
                    )
            selector = at(condition, "namespaceSelector", where=where)
            if selector is not None:
                problem = selector_pins(selector, env, f"{where}.namespaceSelector")
                if problem:
                    yield (
                        f"{subject}: the namespaceSelector in {where} {problem}; add matchLabels "
                        f"{{{conventions.LABEL_ENVIRONMENT}: {env}}}."
                    )
    for where, reference in _provider_refs(r.get("spec", "provider", default={}), "spec.provider"):
        tokens = conventions.reference_env_tokens(reference)
        others = tokens - {env}
        if where.rsplit(".", 1)[-1] in _PROVIDER_READS_NAMESPACE and tokens != {env}:
            belongs = f"belongs to {fmt_envs(others)}" if others else f"does not end in '-{env}'"
            yield f"{subject} reads Secrets of namespace {show(reference)}, which {belongs} ({where}); read only a '<workload>-{env}' namespace."
        elif others:
            yield f"{subject} points at {show(reference)} of {fmt_envs(others)} ({where}); use the {env} account, project or namespace."


POLICIES = [externalsecret_remote_key_env, pushsecret_env, clusterexternalsecret_env, secretstore_namespace_env]
