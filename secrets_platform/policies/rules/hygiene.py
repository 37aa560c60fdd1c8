"""Hygiene rules: credentials stay in Secrets, and what we install is what we reviewed.

- Credential-looking keys in ConfigMaps, labels and annotations: those are
  printed by ``kubectl describe``, copied into logs and events, and readable
  with far weaker RBAC than Secrets. The detector works on *words* of the key,
  not substrings, and tells a credential (``SNOWFLAKE_PASSWORD``) from a
  reference to one (``SNOWFLAKE_PASSWORD_FILE``, ``TOKEN_TTL``, an annotation
  like ``vault.hashicorp.com/agent-inject-secret-x``), so a rule that cries wolf
  does not train people to exempt everything.
- Vault's Helm chart in dev mode (in-memory, unsealed, root token) outside local: its values, and
  the command of any StatefulSet's container, read as it runs (``policies.vault_server``).
- Helm charts pinned to an exact version.

It never reads a value: only keys, the chart name and version, one boolean, and command words
(a message shows a word it refuses, never the value of a credential-looking ``name=value``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from secrets_platform import conventions
from secrets_platform.policies import vault_server
from secrets_platform.policies.support import (
    CONFIG_MAP,
    HELM_TYPES,
    MANDATORY,
    Resource,
    UnknownAtPreview,
    artifact_name,
    at,
    config_list,
    entries,
    is_k8s_object,
    keys_of,
    resource_rule,
    show,
    strings,
)

# --------------------------------------------------------------------------- credential-looking keys

# The detector is conventions.looks_like_credential_key, the one the settings use
# too, so what the settings refuse as a plain value and what the pack refuses in a
# ConfigMap or an annotation are the same keys. Its word lists, under the pack's names:
CREDENTIAL_WORDS = conventions.CREDENTIAL_KEY_WORDS
KEY_QUALIFIERS = conventions.CREDENTIAL_KEY_QUALIFIERS
REFERENCE_SUFFIXES = conventions.CREDENTIAL_REFERENCE_SUFFIXES
# Annotation/label domains whose keys are instructions to a controller, never values:
# Kubernetes' own, Reloader's, Vault agent injector's, GKE Workload Identity's, ESO's.
SAFE_KEY_DOMAINS = (
    "kubernetes.io",
    "k8s.io",
    "reloader.stakater.com",
    "vault.hashicorp.com",
    "iam.gke.io",
    "external-secrets.io",
    "pulumi.com",
    "helm.sh",
)

key_words = conventions.credential_key_words


@lru_cache(maxsize=4096)  # a pure function of the key; the same keys recur on every object
def is_credential_key(key: str) -> bool:
    """True when a key looks like it holds a credential (not when it refers to one)."""
    return conventions.looks_like_credential_key(key)


@lru_cache(maxsize=4096)
def _domain_is_safe(key: str) -> bool:
    if "/" not in key:
        return False
    domain = key.split("/", 1)[0]
    return any(domain == d or domain.endswith("." + d) for d in SAFE_KEY_DOMAINS)


def _allowed(key: str, allowed: list[str]) -> bool:
    return key in allowed or any(a.endswith("/") and key.startswith(a) for a in allowed)


ALLOWED_KEYS = "allowedKeys"
_ALLOWED_SCHEMA = {
    ALLOWED_KEYS: {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Keys reviewed and known not to hold credentials (exact keys, or 'domain/' prefixes).",
    }
}


@resource_rule("hygiene-configmap-no-credential-keys", MANDATORY, frozenset({CONFIG_MAP}), extra_config=dict(_ALLOWED_SCHEMA))
def configmap_no_credential_keys(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """ConfigMaps hold no credential-looking keys (passwords, tokens, secrets, access or private keys)."""
    allowed = config_list(config, ALLOWED_KEYS)
    bad = sorted(
        key
        for field in ("data", "binaryData")
        for key in keys_of(r.get(field, default={}), field)
        if is_credential_key(key) and not _allowed(key, allowed)
    )
    if bad:
        yield (
            f"{r.describe()} has credential-looking keys {', '.join(show(k) for k in bad)}; ConfigMaps are not secret. "
            "Move these values into a Secret named '<service>-<env>-credentials' and read them with envFrom/secretKeyRef; "
            f"if a key only looks like a credential, add it to {ALLOWED_KEYS} in this policy's config."
        )


@resource_rule("hygiene-metadata-no-credential-keys", MANDATORY, is_k8s_object, extra_config=dict(_ALLOWED_SCHEMA))
def metadata_no_credential_keys(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """No label or annotation key on a Kubernetes object looks like a credential."""
    allowed = config_list(config, ALLOWED_KEYS)
    for field in ("labels", "annotations"):
        keys = keys_of(r.get("metadata", field, default={}), f"metadata.{field}")
        bad = sorted(
            key for key in keys if not _domain_is_safe(key) and not _allowed(key, allowed) and is_credential_key(key.rsplit("/", 1)[-1])
        )
        if bad:
            yield (
                f"{r.describe()} has credential-looking {field} {', '.join(show(k) for k in bad)}; labels and annotations "
                "are readable by anyone who can list the object and end up in logs. Keep credentials in Secrets only; "
                f"if a key only looks like a credential, add it to {ALLOWED_KEYS} in this policy's config."
            )


# --------------------------------------------------------------------------- Helm


STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
# The kinds the pack admits that run pods (every other one is refused by coverage-k8s-object-applied): a Vault or
# OpenBao server in any of their containers is judged, init containers included (a native sidecar, restartPolicy
# Always, runs beside the others for the pod's life).
POD_TEMPLATE_KINDS = frozenset({STATEFUL_SET, DEPLOYMENT})
CONTAINER_FIELDS = ("initContainers", "containers")
# The dev root token's variable as Vault and OpenBao read it (``server -h``); the chart's dev mode sets Vault's.
DEV_TOKEN_VARIABLES = frozenset({"VAULT_DEV_ROOT_TOKEN_ID", "BAO_DEV_ROOT_TOKEN_ID"})
# Where the vault chart puts server.extraArgs: at the end of the server's line of its shell script.
_CHART_SERVER_LINE = "vault server -config=/tmp/storageconfig.hcl "
_SHOWN_WORD = 200


def _shown(word: str) -> str:
    """A command word for a message: quoted, the value of a ``name=value`` whose name mentions a credential left out
    (``-dev-root-token-id=...``: a reference to a token, by the keys' rules, but on a command line it is the token)."""
    if not word:
        return "the script"
    name, equals, _ = word.partition("=")
    if equals and (is_credential_key(name) or CREDENTIAL_WORDS.intersection(key_words(name))):
        word = f"{name}=..."
    if len(word) > _SHOWN_WORD or not word.isprintable():
        return "(a word not shown)"
    return repr(word)


def _unreadable(subject: str, finding: vault_server.Finding, env: str | None) -> str:
    return (
        f"{subject} starts a command whose dev mode the pack cannot read in {env or 'a non-local stack'} "
        f"({finding.field}: {_shown(finding.word)}): {finding.problem}. To fix: {finding.fix}."
    )


def _containers(r: Resource) -> Iterator[tuple[str, Any]]:
    """``(where, container)`` for every container and init container of a pod-running object's template."""
    for field in CONTAINER_FIELDS:
        yield from entries(r.get("spec", "template", "spec", field, default=[]), f"spec.template.spec.{field}")


def _rendered_dev_mode(r: Resource) -> Iterator[str]:
    """Dev mode as the vault chart renders it (``vault server -dev``, VAULT_DEV_ROOT_TOKEN_ID), in any StatefulSet or
    Deployment, init containers included; names only.

    The container's command is read as it runs (``policies.vault_server``: its shell scripts, the servers'
    flags by Go's rules); what cannot be read is refused.
    """
    if r.env == "local":
        return
    for where, container in _containers(r):
        command = strings(at(container, "command", where=where), f"{where}.command")
        args = strings(at(container, "args", where=where), f"{where}.args")
        image = "" if command else at(container, "image", where=where, default="")  # its own command counts only without one
        findings = vault_server.container_findings(command, args, image if isinstance(image, str) else "", where)
        env_names = [at(e, "name", where=f"{where}.env") for _, e in entries(at(container, "env", where=where, default=[]), f"{where}.env")]
        if any(not f.problem for f in findings) or DEV_TOKEN_VARIABLES.intersection(env_names):
            yield (
                f"{r.describe()} runs Vault in dev mode ({where}: 'vault server -dev' or "
                f"VAULT_DEV_ROOT_TOKEN_ID) in {r.env or 'a non-local stack'}: in memory, unsealed, with a root token. "
                "Set server.dev.enabled to false (dev mode is for the local stack only)."
            )
        for finding in dict.fromkeys(f for f in findings if f.problem):
            yield _unreadable(r.describe(), finding, r.env)


def _extra_args_dev_mode(r: Resource, chart: str) -> Iterator[str]:
    """server.extraArgs, which the vault chart writes after the server's flags in its shell script, read as that script."""
    extra = r.get("values", "server", "extraArgs")
    if extra is None or extra == "":
        return
    subject = f"Helm chart {show(chart)} ({show(r.name)})"
    if not isinstance(extra, str):
        yield (
            f"{subject} sets values.server.extraArgs to a {type(extra).__name__}, not a string, in {r.env or 'a non-local stack'}: "
            "the chart writes it into the server's command as Go templates print it, which the pack does not read for "
            "dev mode. To fix: write it as one string of flags."
        )
        return
    findings = vault_server.script_findings(_CHART_SERVER_LINE + extra, "values.server.extraArgs")
    dev = " ".join(f.word for f in findings if not f.problem)
    if dev:
        yield (
            f"{subject} starts the server with {_shown(dev)} in values.server.extraArgs in {r.env or 'a non-local stack'}: "
            "dev mode keeps data in memory, starts unsealed and hands out a root token. Remove the dev flags "
            "from server.extraArgs (dev mode is for the local stack only)."
        )
    for finding in dict.fromkeys(f for f in findings if f.problem):
        yield _unreadable(subject, finding, r.env)


@resource_rule("hygiene-vault-chart-no-dev-mode", MANDATORY, HELM_TYPES | POD_TEMPLATE_KINDS)
def vault_chart_no_dev_mode(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """The Vault Helm chart never runs with server.dev.enabled outside the local stack.

    The engine sends a policy pack no inputs of a ``helm.sh/v4:Chart`` (a remote
    component), so the values are read where they are visible (a v3 Release, tests)
    and the rendered StatefulSet is checked too, as is every Deployment (a server started outside the chart).
    """
    if r.type in POD_TEMPLATE_KINDS:
        yield from _rendered_dev_mode(r)
        return
    chart = r.get("chart")
    if not isinstance(chart, str) or artifact_name(chart) != "vault" or r.env == "local":
        return
    dev = r.get("values", "server", "dev", "enabled")
    if dev is True or (isinstance(dev, str) and dev.lower() == "true"):
        yield (
            f"Helm chart {show(chart)} ({show(r.name)}) enables server.dev.enabled in {r.env or 'a non-local stack'}: "
            "dev mode keeps data in memory, starts unsealed and hands out a root token. Set server.dev.enabled to false "
            "and run Vault with storage and unsealing (dev mode is for the local stack only)."
        )
    else:
        yield from _extra_args_dev_mode(r, chart)
    if r.get("valueYamlFiles"):
        raise UnknownAtPreview("valueYamlFiles", "values read from files cannot be inspected by the pack")


_LOCAL_CHART = ("./", "../", "/", "file://")
_VERSIONED_TARBALL = re.compile(r"-v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?\.tgz\Z")


@resource_rule("hygiene-helm-chart-version-pinned", MANDATORY, HELM_TYPES)
def helm_chart_version_pinned(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """Every Helm chart from a repository or registry is pinned to an exact version."""
    chart = r.get("chart")
    if not isinstance(chart, str) or chart.startswith(_LOCAL_CHART) or "@sha256:" in chart or _VERSIONED_TARBALL.search(chart):
        return  # local charts are versioned with the repository; digests and versioned tarballs are pinned
    version = r.get("version")
    if not isinstance(version, str) or not conventions.is_exact_chart_version(version):
        state = "has no version" if not version else f"has version {show(version)}, which is a range, not one release"
        yield (
            f"Helm chart {show(chart)} ({show(r.name)}) {state}; an unpinned chart changes under you on the next "
            "deploy. Set version to an exact release (e.g. '0.28.1') and upgrade it in a reviewed change."
        )


POLICIES = [configmap_no_credential_keys, metadata_no_credential_keys, vault_chart_no_dev_mode, helm_chart_version_pinned]
