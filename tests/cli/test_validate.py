"""`secrets-platform validate`: every consumer reference resolves in the stack, or a fix is printed."""

from __future__ import annotations

import pytest
from cli_support import FIXTURES, invoke, make_app

VALID = FIXTURES / "valid"
BROKEN = FIXTURES / "broken"
MALFORMED = FIXTURES / "malformed"


def run(*args):
    return invoke(make_app(), "validate", "--stack", "local", *map(str, args))


def test_valid_consumers_resolve():
    result = run(*sorted(VALID.iterdir()))
    assert result.exit_code == 0, result.output
    assert "✗" not in result.output
    assert "All 12 references resolve in stack local (1 warning)." in result.output
    assert "✓ 9: env_var('SNOWFLAKE_PASSWORD'): key of snowflake-local-credentials (dagster-local, floe-jobs-local)" in result.output
    assert "(Flyte tasks)" in result.output and "(Pachyderm pipeline spec)" in result.output and "(Dagster Helm values)" in result.output


def test_a_directory_is_walked():
    result = run(VALID)
    assert result.exit_code == 0 and "12 secret references in 4 files" in result.output


def test_dbt_key_missing_fails_with_the_config_command():
    result = run(BROKEN / "profiles.yml")
    assert result.exit_code == 1
    assert "✗ 9: env_var('SNOWFLAKE_ROLE'): NOT FOUND: no Secret of local has key SNOWFLAKE_ROLE" in result.output
    assert "! 11: env_var('DBT_THREADS', '4')" in result.output  # a default is a warning, not a failure
    assert "1 error found in 5 references (1 warning). To fix:" in result.output
    assert "pulumi config set --path 'credentials[0].values.SNOWFLAKE_ROLE' '<value>' -s local" in result.output


def test_dagster_names_wrong_env_import_and_undeclared():
    out = run(BROKEN / "dagster-values.yaml").output
    assert "snowflake-prd-credentials names environment prd, not local: reference snowflake-local-credentials in local (it exists)" in out
    assert "gh secret set DAGSTER_SECRET_SLACK_BOT_OAUTH_TOKEN --env local" in out
    assert "salesforce is vault-backed: no Kubernetes Secret salesforce-local-credentials exists" in out
    assert "3 errors found" in out


def test_flyte_key_case_and_dynamic_group():
    result = run(BROKEN / "flyte_tasks.py")
    assert result.exit_code == 1
    assert "has no key minio_root_password (did you mean MINIO_ROOT_PASSWORD? keys are case-sensitive)" in result.output
    assert '✗ 15: Secret(group=group_for("local"), key="MINIO_ROOT_USER"): group_for(\'local\') is not a string constant' in result.output


def test_pachyderm_missing_key_unknown_secret_and_pull_secret_type():
    out = run(BROKEN / "pachyderm-pipeline.yaml").output
    assert "✗ 6: secrets: snowflake-local-credentials key SNOWFLAKE_WAREHOUSE -> $SNOWFLAKE_WAREHOUSE" in out
    assert "✗ 9: secrets: clearml key access -> $CLEARML_API_ACCESS_KEY: NOT FOUND in stack local" in out
    assert "✗ 13: image_pull_secrets: minio-local-credentials: is Opaque, not a registry pull secret" in out


def test_namespace_filter_narrows_what_resolves():
    """minio is not in floe-jobs: a Flyte task there cannot read it."""
    result = invoke(make_app(), "validate", "--stack", "local", "-n", "floe-jobs", str(VALID / "flyte_tasks.py"))
    assert result.exit_code == 1 and result.output.count("✗") == 2


@pytest.mark.parametrize(
    "name, where",
    [
        ("values.yaml", "values.yaml:5: malformed YAML"),
        ("tasks.py", "tasks.py:3: not valid Python"),
        ("pipeline.json", "pipeline.json:5: malformed JSON"),
        ("notes.txt", "notes.txt: not a consumer file validate understands"),
    ],
)
def test_malformed_files_exit_2_naming_file_and_line(name, where):
    result = run(MALFORMED / name)
    assert result.exit_code == 2
    assert where in result.stderr


def test_missing_file_exits_2():
    result = run(FIXTURES / "nope.yml")
    assert result.exit_code == 2 and "nope.yml: no such file or directory" in result.stderr


def test_yaml_without_references_exits_2(tmp_path):
    f = tmp_path / "values.yaml"
    f.write_text("replicaCount: 1\n")
    result = run(f)
    assert result.exit_code == 2 and "no secret references validate understands" in result.stderr


