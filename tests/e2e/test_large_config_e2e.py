"""A stack whose config is over Linux's 128 KiB per environment string previews, with the pack, on the real engine.

Upstream's language hosts put the whole stack config into the program's and the
policy pack's environment (PULUMI_CONFIG); past 128 KiB (MAX_ARG_STRLEN) exec
fails with "argument list too long" (pulumi/pulumi#8680, #20402). Ours hands it
over on a pipe (toolchain/pulumi/cmd/pulumi-language-python). The stack here is
the local one plus bundles with many keys: few resources, a config of about
150 KB. The copy is a git work tree, so the render folder check runs git under
the engine too: git must still start (it gets none of Pulumi's variables) and
still refuse a render folder git doesn't ignore.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from local_project import LocalProject, engine_missing

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(engine_missing() is not None, reason=engine_missing() or "")]

LIMIT = 131_072  # MAX_ARG_STRLEN: 32 pages of 4 KiB
BUNDLES, KEYS = 4, 500


def _big_bundles() -> list[dict]:
    return [
        {
            "service": f"bulk{b}",
            "namespaces": ["dagster"],
            "rotation": "1",
            "values": {f"BULK{b}_SETTING_{k:04d}": f"value-{b}-{k:04d}-" + "x" * 40 for k in range(KEYS)},
        }
        for b in range(BUNDLES)
    ]


def _config_bytes(project: LocalProject) -> int:
    """The PULUMI_CONFIG string the engine builds: each value JSON-encoded, as the host receives it."""
    import yaml

    config = yaml.safe_load((project.root / "Pulumi.local.yaml").read_text())["config"]
    values = {k: v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for k, v in config.items()}
    return len("PULUMI_CONFIG=" + json.dumps(values, separators=(",", ":")))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("large-config")
    p = LocalProject(root)
    p.edit_stack(lambda c: c["secrets-platform:credentials"].extend(_big_bundles()))
    git = {**p.env, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid"}
    git.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    (root / ".gitignore").write_text("rendered/\n.state/\n.venv\n")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "copy"]):
        subprocess.run(["git", *args], cwd=root, env=git, check=True, capture_output=True, timeout=60)
    return p


def test_the_config_is_over_the_limit(project):
    assert _config_bytes(project) > LIMIT


def test_preview_with_the_pack_runs_and_sees_every_bundle(project):
    proc = project.pulumi("preview", "-s", "local", "--json", "--policy-pack", str(project.root / "policies"))
    steps = json.loads(proc.stdout)["steps"]
    secrets = {s["urn"].rsplit("::", 1)[1] for s in steps if "kubernetes:core/v1:Secret::" in s["urn"]}
    assert {f"dagster-local/bulk{b}-local-credentials" for b in range(BUNDLES)} <= secrets, sorted(secrets)
    assert "argument list too long" not in proc.stdout + proc.stderr
    assert "Policy Violations" not in proc.stdout


def test_the_render_folder_check_still_runs_git(project):
    (project.root / ".gitignore").write_text(".state/\n.venv\n")
    try:
        proc = project.pulumi("preview", "-s", "local", check=False)
    finally:
        (project.root / ".gitignore").write_text("rendered/\n.state/\n.venv\n")
    assert proc.returncode != 0
    assert "is not a git-ignored folder" in proc.stdout + proc.stderr
