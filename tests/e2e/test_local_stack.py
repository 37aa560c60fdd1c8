"""The real engine on the local stack and a real local cluster: create, idempotent rerun, rotation, the pack, destroy.

One project copy goes through the life cycle in order against the module's
cluster; the failure cases use copies of their own. Render mode (`make render`)
has a test of its own. Skipped with the reason when the toolchain isn't built.
"""

from __future__ import annotations

import pytest
from local_project import LocalProject, engine_missing

from secrets_platform import settings
from secrets_platform.model import planned_descriptors

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(engine_missing() is not None, reason=engine_missing() or "")]


@pytest.fixture(scope="module")
def project(applied):
    return applied


def expected_secrets(p: LocalProject) -> set[str]:
    s = settings.from_stack_file(p.root / "Pulumi.local.yaml", environ={})
    return {f"{d.namespace}/{d.name}" for d in planned_descriptors(s) if d.backend in ("kubernetes", "imported")}


def test_up_applies_every_planned_secret_to_the_cluster(project):
    rendered = project.secrets()
    assert expected_secrets(project) <= set(rendered)
    snowflake = rendered["dagster-local/snowflake-local-credentials"]
    assert len(snowflake["SNOWFLAKE_PASSWORD"]) == 40
    assert snowflake["SNOWFLAKE_USER"] == "svc_pipelines_local"
    assert rendered["floe-jobs-local/snowflake-local-credentials"] == snowflake


def test_second_up_changes_nothing(project):
    proc = project.pulumi("up", "-s", "local", "--yes", "--expect-no-changes")
    assert "unchanged" in proc.stdout


def test_state_holds_no_secret_value_in_plain_text(project):
    state = project.state_text()
    values = {v for data in project.secrets().values() for k, v in data.items() if "PASSWORD" in k or "TOKEN" in k}
    assert values, "no generated value rendered"
    import base64

    for value in values:
        assert value not in state
        assert base64.b64encode(value.encode()).decode() not in state


def test_outputs_carry_names_not_values(project):
    import json

    outputs = json.loads(project.pulumi("stack", "output", "-s", "local", "--json").stdout)
    assert {f"{s['namespace']}/{s['name']}" for s in outputs["secrets"]} >= expected_secrets(project)
    text = json.dumps(outputs)
    for data in project.secrets().values():
        for key, value in data.items():
            if "PASSWORD" in key:
                assert value not in text


def test_policy_pack_passes_with_zero_violations(project):
    proc = project.pulumi("preview", "-s", "local", "--policy-pack", "policies")
    assert "secrets-platform@v" in proc.stdout
    assert "mandatory" not in proc.stdout and "advisory" not in proc.stdout


def test_rotation_replaces_exactly_one_password_and_updates_only_its_secrets(project):
    before = project.secrets()

    def bump(config):
        for cred in config["secrets-platform:credentials"]:
            if cred["service"] == "snowflake":
                cred["rotation"] = str(int(cred.get("rotation", "1")) + 1)

    project.edit_stack(bump)
    steps = project.preview_steps()
    replaced = {urn for urn, op in steps.items() if op in ("replace", "create-replacement", "delete-replaced")}
    updated = {urn for urn, op in steps.items() if op == "update"}
    assert {u.rsplit("::", 1)[1] for u in replaced} == {"snowflake-snowflake-password"}, steps
    assert {u.rsplit("::", 1)[1] for u in updated} == {
        "dagster-local/snowflake-local-credentials",
        "floe-jobs-local/snowflake-local-credentials",
    }, steps
    assert set(steps) == replaced | updated, steps

    project.pulumi("up", "-s", "local", "--yes", "--policy-pack", "policies")
    after = project.secrets()
    for name in before:
        if "snowflake-local-credentials" in name:
            assert after[name]["SNOWFLAKE_PASSWORD"] != before[name]["SNOWFLAKE_PASSWORD"], name
            assert after[name]["SNOWFLAKE_USER"] == before[name]["SNOWFLAKE_USER"], name
        else:
            assert after[name] == before[name], name
    assert after["dagster-local/snowflake-local-credentials"] == after["floe-jobs-local/snowflake-local-credentials"]


def platform_namespaces(cluster) -> set[str]:
    out = cluster.kubectl("get", "namespaces", "-l", "app.kubernetes.io/part-of=secrets-platform", "-o", "name").stdout
    return set(out.split())


def test_bad_config_fails_before_anything_is_created(tmp_path, cluster):
    p = LocalProject(tmp_path, cluster)
    before = platform_namespaces(cluster)
    p.edit_stack(lambda c: c.update({"secrets-platform:namespaces": ["Dagster", "floe-jobs"]}))
    proc = p.pulumi("up", "-s", "local", "--yes", check=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "secrets-platform:namespaces[0]" in out and "'Dagster'" in out and "Fix:" in out
    assert "Traceback" not in out
    assert platform_namespaces(cluster) == before


def test_a_rule_breaking_change_fails_the_preview_with_the_rules_message(tmp_path, cluster):
    """Settings refuse every rule-breaking config first, so break the code: job runners may list Secrets."""
    p = LocalProject(tmp_path, cluster)
    access = p.root / "secrets_platform" / "components" / "access.py"
    access.write_text(access.read_text().replace('"verbs": ["get"]', '"verbs": ["get", "list"]'))
    proc = p.pulumi("preview", "-s", "local", "--policy-pack", "policies", check=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "privilege-role-secret-get-by-name" in out
    assert "mandatory" in out


def test_render_mode_writes_manifests_and_reaches_no_cluster(tmp_path):
    """`make render`'s mode: kubernetes.renderDir set, no kubeconfig; every planned Secret is written to a file."""
    p = LocalProject(tmp_path)
    p.pulumi("up", "-s", "local", "--yes", "--policy-pack", "policies")
    assert expected_secrets(p) <= set(p.secrets())
    p.pulumi("destroy", "-s", "local", "--yes")
    assert not list((p.rendered / "1-manifest").glob("*.yaml"))


def test_destroy_removes_everything(project, cluster):
    assert platform_namespaces(project.cluster)
    project.pulumi("destroy", "-s", "local", "--yes")
    resources = project.pulumi("stack", "export", "-s", "local").stdout
    assert '"type": "kubernetes:core/v1:Secret"' not in resources
    assert not project.cluster_secrets()
    # Deleted for real (the namespace controller finished), not left Terminating.
    assert platform_namespaces(cluster) == set(), "namespaces left after destroy"
