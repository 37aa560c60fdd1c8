"""`secrets-platform dotenv`: the one command that handles values, into a 0600 file only."""

from __future__ import annotations

import stat
import subprocess

from cli_support import LOCAL_LABELS, SECRET_CANARY, FakeEngine, copy_project, invoke, local_state, make_app

from secrets_platform.cli.dotenv import HEADER, quote


def setup(tmp_path):
    root = copy_project(tmp_path)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text(".env\nrendered/\n")  # as the repository ignores them
    engine = FakeEngine(root, installed=True, deployed={"local"}, state={"local": local_state()})
    return root, engine


def test_writes_values_0600_and_never_prints_them(tmp_path):
    root, engine = setup(tmp_path)
    result = invoke(make_app(root, engine), "dotenv", "--stack", "local")
    assert result.exit_code == 0, result.output
    env = root / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    text = env.read_text()
    assert text.startswith(HEADER)
    assert f"SNOWFLAKE_PASSWORD='{SECRET_CANARY}'" in text
    assert 'MINIO_ROOT_PASSWORD="it\'s#q"' in text
    assert SECRET_CANARY not in result.output
    assert "git-ignored" in result.output and "mode 0600" in result.output


def test_workload_filter(tmp_path):
    root, engine = setup(tmp_path)
    assert invoke(make_app(root, engine), "dotenv", "-s", "local", "-w", "floe-jobs").exit_code == 0
    text = (root / ".env").read_text()
    assert "SNOWFLAKE_PASSWORD" in text and "MINIO" not in text


def test_refused_for_any_other_stack(tmp_path):
    root, engine = setup(tmp_path)
    for stack in ("dev", "stg", "prd"):
        result = invoke(make_app(root, engine), "dotenv", "--stack", stack)
        assert result.exit_code == 2 and f"refused for stack {stack}" in result.stderr
    assert not (root / ".env").exists()


def test_will_not_write_an_unignored_file_in_the_repository(tmp_path):
    root, engine = setup(tmp_path)
    result = invoke(make_app(root, engine), "dotenv", "--stack", "local", "--output", str(root / "local.env"))
    assert result.exit_code == 2 and "not git-ignored" in result.stderr
    assert not (root / "local.env").exists()


def test_foreign_file_needs_force(tmp_path):
    root, engine = setup(tmp_path)
    (root / ".env").write_text("MINE=1\n")
    assert invoke(make_app(root, engine), "dotenv", "--stack", "local").exit_code == 2
    assert (root / ".env").read_text() == "MINE=1\n"
    assert invoke(make_app(root, engine), "dotenv", "--stack", "local", "--force").exit_code == 0
    assert invoke(make_app(root, engine), "dotenv", "--stack", "local").exit_code == 0  # ours now: rewritten freely


def test_render_dir_fallback_without_engine(tmp_path):
    root, _ = setup(tmp_path)
    stack = root / "Pulumi.local.yaml"  # render mode (make render): kubernetes.renderDir set
    stack.write_text(stack.read_text().replace("config:\n", "config:\n  secrets-platform:kubernetes:\n    renderDir: rendered/local\n", 1))
    rendered = root / "rendered" / "local" / "1-manifest"
    rendered.mkdir(parents=True)
    (rendered / "v1-secret-dagster-local-x.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: minio-local-credentials\n  namespace: dagster-local\n"
        "  labels: {app.kubernetes.io/managed-by: pulumi, app.kubernetes.io/part-of: secrets-platform, secrets-platform.io/environment: local}\n"
        f"type: Opaque\nstringData:\n  MINIO_ROOT_PASSWORD: {SECRET_CANARY}\n"
    )
    result = invoke(make_app(root, FakeEngine(root)), "dotenv", "--stack", "local")
    assert result.exit_code == 0 and "from rendered/local/" in result.output
    assert SECRET_CANARY in (root / ".env").read_text() and SECRET_CANARY not in result.output


def test_nothing_deployed_exits_3(tmp_path):
    root, _ = setup(tmp_path)
    result = invoke(make_app(root, FakeEngine(root)), "dotenv", "--stack", "local")
    assert result.exit_code == 3 and "make up" in result.stderr


def test_quote():
    assert quote("a#b") == "'a#b'" and quote("it's") == '"it\'s"' and quote("x\ny$") == '"x\\ny\\$"'


