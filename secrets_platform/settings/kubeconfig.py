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

from secrets_platform.parsers import ParseError
from secrets_platform.parsers.addresses import canonical_host
from secrets_platform.settings.errors import ConfigError, Problem, full_key

_KEY = full_key(["kubernetes", "kubeconfig"])
_RUN_MAKE_UP = "run make up (it starts the local cluster and writes its kubeconfig)"


def check_local_kubeconfig(path: str) -> None:
    """local reaches loopback only: every hop of the kubeconfig's clusters is on 127.0.0.0/8 or ::1.

    The current context's cluster must exist; every cluster of the file (the provider, kubectl or
    a later context switch may use any) must have a loopback ``server`` and no ``proxy-url`` (a
    proxy is a hop of its own that would see the whole API traffic, Secrets included).
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigError([Problem(_KEY, "names no file: the local cluster is not running or was never created", _RUN_MAKE_UP, path)])
    try:
        text = file.read_text()
        doc = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
        current = doc.get("current-context")
        context = next(c["context"] for c in doc.get("contexts") or [] if c.get("name") == current)
        next(c["cluster"] for c in doc.get("clusters") or [] if c.get("name") == context.get("cluster"))
        clusters = [(str(c.get("name")), c["cluster"]) for c in doc.get("clusters") or []]
        hops = [(name, "server", str(cluster["server"])) for name, cluster in clusters]
        hops += [(name, "proxy-url", str(cluster["proxy-url"])) for name, cluster in clusters if cluster.get("proxy-url") is not None]
    except (OSError, ValueError, yaml.YAMLError, AttributeError, KeyError, TypeError, StopIteration):
        raise ConfigError([Problem(_KEY, "is not a kubeconfig with a current context and its cluster", _RUN_MAKE_UP, path)]) from None
    for name, field, url in hops:
        if field == "proxy-url":
            raise ConfigError(
                [
                    Problem(
                        _KEY,
                        f"sends cluster {name!r} through a proxy ({_host(url)!r}), a hop the local stack never takes",
                        "remove proxy-url from the kubeconfig (make -s kubeconfig prints the local cluster's), or unset kubernetes.kubeconfig",
                        path,
                    )
                ]
            )
        host = _host(url)
        if not _loopback(host):
            raise ConfigError(
                [
                    Problem(
                        _KEY,
                        f"points cluster {name!r} at {host!r}, but the local stack only ever talks to a cluster on loopback (127.0.0.0/8)",
                        "point it at the local cluster's kubeconfig (make -s kubeconfig prints it), or remove it",
                        path,
                    )
                ]
            )


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(canonical_host(host)).is_loopback
    except (ValueError, ParseError):
        return False
