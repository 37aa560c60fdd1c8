"""Shared helpers of the CLI tests: an App wired to fakes, a throwaway project copy, canaries.

Not a conftest.py on purpose: tests/conftest.py owns the module name ``conftest``.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from secrets_platform.cli.cluster import Kubectl
from secrets_platform.cli.context import App
from secrets_platform.cli.engine import SECRET_SIG_KEY, Engine, Step
from secrets_platform.cli.main import cli
from secrets_platform.cli.project import Project

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CANARY = "canary-9f1c-never-print-me"
SECRET_CANARY = "pw-canary-77aa-never-print-me"
# The labels every platform object of the local stack carries (conventions.labels("local")).
LOCAL_LABELS = {
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/part-of": "secrets-platform",
    "secrets-platform.io/environment": "local",
}


def copy_project(tmp: Path) -> Path:
    """The project's stack files in ``tmp``, so tests may edit them (never the real ones)."""
    for name in ["Pulumi.yaml", *(p.name for p in ROOT.glob("Pulumi.*.yaml"))]:
        shutil.copy(ROOT / name, tmp / name)
    return tmp


@dataclass
class FakeEngine(Engine):
    """The Automation API surface the CLI uses, answered from memory; records each workspace it opens."""

    installed: bool = False
    deployed: set[str] = field(default_factory=set)
    stack_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    state: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    fail_up: bool = False
    calls: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    """The stack of each workspace opened, in order."""

    def available(self) -> bool:
        return self.installed

    def open(self, stack: str) -> "FakeWorkspace":  # type: ignore[override]
        self.require()
        self.opened.append(stack)
        return FakeWorkspace(self, stack)


@dataclass
class FakeWorkspace:
    """One workspace of a FakeEngine: the real Workspace's reads and writes, from the engine's tables."""

    engine: FakeEngine
    stack: str

    def exists(self) -> bool:
        return self.stack in self.engine.deployed

    def last_update(self) -> str | None:
        return "2026-11-25T12:00:00+00:00"

    def outputs(self) -> dict[str, Any]:
        return self.engine.stack_outputs[self.stack]

    def resources(self) -> list[dict[str, Any]]:
        return self.engine.state[self.stack]

    def preview(self, targets: list[str]) -> list[Step]:
        self.engine.calls.append(("preview", self.stack, tuple(targets)))
        return self.engine.steps

    def up(self, targets: list[str]) -> list[Step]:
        self.engine.calls.append(("up", self.stack, tuple(targets)))
        if self.engine.fail_up:
            from secrets_platform.cli.errors import EngineError

            raise EngineError("`pulumi up` of stack 'local' failed: error: boom")
        return self.engine.steps


class FakeKubectl(Kubectl):
    """kubectl answering from a table of (args-substring -> (rc, stdout, stderr))."""

    def __init__(self, answers: dict[str, tuple[int, str, str]], context: str | None = "ctx"):
        self.answers = answers
        self.seen: list[list[str]] = []
        super().__init__(context, runner=self._answer)

    def _answer(self, args):
        args = list(args)
        self.seen.append(args)
        joined = " ".join(args)
        for needle, (rc, out, err) in self.answers.items():
            if needle in joined:
                return subprocess.CompletedProcess(args, rc, out, err)
        return subprocess.CompletedProcess(args, 1, "", "Error from server (NotFound): not found")


def make_app(
    project_dir: Path = ROOT,
    engine: FakeEngine | None = None,
    environ: dict[str, str] | None = None,
    kubectl: Kubectl | None = None,
    interactive: bool = False,
) -> App:
    engine = engine or FakeEngine(project_dir)
    return App(
        Project(project_dir),
        engine,
        environ or {},
        kubectl=lambda context, kubeconfig=None: kubectl or FakeKubectl({}, context),
        interactive=lambda: interactive,
    )


def invoke(app: App, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), obj=app, input=input, catch_exceptions=False)


def secret_value(value: Any) -> dict[str, str]:
    """How `stack export --show-secrets` spells a secret."""
    import json

    return {SECRET_SIG_KEY: "1b47061264138c4ac30d75fd1eb44270", "plaintext": json.dumps(value)}


def local_state(password: str = SECRET_CANARY) -> list[dict[str, Any]]:
    """Exported state of the snowflake bundle in the local stack (the shape pulumi writes)."""
    comp = "urn:pulumi:local::secrets-platform::secrets-platform:credentials:GeneratedCredential::snowflake"
    child = "urn:pulumi:local::secrets-platform::secrets-platform:credentials:GeneratedCredential$"
    resources = [
        {
            "urn": "urn:pulumi:local::secrets-platform::pulumi:pulumi:Stack::secrets-platform-local",
            "type": "pulumi:pulumi:Stack",
            "custom": False,
        },
        {
            "urn": comp,
            "type": "secrets-platform:credentials:GeneratedCredential",
            "custom": False,
            "parent": "urn:pulumi:local::secrets-platform::pulumi:pulumi:Stack::secrets-platform-local",
        },
        {
            "urn": child + "random:index/randomPassword:RandomPassword::snowflake-snowflake-password",
            "type": "random:index/randomPassword:RandomPassword",
            "custom": True,
            "parent": comp,
            "inputs": {"length": 40},
            "outputs": {"result": secret_value(password)},
        },
    ]
    for ns in ("dagster-local", "floe-jobs-local"):
        resources.append(
            {
                "urn": child + f"kubernetes:core/v1:Secret::{ns}/snowflake-local-credentials",
                "type": "kubernetes:core/v1:Secret",
                "custom": True,
                "parent": comp,
                "inputs": {
                    "metadata": {"name": "snowflake-local-credentials", "namespace": ns, "labels": LOCAL_LABELS},
                    "type": "Opaque",
                    "stringData": secret_value({"SNOWFLAKE_ACCOUNT": "local-dev", "SNOWFLAKE_USER": "svc", "SNOWFLAKE_PASSWORD": password}),
                },
            }
        )
    resources.append(
        {
            "urn": "urn:pulumi:local::secrets-platform::secrets-platform:credentials:GeneratedCredential$kubernetes:core/v1:Secret::dagster-local/minio-local-credentials",
            "type": "kubernetes:core/v1:Secret",
            "custom": True,
            "parent": "urn:pulumi:local::secrets-platform::secrets-platform:credentials:GeneratedCredential::minio",
            "inputs": {
                "metadata": {"name": "minio-local-credentials", "namespace": "dagster-local", "labels": LOCAL_LABELS},
                "type": "Opaque",
                "stringData": secret_value({"MINIO_ROOT_USER": "pipelines", "MINIO_ROOT_PASSWORD": "it's#q"}),
            },
        }
    )
    return resources
