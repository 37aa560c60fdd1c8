"""Loaded by the real ``dagster`` CLI from the consumer venv: one asset whose resources read each key with ``EnvVar``.

``CONSUMER_KEYS`` (JSON list of variable names) says which keys; ``CONSUMER_DIGESTS`` is the file the asset writes
{key: sha256 of the value EnvVar resolved}. Values themselves are never written or printed.
"""

import hashlib
import json
import os

import dagster as dg

KEYS: list[str] = json.loads(os.environ["CONSUMER_KEYS"])
RESOURCES = {f"credential_{i}": key for i, key in enumerate(KEYS)}


class Credential(dg.ConfigurableResource):
    value: str


@dg.asset(required_resource_keys=set(RESOURCES))
def reads_credentials(context: dg.AssetExecutionContext) -> None:
    digests = {key: hashlib.sha256(getattr(context.resources, name).value.encode()).hexdigest() for name, key in RESOURCES.items()}
    with open(os.environ["CONSUMER_DIGESTS"], "w") as f:
        json.dump(digests, f)


defs = dg.Definitions(assets=[reads_credentials], resources={name: Credential(value=dg.EnvVar(key)) for name, key in RESOURCES.items()})
