"""process.stop: the one way the local cluster and its side servers stop a process (signal, wait, kill what is left)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from secrets_platform.localcluster import process

# A child that says when its SIGTERM handling is in place, then waits to be stopped. Its SIGINT is the default
# (dies at once), whatever it inherited: a background job (`cmd &` in a script, as CI may run us) starts with
# SIGINT ignored, and Python's KeyboardInterrupt would add an unwinding the 1 s wait may not cover.
CHILD = (
    "import signal, sys, time; signal.signal(signal.SIGINT, signal.SIG_DFL); signal.signal(signal.SIGTERM, {handler}); "
    "print('ready', flush=True); time.sleep(60)"
)


def _child(handler: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", CHILD.format(handler=handler)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    return proc


@pytest.mark.parametrize(
    ("handler", "sig", "ended_by"),
    [
        ("signal.SIG_DFL", signal.SIGTERM, signal.SIGTERM),  # stops on the signal: never killed
        ("signal.SIG_IGN", signal.SIGTERM, signal.SIGKILL),  # ignores it: killed once the wait is over
        ("signal.SIG_IGN", signal.SIGINT, signal.SIGINT),  # the signal asked for, not always SIGTERM
    ],
)
def test_stop_signals_waits_and_kills_only_what_still_runs(handler: str, sig: int, ended_by: int) -> None:
    proc = _child(handler)
    try:
        process.stop(proc.pid, lambda: proc.poll() is None, 1.0, sig)
        assert proc.wait(timeout=10) == -ended_by
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def test_stopping_a_process_that_is_gone_is_no_error() -> None:
    beyond = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1  # no process can have it: the kill finds none
    process.stop(beyond, lambda: False, 1.0)
