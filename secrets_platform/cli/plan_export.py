"""The value-free plan of one stack as JSON: the interface ``diff --base`` runs inside a git ref's tree.

``python -m secrets_platform.cli.plan_export --stack S``, run in a checkout (its directory first on
``sys.path``), reads that checkout's ``Pulumi.<S>.yaml`` with that checkout's program and
prints one JSON object on stdout:

- ``{"format": 1, "plan": {...}}`` and exit 0, the plan being :func:`describe`'s shape:
  the stack's namespaces, every planned Secret (namespace, name, type, backend, service,
  keys) and every credential bundle's rotation metadata (strategy, rotation value,
  generation, names of its generated keys);
- ``{"format": 1, "error": "..."}`` and exit 2 when the stack file does not validate.

Anything else (the program does not import, a bug) is a non-zero exit with Python's
traceback on stderr; the caller reports its last line.

stdin may hold ``{"variables": {"NAME": true}}``: the names of the caller's deploy-environment
variables (true when non-empty), so imported repository secrets are planned by name. Their
values never reach this process; planning sees a placeholder instead.

Never in the output: a value, a hash of one, or anything derived from one. Deliberately
small and stable: a newer CLI runs this module of an older ref, so change the output only
by adding fields, and bump ``FORMAT`` when a field changes meaning.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Mapping

FORMAT = 1
PLACEHOLDER = "[value withheld]"


def describe(settings: Any) -> dict[str, Any]:
    """The plan of validated ``settings``: names, keys and rotation metadata only."""
    from secrets_platform.model import planned_descriptors

    return {
        "environment": settings.environment,
        "namespaces": sorted(settings.namespaces),
        "secrets": [
            {"namespace": d.namespace, "name": d.name, "type": d.type, "backend": d.backend, "service": d.service, "keys": sorted(d.keys)}
            for d in planned_descriptors(settings)
        ],
        "bundles": [
            {
                "service": c.service,
                "strategy": c.rotation_strategy,
                "rotation": str(c.rotation),
                "generation": c.generation,
                "generated": sorted(g.key for g in c.generated),
            }
            for c in sorted(settings.config.credentials, key=lambda c: c.service)
        ],
    }


def placeholder_environ(variables: Mapping[str, bool]) -> dict[str, str]:
    """An environment with the caller's variable names and no value: non-empty ones get a placeholder."""
    return {str(name): PLACEHOLDER if nonempty else "" for name, nonempty in variables.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m secrets_platform.cli.plan_export", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    args = parser.parse_args(argv)
    request = {} if sys.stdin is None or sys.stdin.isatty() else json.loads(sys.stdin.read() or "{}")
    variables = request.get("variables") or {}

    from secrets_platform import conventions
    from secrets_platform import model as model_mod
    from secrets_platform import settings as settings_pkg

    here = Path.cwd().resolve()
    for module in (settings_pkg, model_mod):  # the plan must be this tree's model, not an installed one
        origin = Path(module.__file__ or "").resolve()
        if not origin.is_relative_to(here):
            print(f"{module.__name__} was imported from {origin}, not from {here}", file=sys.stderr)
            return 3
    try:
        s = settings_pkg.from_stack_file(Path(conventions.stack_file_name(args.stack)), placeholder_environ(variables))
    except settings_pkg.ConfigError as err:
        print(json.dumps({"format": FORMAT, "error": str(err)}))
        return 2
    print(json.dumps({"format": FORMAT, "plan": describe(s)}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
