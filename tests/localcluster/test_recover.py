"""`python -m secrets_platform.localcluster recover`: what `make up` clears after a killed pulumi run.

A stale lock (covered end to end by tests/e2e/test_cluster.py's killed `up`), and an attributes file the
file backend left half-written: gocloud's fileblob renames a blob into place but rewrites its ``.attrs``
in place, so a run killed in between leaves an empty one, and every later command fails with
``failed to load checkpoint: EOF`` (seen in a cold CI run's killed-`up` test).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PULUMI = ROOT / "bin" / "pulumi"


def recover(state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secrets_platform.localcluster", "recover", "--state", str(state)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )


def _stack_files(state: Path, blob: bytes, attrs: str, name: str = "local.json") -> tuple[Path, Path]:
    folder = state / ".pulumi" / "stacks" / "proj"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(blob)
    (folder / f"{name}.attrs").write_text(attrs)
    return folder / name, folder / f"{name}.attrs"


WHOLE = json.dumps({"version": 3, "checkpoint": {"stack": "organization/proj/local"}}).encode()
ATTRS = '{"user.cache_control":"","user.content_type":"application/octet-stream","md5":"AAAA"}\n'


@pytest.mark.parametrize("attrs", ["", '{"user.cache_control":"","user.cont', "[]", "null"])
def test_a_torn_attributes_file_beside_a_whole_state_file_is_removed(tmp_path, attrs):
    blob, side = _stack_files(tmp_path, WHOLE, attrs)
    done = recover(tmp_path)
    assert done.returncode == 0, done.stderr
    assert not side.exists() and blob.read_bytes() == WHOLE
    assert f"removed {side}" in done.stdout and "half-written" in done.stdout


def test_a_gzipped_state_file_counts_as_whole_when_it_decodes(tmp_path):
    _, side = _stack_files(tmp_path, gzip.compress(WHOLE), "", name="local.json.gz")
    assert recover(tmp_path).returncode == 0 and not side.exists()


@pytest.mark.parametrize(
    ("blob", "attrs"),
    [
        (WHOLE, ATTRS),  # nothing torn: nothing removed
        (WHOLE[:20], ""),  # the state file itself is cut: leave both for pulumi to report
        (b"", ""),
        (b"\x1f\x8b not gzip", ""),
    ],
)
def test_nothing_else_is_touched(tmp_path, blob, attrs):
    path, side = _stack_files(tmp_path, blob, attrs)
    done = recover(tmp_path)
    assert done.returncode == 0, done.stderr
    assert side.read_text() == attrs and path.read_bytes() == blob and "removed" not in done.stdout


def test_a_backend_folder_that_does_not_exist_is_no_error(tmp_path):
    done = recover(tmp_path / "nothing-here")
    assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr


@pytest.mark.e2e
@pytest.mark.skipif(not PULUMI.exists(), reason="bin/pulumi not built (make toolchain)")
def test_the_engine_fails_on_a_torn_attributes_file_and_works_after_recover(tmp_path):
    """The real engine and file backend: the failure CI saw, reproduced, and what recover makes of it."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: torn\nruntime: python\n")
    state = tmp_path / "state"
    state.mkdir()
    env = {
        **os.environ,
        "PULUMI_HOME": str(ROOT / ".pulumi-home"),
        "PULUMI_BACKEND_URL": state.as_uri(),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_CONFIG_PASSPHRASE": "only-a-test-passphrase",
    }

    def pulumi(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PULUMI), *args, "--non-interactive"], cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False
        )

    assert pulumi("stack", "init", "local").returncode == 0
    assert pulumi("stack", "export", "-s", "local").returncode == 0
    side = state / ".pulumi" / "stacks" / "torn" / "local.json.attrs"
    side.write_text("")  # what a kill between fileblob's truncate and write leaves
    broken = pulumi("stack", "export", "-s", "local")
    assert broken.returncode != 0 and "failed to load checkpoint" in broken.stderr, broken.stderr
    done = recover(state)
    assert done.returncode == 0 and f"removed {side}" in done.stdout, done.stdout + done.stderr
    exported = pulumi("stack", "export", "-s", "local")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["version"] == 3
