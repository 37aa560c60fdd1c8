"""One stack context per command: --stack checked when parsed, the stack file read once, one engine workspace."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from cli_support import ROOT, FakeEngine, copy_project, invoke, local_state, make_app

from secrets_platform import settings as settings_pkg
from secrets_platform.cli.engine import Workspace

OUTPUTS = {
    "local": {
        "secrets": [
            {
                "name": "only-local-credentials",
                "namespace": "dagster-local",
                "type": "Opaque",
                "backend": "kubernetes",
                "keys": ["A"],
                "rotation": "7",
                "service": "only",
            }
        ]
    }
}


@pytest.mark.parametrize(
    "args",
    [
        ["list"],
        ["status"],
        ["freshness"],
        ["validate", "no-such-file"],
        ["rotate", "snowflake", "--yes"],
        ["dotenv"],
        ["dbt-profile", "--credential", "snowflake"],
        ["diff", "--base", "HEAD"],
        ["audit"],
    ],
)
def test_an_unknown_stack_is_refused_when_parsed_naming_it_and_the_fix(args):
    engine = FakeEngine(ROOT, installed=True)
    result = invoke(make_app(engine=engine), *args, "--stack", "qa")
    assert result.exit_code == 2
    assert "unknown stack 'qa': this project has stacks local, dev, stg, prd" in result.stderr
    assert "Fix: pass --stack with one of them" in result.stderr
    assert engine.opened == [] and engine.calls == []


def test_list_from_auto_opens_one_workspace():
    engine = FakeEngine(ROOT, installed=True, deployed={"local"}, stack_outputs=OUTPUTS)
    result = invoke(make_app(engine=engine), "list", "--stack", "local", "--from", "auto")
    assert result.exit_code == 0 and "from deployed state of" in result.output
    assert engine.opened == ["local"]


def test_list_from_file_opens_no_workspace():
    engine = FakeEngine(ROOT, installed=True, deployed={"local"}, stack_outputs=OUTPUTS)
    assert invoke(make_app(engine=engine), "list", "--stack", "local", "--from", "file").exit_code == 0
    assert engine.opened == []


def test_rotate_opens_one_workspace_and_reads_the_stack_file_once(tmp_path, monkeypatch):
    root = copy_project(tmp_path)
    engine = FakeEngine(root, installed=True, deployed={"local"}, state={"local": local_state()})
    reads: list[str] = []
    real = settings_pkg.from_stack_file

    def counting(path, environ=None):
        reads.append(str(path))
        return real(path, environ)

    monkeypatch.setattr(settings_pkg, "from_stack_file", counting)
    result = invoke(make_app(root, engine), "rotate", "snowflake", "--stack", "local", "--yes")
    assert result.exit_code == 0, result.output
    assert engine.opened == ["local"]
    assert [c[0] for c in engine.calls] == ["preview", "up"]
    assert reads == [str(root / "Pulumi.local.yaml")]


def test_dotenv_opens_one_workspace(tmp_path):
    root = copy_project(tmp_path)
    engine = FakeEngine(root, installed=True, deployed={"local"}, state={"local": local_state()})
    result = invoke(make_app(root, engine), "dotenv", "--stack", "local", "--output", str(tmp_path / "out.env"))
    assert result.exit_code == 0, result.output + result.stderr
    assert engine.opened == ["local"]


class CountingLocalWorkspace:
    """The LocalWorkspace calls Workspace makes for existence and age: list_stacks, counted."""

    def __init__(self, names: list[str]):
        self.names = names
        self.listed = 0

    def list_stacks(self):
        self.listed += 1
        when = dt.datetime(2026, 11, 25, 12, tzinfo=dt.timezone.utc)
        return [SimpleNamespace(name=f"organization/secrets-platform/{n}", last_update=when) for n in self.names]


def test_a_workspace_lists_the_backend_once():
    ws = CountingLocalWorkspace(["dev", "local"])
    workspace = Workspace("local", ws)
    assert workspace.exists() and workspace.exists()
    assert workspace.last_update() == "2026-11-25T12:00:00+00:00"
    assert ws.listed == 1
    absent = Workspace("prd", CountingLocalWorkspace(["dev"]))
    assert not absent.exists() and absent.last_update() is None
