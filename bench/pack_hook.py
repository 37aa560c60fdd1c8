"""Profiling inside the policy pack's own process, as the engine runs it (``bench/profiling.py --engine``).

Only ever in a throwaway copy of the pack: bench/engine.py's ``pack_dir(...,
profile=...)`` puts ``import bench.pack_hook; bench.pack_hook.install(<file>)`` at the
top of the copy's ``__main__.py``. From then on every ``Analyze``, ``AnalyzeStack`` and
``Remediate`` call of the servicer the pack serves (whichever class ``PolicyPack``
hands to gRPC: secrets_platform/policies/analyzer.py's, or pulumi_policy's own) runs under one
cProfile profiler (calls serialised by a lock, so the figures are per call, not
overlapped), and the process writes, every second and at exit, a JSON summary beside
a ``.pstats`` file: calls, CPU (thread) and wall seconds inside the servicer, the time
from process start to pulumi_policy imported, to the server started (the pack's
start-up: the engine waits for it before it runs the program) and to the first call.
"""

from __future__ import annotations

import atexit
import cProfile
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_profiler = cProfile.Profile()
_stats: dict[str, Any] = {}


def _process_start() -> float:
    """Seconds since boot at which this process started (/proc), for the time to the first call."""
    with open("/proc/self/stat") as f:
        start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    return start_ticks / os.sysconf("SC_CLK_TCK")


def _uptime() -> float:
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


def _wrap(name: str, method):
    entry = _stats.setdefault(name, {"calls": 0, "cpu_seconds": 0.0, "wall_seconds": 0.0, "waited_seconds": 0.0})

    def wrapper(self, request, context):
        if "first_call_after_start" not in _stats:
            _stats["first_call_after_start"] = _uptime() - _process_start()
        asked = time.perf_counter()
        with _lock:
            entry["waited_seconds"] += time.perf_counter() - asked
            cpu, wall = time.thread_time(), time.perf_counter()
            _profiler.enable()
            try:
                return method(self, request, context)
            finally:
                _profiler.disable()
                entry["calls"] += 1
                entry["cpu_seconds"] += time.thread_time() - cpu
                entry["wall_seconds"] += time.perf_counter() - wall

    return wrapper


def _dump(out: Path) -> None:
    with _lock:
        _profiler.dump_stats(str(out.with_suffix(".pstats")))
        usage = os.times()
        _stats["process_cpu_seconds"] = usage.user + usage.system
        out.write_text(json.dumps(_stats))


def install(out: str) -> None:
    """Wrap pulumi_policy's servicer methods and start writing ``out`` (JSON) and ``out``.pstats."""
    started = time.perf_counter()
    from pulumi_policy import policy

    _stats["pulumi_policy_import_seconds"] = time.perf_counter() - started
    _stats["hook_installed_after_start"] = _uptime() - _process_start()
    register = policy.analyzer_pb2_grpc.add_AnalyzerServicer_to_server

    def served(servicer: Any, server: Any) -> None:
        """Wrap the instance ``PolicyPack`` serves, just before its server starts."""
        _stats["serving_after_start"] = _uptime() - _process_start()
        for name in ("Analyze", "AnalyzeStack", "Remediate"):
            bound = getattr(servicer, name)
            setattr(servicer, name, _wrap(name, lambda self, request, context, bound=bound: bound(request, context)).__get__(servicer))
        register(servicer, server)

    policy.analyzer_pb2_grpc.add_AnalyzerServicer_to_server = served
    path = Path(out)

    def loop() -> None:
        while True:
            time.sleep(1.0)
            _dump(path)

    threading.Thread(target=loop, daemon=True).start()
    atexit.register(_dump, path)
