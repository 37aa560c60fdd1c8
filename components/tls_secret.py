"""A TLS secret (`kubernetes.io/tls`) per consumer namespace, from secret config."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

import conventions
from components.common import SecretCopiesComponent, SecretDescriptor, child_options
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


class PlatformTlsSecret(SecretCopiesComponent):
    """``<service>-<env>-<purpose>-secret`` holding ``tls.crt`` and ``tls.key``."""

    TYPE = "secrets-platform:tls:PlatformTlsSecret"

    def __init__(self, name: str, args: TlsSecretArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        child = child_options(self, opts)
        tls = args.tls
        data = pulumi.Output.secret(tls.private_key.get_secret_value()).apply(
            lambda key: {"tls.crt": tls.certificate, "tls.key": key}
        )
        self._write_copies(conventions.secret_name(tls.service, args.environment, tls.purpose), args.namespaces,
                           environment=args.environment, secret_type=TLS, string_data=data, protect=args.protect, opts=child)
