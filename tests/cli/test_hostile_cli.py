"""Hostile and careless CLI input (issue 10): exit 2 with one clear error, nothing written, no value shown."""

from __future__ import annotations

import subprocess

import yaml
from cli_support import LOCAL_LABELS, SECRET_CANARY, FakeEngine, copy_project, invoke, local_state, make_app

from secrets_platform.cli import references
from secrets_platform.cli.engine import Step

BOMB = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)


# --------------------------------------------------------------------------- alias bombs in consumer files


def test_alias_bomb_profile_is_refused_with_exit_2(tmp_path):
    profile = tmp_path / "profiles.yml"
    profile.write_text("floe:\n  outputs:\n    dev:\n      password: \"{{ env_var('SNOWFLAKE_PASSWORD') }}\"\n" + BOMB)
    result = invoke(make_app(), "validate", "--stack", "local", str(profile))
    assert result.exit_code == 2
    assert f"{profile}:" in result.stderr and "alias bomb" in result.stderr and "Traceback" not in result.output


def test_alias_bomb_stack_file_is_refused_by_list(tmp_path):
    root = copy_project(tmp_path)
    stack = root / "Pulumi.local.yaml"
    stack.write_text(stack.read_text() + "x:\n" + "".join("  " + line + "\n" for line in BOMB.splitlines()))
    result = invoke(make_app(root), "list", "--stack", "local", "--from", "file")
    assert result.exit_code == 2 and "alias bomb" in result.stderr


def test_env_var_line_numbers_are_counted_linearly():
    """100,000 env_var() calls in one scalar: each line found without re-reading the text before it."""

    class Counting(str):
        copied = 0

        def __getitem__(self, item):
            out = str.__getitem__(self, item)
            Counting.copied += len(out)
            return out

    value = Counting("".join(f"{{{{ env_var('K{i}') }}}}\n" for i in range(100_000)))
    node = yaml.ScalarNode("tag:yaml.org,2002:str", value, start_mark=yaml.Mark("profiles.yml", 0, 0, 0, None, 0))
    refs = references.dbt_references("profiles.yml", [node])
    assert len(refs) == 100_000
    assert (refs[0].line, refs[-1].line, refs[-1].key) == (1, 100_000, "K99999")
    assert Counting.copied <= 2 * len(value)


# --------------------------------------------------------------------------- validate, dbt-profile


def test_validate_on_an_empty_folder_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "README.md").write_text("x")
    for folder in ("empty", "notes"):
        result = invoke(make_app(), "validate", "--stack", "local", str(tmp_path / folder))
        assert result.exit_code == 2 and "nothing to validate" in result.stderr and "Fix:" in result.stderr


BASE = (
    "dbt-profile",
    "--stack",
    "local",
    "--credential",
    "snowflake",
    "--set",
    "database=ANALYTICS",
    "--set",
    "warehouse=TRANSFORMING",
    "--set",
    "schema=dbt",
)


def test_dbt_profile_into_a_missing_folder_is_exit_2(tmp_path):
    out = tmp_path / "missing" / "profiles.yml"
    result = invoke(make_app(), *BASE, "--output", str(out))
    assert result.exit_code == 2 and "does not exist" in result.stderr and not out.exists()


def test_dbt_profile_credential_field_check_is_case_insensitive():
    for field in ("Password", "PASSWORD", "Private_Key_Passphrase", "Token", "db_pwd"):
        result = invoke(make_app(), *BASE, "--set", f"{field}=hunter2-canary")
        assert result.exit_code == 2, field
        assert "is a credential and must come from the stack" in result.stderr and "hunter2" not in result.output


# --------------------------------------------------------------------------- dotenv reads only what the local stack wrote


def dotenv_project(tmp_path):
    root = copy_project(tmp_path)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text(".env\nrendered/\n")
    stack = root / "Pulumi.local.yaml"  # render mode (make render): kubernetes.renderDir set
    stack.write_text(stack.read_text().replace("config:\n", "config:\n  secrets-platform:kubernetes:\n    renderDir: rendered/local\n", 1))
    return root


def secret_doc(name: str, namespace: str, key: str, value: str, labels=None) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace, **({"labels": labels} if labels is not None else {})},
            "stringData": {key: value},
        }
    )


