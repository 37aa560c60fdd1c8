"""externalSecrets.chartPath / vault.chartPath: a local chart folder or .tgz instead of a repository.

The charts here are tiny ones generated in tmp_path: they test our plumbing (paths,
validation, what the Chart resource is given), not the upstream charts.
"""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
from pathlib import Path

import pytest
from support import ROOT, base_config, run_program

from secrets_platform import settings
from secrets_platform.settings import ConfigError

CHART = "kubernetes:helm.sh/v4:Chart"
GCP = {"project": "example-data-platform"}


def make_chart(root: Path, name: str, version: str) -> Path:
    folder = root / name
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: {version}\n")
    return folder


def make_tgz(root: Path, name: str, version: str) -> Path:
    archive = root / f"{name}-{version}.tgz"
    data = f"apiVersion: v2\nname: {name}\nversion: {version}\n".encode()
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo(f"{name}/Chart.yaml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return archive


def load(env: str, **overrides) -> settings.Settings:
    return settings.from_mapping(base_config(env, **overrides), set(), env, {})


def error(env: str, **overrides) -> str:
    with pytest.raises(ConfigError) as exc:
        load(env, **overrides)
    text = str(exc.value)
    assert text.count("\n  - ") == 1, text  # one problem, one line
    return text


@pytest.mark.parametrize("kind", ["folder", "tgz"])
def test_local_chart_folder_or_tgz_is_accepted_and_absolute(tmp_path, kind):
    made = (make_chart if kind == "folder" else make_tgz)(tmp_path, "external-secrets", "2.9.0")
    s = load("local", externalSecrets={"enabled": True, "chartVersion": "2.9.0", "chartPath": str(made)})
    assert s.eso_chart_path == str(made)


def test_relative_chart_path_is_read_from_the_project_folder():
    """The project folder is Pulumi.yaml's (where the engine runs the program), not secrets_platform/settings/."""
    assert (settings.load.PROJECT_ROOT / "Pulumi.yaml").is_file()
    text = error("prd", gcp=GCP, externalSecrets={"enabled": True, "chartVersion": "2.9.0", "chartPath": "charts/no-such-chart"})
    assert repr(str(ROOT / "charts" / "no-such-chart")) in text


@pytest.fixture
def repo_chart():
    """A tiny chart in a throwaway folder inside the repository (removed afterwards)."""
    with tempfile.TemporaryDirectory(dir=ROOT, prefix=".test-chart-") as folder:
        made = make_chart(Path(folder), "external-secrets", "2.9.0")
        yield made.relative_to(ROOT)


@pytest.mark.parametrize("env", ["dev", "stg", "prd"])
def test_a_relative_chart_inside_the_repository_is_accepted(env, repo_chart):
    s = load(env, gcp=GCP, externalSecrets={"enabled": True, "chartVersion": "2.9.0", "chartPath": str(repo_chart)})
    assert s.eso_chart_path == str(ROOT / repo_chart)


@pytest.mark.parametrize("env", ["dev", "stg", "prd"])
@pytest.mark.parametrize("kind", ["absolute", "dotdot", "home", "symlink", "tool-folder"])
def test_a_chart_outside_the_repository_is_refused_outside_local(tmp_path, env, kind, repo_chart):
    """The chart's templates are what the cluster runs: dev, stg and prd install only reviewed files of the repository."""
    made = make_chart(tmp_path, "external-secrets", "2.9.0")
    if kind == "absolute":
        value = str(made)
    elif kind == "dotdot":
        value = f"{repo_chart}/../../{Path(os.path.relpath(made, ROOT))}"
    elif kind == "home":
        value = "~/charts/external-secrets"
    elif kind == "tool-folder":
        value = ".venv/charts/external-secrets"
    else:
        link = ROOT / repo_chart.parent / "link"
        link.symlink_to(made)
        value = str(repo_chart.parent / "link")
    text = error(env, gcp=GCP, externalSecrets={"enabled": True, "chartVersion": "2.9.0", "chartPath": value})
    assert "secrets-platform:externalSecrets.chartPath" in text and "commit the external-secrets chart under the repository" in text
    assert any(
        s in text for s in ("relative to the repository", "leaves the repository", "outside the repository", "folder that tools own")
    )


def test_missing_chart_path_is_one_clear_error(tmp_path):
    missing = tmp_path / "nowhere"
    text = error("local", externalSecrets={"enabled": True, "chartVersion": "2.9.0", "chartPath": str(missing)})
    assert "secrets-platform:externalSecrets.chartPath" in text and "does not exist" in text and str(missing) in text
    assert "Fix:" in text


@pytest.mark.parametrize("content", ["folder-without-chart-yaml", "not-a-tgz", "tgz-without-chart"])
def test_chart_path_that_is_no_chart_is_one_clear_error(tmp_path, content):
    if content == "folder-without-chart-yaml":
        target = tmp_path / "empty"
        target.mkdir()
    elif content == "not-a-tgz":
        target = tmp_path / "vault.txt"
        target.write_text("apiVersion: v2\n")
    else:
        target = tmp_path / "vault.tgz"
        with tarfile.open(target, "w:gz") as tar:
            info = tarfile.TarInfo("vault/values.yaml")
            tar.addfile(info, io.BytesIO(b""))
    text = error("local", vault={"enabled": True, "chartVersion": "0.34.1", "mount": "floe", "chartPath": str(target)})
    assert "secrets-platform:vault.chartPath" in text and "is not a Helm chart folder" in text and "Fix:" in text


def test_corrupt_tgz_is_one_clear_error(tmp_path):
    target = tmp_path / "vault-0.34.1.tgz"
    target.write_bytes(b"\x1f\x8b not really gzip")
    text = error("local", vault={"enabled": True, "chartVersion": "0.34.1", "mount": "floe", "chartPath": str(target)})
    assert "is not a Helm chart folder" in text


def test_chart_path_of_another_chart_is_refused(tmp_path):
    other = make_chart(tmp_path, "nginx", "2.9.0")
    text = error("local", externalSecrets={"enabled": True, "chartVersion": "2.9.0", "chartPath": str(other)})
    assert "holds the chart 'nginx', not 'external-secrets'" in text


def test_chart_version_must_be_the_one_the_chart_holds(tmp_path):
    made = make_chart(tmp_path, "external-secrets", "2.8.0")
    text = error("local", externalSecrets={"enabled": True, "chartVersion": "2.9.0", "chartPath": str(made)})
    assert "secrets-platform:externalSecrets.chartVersion" in text and "'2.8.0'" in text


def test_install_in_local_needs_a_chart_path(tmp_path):
    text = error("local", externalSecrets={"enabled": True, "install": True, "chartVersion": "2.9.0"})
    assert "externalSecrets.install" in text and "chartPath" in text
    made = make_chart(tmp_path, "external-secrets", "2.9.0")
    s = load("local", externalSecrets={"enabled": True, "install": True, "chartVersion": "2.9.0", "chartPath": str(made)})
    assert s.eso_install


def test_local_chart_is_given_to_the_chart_resource_with_webhooks_and_crds_off(tmp_path):
    eso = make_chart(tmp_path, "external-secrets", "2.9.0")
    vault = make_chart(tmp_path, "vault", "0.34.1")
    s = load(
        "local",
        externalSecrets={"enabled": True, "install": True, "chartVersion": "2.9.0", "chartPath": str(eso)},
        vault={"enabled": True, "install": True, "chartVersion": "0.34.1", "chartPath": str(vault), "mount": "floe"},
    )
    run = run_program(s)
    charts = {r.inputs["name"]: r.inputs for r in run.of_type(CHART)}
    assert charts["external-secrets"]["chart"] == str(eso) and "repositoryOpts" not in charts["external-secrets"]
    assert charts["vault"]["chart"] == str(vault)
    values = charts["external-secrets"]["values"]
    assert values["installCRDs"] is False
    assert values["webhook"] == {"create": False} and values["certController"] == {"create": False}
    assert charts["vault"]["values"]["injector"]["enabled"] is False
    assert not [r for r in run.resources if r.type.startswith(("gcp:", "vault:"))]


def test_dev_keeps_webhook_cert_controller_and_crds():
    s = load(
        "dev",
        gcp=GCP,
        externalSecrets={"enabled": True, "chartVersion": "2.9.0"},
        vault={"enabled": True, "chartVersion": "0.34.1", "mount": "floe"},
    )
    charts = {r.inputs["name"]: r.inputs for r in run_program(s).of_type(CHART)}
    values = charts["external-secrets"]["values"]
    assert values["installCRDs"] is True and "webhook" not in values and "certController" not in values
    assert charts["vault"]["values"]["injector"]["enabled"] is True


def test_oci_repository_is_the_chart_reference():
    s = load(
        "dev",
        gcp=GCP,
        externalSecrets={"enabled": True, "chartVersion": "2.9.0", "chartRepository": "oci://ghcr.io/external-secrets/charts/"},
    )
    (chart,) = run_program(s).of_type(CHART)
    assert chart.inputs["chart"] == "oci://ghcr.io/external-secrets/charts/external-secrets"
    assert chart.inputs["version"] == "2.9.0" and "repositoryOpts" not in chart.inputs
