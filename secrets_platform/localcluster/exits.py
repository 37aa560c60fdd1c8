"""How a local-cluster command ends: 0 or its own code, 2 with one line for a ClusterError, 130 when interrupted.

Every message goes to stderr behind the command's label (``local vault: ...``); no traceback.
"""

from __future__ import annotations

import sys
from typing import Callable

from secrets_platform.localcluster import ClusterError

USAGE = 2
INTERRUPTED = 130


def reported(label: str, when_interrupted: str, command: Callable[[], int]) -> int:
    """Run ``command``; a ClusterError is its message and exit 2, Ctrl-C is ``when_interrupted`` (what to run now) and 130."""
    try:
        return command()
    except ClusterError as err:
        print(f"{label}: {err}", file=sys.stderr)
        return USAGE
    except KeyboardInterrupt:
        print(f"{label}: interrupted; {when_interrupted}", file=sys.stderr)
        return INTERRUPTED
