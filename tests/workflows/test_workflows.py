"""The GitHub Actions workflows: actionlint when it can be built, and the house rules as structure checks.

House rules: deny-all permissions at the top and the minimum per job; every action
pinned to an exact version or a commit; GCP only through Workload Identity
Federation (no JSON key); the policy pack on every preview and deploy.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT_VERSION = "v1.7.12"
ACTIONLINT = ROOT / "bin" / "actionlint"
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})$")
ALLOWED = {"contents": "read", "id-token": "write", "pull-requests": "write"}
FILES = sorted(WORKFLOWS.glob("*.yml"))


def load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as True
    return doc


def steps(doc: dict):
    for job_id, job in doc["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, job, step


@pytest.fixture(scope="session")
def actionlint() -> Path:
    """actionlint built from the Go module proxy into the git-ignored bin/ (once)."""
    if not ACTIONLINT.exists():
        if shutil.which("go") is None:
            pytest.skip("actionlint not built and no Go toolchain to build it")
        env = {**os.environ, "GOTOOLCHAIN": "local", "GOBIN": str(ACTIONLINT.parent), "GOFLAGS": "-mod=mod"}
        done = subprocess.run(
            ["go", "install", f"github.com/rhysd/actionlint/cmd/actionlint@{ACTIONLINT_VERSION}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=540,
        )
        if done.returncode != 0:
            pytest.skip(f"actionlint {ACTIONLINT_VERSION} could not be built: {done.stderr.strip().splitlines()[-1:]}")
    return ACTIONLINT


def test_there_are_workflows():
    assert {f.name for f in FILES} >= {"preview.yml", "deploy.yml", "deploy-stack.yml", "drift.yml"}


def test_actionlint_is_clean(actionlint):
    done = subprocess.run([str(actionlint), "-color=false", *map(str, FILES)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_permissions_deny_all_then_minimal_per_job(path):
    doc = load(path.name)
    assert doc.get("permissions") == {}, f"{path.name}: top-level permissions must be {{}} (deny all)"
    for job_id, job in doc["jobs"].items():
        perms = job.get("permissions")
        assert isinstance(perms, dict) and perms, f"{path.name}:{job_id}: give the job explicit permissions"
        for scope, level in perms.items():
            assert ALLOWED.get(scope) == level, f"{path.name}:{job_id}: {scope}: {level} is more than needed"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_action_is_pinned(path):
    doc = load(path.name)
    uses = [s["uses"] for _, _, s in steps(doc) if "uses" in s] + [j["uses"] for j in doc["jobs"].values() if "uses" in j]
    for ref in uses:
        assert ref.startswith("./") or PINNED.match(ref), f"{path.name}: {ref} is not pinned to an exact version or commit"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_gcp_only_through_workload_identity(path):
    text = path.read_text()
    assert "credentials_json" not in text and "GOOGLE_APPLICATION_CREDENTIALS" not in text
    doc = load(path.name)
    for job_id, job, step in steps(doc):
        if step.get("uses", "").startswith("google-github-actions/auth@"):
            assert {"workload_identity_provider", "service_account"} <= set(step["with"]), f"{path.name}:{job_id}"
            assert job["permissions"].get("id-token") == "write", f"{path.name}:{job_id}: WIF needs id-token: write"


def _pulumi_steps(doc):
    return [(job, s) for _, job, s in steps(doc) if s.get("uses", "").startswith("pulumi/actions@") and s.get("with", {}).get("command")]


def test_preview_every_stack_with_policy_pack_and_pr_comment():
    doc = load("preview.yml")
    assert "pull_request" in doc["on"]
    [(job, step)] = _pulumi_steps(doc)
    assert job["strategy"]["matrix"]["stack"] == ["dev", "stg", "prd"]
    w = step["with"]
    assert w["command"] == "preview" and w["comment-on-pr"] is True and w["policyPacks"] == "policies"
    assert job["permissions"]["pull-requests"] == "write"


def test_deploy_goes_dev_then_stg_then_prd_in_environments():
    doc = load("deploy.yml")
    assert doc["on"]["push"]["branches"] == ["main"]
    jobs = doc["jobs"]
    assert [jobs[j]["with"]["stack"] for j in ("dev", "stg", "prd")] == ["dev", "stg", "prd"]
    assert "needs" not in jobs["dev"] and jobs["stg"]["needs"] == "dev" and jobs["prd"]["needs"] == "stg"
    stack = load("deploy-stack.yml")
    [(job, step)] = _pulumi_steps(stack)
    assert job["environment"] == "${{ inputs.stack }}"
    assert step["with"]["command"] == "up" and step["with"]["policyPacks"] == "policies"
    assert job["concurrency"]["cancel-in-progress"] is False


def test_drift_detection_fails_on_changes():
    doc = load("drift.yml")
    assert "schedule" in doc["on"]
    runs = " ".join(s.get("run", "") for _, _, s in steps(doc))
    assert "pulumi refresh" in runs and "--preview-only" in runs and "--expect-no-changes" in runs


def test_preview_comments_the_value_free_diff():
    doc = load("preview.yml")
    [step] = [s for _, _, s in steps(doc) if "secrets-platform diff" in s.get("run", "")]
    assert '--base "$BASE_SHA"' in step["run"] and "gh pr comment" in step["run"]
    assert step["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    checkout = next(s for _, _, s in steps(doc) if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0


def test_drift_also_fails_on_overdue_credentials():
    doc = load("drift.yml")
    [step] = [s for _, _, s in steps(doc) if "secrets-platform freshness" in s.get("run", "")]
    assert step["env"]["STACK"] == "${{ matrix.stack }}" and '--stack "$STACK"' in step["run"]
    assert "prd" in doc["jobs"]["refresh"]["strategy"]["matrix"]["stack"]
    # a bundle whose age nobody knows is not fresh: the workflow fails on it in every stack
    assert "--fail-on-unknown" in step["run"].split()


def test_drift_audits_prd_and_fails_on_non_consumer_reads():
    doc = load("drift.yml")
    job = doc["jobs"]["audit"]
    runs = [s.get("run", "") for s in job["steps"]]
    [export] = [r for r in runs if "gcloud logging read" in r]
    assert "cloudaudit.googleapis.com%2Fdata_access" in export and "--format=json > audit-prd.json" in export
    [audit] = [r for r in runs if "secrets-platform audit" in r]
    assert "--stack prd" in audit and "--log-file audit-prd.json" in audit and "--fail-on non-consumer-read" in audit
    assert job["permissions"] == {"contents": "read", "id-token": "write"}


def test_imported_secrets_reach_preview_and_deploy():
    for name in ("preview.yml", "deploy-stack.yml"):
        step = next(s for _, _, s in steps(load(name)) if "import_secrets.py" in s.get("run", ""))
        assert step["env"]["REPOSITORY_SECRETS"] == "${{ toJSON(secrets) }}"


def test_import_script_writes_only_prefixed_secrets_and_prints_no_value(tmp_path):
    canary = "xoxb-canary-line1\nline2"
    github_env = tmp_path / "env"
    env = {
        **os.environ,
        "GITHUB_ENV": str(github_env),
        "REPOSITORY_SECRETS": json.dumps({"DAGSTER_SECRET_SLACK_BOT_OAUTH_TOKEN": canary, "OTHER": "nope", "github_token": "t"}),
    }
    done = subprocess.run(["python3", str(WORKFLOWS / "import_secrets.py")], env=env, capture_output=True, text=True, check=True)
    assert "DAGSTER_SECRET_SLACK_BOT_OAUTH_TOKEN" in done.stdout and "canary" not in done.stdout + done.stderr
    text = github_env.read_text()
    assert canary in text and "OTHER" not in text and "nope" not in text
    head, delimiter = text.splitlines()[0].split("<<")
    assert head == "DAGSTER_SECRET_SLACK_BOT_OAUTH_TOKEN" and text.rstrip("\n").endswith(delimiter)


def test_import_step_is_told_its_stack():
    for name, stack in (("preview.yml", "${{ matrix.stack }}"), ("deploy-stack.yml", "${{ inputs.stack }}")):
        step = next(s for _, _, s in steps(load(name)) if "import_secrets.py" in s.get("run", ""))
        assert step["env"]["STACK"] == stack


def test_import_script_never_passes_toolchain_variables(tmp_path):
    """Even a repository secret named with the prefix and a toolchain's own name is not passed on."""
    github_env = tmp_path / "env"
    secrets = {"DAGSTER_SECRET_OK": "v", "GITHUB_TOKEN": "gh-canary", "PULUMI_ACCESS_TOKEN": "p-canary", "DAGSTER_SECRET_lower": "x"}
    env = {**os.environ, "GITHUB_ENV": str(github_env), "REPOSITORY_SECRETS": json.dumps(secrets)}
    env.pop("STACK", None)
    subprocess.run(["python3", str(WORKFLOWS / "import_secrets.py")], env=env, capture_output=True, text=True, check=True)
    text = github_env.read_text()
    assert text.startswith("DAGSTER_SECRET_OK<<") and "canary" not in text and "lower" not in text


def test_import_script_refuses_a_toolchain_prefix_from_the_stack(tmp_path):
    """A stack whose imports.prefix is GITHUB_ stops the job before anything is written."""
    import shutil
    import sys

    root = tmp_path / "repo"
    (root / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(WORKFLOWS / "import_secrets.py", root / ".github" / "workflows")
    shutil.copytree(ROOT / "secrets_platform", root / "secrets_platform", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "Pulumi.dev.yaml").write_text("config:\n  secrets-platform:imports:\n    prefix: GITHUB_\n")
    github_env = tmp_path / "env"
    env = {
        **os.environ,
        "GITHUB_ENV": str(github_env),
        "STACK": "dev",
        "REPOSITORY_SECRETS": json.dumps({"GITHUB_TOKEN": "gh-canary", "DAGSTER_SECRET_OK": "v"}),
    }
    done = subprocess.run(
        [sys.executable, str(root / ".github" / "workflows" / "import_secrets.py")], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2 and "could reach the deploy toolchain's own variables" in done.stderr
    assert not github_env.exists() and "canary" not in done.stdout + done.stderr
