"""The consumer tier: the data tools themselves (dbt-postgres, flytekit, dagster) consume what the local stack provides.

They run from their own venv, ``.venv-consumers`` (``make consumers-venv``, from the hashed
requirements-consumers.lock), never imported into the program's: each check is a subprocess of
that venv's python or CLI. The stack is applied to the tier's local cluster (tests/conftest.py),
with OpenBao and PostgreSQL beside it, exactly as the e2e tier does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONSUMERS_VENV = ROOT / ".venv-consumers"
# The e2e tier's helpers (a throwaway applied copy of the project, make up's Vault step).
sys.path.insert(0, str(ROOT / "tests" / "e2e"))


@pytest.fixture(scope="session")
def tools() -> Path:
    """The consumer venv's bin/: its absence is a failure with the fix, never a skip (make test installs it first)."""
    bin_dir = CONSUMERS_VENV / "bin"
    missing = [tool for tool in ("python", "dbt", "dagster") if not (bin_dir / tool).exists()]
    if missing:
        pytest.fail(f"{CONSUMERS_VENV} has no {', '.join(missing)}: run `make consumers-venv` (it installs requirements-consumers.lock)")
    return bin_dir
