"""The local stack reaches loopback only: its kubeconfig is checked before anything is registered.

Called by :func:`settings.from_pulumi` (the program), not by the readers of stack
files (the CLI, the cross-stack check), which never need a running cluster.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from settings.errors import ConfigError, Problem, full_key

_KEY = full_key(["kubernetes", "kubeconfig"])
_RUN_MAKE_UP = "run make up (it starts the local cluster and writes its kubeconfig)"


def check_local_kubeconfig(path: str) -> None:
    """local reaches loopback only: the kubeconfig must exist and its current cluster be on 127.0.0.0/8 or ::1."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError([Problem(_KEY, "names no file: the local cluster is not running or was never created", _RUN_MAKE_UP, path)])
    try:
        text = file.read_text()
        doc = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
        current = doc.get("current-context")
        context = next(c["context"] for c in doc.get("contexts") or [] if c.get("name") == current)
        server = next(c["cluster"]["server"] for c in doc.get("clusters") or [] if c.get("name") == context.get("cluster"))
        host = urlsplit(server).hostname or ""
    except (OSError, ValueError, yaml.YAMLError, AttributeError, KeyError, TypeError, StopIteration):
        raise ConfigError([Problem(_KEY, "is not a kubeconfig with a current context and its cluster", _RUN_MAKE_UP, path)]) from None
    if not _loopback(host):
        raise ConfigError(
            [
                Problem(
                    _KEY,
                    f"points at {host!r}, but the local stack only ever talks to a cluster on loopback (127.0.0.0/8)",
                    "point it at the local cluster's kubeconfig (make -s kubeconfig prints it), or remove it",
                    path,
                )
            ]
        )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
