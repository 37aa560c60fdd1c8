"""Benchmarks of secrets-platform: program evaluation, the policy pack and the engine.

Run with ``.venv/bin/python bench/run.py`` (``--quick`` for a short run);
docs/PERFORMANCE.md explains the method and the results. Nothing here is imported
by the program or the pack, and nothing here is installed (the wheel holds only
secrets_platform): it runs from the checkout, which bench/run.py puts on sys.path.
"""

import sys
from pathlib import Path

# The Pulumi mocks the benchmarks share with the tests (tests/mocks.py) are never installed: bench/
# imports them by the tests' own name (`import mocks`, one module object in a test process), from the
# checkout's tests/ folder, appended so that nothing there shadows an installed module.
_TESTS = str(Path(__file__).resolve().parents[1] / "tests")
if _TESTS not in sys.path:
    sys.path.append(_TESTS)
