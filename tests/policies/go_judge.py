"""Go's standard library as a judge: a ``main.go`` of the test's, run with ``go run`` (the toolchain's Go, no module
fetched), reads a JSON request on stdin and answers in JSON. The pack's readings of what Go programs parse (ESO's
regexps, the servers' flags) are compared with its answers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

GO = shutil.which("go")
needs_go = pytest.mark.skipif(GO is None, reason="go is not on PATH (make toolchain needs it too)")


def run_go(main: str, request: Any, workdir: Path) -> Any:
    """``main`` run in ``workdir`` with ``request`` on stdin; its JSON answer (the test fails with Go's stderr otherwise)."""
    assert GO is not None
    (workdir / "main.go").write_text(main)
    done = subprocess.run(
        [GO, "run", "main.go"],
        cwd=workdir,
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "GOFLAGS": "", "GO111MODULE": "off", "GOTOOLCHAIN": "local"},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
