"""Typed, validated stack config: read once, passed down, never re-read by components.

The names below are loaded on first use (PEP 562), so importing a pure submodule
(:mod:`settings.model`, :mod:`settings.vault_database`: what :mod:`secrets_platform.model`
reads) does not load the Pulumi SDK that :class:`ConfigError` and :func:`from_pulumi` need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from secrets_platform.settings.errors import ConfigError, Problem
    from secrets_platform.settings.load import ImportedSecret, Settings, from_mapping
    from secrets_platform.settings.model import Credential, GeneratedKey, RegistrySecret, StackConfig, TlsSecret
    from secrets_platform.settings.sources import from_pulumi, from_stack_file, read_stack_document

_WHERE = {
    "ConfigError": "errors",
    "Problem": "errors",
    "ImportedSecret": "load",
    "Settings": "load",
    "from_mapping": "load",
    "from_pulumi": "sources",
    "from_stack_file": "sources",
    "read_stack_document": "sources",
    "Credential": "model",
    "GeneratedKey": "model",
    "RegistrySecret": "model",
    "StackConfig": "model",
    "TlsSecret": "model",
}

__all__ = [
    "ConfigError",
    "Credential",
    "GeneratedKey",
    "ImportedSecret",
    "Problem",
    "RegistrySecret",
    "Settings",
    "StackConfig",
    "TlsSecret",
    "from_mapping",
    "from_pulumi",
    "from_stack_file",
    "read_stack_document",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
