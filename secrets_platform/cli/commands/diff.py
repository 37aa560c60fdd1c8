"""``diff``: what changes in the stack's Secrets between a git ref and the working tree, and who consumes them.

Each side is planned by its own program (:mod:`secrets_platform.cli.diff`); names, keys and rotations only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secrets_platform import conventions
from secrets_platform.cli import diff as diff_mod
from secrets_platform.cli.commands.consumers import consumers
from secrets_platform.cli.context import StackContext
from secrets_platform.model import planned_descriptors


@dataclass(frozen=True)
class Diff:
    out: dict[str, Any]
    """compare()'s changes, with consumers, baseCommit, baseProgram and notes."""
    base: diff_mod.Base


def run(stack: StackContext, base: str) -> Diff:
    new = stack.settings
    project_dir = stack.project.dir
    base_side = diff_mod.base_plan(project_dir, base, stack.name, stack.environ)
    out = diff_mod.compare(base_side.plan, diff_mod.plan_of(new))
    notes = [base_side.note] if base_side.note else []
    program_dir = Path(diff_mod.settings_pkg.__file__).resolve().parents[2]
    if program_dir != project_dir.resolve():
        notes.append(
            f"the working tree's side is planned with the program this CLI runs from ({program_dir}), not program files in {project_dir}"
        )
    touched: dict[str, set[str]] = {}
    for d in planned_descriptors(new):
        if any(r["service"] == d.service for r in out["rotated"]) or any(c["name"] == d.name for c in out["keysChanged"]):
            touched.setdefault(d.name, set()).add(conventions.parse_namespace_name(d.namespace).workload)
    out["consumers"] = {name: consumers(stack, name, sorted(ws)) for name, ws in sorted(touched.items())}
    out.update(baseCommit=base_side.commit, baseProgram=base_side.program, notes=notes)
    return Diff(out, base_side)
