"""toolchain/reloader_patch.py: Reloader's hard-coded listen address moved to loopback, or the build stops."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "toolchain" / "reloader_patch.py"
CONSTANTS = 'package constants\n\nconst (\n\tDefaultHttpListenAddr = ":9090"\n\tOther = "x"\n)\n'


def module(tmp_path: Path, files: dict[str, str]) -> Path:
    """A stand-in of the module's directory in the module cache."""
    root = tmp_path / "mod"
    for name, text in {"go.mod": "module github.com/stakater/Reloader\n\ngo 1.26.8\n", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def wrapper(tmp_path: Path) -> Path:
    w = tmp_path / "wrapper"
    w.mkdir()
    (w / "go.mod").write_text("module example.com/wrapper\n\ngo 1.26.8\n")
    return w


def patch(tmp_path: Path, mod: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--module-dir", str(mod), "--wrapper", str(wrapper(tmp_path)), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_one_listen_address_becomes_loopback_and_a_workspace_replaces_the_module(tmp_path):
    mod = module(
        tmp_path,
        {
            "internal/pkg/constants/constants.go": CONSTANTS,
            "main.go": "package main\n",
            "internal/pkg/constants/constants_test.go": 'package constants\nvar addr = ":9090"\n',
        },
    )
    done = patch(tmp_path, mod)
    assert done.returncode == 0, done.stderr
    src = tmp_path / "out" / "src"
    patched = (src / "internal/pkg/constants/constants.go").read_text()
    assert patched == CONSTANTS.replace('":9090"', '"127.0.0.1:0"')
    assert (src / "main.go").read_text() == "package main\n" and (src / "go.mod").is_file()
    assert not (src / "internal/pkg/constants/constants_test.go").exists(), "tests are not copied"
    work = json.loads(
        subprocess.run(
            ["go", "work", "edit", "-json", str(tmp_path / "out" / "go.work")], capture_output=True, text=True, check=True
        ).stdout
    )
    assert [u["DiskPath"] for u in work["Use"]] == [str((tmp_path / "wrapper").resolve())]
    assert [(r["Old"]["Path"], r["New"]["Path"]) for r in work["Replace"]] == [("github.com/stakater/Reloader", "./src")]
    # The module cache stays untouched.
    assert (mod / "internal/pkg/constants/constants.go").read_text() == CONSTANTS


@pytest.mark.parametrize(
    "files, found",
    [
        ({"main.go": "package main\n"}, "found it 0 times (no file)"),
        ({"a.go": 'package a\nvar x = ":9090"\n', "b/b.go": 'package b\nvar y = ":9090"\n'}, "found it 2 times (a.go (1x), b/b.go (1x))"),
        ({"a.go": 'package a\nvar x, y = ":9090", ":9090"\n'}, "found it 2 times (a.go (2x))"),
    ],
    ids=["moved", "two files", "twice in one file"],
)
def test_anything_but_exactly_one_listen_address_stops_the_build_and_writes_nothing(tmp_path, files, found):
    done = patch(tmp_path, module(tmp_path, files))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert found in done.stderr and "keeps listening on 127.0.0.1 only" in done.stderr, done.stderr
    assert not (tmp_path / "out" / "go.work").exists()


def test_a_directory_that_is_no_module_is_named(tmp_path):
    done = patch(tmp_path, tmp_path)
    assert done.returncode == 1 and "is not a Go module directory" in done.stderr and str(tmp_path) in done.stderr
