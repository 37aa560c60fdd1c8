"""A docker-registry pull secret (`kubernetes.io/dockerconfigjson`) per consumer namespace."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import pulumi

import conventions
from components.common import SecretCopiesComponent, SecretDescriptor, child_options
from components.consumers import DOCKER_CONFIG_JSON
from settings import RegistrySecret

# The one key Kubernetes requires of this Secret type.
REQUIRED_KEY = ".dockerconfigjson"


@dataclass(frozen=True)
class RegistryPullSecretArgs:
    registry: RegistrySecret
    environment: str
    namespaces: tuple[str, ...]
    protect: bool


def docker_config(server: str, username: str, password: str, email: str | None) -> str:
    entry = {"username": username, "password": password, "auth": base64.b64encode(f"{username}:{password}".encode()).decode()}
    if email:
        entry["email"] = email
    return json.dumps({"auths": {server: entry}}, sort_keys=True)


def describe_registry(args: RegistryPullSecretArgs) -> list[SecretDescriptor]:
    """What the component creates, without creating it (pure: never touches the password).

    The registry's server is left out on purpose: it comes from secret config (the
    whole ``registries`` key is stored with ``--secret``), and these descriptors become
    plain stack outputs.
    """
    reg = args.registry
    name = conventions.pull_secret_name(reg.service, args.environment)
    return [
        SecretDescriptor(name, ns, DOCKER_CONFIG_JSON, (REQUIRED_KEY,), "kubernetes", reg.service)
        for ns in sorted(args.namespaces)
    ]


class RegistryPullSecret(SecretCopiesComponent):
    """``<service>-<env>-pull-secret`` in each consumer namespace."""

    TYPE = "secrets-platform:registry:RegistryPullSecret"

    def __init__(self, name: str, args: RegistryPullSecretArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        child = child_options(self, opts)
        reg = args.registry
        password = pulumi.Output.secret(reg.password.get_secret_value())
        config = password.apply(lambda p: {REQUIRED_KEY: docker_config(reg.server, reg.username, p, reg.email)})
        self._write_copies(conventions.pull_secret_name(reg.service, args.environment), args.namespaces, environment=args.environment,
                           secret_type=DOCKER_CONFIG_JSON, string_data=config, protect=args.protect, opts=child)
