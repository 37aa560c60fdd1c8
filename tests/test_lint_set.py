"""`make lint` and the pre-commit hooks run the same set of checks, and every hook is local (nothing is fetched
at commit time): a check added to one and not the other fails here, naming it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

# Each hook's id and what its check looks like in the Makefile's lint recipe.
IN_RECIPE = {
    "detect-secrets": "tests/test_secret_scan.py",  # pragma: allowlist secret (a hook id and a file name)
    "ruff-check": "ruff check",
    "ruff-format": "ruff format --check",
    "mypy": "/bin/mypy",
    "shellcheck": "/bin/shellcheck ",
    "actionlint": "$(ACTIONLINT) ",
}


def lint_recipe() -> list[str]:
    text = (ROOT / "Makefile").read_text()
    m = re.search(r"^lint:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert m, "the Makefile has no lint target"
    return [line.strip() for line in m.group(1).splitlines()]


def hooks() -> list[dict]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert all(repo["repo"] == "local" for repo in config["repos"]), "every hook repository must be local"
    return [hook for repo in config["repos"] for hook in repo["hooks"]]


def test_every_hook_is_in_make_lint():
    recipe = lint_recipe()
    ids = [hook["id"] for hook in hooks()]
    assert set(ids) == set(IN_RECIPE), f"hooks {sorted(set(ids) ^ set(IN_RECIPE))}: add them to IN_RECIPE and make lint"
    missing = [i for i in ids if not any(IN_RECIPE[i] in line for line in recipe)]
    assert not missing, f"make lint does not run the hooks {missing}"


def test_every_check_of_make_lint_is_a_hook():
    uncovered = [line for line in lint_recipe() if not any(marker in line for marker in IN_RECIPE.values())]
    assert not uncovered, f"make lint runs {uncovered}, which no pre-commit hook runs"


def test_hooks_run_the_pinned_tools_from_this_checkout():
    for hook in hooks():
        assert hook["language"] == "system", hook["id"]
        assert hook["entry"].split()[0].startswith((".venv/bin/", "build/lint/")), hook["entry"]
