"""The CLI against the real engine on a throwaway copy of the local stack.

Skipped with a reason when the toolchain (bin/pulumi, `make toolchain`) is absent.
A copy, never the checkout: rotate edits Pulumi.local.yaml and the copy has its
own file state backend, and applies to the tier's local cluster (tests/conftest.py's ``cluster``, lent to
this module alone), never the developer's.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from cli_support import FIXTURES, ROOT, invoke

from secrets_platform.cli.context import App
from secrets_platform.cli.engine import Engine
from secrets_platform.cli.project import Project

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (ROOT / "bin" / "pulumi").exists(), reason="bin/pulumi not built (make toolchain)"),
]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, cluster):
    from pulumi import automation as auto

    root = tmp_path_factory.mktemp("project")
    for name in ("Pulumi.yaml", "Pulumi.local.yaml", "__main__.py"):
        shutil.copy(ROOT / name, root / name)
    stack_file = root / "Pulumi.local.yaml"  # the tier's local cluster, not the developer's
    stack_file.write_text(
        stack_file.read_text().replace("config:\n", f"config:\n  secrets-platform:kubernetes:\n    kubeconfig: {cluster.kubeconfig}\n", 1)
    )
    for name in ("secrets_platform",):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in (".venv", "bin"):
        (root / name).symlink_to(ROOT / name)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "DAGSTER_SECRET_"))}
    home = ROOT / ".pulumi-home"  # the toolchain's plugin cache, if make toolchain put plugins there
    if home.is_dir():
        environ["PULUMI_HOME"] = str(home)
    environ["PULUMI_BACKEND_URL"] = f"file://{root / '.state'}"
    (root / ".state").mkdir()
    environ["PATH"] = f"{ROOT / 'bin'}:{environ.get('PATH', '')}"  # the toolchain's kubectl
    engine = Engine(root, environ)
    opts = auto.LocalWorkspaceOptions(
        env_vars=engine.env_vars("local"),
        secrets_provider="passphrase",
        pulumi_command=auto.PulumiCommand(root=str(ROOT), skip_version_check=True),
    )
    stack = auto.create_or_select_stack(stack_name="local", work_dir=str(root), opts=opts)
    stack.up(color="never", on_output=lambda _: None)
    app = App(Project(root), engine, environ, interactive=lambda: False)
    yield root, app
    stack.destroy(color="never", on_output=lambda _: None)


def test_list_reads_the_deployed_outputs(deployed):
    _, app = deployed
    result = invoke(app, "list", "--stack", "local")
    assert result.exit_code == 0, result.output
    assert "from deployed state" in result.stdout and "snowflake-local-credentials" in result.stdout


def test_validate_against_state(deployed):
    _, app = deployed
    result = invoke(app, "validate", "--stack", "local", "--from", "state", str(FIXTURES / "valid"))
    assert result.exit_code == 0, result.output


def test_dotenv_then_rotate_changes_the_password_and_never_prints_it(deployed):
    root, app = deployed
    first = invoke(app, "dotenv", "--stack", "local", "--output", str(root / "before.env"))
    assert first.exit_code == 0, first.output
    before = _value(root / "before.env", "SNOWFLAKE_PASSWORD")
    minio_before = _value(root / "before.env", "MINIO_ROOT_PASSWORD")

    result = invoke(app, "rotate", "snowflake", "--stack", "local", "--yes")
    assert result.exit_code == 0, result.output
    import datetime as dt

    today = dt.date.today().isoformat()  # rotate writes today's date as the rotation value
    assert "RandomPassword" in result.stdout and f"rotation: '{today}" in (root / "Pulumi.local.yaml").read_text().replace('"', "'")
    assert before not in result.output

    out = invoke(app, "dotenv", "--stack", "local", "--output", str(root / "after.env"))
    assert out.exit_code == 0 and before not in out.output
    after = _value(root / "after.env", "SNOWFLAKE_PASSWORD")
    assert after != before, "rotation must regenerate the password"
    assert _value(root / "after.env", "MINIO_ROOT_PASSWORD") == minio_before, "only the targeted bundle rotates"


def _value(path: Path, key: str) -> str:
    line = next(line for line in path.read_text().splitlines() if line.startswith(f"{key}="))
    return line.split("=", 1)[1].strip("'\"")


def test_status_reports_every_secret_from_the_cluster(deployed):
    """Presence and age of the Kubernetes-backend Secrets; each ExternalSecret's Ready condition and last refresh."""
    import time

    _, app = deployed
    deadline = time.monotonic() + 90
    while True:  # the local ESO controller syncs within seconds of the up
        result = invoke(app, "status", "--stack", "local")
        if result.exit_code == 0 or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert result.exit_code == 0, result.output
    rows = {
        line.split()[0] + "/" + line.split()[1]: line for line in result.stdout.splitlines()[1:] if line.strip() and "-credentials" in line
    }
    for key in ("dagster-local/snowflake-local-credentials", "flytesnacks-local/minio-local-credentials"):
        name, ns = key.split("/")[1], key.split("/")[0]
        row = rows.get(f"{name}/{ns}")
        assert row and "Applied" in row and " ago" in row, f"{key}: {row}"
    for name, ns in (("cube-local-credentials", "dagster-local"), ("polaris-local-credentials", "floe-jobs-local")):
        row = rows.get(f"{name}/{ns}")
        assert row and "Synced" in row and "gcp-secret-manager-local" in row and " ago" in row, f"{ns}/{name}: {row}"


def test_rotate_names_the_reloader_workloads_that_mount_the_secret_as_its_blast_radius(deployed, cluster):
    """The Deployments are objects only: the CLI asks the cluster who restarts, nothing has to run. Their pods carry no
    securityContext, so the namespace's restricted PodSecurity refuses them; were one admitted, it would use the node's
    own image and never pull (nothing here reaches beyond loopback)."""
    import json

    from secrets_platform.localcluster.node.images import WORKLOAD_IMAGE

    _, app = deployed

    def deployment(name: str, annotated: bool, secret: str) -> dict:
        container = {"name": "job", "image": WORKLOAD_IMAGE, "imagePullPolicy": "Never", "envFrom": [{"secretRef": {"name": secret}}]}
        pod = {"containers": [container]}
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": name,
                "namespace": "dagster-local",
                "annotations": {"reloader.stakater.com/search": "true"} if annotated else {},
            },
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": {"metadata": {"labels": {"app": name}}, "spec": pod}},
        }

    for d in (
        deployment("minio-consumer", True, "minio-local-credentials"),
        deployment("minio-unannotated", False, "minio-local-credentials"),
        deployment("other-consumer", True, "snowflake-local-credentials"),
    ):
        cluster.kubectl("apply", "-f", "-", input=json.dumps(d))
    result = invoke(app, "rotate", "minio", "--stack", "local", "--yes")
    assert result.exit_code == 0, result.output
    radius = result.stdout.split("Will restart:", 1)[-1]
    assert "namespace dagster-local: Deployment/minio-consumer" in radius, result.stdout
    assert "minio-unannotated" not in radius and "other-consumer" not in radius, result.stdout
    assert "namespace flytesnacks-local: no Reloader-annotated workload uses it" in radius, result.stdout
