"""One way the benchmarks run a command that must succeed: its output captured, a failure raised
as one error naming the command, its exit code and the end of what it printed on stderr."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


def run_checked(
    argv: Sequence[str],
    what: str,
    *,
    error: type[Exception] = RuntimeError,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    tail: int = 400,
    separator: str = " exited {code}: ",
) -> str:
    """``argv``'s stdout; on a non-zero exit ``error(what + separator + the last `tail` characters of stderr)``."""
    done = subprocess.run(
        list(argv), cwd=cwd, env=None if env is None else dict(env), capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise error(f"{what}{separator.format(code=done.returncode)}{done.stderr.strip()[-tail:]}")
    return done.stdout
