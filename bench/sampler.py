"""What one engine run costs, per process role: CPU seconds and peak RSS, sampled from ``/proc``.

bench/engine.py starts each ``pulumi`` command under a :class:`Sampler`, which polls the command's
process tree every :data:`SAMPLE_SECONDS` and classifies each process by its command line
(:func:`role_of`: the engine, the language host, the program, the analyzer, the providers). Linux only.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

SAMPLE_SECONDS = 0.1
ROLES = ("engine", "language host", "program", "analyzer", "kubernetes provider", "random provider", "other")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def _stat(pid: int) -> tuple[float, int] | None:
    """(CPU seconds, peak RSS KiB) of a live process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/status") as f:
            hwm = next((int(line.split()[1]) for line in f if line.startswith("VmHWM:")), 0)
    except (OSError, ValueError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks, hwm


def role_of(pid: int, root_pid: int) -> str:
    """What a process of a ``pulumi`` run is, from its command line."""
    if pid == root_pid:
        return "engine"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return "other"
    if not argv:
        return "other"
    exe = Path(argv[0]).name
    line = " ".join(argv)
    if exe.startswith("pulumi-language-"):
        return "language host"
    if "pulumi-resource-kubernetes" in exe:
        return "kubernetes provider"
    if "pulumi-resource-random" in exe:
        return "random provider"
    if exe == "noop-analyzer":  # bench/noop.py's Go analyzer
        return "analyzer"
    if "python" in exe:
        if "pulumi.policy" in line:
            return "analyzer"
        if "pulumi-language-python-exec" in line:
            return "program"
    return "other"


class Sampler:
    """Polls the process tree of one run: per role, CPU seconds (summed) and peak RSS (largest process)."""

    def __init__(self, root_pid: int) -> None:
        self.root_pid = root_pid
        self.seen: dict[int, tuple[str, float, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        todo, seen = [self.root_pid], set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            stat = _stat(pid)
            if stat is None:
                continue
            # A child can be seen between fork and exec with its parent's command line, and a zombie has no
            # VmHWM: classify on every read (a zombie's empty command line keeps the last role), keep the largest CPU and peak.
            old = self.seen.get(pid)
            role = role_of(pid, self.root_pid)
            if old and role == "other":
                role = old[0]
            self.seen[pid] = (role, max(stat[0], old[1] if old else 0.0), max(stat[1], old[2] if old else 0))
            todo += _children(pid)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._poll()
            self._stop.wait(SAMPLE_SECONDS)

    def stop(self) -> dict[str, dict[str, float]]:
        self._stop.set()
        self._thread.join()
        out: dict[str, dict[str, float]] = {}
        for role, cpu, hwm in self.seen.values():
            r = out.setdefault(role, {"cpu_seconds": 0.0, "peak_rss_mib": 0.0, "processes": 0})
            r["cpu_seconds"] += cpu
            r["peak_rss_mib"] = max(r["peak_rss_mib"], hwm / 1024)
            r["processes"] += 1
        return out
