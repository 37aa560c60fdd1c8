"""Run by the consumer venv's python: a real flytekit task reads each requested secret, as a Flyte pod would.

argv[1]: JSON list of {"group", "key"} exactly as the platform's snippet gives them. The task declares them in
``secret_requests`` and reads each with ``current_context().secrets.get(group, key)``; where flytekit looks is
its own business (env ``_FSEC_<GROUP>_<KEY>``, else the file ``$FLYTE_SECRETS_DEFAULT_DIR/<group>/<key>``
lower-cased). Prints one JSON list: the sha256 of each value read, or the error; never a value.
"""

import hashlib
import json
import sys

import flytekit
from flytekit import Secret, task

REQUESTS = json.loads(sys.argv[1])


@task(secret_requests=[Secret(group=r["group"], key=r["key"]) for r in REQUESTS])
def read_secrets() -> str:
    secrets = flytekit.current_context().secrets
    out = []
    for r in REQUESTS:
        try:
            out.append({"sha256": hashlib.sha256(secrets.get(r["group"], r["key"]).encode()).hexdigest()})
        except ValueError as err:
            out.append({"error": str(err).split(" in Env Var:")[0]})
    return json.dumps(out)


if __name__ == "__main__":
    print(read_secrets())
