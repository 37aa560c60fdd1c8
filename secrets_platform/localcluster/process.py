"""A local process started and awaited the same way everywhere: a session of its own, a pid file, a log, a readiness poll.

:func:`spawn` appends a line naming the start to the log (``--- localcluster: starting NAME at TIME ---``) before the
process's own output, so :func:`tail` reads only the latest run; :func:`wait_ready` polls a health check until it passes,
the process exits (:class:`Exited`) or the time is up (:class:`NotReady`): the caller words the error and cleans up;
:func:`stop` signals it, waits, and kills what is left.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

START_MARK = "--- localcluster: starting"


class Exited(Exception):
    """The process exited (or is no longer running) before it was ready; ``code`` is its exit code when known."""

    def __init__(self, code: int | None):
        super().__init__(code)
        self.code = code


class NotReady(Exception):
    """The process still runs but was not ready in time."""


def spawn(
    argv: list[str], *, name: str, log: Path, pid_file: Path, env: dict[str, str], cwd: Path, output: bool = True
) -> subprocess.Popen:
    """Start ``argv`` in a session of its own, no stdin, its pid written to ``pid_file``.

    ``output``: stdout and stderr both go to ``log``; without it stdout is discarded (a banner that
    carries a secret) and only stderr goes to ``log``.
    """
    log.parent.mkdir(exist_ok=True)
    pid_file.parent.mkdir(exist_ok=True)
    with open(log, "ab") as fh:
        fh.write(f"{START_MARK} {name} at {time.strftime('%Y-%m-%dT%H:%M:%S')} ---\n".encode())
        fh.flush()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=fh if output else subprocess.DEVNULL,
            stderr=subprocess.STDOUT if output else fh,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    pid_file.write_text(str(proc.pid))
    return proc


def wait_ready(
    healthy: Callable[[], bool],
    proc: subprocess.Popen | None,
    timeout: float,
    *,
    interval: float = 0.2,
    alive: Callable[[], bool] = lambda: True,
) -> None:
    """Return once ``healthy()``; raise :class:`Exited` when ``proc`` exits or ``alive()`` is false, :class:`NotReady` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if healthy():
            return
        code = proc.poll() if proc else None
        if code is not None or not alive():
            raise Exited(code)
        time.sleep(interval)
    raise NotReady()


def stop(pid: int, running: Callable[[], bool], timeout: float, sig: int = signal.SIGTERM) -> None:
    """Send ``sig`` to ``pid``, wait up to ``timeout`` s until ``running()`` is false, then SIGKILL it if it still runs."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while running() and time.monotonic() < deadline:
        time.sleep(0.1)
    if running():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)


def tail(log: Path, lines: int = 3) -> str:
    """The last ``lines`` lines the latest run wrote to ``log``, joined on one line, and where the full log is."""
    try:
        text = log.read_text(errors="replace").rsplit(START_MARK, 1)[-1].strip().splitlines()[1:][-lines:]
    except OSError:
        text = []
    return (" | ".join(t.strip()[:300] for t in text) or "no output") + f" (full log: {log})"


def is_process_of(pid: int, binary: str) -> bool:
    """A live (not zombie) process running ``binary``; one still starting (no command line yet) counts."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except (OSError, IndexError):
        return False
    return state != "Z" and (not cmdline or Path(cmdline).name == binary)
