"""Exit codes and the errors that carry them.

| code | meaning |
|---|---|
| 0 | success |
| 1 | ``validate`` found a reference that does not resolve |
| 2 | usage or input error: unknown stack or secret, missing or malformed file, refusal |
| 3 | engine or cluster error: no Pulumi engine, no state, a failed preview/up, kubectl failure |
| 4 | aborted: the user declined a confirmation |

Messages name files, lines, stacks, Secrets and keys, never a value.
"""

from __future__ import annotations

import click

OK = 0
VALIDATION_FAILED = 1
USAGE = 2
ENGINE = 3
ABORTED = 4


class CliError(click.ClickException):
    """An error with a one-line cause and, when known, how to fix it."""

    exit_code = USAGE

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message if not fix else f"{message}\n  Fix: {fix}")


class InputError(CliError):
    """A bad argument or an unreadable, malformed or unknown input file (exit 2)."""

    exit_code = USAGE


class EngineError(CliError):
    """The Pulumi engine, the state backend or the cluster failed or is missing (exit 3)."""

    exit_code = ENGINE


class Aborted(CliError):
    """The user said no (exit 4)."""

    exit_code = ABORTED
