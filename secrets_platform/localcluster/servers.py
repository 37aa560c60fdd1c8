"""What the local cluster's side servers (OpenBao, PostgreSQL) share: files in the cluster's data folder, a pid file, a port.

Each server is one process started in a session of its own beside the cluster and
stopped with it. A subclass names its ``COMPONENT`` (the log and pid file name), its
``PORT_OFFSET`` from the API server's port, its folder, how it recognises its own
process, the signal that stops it cleanly, and how it starts: :meth:`LoopbackServer.start`
finds its binaries (``_tools``), prepares its files and checks its ports (``_prepare``), then
runs it and waits until it is ready (``_launch``).
"""

from __future__ import annotations

import contextlib
import signal
from pathlib import Path

from secrets_platform.localcluster import LOOPBACK, Cluster, ClusterError, process
from secrets_platform.localcluster.layout import InRoot
from secrets_platform.localcluster.ports import check_free


class LoopbackServer:
    COMPONENT = ""
    PORT_OFFSET = 0
    STOP_SIGNAL = signal.SIGTERM
    STOP_TIMEOUT = 10.0
    START_TIMEOUT = 30.0

    def __init__(self, cluster: Cluster, port: int | None = None):
        self.cluster = cluster
        self._port = port

    @property
    def root(self) -> Path:
        return self.cluster.root / self.COMPONENT

    @property
    def log(self) -> Path:
        return self.cluster.log(self.COMPONENT)

    @property
    def _pid_file(self) -> Path:
        return self.cluster.pid_file(self.COMPONENT)

    _port_file = InRoot("port")

    @property
    def port(self) -> int:
        """The port chosen at the first start (kept in the data folder), else the cluster's API port + PORT_OFFSET."""
        with contextlib.suppress(OSError, ValueError):
            return int(self._port_file.read_text())
        return self._port or self.cluster.ports.api + self.PORT_OFFSET

    def _write_port(self) -> None:
        if not self._port_file.exists():
            self._port_file.write_text(f"{self._port or self.cluster.ports.api + self.PORT_OFFSET}\n")

    def _check_ports(self, ports: tuple[int, ...], what: str, error: type[ClusterError]) -> None:
        """Every port free on 127.0.0.1, or one ``error`` naming the port, ``what`` wanted it, and the fix."""
        check_free(((what, port) for port in ports), error)

    @property
    def host_port(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def address(self) -> str:
        """The address clients reach the server at (its URL or host:port), as its errors name it."""
        raise NotImplementedError

    def _is_ours(self, cmdline: list[bytes]) -> bool:
        raise NotImplementedError

    def healthy(self) -> bool:
        raise NotImplementedError

    def _tools(self) -> Path:
        """The folder or binary the server runs from; an error with the fix when it is missing (checked before the lock)."""
        raise NotImplementedError

    def _prepare(self, tools: Path) -> None:
        """The server's files, and its ports checked free: under the lock, the old process stopped."""
        raise NotImplementedError

    def _launch(self, tools: Path, timeout: float) -> None:
        """Run the server, its pid in the pid file, and return once it is ready (else an error naming its log)."""
        raise NotImplementedError

    # How the server's errors name it ("the local Vault (OpenBao)") and the error they raise.
    LABEL = ""
    ERROR: type[ClusterError] = ClusterError

    def _run(self, argv: list[str], env: dict[str, str], timeout: float, *, output: bool = True) -> None:
        """Start ``argv`` (process.spawn) and return once :meth:`healthy`, else one ``ERROR`` naming the log."""
        proc = process.spawn(argv, name=self.COMPONENT, log=self.log, pid_file=self._pid_file, env=env, cwd=self.root, output=output)
        try:
            process.wait_ready(self.healthy, proc, timeout, interval=0.1)
        except process.Exited as exc:
            self._pid_file.unlink(missing_ok=True)
            raise self.ERROR(f"{self.LABEL} exited while starting (exit code {exc.code}): see {self.log}") from None
        except process.NotReady:
            self._stop()
            raise self.ERROR(f"{self.LABEL} at {self.address} was not ready after {timeout:.0f} s: see {self.log}") from None

    def pid(self) -> int | None:
        """The server's pid when its pid file names a live process of this server (a reused pid is not ours)."""
        try:
            pid = int(self._pid_file.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return None
        return pid if self._is_ours(cmdline) else None

    def _stop(self) -> bool:
        pid = self.pid()
        if pid is None:
            self._pid_file.unlink(missing_ok=True)
            return False
        process.stop(pid, lambda: self.pid() is not None, self.STOP_TIMEOUT, self.STOP_SIGNAL)
        self._pid_file.unlink(missing_ok=True)
        return True

    def start(self, timeout: float | None = None) -> bool:
        """Start the server if it is not running; True when started (``timeout``: START_TIMEOUT seconds by default)."""
        tools = self._tools()
        with self.cluster.locked():
            if self.pid() is not None and self.healthy():
                return False
            self._stop()
            self._prepare(tools)
            self.cluster.logs.mkdir(exist_ok=True)
            self._pid_file.parent.mkdir(exist_ok=True)
            self._launch(tools, self.START_TIMEOUT if timeout is None else timeout)
            return True

    def stop(self) -> bool:
        """Stop the server; True when it was running."""
        if not self.cluster.root.exists():
            return False
        with self.cluster.locked():
            return self._stop()
