"""The program process's garbage-collector settings: fewer collections over the SDK's long-lived objects.

The Pulumi SDK keeps every resource's futures, tasks and callbacks alive until the
program ends, so the heap only grows during a run, and with CPython's default
thresholds (a collection per 700 net allocations) the cyclic collector keeps
walking it: measured inside real previews of the local stack at 300 credentials,
about 2,600 collections took 10 to 18 s of the program's 21 to 25 s of CPU
(docs/PERFORMANCE.md, "The garbage collector"). Young-generation collections every
50,000 net allocations instead cut that to about 70 collections and 1 to 3 s, with
the same peak memory; freezing what the imports built keeps the large pulumi and
pulumi_kubernetes modules out of every full collection. Cycles are still
collected, only less often.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000
"""Net allocations between young-generation collections (CPython's default: 700)."""


def tune() -> None:
    """Call once, after the imports, before the program registers anything."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
