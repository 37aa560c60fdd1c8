"""A docker-registry pull secret (`kubernetes.io/dockerconfigjson`) per consumer namespace."""

from __future__ import annotations

import base64
import json

import pulumi

from secrets_platform.components.common import SecretCopiesComponent, child_options
from secrets_platform.model.descriptors import DOCKER_CONFIG_JSON
from secrets_platform.model.secrets import REGISTRY_KEY, RegistryPullSecretSpec

# The one key Kubernetes requires of this Secret type.
REQUIRED_KEY = REGISTRY_KEY


def docker_config(server: str, username: str, password: str, email: str | None) -> str:
    entry = {"username": username, "password": password, "auth": base64.b64encode(f"{username}:{password}".encode()).decode()}
    if email:
        entry["email"] = email
    return json.dumps({"auths": {server: entry}}, sort_keys=True)


class RegistryPullSecret(SecretCopiesComponent):
    """``<service>-<env>-pull-secret`` in each consumer namespace."""

    TYPE = "secrets-platform:registry:RegistryPullSecret"

    def __init__(self, name: str, spec: RegistryPullSecretSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        child = child_options(self, opts)
        password = pulumi.Output.secret(spec.password.reveal())
        config = password.apply(lambda p: {REQUIRED_KEY: docker_config(spec.server, spec.username, p, spec.email)})
        self._write_copies(spec, secret_type=DOCKER_CONFIG_JSON, string_data=config, opts=child)
