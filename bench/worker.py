"""One measurement in a fresh process: ``python -m bench.worker <variant> <credentials>``.

A fresh interpreter per measurement keeps memory peaks apart (``ru_maxrss`` never
goes down within a process) and gives every variant the same cold start. The
process imports everything and evaluates a small catalog first (the warm-up:
imports, first-call caches), then times one evaluation of the requested size and
prints one JSON line: seconds, registrations, and memory (peak RSS, and the peak
above the RSS before the timed evaluation, i.e. what the program itself needed).
"""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WARMUP_CREDENTIALS = 20


def _rss_kib() -> int:
    """Current resident set size (Linux /proc; falls back to the peak elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") // 1024
    except (OSError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(variant: str, credentials: int, env: str = "prd") -> dict:
    from bench import catalog, programs

    warm = catalog.catalog(WARMUP_CREDENTIALS, env)
    programs.evaluate(variant, warm, floor_count=catalog.custom_resource_count(WARMUP_CREDENTIALS))
    config = catalog.catalog(credentials, env)
    before = _rss_kib()
    result = programs.evaluate(variant, config, floor_count=catalog.custom_resource_count(credentials))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "variant": variant,
        "credentials": credentials,
        "seconds": result.seconds,
        "cpu_seconds": result.cpu_seconds,
        "gc_seconds": result.gc_seconds,
        "custom_resources": result.custom,
        "component_resources": result.components,
        "peak_rss_mib": peak / 1024,
        "program_peak_mib": max(peak - before, 0) / 1024,
    }


def main(argv: list[str]) -> int:
    variant, credentials = argv[0], int(argv[1])
    print(json.dumps(measure(variant, credentials)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
