"""One engine workspace a command, against the real engine: `list --from auto` lists the backend once.

A throwaway project (this project's name and local stack file, a program that only exports a
`secrets` output) in a file backend of its own; no provider and no cluster. The Automation API's
LocalWorkspace is wrapped to count what the CLI opens and asks.
"""

from __future__ import annotations

import os
import shutil

import pytest
from cli_support import ROOT, invoke

from secrets_platform.cli.context import App
from secrets_platform.cli.engine import Engine
from secrets_platform.cli.project import Project

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (ROOT / "bin" / "pulumi").exists(), reason="bin/pulumi not built (make toolchain)"),
]

PROGRAM = """import pulumi

pulumi.export("secrets", [{"name": "only-local-credentials", "namespace": "dagster-local", "type": "Opaque",
                           "backend": "kubernetes", "keys": ["A"], "rotation": "7", "service": "only"}])
"""


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    from pulumi import automation as auto

    root = tmp_path_factory.mktemp("project")
    (root / "Pulumi.yaml").write_text(f"name: secrets-platform\nruntime:\n  name: python\n  options:\n    virtualenv: {ROOT / '.venv'}\n")
    (root / "__main__.py").write_text(PROGRAM)
    shutil.copy(ROOT / "Pulumi.local.yaml", root / "Pulumi.local.yaml")
    (root / "bin").symlink_to(ROOT / "bin")
    (root / ".state").mkdir()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    environ["PULUMI_BACKEND_URL"] = f"file://{root / '.state'}"
    environ["PULUMI_HOME"] = str(root / ".pulumi-home")
    engine = Engine(root, environ)
    opts = auto.LocalWorkspaceOptions(
        env_vars=engine.env_vars("local"),
        secrets_provider="passphrase",
        pulumi_command=auto.PulumiCommand(root=str(ROOT), skip_version_check=True),
    )
    auto.create_or_select_stack(stack_name="local", work_dir=str(root), opts=opts).up(color="never", on_output=lambda _: None)
    return App(Project(root), engine, environ, interactive=lambda: False)


@pytest.fixture
def counted(monkeypatch):
    from pulumi.automation import _local_workspace as lw

    counts = {"workspaces": 0, "list_stacks": 0, "select_stack": 0}
    for method, key in (("__init__", "workspaces"), ("list_stacks", "list_stacks"), ("select_stack", "select_stack")):
        real = getattr(lw.LocalWorkspace, method)

        def counting(self, *a, _real=real, _key=key, **k):
            counts[_key] += 1
            return _real(self, *a, **k)

        monkeypatch.setattr(lw.LocalWorkspace, method, counting)
    return counts


def test_list_from_auto_opens_one_workspace_and_lists_once(deployed, counted):
    result = invoke(deployed, "list", "--stack", "local", "--from", "auto")
    assert result.exit_code == 0, result.output
    assert "from deployed state of" in result.output and "only-local-credentials" in result.output
    assert counted == {"workspaces": 1, "list_stacks": 1, "select_stack": 1}


def test_one_workspace_reads_previews_and_applies(deployed, counted):
    ws = deployed.engine.open("local")
    assert ws.exists() and ws.last_update() and ws.outputs()["secrets"][0]["name"] == "only-local-credentials"
    assert any(r["type"] == "pulumi:pulumi:Stack" for r in ws.resources())
    assert ws.preview([]) == [] and ws.up([]) == []  # nothing changed: no step but the stack's own "same"
    assert counted == {"workspaces": 1, "list_stacks": 1, "select_stack": 1}
