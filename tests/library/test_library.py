"""secrets-platform installed as a library: another Pulumi program uses it, and the wheel ships only the product.

The other program is a project of its own in a folder outside the repository (tests/library_project.py),
run by the venv's python from that folder with PYTHONPATH unset: it can only import the installed package.
Its real `pulumi preview` against a local cluster: tests/e2e/test_library_e2e.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from library_project import MOCKED_RUN, ROOT, mocked_run_output, write_project

VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
K8S = "kubernetes:core/v1:"


def outside_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME") and not k.startswith("PULUMI_")}


def test_another_program_builds_the_platform_from_the_installed_package(tmp_path):
    assert not tmp_path.resolve().is_relative_to(ROOT)
    root = write_project(tmp_path / "analytics-app", "dev", {"context": "gke_example-data-platform_europe-west1_data-dev"})
    done = subprocess.run(
        [str(VENV_PYTHON), "-c", MOCKED_RUN, "dev"], cwd=root, env=outside_env(), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    run = mocked_run_output(done.stdout)

    # the package is the install (this checkout's editable one), found without the repository on sys.path
    assert Path(run["package"]).resolve() == ROOT / "secrets_platform" / "__init__.py"
    assert all(not (root / p).resolve().is_relative_to(ROOT) or "site-packages" in p for p in run["sys_path"]), run["sys_path"]

    registered = run["registered"]
    kinds = {(r["type"], r["name"]) for r in registered}
    assert ("pulumi:providers:kubernetes", "cluster") in kinds
    assert {"secrets-platform:namespaces:PlatformNamespace"} <= {t for t, _ in kinds}
    names = {(r["type"], r["inputs"].get("metadata", {}).get("name")) for r in registered if r["type"].startswith(K8S)}
    # the platform of the stack's config, and the team's own namespace with the platform's hardening
    assert {(f"{K8S}Namespace", "dagster-dev"), (f"{K8S}Secret", "snowflake-dev-credentials"), (f"{K8S}Namespace", "reports-dev")} <= names
    [reports] = [r for r in registered if r["type"] == f"{K8S}Namespace" and r["inputs"]["metadata"]["name"] == "reports-dev"]
    assert reports["inputs"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    # every Kubernetes object goes through the team's provider, in the team's project
    k8s_objects = [r for r in registered if r["type"].startswith("kubernetes:")]
    [provider] = {r["provider"] for r in k8s_objects}
    assert provider.startswith("urn:pulumi:dev::analytics-app::") and provider.endswith("pulumi:providers:kubernetes::cluster::cluster-id")


def test_the_wheel_holds_the_package_and_no_test_helpers(tmp_path):
    """Built from a copy of the sources (a build writes build/ and *.egg-info into the tree), bench/ and tests/ included in the copy."""
    src = tmp_path / "src"
    for name in ("pyproject.toml", "__main__.py", "secrets_platform", "bench", "policies", "tests"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "fixtures", "results"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy(ROOT / name, src / name)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(tmp_path / "dist"), "."],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [wheel] = (tmp_path / "dist").glob("secrets_platform-*.whl")
    files = zipfile.ZipFile(wheel).namelist()
    top = {f.split("/")[0] for f in files if not f.split("/")[0].endswith(".dist-info")}
    # the product only: no bench/ (run from the checkout) and no tests/
    assert top == {"secrets_platform"}, top
    assert "secrets_platform/components/namespace.py" in files and "secrets_platform/localcluster/node/pause.c" in files
    # no test helper anywhere: the Pulumi mocks, the conftests, the helpers the tests import by name
    helpers = {p.name for p in (ROOT / "tests").rglob("*.py") if not p.name.startswith("test_") and "fixtures" not in p.parts}
    assert {"mocks.py", "conftest.py", "cli_support.py"} <= helpers
    assert not [f for f in files if Path(f).name in helpers - {"support.py"} or f.startswith("tests/")]
