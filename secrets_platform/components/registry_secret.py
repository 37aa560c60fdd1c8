"""A docker-registry pull secret (`kubernetes.io/dockerconfigjson`) per consumer namespace."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Mapping

import pulumi

from secrets_platform.components.common import SecretCopiesComponent, SecretDescriptor, child_options
from secrets_platform.components.consumers import DOCKER_CONFIG_JSON
from secrets_platform.settings import RegistrySecret

# The one key Kubernetes requires of this Secret type.
REQUIRED_KEY = ".dockerconfigjson"


@dataclass(frozen=True)
class RegistryPullSecretSpec:
    """A registry's pull secret as the stack resolved it (:func:`components.platform.registry_spec`)."""

    registry: RegistrySecret
    secret_name: str
    """``<service>-<env>-pull-secret`` (:func:`conventions.pull_secret_name`)."""
    namespaces: tuple[str, ...]
    labels: Mapping[str, str]
    protect: bool


def docker_config(server: str, username: str, password: str, email: str | None) -> str:
    entry = {"username": username, "password": password, "auth": base64.b64encode(f"{username}:{password}".encode()).decode()}
    if email:
        entry["email"] = email
    return json.dumps({"auths": {server: entry}}, sort_keys=True)


def describe_registry(spec: RegistryPullSecretSpec) -> list[SecretDescriptor]:
    """What the component creates, without creating it (pure: never touches the password).

    The registry's server is left out on purpose: it comes from secret config (the
    whole ``registries`` key is stored with ``--secret``), and these descriptors become
    plain stack outputs.
    """
    reg = spec.registry
    return [
        SecretDescriptor(spec.secret_name, ns, DOCKER_CONFIG_JSON, (REQUIRED_KEY,), "kubernetes", reg.service)
        for ns in sorted(spec.namespaces)
    ]


class RegistryPullSecret(SecretCopiesComponent):
    """``<service>-<env>-pull-secret`` in each consumer namespace."""

    TYPE = "secrets-platform:registry:RegistryPullSecret"

    def __init__(self, name: str, spec: RegistryPullSecretSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        child = child_options(self, opts)
        reg = spec.registry
        password = pulumi.Output.secret(reg.password.get_secret_value())
        config = password.apply(lambda p: {REQUIRED_KEY: docker_config(reg.server, reg.username, p, reg.email)})
        self._write_copies(
            spec.secret_name,
            spec.namespaces,
            labels=spec.labels,
            secret_type=DOCKER_CONFIG_JSON,
            string_data=config,
            protect=spec.protect,
            opts=child,
        )
