"""Typed, validated stack config: read once, passed down, never re-read by components."""

from settings.errors import ConfigError, Problem
from settings.load import ImportedSecret, Settings, from_mapping
from settings.sources import from_pulumi, from_stack_file, read_stack_document
from settings.model import Credential, GeneratedKey, RegistrySecret, StackConfig, TlsSecret

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
