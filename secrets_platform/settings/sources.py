"""Where a stack's config comes from: the engine (inside a Pulumi program) or a ``Pulumi.<env>.yaml`` file (tools).

Both hand the keys and the set stored with ``--secret`` to :func:`settings.load.from_mapping`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import yaml

from secrets_platform import conventions
from secrets_platform.settings import safe_yaml
from secrets_platform.settings.decode import strip_secure
from secrets_platform.settings.errors import NAMESPACE, ConfigError, Problem
from secrets_platform.settings.load import Settings, from_mapping


def from_pulumi(environ: Mapping[str, str] | None = None) -> Settings:
    """Load the running program's stack config (call once, from ``__main__``)."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw: dict[str, Any] = {}
    raw.update(runtime_config.get_config_env())
    raw.update(runtime_config.CONFIG.get())
    prefix = f"{NAMESPACE}:"
    values: dict[str, Any] = {}
    secret: set[str] = set()
    for key, value in raw.items():
        if not key.startswith(prefix):
            continue
        short = key[len(prefix) :]
        values[short] = value
        if runtime_config.is_config_secret(key):
            secret.add(short)
    loaded = from_mapping(values, secret, pulumi.get_stack(), os.environ if environ is None else environ, root=Path.cwd())
    if loaded.environment == "local" and loaded.kubeconfig:
        from secrets_platform.settings.kubeconfig import check_local_kubeconfig

        check_local_kubeconfig(loaded.kubeconfig)
    return loaded


def read_stack_document(path: str | Path) -> dict[str, Any]:
    """The top-level mapping of a stack file, read with the bounded loader.

    Unreadable, binary, malformed, alias-bombed or too deeply nested files, and files
    whose top level (or ``config``) is not a mapping, raise one :class:`ConfigError`
    naming the file and line and saying how to fix it.
    """
    path = Path(path)

    def refuse(
        message: str, line: int | None = None, fix: str = "fix the file; README.md shows the layout of Pulumi.<env>.yaml"
    ) -> ConfigError:
        where = f"{path}:{line}" if line else str(path)
        return ConfigError([Problem(where, message, fix)], source=str(path))

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise refuse("is not a UTF-8 text file", fix="give a YAML text file") from None
    except OSError as err:
        raise refuse(f"cannot be read ({err.strerror or err.__class__.__name__})", fix="check the path and its permissions") from None
    try:
        document = safe_yaml.load(text)
    except safe_yaml.UnsafeYamlError as err:
        line, reason = safe_yaml.describe(err)
        raise refuse(f"is refused: it {reason}", line, "write the values out without anchors and aliases, and nest less") from None
    except Exception as err:  # noqa: BLE001 - any YAML failure (libyaml raises a few kinds) is bad input
        line, reason = safe_yaml.describe(err) if isinstance(err, yaml.YAMLError) else (None, err.__class__.__name__)
        raise refuse(f"cannot be read as YAML: {reason}", line) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise refuse(
            f"holds a YAML {_kind(document)} at the top level, not a mapping",
            1,
            "start the file with `config:` and the secrets-platform:* keys under it",
        )
    config = document.get("config")
    if config is not None and not isinstance(config, dict):
        raise refuse(
            f"`config` is a YAML {_kind(config)}, not a mapping", None, "give `config:` a mapping of secrets-platform:<key>: <value>"
        )
    return document


def _kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), type(value).__name__)


def from_stack_file(path: str | Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Load ``Pulumi.<stack>.yaml`` without the engine; encrypted values stay opaque."""
    path = Path(path)
    try:
        stack = conventions.parse_stack_file_name(path.name)
    except conventions.ConventionError:
        raise ConfigError([Problem(str(path), "not a stack file", "name it Pulumi.<env>.yaml")], source=str(path)) from None
    document = read_stack_document(path)
    config = document.get("config") or {}
    values: dict[str, Any] = {}
    secret: set[str] = set()
    prefix = f"{NAMESPACE}:"
    for key, value in config.items():
        if str(key).startswith(prefix):
            short = str(key)[len(prefix) :]
            values[short], is_secret = strip_secure(value)
            if is_secret:
                secret.add(short)
    return from_mapping(values, secret, stack, environ or {}, source=str(path), root=path.resolve().parent)
