"""Naming rules: names and labels follow CONVENTIONS, so every other rule can read them.

The environment checks of ``isolation`` rely on names carrying their token and on
the three labels; these rules make sure they do. Patterns come from
``conventions`` (the single implementation of the contract); nothing here
defines a name format of its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from secrets_platform import conventions
from secrets_platform.policies.operator_charts import admitted_secret
from secrets_platform.policies.support import (
    EXTERNAL_SECRET_TYPES,
    MANDATORY,
    NAMESPACE,
    SECRET,
    Resource,
    UnknownAtPreview,
    at,
    entries,
    is_created_k8s_object,
    keys_of,
    resource_rule,
    show,
)

# Keys Kubernetes itself requires for typed Secrets; they cannot be env-var names,
# and consumers mount them as files rather than reading them with envFrom.
TYPE_MANDATED_KEYS: Mapping[str, frozenset[str]] = {
    "kubernetes.io/dockerconfigjson": frozenset({".dockerconfigjson"}),
    "kubernetes.io/dockercfg": frozenset({".dockercfg"}),
    "kubernetes.io/tls": frozenset({"tls.crt", "tls.key", "ca.crt"}),
    "kubernetes.io/basic-auth": frozenset({"username", "password"}),
    "kubernetes.io/ssh-auth": frozenset({"ssh-privatekey"}),
    "kubernetes.io/service-account-token": frozenset({"token", "ca.crt", "namespace"}),
}

_NAME_FORMS = "'<service>-<env>-credentials' (a credential bundle) or '<service>-<env>-<purpose>-secret' (anything else)"


def _secret_name_problem(name: str) -> str | None:
    if not conventions.is_dns_label(name):
        return "is not a lower-case RFC 1123 label of at most 63 characters"
    if conventions.CREDENTIALS_NAME.match(name) or conventions.OTHER_SECRET_NAME.match(name):
        return None
    return f"does not follow {_NAME_FORMS}, with <env> one of {', '.join(conventions.ENVIRONMENTS)}"


@resource_rule("naming-secret-name-form", MANDATORY, frozenset({SECRET}) | EXTERNAL_SECRET_TYPES)
def secret_name_form(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """Kubernetes Secrets (and the Secrets ExternalSecrets write) are named '<service>-<env>-credentials' or '<service>-<env>-<purpose>-secret'."""
    if r.type == SECRET:
        if admitted_secret(r):
            return  # a pinned operator chart's own Secret (fixed name): privilege-operator-chart-admitted proves it
        name, where = r.get("metadata", "name"), "metadata.name"
    else:  # an ExternalSecret: the Secret it writes is spec.target.name, else its own name
        target = r.get("spec", "target", "name")
        name, where = (target, "spec.target.name") if target else (r.get("metadata", "name"), "metadata.name")
    if not isinstance(name, str) or not name:
        yield (
            f"{r.describe()} sets no {where}; give the Secret an explicit name of the form {_NAME_FORMS} "
            "(auto-generated names carry no environment)."
        )
        return
    problem = _secret_name_problem(name)
    if problem:
        example = conventions.credentials_name("snowflake", r.env or "prd")
        yield (
            f"{r.describe()}: the Secret name {show(name)} in {where} {problem}. "
            f"Rename it, e.g. {show(example)}, building it with conventions.credentials_name/secret_name."
        )


def _secret_keys(r: Resource) -> Iterator[tuple[str, str]]:
    """``(where, key)`` for every key a Secret (or ExternalSecret) will hold; values are never read."""
    if r.type == SECRET:
        declared = r.get("metadata", "annotations", conventions.SECRET_KEYS_ANNOTATION)
        try:
            for field in ("data", "stringData"):
                for key in keys_of(r.get(field, default={}), field):
                    yield field, key
        except UnknownAtPreview:
            if not isinstance(declared, str):
                raise
            # Values unknown at preview: the keys the platform declares (checked against the data at `up`).
            for key in declared.split(","):
                yield f"metadata.annotations[{conventions.SECRET_KEYS_ANNOTATION}]", key
        return
    for where, item in entries(r.get("spec", "data", default=[]), "spec.data"):
        key = at(item, "secretKey", where=where)
        if isinstance(key, str):
            yield f"{where}.secretKey", key


@resource_rule("naming-secret-keys-env-vars", MANDATORY, frozenset({SECRET}) | EXTERNAL_SECRET_TYPES)
def secret_keys_env_vars(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """Secret keys are environment-variable names, apart from the keys a typed Secret must use.

    Secret keys are env-var names so envFrom exposes all of them; typed Secrets keep their keys.
    """
    if r.type == SECRET:
        secret_type = r.get("type", default="Opaque")
    else:
        secret_type = r.get("spec", "target", "template", "type", default="Opaque")
    mandated = TYPE_MANDATED_KEYS.get(secret_type, frozenset())
    keys = list(_secret_keys(r))
    bad = sorted({key for _, key in keys if key not in mandated and not conventions.ENV_KEY.match(key)})
    declared = r.get("metadata", "annotations", conventions.SECRET_KEYS_ANNOTATION) if r.type == SECRET else None
    held = {key for where, key in keys if where in ("data", "stringData")}
    if isinstance(declared, str) and held and held != set(declared.split(",")):
        yield (
            f"{r.describe()} declares the keys {show(declared)} in {conventions.SECRET_KEYS_ANNOTATION} but holds "
            f"{', '.join(show(k) for k in sorted(held))}; the platform writes both from one map, so build the Secret "
            "with components.common.platform_secret."
        )
    if bad:
        shown = ", ".join(show(k) for k in bad)
        allowed = f" (type {show(secret_type)} also allows {', '.join(sorted(mandated))})" if mandated else ""
        yield (
            f"{r.describe()} has keys that are not environment-variable names: {shown}. "
            "Rename each to [A-Za-z_][A-Za-z0-9_]* (e.g. SNOWFLAKE_PASSWORD) so envFrom exposes it"
            f"{allowed}."
        )


@resource_rule("naming-namespace-env-suffix", MANDATORY, frozenset({NAMESPACE}))
def namespace_env_suffix(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """Namespace names end in '-<env>' with a known environment token.

    Namespaces are ``<workload>-<env>``, a Flyte project's ``<project>-<domain>`` (conventions.FLYTE_DOMAINS).
    """
    name = r.get("metadata", "name")
    if not isinstance(name, str) or not name:
        yield f"{r.describe()} sets no metadata.name; name it '<workload>-<env>', e.g. 'dagster-{r.env or 'prd'}'."
        return
    if not (conventions.is_dns_label(name) and conventions.namespace_env(name)):
        yield (
            f"Namespace {show(name)} does not end in '-<env>' (one of {', '.join(conventions.ENVIRONMENTS)}), "
            f"or in a Flyte project's '-<domain>' (one of {', '.join(conventions.FLYTE_DOMAINS.values())}), "
            f"or is not an RFC 1123 label; rename it with conventions.namespace_name(workload, env), "
            f"e.g. 'dagster-{r.env or 'prd'}'."
        )


_REQUIRED_LABELS = {
    conventions.LABEL_MANAGED_BY: "pulumi",
    conventions.LABEL_PART_OF: conventions.PROJECT,
}


@resource_rule("naming-object-labels-required", MANDATORY, is_created_k8s_object)
def object_labels_required(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """Every Kubernetes object the platform creates carries the managed-by, part-of and environment labels."""
    labels = r.get("metadata", "labels", default={})
    if not isinstance(labels, Mapping):
        labels = {}
    problems: list[str] = []
    for key, expected in _REQUIRED_LABELS.items():
        value = at(labels, key, where=f"metadata.labels.{key}")
        if value is None:
            problems.append(f"{show(key)} is missing (want {show(expected)})")
        elif value != expected:
            problems.append(f"{show(key)} is not {show(expected)}")
    env = at(labels, conventions.LABEL_ENVIRONMENT, where=f"metadata.labels.{conventions.LABEL_ENVIRONMENT}")
    if env is None:
        problems.append(f"{show(conventions.LABEL_ENVIRONMENT)} is missing")
    elif env not in conventions.ENVIRONMENTS:
        problems.append(f"{show(conventions.LABEL_ENVIRONMENT)} is not one of {', '.join(conventions.ENVIRONMENTS)}")
    if problems:
        yield (
            f"{r.describe()}: {'; '.join(problems)}. Set metadata.labels from conventions.labels(env) "
            "(merge your own labels on top, never instead)."
        )


POLICIES = [secret_name_form, secret_keys_env_vars, namespace_env_suffix, object_labels_required]
