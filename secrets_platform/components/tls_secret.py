"""A TLS secret (`kubernetes.io/tls`) per consumer namespace, from secret config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pulumi

from secrets_platform.components.common import SecretCopiesComponent, SecretDescriptor, child_options
from secrets_platform.components.consumers import TLS
from secrets_platform.settings import TlsSecret

# The two keys Kubernetes requires of this Secret type.
REQUIRED_KEYS = ("tls.crt", "tls.key")


@dataclass(frozen=True)
class TlsSecretSpec:
    """A TLS secret as the stack resolved it (:func:`components.platform.tls_spec`)."""

    tls: TlsSecret
    secret_name: str
    """``<service>-<env>-<purpose>-secret`` (:func:`conventions.secret_name`)."""
    namespaces: tuple[str, ...]
    labels: Mapping[str, str]
    protect: bool


def describe_tls(spec: TlsSecretSpec) -> list[SecretDescriptor]:
    """What the component creates, without creating it (pure: never touches the key)."""
    return [SecretDescriptor(spec.secret_name, ns, TLS, REQUIRED_KEYS, "kubernetes", spec.tls.service) for ns in sorted(spec.namespaces)]


class PlatformTlsSecret(SecretCopiesComponent):
    """``<service>-<env>-<purpose>-secret`` holding ``tls.crt`` and ``tls.key``."""

    TYPE = "secrets-platform:tls:PlatformTlsSecret"

    def __init__(self, name: str, spec: TlsSecretSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        child = child_options(self, opts)
        tls = spec.tls
        data = pulumi.Output.secret(tls.private_key.get_secret_value()).apply(lambda key: {"tls.crt": tls.certificate, "tls.key": key})
        self._write_copies(
            spec.secret_name, spec.namespaces, labels=spec.labels, secret_type=TLS, string_data=data, protect=spec.protect, opts=child
        )
