"""`secrets-platform list`: names, types, keys and rotation; from state when deployed, else the stack file."""

from __future__ import annotations

import datetime as dt
import json

import yaml
from cli_support import CANARY, ROOT, FakeEngine, invoke, make_app

from secrets_platform.cli.project import Project
from secrets_platform.model import planned_descriptors
from secrets_platform.model.consumers import describe


def test_table_from_the_stack_file_when_no_engine():
    result = invoke(make_app(), "list", "--stack", "local")
    assert result.exit_code == 0, result.output
    assert "from Pulumi.local.yaml" in result.output
    header = result.stdout.splitlines()[1].split()
    assert header == ["NAME", "NAMESPACE", "TYPE", "BACKEND", "KEYS", "ROTATION", "AGE", "OVERDUE"]
    row = next(line for line in result.stdout.splitlines() if line.startswith("snowflake-local-credentials  dagster-local"))
    assert "SNOWFLAKE_ACCOUNT,SNOWFLAKE_PASSWORD,SNOWFLAKE_USER" in row and row.split()[-3:] == ["1", "unknown", "-"]
    assert "no Pulumi engine installed" in result.stderr


def test_json_is_the_described_plan():
    """--json for machines: the same entries the program would export."""
    result = invoke(make_app(), "list", "--stack", "prd", "--json")
    data = json.loads(result.stdout)
    s = Project(ROOT).settings("prd", {})
    assert data["source"] == "file" and data["stack"] == "prd"
    assert data["secrets"] == json.loads(json.dumps([describe(d) for d in planned_descriptors(s)]))


def test_deployed_stack_is_read_from_its_outputs():
    engine = FakeEngine(
        ROOT,
        installed=True,
        deployed={"local"},
        stack_outputs={
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
        },
    )
    result = invoke(make_app(engine=engine), "list", "--stack", "local")
    assert result.exit_code == 0
    assert "from deployed state of 2026-11-25T12:00:00+00:00" in result.output
    row = next(line for line in result.output.splitlines() if line.startswith("only-local-credentials"))
    assert row.split()[5] == "7"


def test_undeployed_stack_falls_back_to_the_file_with_a_note():
    result = invoke(make_app(engine=FakeEngine(ROOT, installed=True)), "list", "--stack", "dev")
    assert result.exit_code == 0 and "snowflake-dev-credentials" in result.output
    assert "not deployed in this backend" in result.stderr


def test_from_state_demands_a_deployment():
    result = invoke(make_app(engine=FakeEngine(ROOT, installed=True)), "list", "--stack", "dev", "--from", "state")
    assert result.exit_code == 2 and "has no deployed state" in result.stderr


def test_unknown_stack_is_a_usage_error():
    result = invoke(make_app(), "list", "--stack", "qa")
    assert result.exit_code == 2
    assert "unknown stack 'qa'" in result.stderr and "local, dev, stg, prd" in result.stderr


def test_missing_stack_option_is_a_usage_error():
    assert invoke(make_app(), "list").exit_code == 2


def test_imported_values_never_listed():
    """A DAGSTER_SECRET_* variable in the environment shows up by name and key, never by value."""
    result = invoke(make_app(environ={"DAGSTER_SECRET_SLACK_TOKEN": CANARY}), "list", "--stack", "prd", "--json")
    assert result.exit_code == 0
    assert "dagster-prd-slack-token-secret" in result.output
    assert CANARY not in result.output


def test_age_and_overdue_from_a_date_rotation(tmp_path):
    from cli_support import copy_project

    root = copy_project(tmp_path)
    path = root / "Pulumi.prd.yaml"
    path.write_text(path.read_text().replace('rotation: "2026-11-01"', 'rotation: "2020-01-01"'))
    result = invoke(make_app(root), "list", "--stack", "prd")
    row = next(line for line in result.output.splitlines() if line.startswith("snowflake-prd-credentials"))
    assert row.split()[-1] == "OVERDUE" and "OVERDUE: snowflake" in result.output
    assert "age unknown: cube, minio" in result.output
    check = invoke(make_app(root), "freshness", "--stack", "prd")
    assert check.exit_code == 1 and "snowflake-prd-credentials" in check.stderr
    # Rotated today: fresh whatever day the test runs (the committed 2026-11-01 turns overdue in 2027).
    path.write_text(
        path.read_text().replace('rotation: "2020-01-01"', f'rotation: "{dt.datetime.now(dt.timezone.utc).date().isoformat()}"')
    )
    # prd fails closed: cube and minio (rotation "1") are of unknown age, which prd counts as overdue
    unknown = invoke(make_app(root), "freshness", "--stack", "prd")
    assert unknown.exit_code == 1 and "of unknown age: cube-prd-credentials, minio-prd-credentials" in unknown.stderr
    assert "snowflake-prd-credentials" not in unknown.stderr and "secrets-platform rotate <service> --stack prd" in unknown.stderr
    # elsewhere an unknown age fails only when asked (the drift workflow asks)
    assert invoke(make_app(root), "freshness", "--stack", "dev").exit_code == 0
    strict = invoke(make_app(root), "freshness", "--stack", "dev", "--fail-on-unknown")
    assert strict.exit_code == 1 and "minio-dev-credentials" in strict.stderr
    # every prd bundle dated: fresh
    doc = yaml.safe_load(path.read_text())
    for cred in doc["config"]["secrets-platform:credentials"]:
        cred["rotation"] = dt.datetime.now(dt.timezone.utc).date().isoformat()
    path.write_text(yaml.safe_dump(doc))
    ok = invoke(make_app(root), "freshness", "--stack", "prd")
    assert ok.exit_code == 0, ok.output + ok.stderr
