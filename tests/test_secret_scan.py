"""The secret scanner (detect-secrets, pinned in requirements-dev.lock) finds nothing in the tree beyond the
audited baseline, and the configuration it runs with does find a planted credential.

The baseline (.secrets.baseline) lists what the scanner reports that is not a secret: placeholders, test
canaries, key names such as ``password``. It is compared by file and hashed string, not by line, so moving
code does not fail this test; a new finding does, naming the file and line.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNER = Path(sys.executable).with_name("detect-secrets")
FIX = (
    "if it is a real credential, remove it and rotate it; if it is a placeholder or a test value, audit it and "
    "re-record the baseline with `make secrets-baseline` (or mark the line `# pragma: allowlist secret`)"
)


def _exclude_args() -> list[str]:
    """The Makefile's DETECT_SECRETS_EXCLUDE: one definition of what the scanner skips."""
    for line in (ROOT / "Makefile").read_text().splitlines():
        if line.startswith("DETECT_SECRETS_EXCLUDE"):
            return shlex.split(line.split(":=", 1)[1].replace("$$", "$"))  # make's escape
    raise AssertionError("Makefile has no DETECT_SECRETS_EXCLUDE")


def _scan(cwd: Path, *args: str) -> dict:
    if not SCANNER.exists():
        pytest.skip(f"{SCANNER} is not installed (make venv installs requirements-dev.lock)")
    done = subprocess.run([str(SCANNER), "scan", *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def _findings(report: dict) -> set[tuple[str, str, str]]:
    return {(name, f["type"], f["hashed_secret"]) for name, found in report["results"].items() for f in found}


def test_the_tree_holds_nothing_beyond_the_audited_baseline():
    baseline = json.loads((ROOT / ".secrets.baseline").read_text())
    report = _scan(ROOT, *_exclude_args())
    new = _findings(report) - _findings(baseline)
    lines = {(name, f["type"], f["hashed_secret"]): f["line_number"] for name, found in report["results"].items() for f in found}
    assert not new, (
        "the secret scanner reports what the baseline does not hold:\n"
        + "\n".join(f"  {name}:{lines[(name, kind, digest)]}: {kind}" for name, kind, digest in sorted(new))
        + f"\nfix: {FIX}"
    )


def test_the_scanner_as_configured_finds_a_planted_credential(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    planted = tmp_path / "settings.py"
    # A private key header and an AWS-shaped access key id: built here so this file holds neither.
    planted.write_text("KEY = '''-----BEGIN RSA " + "PRIVATE KEY-----\nabc\n'''\nAWS_ID = 'AKIA" + "Z" * 16 + "'\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "settings.py"], check=True)
    kinds = {f["type"] for f in _scan(tmp_path, *_exclude_args())["results"].get("settings.py", [])}
    assert {"Private Key", "AWS Access Key"} <= kinds
