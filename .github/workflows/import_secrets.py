"""Expose the DAGSTER_SECRET_* secrets of this run to later steps as environment variables.

Reads ``toJSON(secrets)`` from $REPOSITORY_SECRETS and appends every variable with
the prefix to $GITHUB_ENV (heredoc syntax with a random delimiter, so multi-line
values are safe). GitHub masks secret values in logs; this script prints names
and a count only. The program (settings.from_pulumi) turns each variable into the
Secret dagster-<env>-<name>-secret.
"""

import json
import os
import secrets

PREFIX = "DAGSTER_SECRET_"

available = json.loads(os.environ.get("REPOSITORY_SECRETS") or "{}")
names = sorted(n for n in available if n.startswith(PREFIX))
with open(os.environ["GITHUB_ENV"], "a", encoding="utf-8") as env:
    for name in names:
        delimiter = f"EOF_{secrets.token_hex(16)}"
        env.write(f"{name}<<{delimiter}\n{available[name]}\n{delimiter}\n")
print(f"imported {len(names)} {PREFIX}* secrets: {', '.join(names) or '(none)'}")
