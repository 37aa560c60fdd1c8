"""Vault's HTTP API, the few calls the operator path needs, and the one error every part of it raises."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from secrets_platform.localcluster import ClusterError


class VaultError(ClusterError):
    """An unreachable, sealed or refusing Vault, or bad outputs: the message names it and the fix."""


class VaultApi:
    """The few calls the operator path needs; every error names Vault's address, never the token."""

    def __init__(self, address: str, token: str, timeout: float = 10):
        self.address = address.rstrip("/")
        self._token = token
        self.timeout = timeout

    def call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 204)) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.address}/v1/{path}",
            data=data,
            method=method,
            headers={"X-Vault-Token": self._token, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise VaultError(
                f"Vault at {self.address} is unreachable ({reason}): start it (make up starts the local one) "
                "and run this again; nothing was applied"
            ) from None
        try:
            doc = json.loads(raw) if raw else {}
        except ValueError:
            doc = {}
        if status not in ok:
            errors = "; ".join(str(e) for e in doc.get("errors", [])) or f"HTTP {status}"
            raise VaultError(f"Vault at {self.address} refused {method} {path}: {errors}")
        return status, doc

    def listed(self, path: str) -> list[str]:
        """The keys a LIST of ``path`` returns; none when nothing is there (404)."""
        status, listed = self.call("LIST", path, ok=(200, 404))
        return list((listed.get("data") or {}).get("keys", [])) if status == 200 else []

    def check_ready(self) -> None:
        """Reachable, initialised, unsealed, and the token is valid: before anything is written."""
        _, seal = self.call("GET", "sys/seal-status")
        if not seal.get("initialized", True):
            raise VaultError(f"Vault at {self.address} is not initialised: run bao operator init, then this again; nothing was applied")
        if seal.get("sealed"):
            raise VaultError(
                f"Vault at {self.address} is sealed: unseal it (bao operator unseal; the local dev server: "
                "make down && make up), then run this again; nothing was applied"
            )
        status, _ = self.call("GET", "auth/token/lookup-self", ok=(200, 403))
        if status == 403:
            raise VaultError(
                f"Vault at {self.address} refused the operator token (invalid or expired): give a valid token; nothing was applied"
            )
