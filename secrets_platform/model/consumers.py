"""Ready-to-paste fragments that tell a consumer how to use a Secret, never what is in it (the outputs' ``consumers``)."""

from __future__ import annotations

import re
from typing import Any

from secrets_platform import conventions
from secrets_platform.model.descriptors import DOCKER_CONFIG_JSON, OPAQUE, TLS, SecretDescriptor

__all__ = [
    "DOCKER_CONFIG_JSON",
    "OPAQUE",
    "TLS",
    "SecretDescriptor",
    "describe",
    "flyte_vault_field_problem",
    "flyte_vault_secrets",
    "fragments",
]


def fragments(secret: SecretDescriptor) -> dict[str, Any]:
    """Consumer snippets for Kubernetes pods, Dagster Helm, Flyte, dbt, Pachyderm and Reloader.

    ``workloadAnnotations`` is for long-running workloads (Deployments, StatefulSets, DaemonSets): with it
    Reloader rolls them when the Secret changes. Batch workloads (Jobs, CronJobs, a run of a data tool) need
    none and get no restart: they read the Secret when they start; ``rotationStrategy: dual`` keeps the
    value a running batch started with valid until the next rotation.
    """
    name = secret.name
    reloader = {conventions.RELOADER_CONSUMER_ANNOTATION: "true"}
    if secret.type == DOCKER_CONFIG_JSON:
        return {
            "imagePullSecrets": [{"name": name}],
            "pachydermImagePullSecrets": [name],
            "workloadAnnotations": reloader,
        }
    if secret.type == TLS:
        return {
            "volume": {"name": name, "secret": {"secretName": name}},
            "workloadAnnotations": reloader,
        }
    return {
        "envFrom": [{"secretRef": {"name": name}}],
        "dagsterEnvSecrets": [{"name": name}],
        "flyteSecrets": [{"group": name, "key": key} for key in secret.keys],
        "dbtEnvVars": [f"{{{{ env_var('{key}') }}}}" for key in secret.keys],
        "pachydermSecrets": [{"name": name, "key": key, "env_var": key} for key in secret.keys],
        "workloadAnnotations": reloader,
    }


# Flyte's Vault secret manager (flytepropeller's webhook) turns Secret(group, key) into one agent template
# `{{ with secret "<group>" }}{{ .Data.data.<key> }}{{ end }}` rendered to /etc/flyte/secrets/<group>/<key>:
# the key is the KV field's own name (any other name renders "<no value>"), a Go template field, so letters,
# digits and '_'; and flytekit reads the file <group>/<key> lower-cased, so only a lower-case field is found.
FLYTE_SECRETS_DIR = conventions.FLYTE_SECRETS_DIR
FLYTE_VAULT_FIELD = re.compile(r"^[a-z_][a-z0-9_]*$")


def flyte_vault_field_problem(field: str) -> str | None:
    """Why Flyte's Vault injector and flytekit can't hand a task KV field ``field``, or None when they can."""
    if FLYTE_VAULT_FIELD.match(field):
        return None
    if field.lower() != field and FLYTE_VAULT_FIELD.match(field.lower()):
        return (
            f"flytekit reads the file {FLYTE_SECRETS_DIR}/<group>/{field.lower()} (keys lower-cased) "
            f"while Flyte's Vault injector writes <group>/{field}: rename the KV field in lower case"
        )
    return f"Flyte's Vault injector reads the field as a template field (.Data.data.{field}): use letters, digits and '_' only"


def flyte_vault_secrets(path: str, properties: dict[str, str]) -> dict[str, Any]:
    """Flyte ``Secret(group=..., key=...)`` requests for a vault-backed bundle: the KV path and each field's own name.

    File mounts only: Flyte's Vault secret manager refuses ENV_VAR. Fields Flyte can't read are listed with the reason.
    """
    readable, unreadable = [], {}
    for key, field in sorted(properties.items()):
        problem = flyte_vault_field_problem(field)
        if problem:
            unreadable[key] = problem
        else:
            readable.append({"group": path, "key": field, "mountRequirement": "FILE", "file": conventions.flyte_secret_file(path, field)})
    out: dict[str, Any] = {"flyteSecrets": readable}
    if unreadable:
        out["flyteUnreadable"] = unreadable
    return out


def describe(secret: SecretDescriptor) -> dict[str, Any]:
    """The stack-output entry of one Secret: names, keys and fragments only."""
    out: dict[str, Any] = {
        "name": secret.name,
        "namespace": secret.namespace,
        "type": secret.type,
        "keys": list(secret.keys),
        "backend": secret.backend,
        "service": secret.service,
        "consumers": fragments(secret),
    }
    if secret.rotation is not None:
        out["rotation"] = secret.rotation
    out.update(secret.extra)
    return out
