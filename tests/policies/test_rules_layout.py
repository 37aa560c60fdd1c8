"""The rules stay rooms you can hold in your head: a rule module never imports another rule module.

What two rule modules share lives beside them (``policies/support.py``, ``policies/environment.py``,
``policies/operator_charts.py``; ``settings.rules`` itself for the settings rules), so a rule can be
read, moved or deleted without following imports into other rules. Only a package's ``__init__``
lists its modules (the pack's order).
"""

from __future__ import annotations

import ast
from pathlib import Path

import secrets_platform.policies.rules as policy_rules
import secrets_platform.settings.rules as settings_rules


def _rule_imports(package: str, root: Path) -> list[str]:
    """``<module> imports <rule module>`` for every import of a rule module by a rule module under ``root``."""
    submodules = {p.stem for p in root.iterdir() if p.suffix == ".py" and p.stem != "__init__"}
    submodules |= {p.name for p in root.iterdir() if (p / "__init__.py").exists()}
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module + "." + a.name for a in node.names] if node.module == package else [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name.startswith(package + ".") and name[len(package) + 1 :].split(".")[0] in submodules:
                    found.append(f"{path.relative_to(root)} imports {name}")
    return found


def test_no_policy_rule_module_imports_another():
    assert _rule_imports("secrets_platform.policies.rules", Path(policy_rules.__file__).parent) == []


def test_no_settings_rule_module_imports_another():
    assert _rule_imports("secrets_platform.settings.rules", Path(settings_rules.__file__).parent) == []


def test_the_check_finds_a_rule_importing_a_rule(tmp_path):
    (tmp_path / "a.py").write_text("X = 1\n")
    (tmp_path / "b.py").write_text("from pkg.rules.a import X\nfrom pkg.rules import a\nfrom pkg.rules import Rules\n")
    (tmp_path / "__init__.py").write_text("from pkg.rules import a, b\n")
    assert _rule_imports("pkg.rules", tmp_path) == ["b.py imports pkg.rules.a", "b.py imports pkg.rules.a"]