def test_state_values_come_from_data_as_the_provider_stores_them():
    """The kubernetes provider turns stringData into base64 `data` in the state's inputs."""
    import base64

    from secrets_platform.cli import dotenv as dotenv_mod

    encoded = base64.b64encode(b"s3cr3t-canary").decode()
    resources = [
        {
            "type": "kubernetes:core/v1:Secret",
            "inputs": {
                "type": "Opaque",
                "metadata": {"namespace": "dagster-local", "name": "snowflake-local-credentials", "labels": LOCAL_LABELS},
                "data": {"SNOWFLAKE_PASSWORD": encoded},
            },
        },
        {
            "type": "kubernetes:core/v1:Secret",
            "inputs": {
                "type": "kubernetes.io/tls",
                "metadata": {"namespace": "dagster-local", "name": "web-local-tls-secret", "labels": LOCAL_LABELS},
                "data": {"tls.key": encoded},
            },
        },
    ]
    assert dotenv_mod.secrets_from_state(resources) == {
        ("dagster-local", "snowflake-local-credentials"): {"SNOWFLAKE_PASSWORD": "s3cr3t-canary"}
    }


def synced_secret(name: str, namespace: str, data: dict[str, str], labels: dict[str, str] | None = None) -> str:
    import base64
    import json

    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace, "labels": LOCAL_LABELS if labels is None else labels},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        }
    )


def cluster_with(*answers: tuple[str, str]):
    from cli_support import FakeKubectl

    table = {"--raw=/version": (0, "{}", "")}
    for needle, manifest in answers:
        table[needle] = (0, manifest, "")
    return FakeKubectl(table, context=None)


def test_includes_what_external_secrets_synced_into_the_local_cluster(tmp_path):
    """cube and polaris live in ESO-written Secrets (no Pulumi resource): dotenv reads them from the local cluster."""
    root, engine = setup(tmp_path)
    kube = cluster_with(
        (
            "get secret cube-local-credentials -n dagster-local",
            synced_secret("cube-local-credentials", "dagster-local", {"CUBE_API_SECRET": "cube-" + SECRET_CANARY}),
        ),
        (
            "get secret polaris-local-credentials -n floe-jobs-local",
            synced_secret(
                "polaris-local-credentials", "floe-jobs-local", {"POLARIS_CLIENT_ID": "id", "POLARIS_CLIENT_SECRET": "p-" + SECRET_CANARY}
            ),
        ),
    )
    result = invoke(make_app(root, engine, kubectl=kube), "dotenv", "--stack", "local", "--workload", "dagster")
    assert result.exit_code == 0, result.output
    text = (root / ".env").read_text()
    assert f"CUBE_API_SECRET='cube-{SECRET_CANARY}'" in text and "# from cube-local-credentials" in text
    assert "POLARIS" not in text, "--workload dagster: floe-jobs' Secrets stay out"
    assert SECRET_CANARY not in result.output
    assert "synced into the local cluster" in result.stdout and "Not in" not in result.output


def test_a_synced_secret_not_written_by_the_local_stack_is_not_read(tmp_path):
    """A Secret of that name placed by hand (no platform labels for local) never reaches the file."""
    root, engine = setup(tmp_path)
    kube = cluster_with(
        (
            "get secret cube-local-credentials",
            synced_secret("cube-local-credentials", "dagster-local", {"CUBE_API_SECRET": SECRET_CANARY}, labels={}),
        )
    )
    result = invoke(make_app(root, engine, kubectl=kube), "dotenv", "--stack", "local", "-w", "dagster")
    assert result.exit_code == 0, result.output
    assert "CUBE_API_SECRET" not in (root / ".env").read_text()
    assert "Not in .env: dagster-local/cube-local-credentials" in result.stderr and SECRET_CANARY not in result.output


def test_an_unreachable_cluster_names_what_is_left_out(tmp_path):
    root, engine = setup(tmp_path)
    result = invoke(make_app(root, engine), "dotenv", "--stack", "local", "-w", "dagster")  # FakeKubectl({}): not reachable
    assert result.exit_code == 0, result.output
    assert "Not in .env: dagster-local/cube-local-credentials (written by External Secrets, not by Pulumi)" in result.stderr
    assert "make up" in result.stderr
    assert "SNOWFLAKE_PASSWORD" in (root / ".env").read_text()
