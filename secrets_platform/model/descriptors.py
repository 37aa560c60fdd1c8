"""What consumers may know about a Secret (a descriptor), the three Secret types, and how the model holds a value.

Pure: no Pulumi SDK (a test imports :mod:`secrets_platform.model` alone and checks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

OPAQUE = "Opaque"
DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson"
TLS = "kubernetes.io/tls"


@dataclass(frozen=True)
class SecretDescriptor:
    """What consumers may know about a Secret: everything but its values."""

    name: str
    namespace: str
    type: str
    keys: tuple[str, ...]
    backend: str
    service: str
    rotation: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, repr=False)
class Sensitive:
    """A secret value from secret config, carried by a spec to the component that wraps it as a Pulumi secret.

    Never printed: ``repr`` and ``str`` show a placeholder, so a spec, a model or an error
    that shows one never shows the value. Only :meth:`reveal` hands it out.
    """

    _value: str

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Sensitive('[secret]')"

    __str__ = __repr__
