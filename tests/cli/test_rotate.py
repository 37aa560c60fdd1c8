"""`secrets-platform rotate`: bump one bundle's rotation, preview and apply only it, name who restarts."""

from __future__ import annotations

import datetime as dt

import yaml
from cli_support import SECRET_CANARY, FakeEngine, copy_project, invoke, local_state, make_app

from secrets_platform.cli.engine import Step

COMPONENT = "urn:pulumi:local::secrets-platform::secrets-platform:credentials:GeneratedCredential::snowflake"
STEPS = [
    Step(
        "replace",
        COMPONENT.replace("GeneratedCredential::", "GeneratedCredential$random:index/randomPassword:RandomPassword::snowflake-"),
        "random:index/randomPassword:RandomPassword",
    ),
    Step(
        "update",
        "urn:pulumi:local::secrets-platform::secrets-platform:credentials:GeneratedCredential$kubernetes:core/v1:Secret::dagster-local/snowflake-local-credentials",
        "kubernetes:core/v1:Secret",
    ),
    Step(
        "update",
        "urn:pulumi:local::secrets-platform::secrets-platform:credentials:GeneratedCredential$kubernetes:core/v1:Secret::floe-jobs-local/snowflake-local-credentials",
        "kubernetes:core/v1:Secret",
    ),
]


TODAY = dt.datetime.now(dt.timezone.utc).date().isoformat()


def setup(tmp_path, **engine_kw):
    root = copy_project(tmp_path)
    engine = FakeEngine(root, installed=True, deployed={"local"}, state={"local": local_state()}, steps=STEPS, **engine_kw)
    return root, engine


def rotation(root, service="snowflake"):
    doc = yaml.safe_load((root / "Pulumi.local.yaml").read_text())
    return next(str(c["rotation"]) for c in doc["config"]["secrets-platform:credentials"] if c["service"] == service)


def test_yes_bumps_previews_and_applies_only_the_bundle(tmp_path):
    root, engine = setup(tmp_path)
    before = (root / "Pulumi.local.yaml").read_text()
    result = invoke(make_app(root, engine), "rotate", "snowflake", "--stack", "local", "--yes")
    assert result.exit_code == 0, result.output
    assert rotation(root) == TODAY
    after = (root / "Pulumi.local.yaml").read_text()
    assert [a for a in after.splitlines() if a not in before.splitlines()] == [f'      rotation: "{TODAY}"']  # a one-line edit
    (op1, _, t1), (op2, _, t2) = engine.calls
    assert (op1, op2) == ("preview", "up") and t1 == t2
    assert COMPONENT in t1 and all("minio" not in u for u in t1)
    assert len(t1) == 4  # the component, its password, its two Secrets
    assert "replace    random:index/randomPassword:RandomPassword" in result.output
    assert "namespace dagster-local" in result.output and "namespace floe-jobs-local" in result.output
    assert "1 generated keys replaced, 2 Secrets updated in place" in result.output
    assert SECRET_CANARY not in result.output


def test_bundle_name_and_explicit_value(tmp_path):
    root, engine = setup(tmp_path)
    result = invoke(make_app(root, engine), "rotate", "snowflake-local-credentials", "-s", "local", "-y", "--to", "2026-12-01")
    assert result.exit_code == 0 and rotation(root) == "2026-12-01"


def test_without_terminal_and_without_yes_it_refuses(tmp_path):
    root, engine = setup(tmp_path)
    before = (root / "Pulumi.local.yaml").read_text()
    result = invoke(make_app(root, engine, interactive=False), "rotate", "snowflake", "--stack", "local")
    assert result.exit_code == 2 and "no terminal to ask on" in result.stderr and "--yes" in result.stderr
    assert (root / "Pulumi.local.yaml").read_text() == before
    assert [c[0] for c in engine.calls] == ["preview"]


def test_declined_at_the_prompt_leaves_everything_unchanged(tmp_path):
    root, engine = setup(tmp_path)
    before = (root / "Pulumi.local.yaml").read_text()
    result = invoke(make_app(root, engine, interactive=True), "rotate", "snowflake", "--stack", "local", input="n\n")
    assert result.exit_code == 4 and "unchanged" in result.stderr
    assert (root / "Pulumi.local.yaml").read_text() == before


def test_confirmed_at_the_prompt_applies(tmp_path):
    root, engine = setup(tmp_path)
    result = invoke(make_app(root, engine, interactive=True), "rotate", "snowflake", "--stack", "local", input="y\n")
    assert result.exit_code == 0 and rotation(root) == TODAY and engine.calls[-1][0] == "up"


def test_failed_up_restores_the_file_and_exits_3(tmp_path):
    root, engine = setup(tmp_path, fail_up=True)
    before = (root / "Pulumi.local.yaml").read_text()
    result = invoke(make_app(root, engine), "rotate", "snowflake", "--stack", "local", "--yes")
    assert result.exit_code == 3 and "failed" in result.stderr
    assert (root / "Pulumi.local.yaml").read_text() == before


def test_unknown_credential_exits_2(tmp_path):
    root, engine = setup(tmp_path)
    result = invoke(make_app(root, engine), "rotate", "oracle", "--stack", "local", "--yes")
    assert result.exit_code == 2 and "unknown credential 'oracle'" in result.stderr and "snowflake" in result.stderr


def test_bundle_without_generated_keys_exits_2(tmp_path):
    root, engine = setup(tmp_path)
    result = invoke(make_app(root, engine), "rotate", "polaris", "--stack", "local", "--yes")
    assert result.exit_code == 2 and "no generated keys" in result.stderr


def test_undeployed_stack_exits_3(tmp_path):
    root, engine = setup(tmp_path)
    engine.deployed = set()
    result = invoke(make_app(root, engine), "rotate", "snowflake", "--stack", "local", "--yes")
    assert result.exit_code == 3 and "no deployed state" in result.stderr


def test_no_engine_exits_3(tmp_path):
    root, engine = setup(tmp_path)
    engine.installed = False
    result = invoke(make_app(root, engine), "rotate", "snowflake", "--stack", "local", "--yes")
    assert result.exit_code == 3 and "make toolchain" in result.stderr


def test_unknown_stack_exits_2(tmp_path):
    root, engine = setup(tmp_path)
    assert invoke(make_app(root, engine), "rotate", "snowflake", "--stack", "qa", "--yes").exit_code == 2


def test_a_dual_bundle_gets_todays_date_and_the_next_generation(tmp_path):
    root, engine = setup(tmp_path)
    path = root / "Pulumi.local.yaml"
    text = path.read_text().replace(
        "    - service: snowflake\n", "    - service: snowflake\n      rotationStrategy: dual\n      generation: 3\n", 1
    )
    path.write_text(text)
    result = invoke(make_app(root, engine), "rotate", "snowflake", "--stack", "local", "--yes")
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(path.read_text())
    cred = next(c for c in doc["config"]["secrets-platform:credentials"] if c["service"] == "snowflake")
    assert (cred["generation"], str(cred["rotation"])) == (4, TODAY)
    assert "slot b is regenerated" in result.output and "SNOWFLAKE" not in result.output.replace("snowflake", "")
