"""Another Pulumi project, in a folder outside the repository, that uses the installed secrets_platform (tests/library/program.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = ROOT / "tests" / "library" / "program.py"
PROJECT = "analytics-app"
CREDENTIALS = [
    {
        "service": "snowflake",
        "namespaces": ["dagster"],
        "values": {"SNOWFLAKE_USER": "svc"},
        "generated": [{"key": "SNOWFLAKE_PASSWORD", "length": 40}],
    }
]


def write_project(root: Path, stack: str, kubernetes: dict[str, Any], venv: Path = ROOT / ".venv") -> Path:
    """``root`` becomes a Pulumi project of its own (Pulumi.yaml, Pulumi.<stack>.yaml, __main__.py) on ``venv``."""
    root.mkdir(parents=True, exist_ok=True)
    project = {"name": PROJECT, "runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": str(venv)}}}
    (root / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    config = {
        "secrets-platform:environment": stack,
        "secrets-platform:namespaces": ["dagster"],
        "secrets-platform:credentials": CREDENTIALS,
        "secrets-platform:kubernetes": kubernetes,
    }
    (root / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    (root / "__main__.py").write_text(PROGRAM.read_text())
    return root


# Run by the venv's python in the project's folder: the program under the SDK's own mocks, with the stack
# file's config as the engine would hand it over; prints what it registered and where secrets_platform came from.
MOCKED_RUN = """
import asyncio, json, runpy, sys
from pathlib import Path

import pulumi
import yaml


class Mocks(pulumi.runtime.Mocks):
    def __init__(self):
        self.registered = []

    def new_resource(self, args):
        self.registered.append({"type": args.typ, "name": args.name, "provider": args.provider or "", "inputs": args.inputs})
        state = dict(args.inputs)
        if args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = "generated"
        return args.name + "-id", state

    def call(self, args):
        return {}


stack = sys.argv[1]
config = yaml.safe_load(Path(f"Pulumi.{stack}.yaml").read_text())["config"]
pulumi.runtime.set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}, [])
asyncio.set_event_loop(asyncio.new_event_loop())
mocks = Mocks()
pulumi.runtime.set_mocks(mocks, project=yaml.safe_load(Path("Pulumi.yaml").read_text())["name"], stack=stack, preview=False)
pulumi.runtime.test(lambda: runpy.run_path("__main__.py", run_name="__main__"))()

import secrets_platform

print(json.dumps({"package": secrets_platform.__file__, "sys_path": sys.path, "registered": mocks.registered}, default=str))
"""


def mocked_run_output(stdout: str) -> dict[str, Any]:
    return json.loads(stdout.strip().splitlines()[-1])