def test_dotenv_ignores_secrets_the_local_stack_did_not_write(tmp_path):
    root = dotenv_project(tmp_path)
    rendered = root / "rendered" / "local" / "1-manifest"
    rendered.mkdir(parents=True)
    prd_labels = {**LOCAL_LABELS, "secrets-platform.io/environment": "prd"}
    (rendered / "ours.yaml").write_text(
        secret_doc("minio-local-credentials", "dagster-local", "MINIO_ROOT_PASSWORD", SECRET_CANARY, LOCAL_LABELS)
    )
    (rendered / "prd.yaml").write_text(
        secret_doc("snowflake-prd-credentials", "dagster-prd", "SNOWFLAKE_PASSWORD", "prd-canary", prd_labels)
    )
    (rendered / "relabelled.yaml").write_text(
        secret_doc("snowflake-prd-credentials", "dagster-local", "PRD_PASSWORD", "prd-canary", LOCAL_LABELS)
    )
    (rendered / "unlabelled.yaml").write_text(secret_doc("x-local-credentials", "dagster-local", "HAND_PLACED", "hand-canary"))
    (rendered / "foreign-ns.yaml").write_text(secret_doc("x-local-credentials", "other-local", "OTHER_NS", "ns-canary", LOCAL_LABELS))
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "leak.yaml").write_text(secret_doc("y-local-credentials", "dagster-local", "LINKED", "link-canary", LOCAL_LABELS))
    (rendered / "linked.yaml").symlink_to(outside / "leak.yaml")
    result = invoke(make_app(root, FakeEngine(root)), "dotenv", "--stack", "local")
    assert result.exit_code == 0, result.output
    text = (root / ".env").read_text()
    assert SECRET_CANARY in text
    for canary in ("prd-canary", "hand-canary", "ns-canary", "link-canary"):
        assert canary not in text


def test_dotenv_from_state_ignores_a_prd_secret(tmp_path):
    root = dotenv_project(tmp_path)
    state = local_state()
    state.append(
        {
            "urn": "urn:x::prd",
            "type": "kubernetes:core/v1:Secret",
            "custom": True,
            "inputs": {
                "metadata": {
                    "name": "snowflake-prd-credentials",
                    "namespace": "dagster-prd",
                    "labels": {**LOCAL_LABELS, "secrets-platform.io/environment": "prd"},
                },
                "type": "Opaque",
                "stringData": {"PRD_ONLY": "prd-canary"},
            },
        }
    )
    engine = FakeEngine(root, installed=True, deployed={"local"}, state={"local": state})
    assert invoke(make_app(root, engine), "dotenv", "--stack", "local").exit_code == 0
    assert "prd-canary" not in (root / ".env").read_text() and SECRET_CANARY in (root / ".env").read_text()


def test_dotenv_alias_bomb_in_render_dir_is_exit_2(tmp_path):
    root = dotenv_project(tmp_path)
    rendered = root / "rendered" / "local"
    rendered.mkdir(parents=True)
    (rendered / "bomb.yaml").write_text(BOMB)
    result = invoke(make_app(root, FakeEngine(root)), "dotenv", "--stack", "local")
    assert result.exit_code == 2 and "bomb.yaml" in result.stderr and not (root / ".env").exists()


# --------------------------------------------------------------------------- rotate counts resources, not steps


def test_rotate_counts_replaced_keys_not_preview_steps(tmp_path):
    root = copy_project(tmp_path)
    pw = "urn:pulumi:local::secrets-platform::secrets-platform:credentials:GeneratedCredential$random:index/randomPassword:RandomPassword::snowflake-snowflake-password"
    steps = [Step(op, pw, "random:index/randomPassword:RandomPassword") for op in ("create-replacement", "replace", "delete-replaced")]
    steps += [
        Step(
            "update",
            f"urn:pulumi:local::secrets-platform::secrets-platform:credentials:GeneratedCredential$kubernetes:core/v1:Secret::{ns}/snowflake-local-credentials",
            "kubernetes:core/v1:Secret",
        )
        for ns in ("dagster-local", "floe-jobs-local")
    ]
    engine = FakeEngine(root, installed=True, deployed={"local"}, state={"local": local_state()}, steps=steps)
    result = invoke(make_app(root, engine), "rotate", "snowflake", "--stack", "local", "--yes")
    assert result.exit_code == 0, result.output
    assert "1 generated keys replaced, 2 Secrets updated in place" in result.output


def test_deeply_nested_consumer_files_are_exit_2(tmp_path):
    cases = {
        "pipeline.json": "[" * 100_000 + "]" * 100_000,
        "tasks.py": "x = " + "+".join(["1"] * 200_000),
        "values.yaml": "a: " + "[" * 300 + "]" * 300 + "\n",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        result = invoke(make_app(), "validate", "--stack", "local", str(path))
        assert result.exit_code == 2, (name, result.output)
        assert f"{path}" in result.stderr and "Traceback" not in result.output
