"""``validate``: every secret reference of the consumer files, resolved against the stack's catalog."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from secrets_platform.cli import validate as validate_mod
from secrets_platform.cli.catalog import Catalog
from secrets_platform.cli.errors import InputError
from secrets_platform.cli.references import Reference, scan


@dataclass(frozen=True)
class Validation:
    files: list[tuple[str, str]]
    """(path, consumer kind) of each file read, in order; a file may be read as more than one kind."""
    results: list[validate_mod.Result]

    @property
    def paths(self) -> list[str]:
        return list(dict.fromkeys(f for f, _ in self.files))

    def kinds(self, path: str) -> list[str]:
        return [k for f, k in self.files if f == path]

    def of(self, path: str) -> list[validate_mod.Result]:
        return [r for r in self.results if r.ref.path == path]

    @property
    def errors(self) -> list[validate_mod.Result]:
        return [r for r in self.results if r.status == validate_mod.FAIL]

    @property
    def warnings(self) -> list[validate_mod.Result]:
        return [r for r in self.results if r.status == validate_mod.WARN]

    @property
    def fixes(self) -> list[str]:
        return list(dict.fromkeys(r.fix for r in self.errors if r.fix))


def read(paths: tuple[Path, ...]) -> tuple[list[Reference], list[tuple[str, str]]]:
    """The references in ``paths`` (directories walked); bad files fail (exit 2) before the stack is read."""
    refs, files = scan(list(paths))
    if not files:
        raise InputError(
            f"nothing to validate: no consumer file in {', '.join(map(str, paths))}",
            "pass dbt profiles.yml, Dagster Helm values (.yaml), Flyte task modules (.py) or Pachyderm specs (.json/.yaml), "
            "or a directory that holds them",
        )
    return refs, files


def run(refs: list[Reference], files: list[tuple[str, str]], cat: Catalog) -> Validation:
    return Validation(files, [validate_mod.resolve(r, cat) for r in refs])
