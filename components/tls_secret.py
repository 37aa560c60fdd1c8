"""A TLS secret (`kubernetes.io/tls`) per consumer namespace, from secret config."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

import conventions
from components.common import SecretDescriptor, child_options, secret_copies
from components.consumers import TLS
from settings import TlsSecret

# The two keys Kubernetes requires of this Secret type.
REQUIRED_KEYS = ("tls.crt", "tls.key")


@dataclass(frozen=True)
class TlsSecretArgs:
    tls: TlsSecret
    environment: str
    namespaces: tuple[str, ...]
    protect: bool


def describe_tls(args: TlsSecretArgs) -> list[SecretDescriptor]:
    """What the component creates, without creating it (pure: never touches the key)."""
    tls = args.tls
    name = conventions.secret_name(tls.service, args.environment, tls.purpose)
    return [SecretDescriptor(name, ns, TLS, REQUIRED_KEYS, "kubernetes", tls.service) for ns in sorted(args.namespaces)]


class PlatformTlsSecret(pulumi.ComponentResource):
    """``<service>-<env>-<purpose>-secret`` holding ``tls.crt`` and ``tls.key``."""

    TYPE = "secrets-platform:tls:PlatformTlsSecret"

    def __init__(self, name: str, args: TlsSecretArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        child = child_options(self, opts)
        tls = args.tls
        self.secret_name = conventions.secret_name(tls.service, args.environment, tls.purpose)
        data = pulumi.Output.secret(tls.private_key.get_secret_value()).apply(
            lambda key: {"tls.crt": tls.certificate, "tls.key": key}
        )
        self.secrets = secret_copies(
            self.secret_name,
            args.namespaces,
            environment=args.environment,
            secret_type=TLS,
            string_data=data,
            protect=args.protect,
            opts=child,
        )
        self.register_outputs({"secret_name": self.secret_name})
