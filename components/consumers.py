"""Ready-to-paste fragments that tell a consumer how to use a Secret, never what is in it."""

from __future__ import annotations

from typing import Any

import conventions
from components.common import SecretDescriptor

OPAQUE = "Opaque"
DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson"
TLS = "kubernetes.io/tls"


def fragments(secret: SecretDescriptor) -> dict[str, Any]:
    """Consumer snippets for Kubernetes pods, Dagster Helm, Flyte, dbt, Pachyderm and Reloader."""
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