def test_flyte_positional_arguments_are_not_guessed(tmp_path):
    f = tmp_path / "t.py"
    f.write_text("from flytekit import Secret\nS = Secret('minio-local-credentials', 'MINIO_ROOT_USER')\n")
    result = run(f)
    assert result.exit_code == 1 and "positional arguments: write Secret(group=..., key=...)" in result.output


def test_validate_never_imports_task_modules(tmp_path):
    """Parsing with ast only: a module whose import would write a file leaves no trace."""
    marker = tmp_path / "imported"
    f = tmp_path / "tasks.py"
    f.write_text(
        f"open({str(marker)!r}, 'w').write('x')\nfrom flytekit import Secret\nS = Secret(group='minio-local-credentials', key='MINIO_ROOT_USER')\n"
    )
    assert run(f).exit_code == 0
    assert not marker.exists()


def test_flyte_vault_group_is_the_kv_path(tmp_path):
    """With Flyte's Vault secret manager the group is the KV path of a vault-backed bundle."""
    f = tmp_path / "t.py"
    f.write_text(
        "from flytekit import Secret\nA = Secret(group='floe/local/salesforce', key='client_id')\n"
        "B = Secret(group='floe/local/salesforce', key='nope')\n"
    )
    out = run(f).output
    assert (
        "✓ 2: " in out
        and "field client_id of Vault entry floe/local/salesforce (/etc/flyte/secrets/floe/local/salesforce/client_id)" in out
    )
    assert "✗ 3: " in out and "Vault entry floe/local/salesforce has no field nope (its fields: client_id, client_secret)" in out


def test_flyte_vault_key_is_the_kv_field_not_the_platform_key(tmp_path):
    """Flyte's Vault injector reads {{ .Data.data.<key> }}: the platform's Secret-style key renders <no value>."""
    f = tmp_path / "t.py"
    f.write_text(
        "from flytekit import Secret\n"
        "A = Secret(group='floe/local/salesforce', key='SALESFORCE_CLIENT_ID')\n"
        "B = Secret(group='floe/local/salesforce', key='CLIENT_SECRET')\n"
        "C = Secret(group='floe/data/local/salesforce', key='client_secret')\n"
    )
    result = run(f)
    assert result.exit_code == 1, result.output
    out = result.output
    assert "✗ 2: " in out and "SALESFORCE_CLIENT_ID is the platform's name for field client_id" in out and "<no value>" in out
    assert f"in {f}, write key='client_id' (the KV field of floe/local/salesforce)" in out
    assert "✗ 3: " in out and "has field client_secret, not CLIENT_SECRET (fields are case-sensitive)" in out
    assert "✓ 4: " in out and "/etc/flyte/secrets/floe/data/local/salesforce/client_secret" in out, (
        "the KV v2 API path is a group the agent reads too"
    )


def test_flyte_vault_mounts_files_only_and_without_group_version(tmp_path):
    f = tmp_path / "t.py"
    f.write_text(
        "from flytekit import Secret\n"
        "A = Secret(group='floe/local/salesforce', key='client_id', mount_requirement=Secret.MountType.ENV_VAR)\n"
        "B = Secret(group='floe/local/salesforce', key='client_id', group_version='kv2')\n"
        "C = Secret(group='floe/local/salesforce', key='client_id', mount_requirement=Secret.MountType.FILE)\n"
    )
    out = run(f).output
    assert "✗ 2: " in out and "refuses mount_requirement ENV_VAR" in out
    assert "✗ 3: " in out and "flytekit then reads <group>/kv2/<key>, but the Vault injector writes <group>/<key>" in out
    assert "✓ 4: " in out


def test_flyte_vault_fields_flyte_cannot_read_are_refused(tmp_path):
    """flytekit lower-cases the key of the file it reads; the injector writes the field's name as given."""
    import yaml
    from cli_support import copy_project

    root = copy_project(tmp_path)
    doc = yaml.safe_load((root / "Pulumi.local.yaml").read_text())
    for cred in doc["config"]["secrets-platform:credentials"]:
        if cred["service"] == "salesforce":
            cred["properties"] = {"SALESFORCE_CLIENT_ID": "ClientId", "SALESFORCE_CLIENT_SECRET": "client-secret"}
    (root / "Pulumi.local.yaml").write_text(yaml.safe_dump(doc))
    f = tmp_path / "t.py"
    f.write_text(
        "from flytekit import Secret\nA = Secret(group='floe/local/salesforce', key='ClientId')\nB = Secret(group='floe/local/salesforce', key='client-secret')\n"
    )
    out = invoke(make_app(root), "validate", "--stack", "local", "--from", "file", str(f)).output
    assert "✗ 2: " in out and "flytekit reads the file /etc/flyte/secrets/<group>/clientid" in out
    assert "✗ 3: " in out and "use letters, digits and '_' only" in out
