"""Typed, validated stack config: read once, passed down, never re-read by components."""

from secrets_platform.settings.errors import ConfigError, Problem
from secrets_platform.settings.load import ImportedSecret, Settings, from_mapping
from secrets_platform.settings.sources import from_pulumi, from_stack_file, read_stack_document
from secrets_platform.settings.model import Credential, GeneratedKey, RegistrySecret, StackConfig, TlsSecret

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
