"""Where the project is and what its stacks are: the checkout, its stack files, their settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from secrets_platform import conventions
from secrets_platform import settings as settings_pkg
from secrets_platform.cli.errors import InputError
from secrets_platform.settings import safe_yaml

PROJECT_DIR_ENV = "SECRETS_PLATFORM_DIR"


def find_project_dir(explicit: str | os.PathLike | None, environ: Mapping[str, str], cwd: Path | None = None) -> Path:
    """The checkout to operate on: ``--project-dir``, else $SECRETS_PLATFORM_DIR, else the nearest
    directory upwards from the working directory whose ``Pulumi.yaml`` names this project."""
    given = explicit or environ.get(PROJECT_DIR_ENV)
    if given:
        path = Path(given).resolve()
        if not _is_project(path):
            raise InputError(
                f"{path} holds no Pulumi.yaml of project {conventions.PROJECT}",
                f"pass the secrets-platform checkout with --project-dir (or ${PROJECT_DIR_ENV})",
            )
        return path
    start = (cwd or Path.cwd()).resolve()
    for candidate in (start, *start.parents):
        if _is_project(candidate):
            return candidate
    raise InputError(
        f"{start} is not inside a secrets-platform checkout (no Pulumi.yaml of project {conventions.PROJECT})",
        f"run the command inside the checkout, or pass --project-dir (or ${PROJECT_DIR_ENV})",
    )


def _is_project(path: Path) -> bool:
    file = path / conventions.PROJECT_FILE
    if not file.is_file():
        return False
    try:
        doc = safe_yaml.load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, safe_yaml.yaml.YAMLError):
        return False
    return isinstance(doc, dict) and doc.get("name") == conventions.PROJECT


@dataclass(frozen=True)
class Project:
    dir: Path

    def stack_file(self, stack: str) -> Path:
        return self.dir / conventions.stack_file_name(stack)

    def stacks(self) -> list[str]:
        found = {conventions.parse_stack_file_name(p.name) for p in self.dir.glob(conventions.STACK_FILE_GLOB)}
        return [s for s in conventions.ENVIRONMENTS if s in found]

    def check_stack(self, stack: str) -> Path:
        """The stack file of ``stack``, or an InputError naming the stacks that exist."""
        known = self.stacks()
        if stack not in conventions.ENVIRONMENTS or stack not in known:
            raise InputError(
                f"unknown stack {stack!r}: this project has stacks {', '.join(known) or '(none)'}",
                "pass --stack with one of them (the stack name is the environment token)",
            )
        return self.stack_file(stack)

    def settings(self, stack: str, environ: Mapping[str, str]) -> settings_pkg.Settings:
        """Validated settings of ``stack`` read from its file (encrypted values stay encrypted)."""
        self.check_stack(stack)
        return self.read_settings(stack, environ)

    def read_settings(self, stack: str, environ: Mapping[str, str]) -> settings_pkg.Settings:
        """Validated settings of a stack already checked (``--stack`` is, when click parses it)."""
        path = self.stack_file(stack)
        try:
            return settings_pkg.from_stack_file(path, environ)
        except settings_pkg.ConfigError as err:
            raise InputError(str(err), f"correct {path.name}; `pulumi preview -s {stack}` reports the same problems") from None
