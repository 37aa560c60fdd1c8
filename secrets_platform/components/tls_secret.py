"""A TLS secret (`kubernetes.io/tls`) per consumer namespace, from secret config."""

from __future__ import annotations

import pulumi

from secrets_platform.components.common import SecretCopiesComponent, child_options
from secrets_platform.model.descriptors import TLS
from secrets_platform.model.secrets import TLS_KEYS, TlsSecretSpec

# The two keys Kubernetes requires of this Secret type.
REQUIRED_KEYS = TLS_KEYS


class PlatformTlsSecret(SecretCopiesComponent):
    """``<service>-<env>-<purpose>-secret`` holding ``tls.crt`` and ``tls.key``."""

    TYPE = "secrets-platform:tls:PlatformTlsSecret"

    def __init__(self, name: str, spec: TlsSecretSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        child = child_options(self, opts)
        certificate = spec.certificate
        data = pulumi.Output.secret(spec.private_key.reveal()).apply(lambda key: {"tls.crt": certificate, "tls.key": key})
        self._write_copies(spec, secret_type=TLS, string_data=data, opts=child)
