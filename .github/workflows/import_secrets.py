"""Expose the repository secrets the stack imports to later steps as environment variables.

Reads ``toJSON(secrets)`` from $REPOSITORY_SECRETS and appends to $GITHUB_ENV (heredoc
syntax with a random delimiter, so multi-line values are safe) only the variables
the stack's import takes: names with the stack's ``imports.prefix`` (``DAGSTER_SECRET_``
unless ``Pulumi.$STACK.yaml`` says otherwise; nothing when ``imports.enabled`` is
false), in upper-case variable form, and never a variable of the deploy toolchain
(``GITHUB_*``, ``ACTIONS_*``, ``PULUMI_*``, ``VAULT_*``, ... : secrets_platform/conventions/, the
list the program's settings refuse too). A prefix that could reach the toolchain's
variables stops the job (exit 2) before anything is written.

GitHub masks secret values in logs; this script prints names and a count only. The
program (settings.from_pulumi) turns each variable into the Secret dagster-<env>-<name>-secret.
"""

import json
import os
import re
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from secrets_platform import conventions  # noqa: E402  (no dependencies: plain functions over strings)

DEFAULT_PREFIX = "DAGSTER_SECRET_"
_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def stack_imports(stack: str | None) -> tuple[bool, str]:
    """(enabled, prefix) of the stack's ``secrets-platform:imports``, defaults when unset."""
    if not stack:
        return True, DEFAULT_PREFIX
    from secrets_platform import settings  # the venv's: the bounded YAML reader, and its clear errors

    if stack not in conventions.ENVIRONMENTS:
        sys.exit(f"import_secrets: STACK={stack!r} is not one of {', '.join(conventions.ENVIRONMENTS)}")
    try:
        document = settings.read_stack_document(ROOT / f"Pulumi.{stack}.yaml")
    except settings.ConfigError as err:
        sys.exit(f"import_secrets: {err}")
    imports = (document.get("config") or {}).get("secrets-platform:imports") or {}
    if not isinstance(imports, dict):
        sys.exit(f"import_secrets: secrets-platform:imports of Pulumi.{stack}.yaml is not a mapping")
    return imports.get("enabled", True) is not False, str(imports.get("prefix", DEFAULT_PREFIX))


def main() -> int:
    enabled, prefix = stack_imports(os.environ.get("STACK"))
    if not enabled:
        print("imports.enabled is false for this stack: no secret imported")
        return 0
    conflict = conventions.toolchain_prefix_conflict(prefix)
    if not _NAME.fullmatch(prefix) or not prefix.endswith("_") or conflict:
        why = f"could reach the deploy toolchain's own variables ({conflict}*)" if conflict else "is not an upper-case prefix ending in '_'"
        print(
            f"import_secrets: imports.prefix {prefix!r} {why}; nothing imported. Fix: use a prefix of your own, such as DAGSTER_SECRET_",
            file=sys.stderr,
        )
        return 2
    available = json.loads(os.environ.get("REPOSITORY_SECRETS") or "{}")
    names = sorted(
        n
        for n in available
        if n.startswith(prefix) and _NAME.fullmatch(n) and not conventions.is_toolchain_variable(n) and isinstance(available[n], str)
    )
    with open(os.environ["GITHUB_ENV"], "a", encoding="utf-8") as env:
        for name in names:
            delimiter = f"EOF_{secrets.token_hex(16)}"
            if delimiter in available[name]:  # astronomically unlikely; never write a value that could end the heredoc
                print(f"import_secrets: {name} skipped (its value contains the delimiter); re-run the job", file=sys.stderr)
                continue
            env.write(f"{name}<<{delimiter}\n{available[name]}\n{delimiter}\n")
    print(f"imported {len(names)} {prefix}* secrets: {', '.join(names) or '(none)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
