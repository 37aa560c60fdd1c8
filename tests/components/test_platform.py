"""The whole program under mocks, for every stack and for the invariants that span components."""

from __future__ import annotations

import json

import pytest
from support import ROOT, base_config, is_secret, pem, run_program, stack_settings

from secrets_platform import conventions, settings

SECRET = "kubernetes:core/v1:Secret"
K8S_PREFIX = "kubernetes:"
HELM_PREFIX = "kubernetes:helm.sh/"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
CANARY = "xoxb-canary-5d1e"


@pytest.mark.parametrize("stack", ["local", "dev", "stg", "prd"])
def test_every_stack_builds_only_its_environment(stack):
    """A stack provisions exactly one environment: every object's facts name it."""
    run = run_program(stack_settings(stack))
    # A Helm Chart is not an object; the objects it renders get the labels by transform (tests/components/test_backends.py).
    k8s_objects = [r for r in run.resources if r.type.startswith(K8S_PREFIX) and not r.type.startswith(HELM_PREFIX)]
    assert run.of_type(SECRET), "no Secret registered"
    for r in k8s_objects:
        meta = r.inputs["metadata"]
        assert meta["labels"][conventions.LABEL_ENVIRONMENT] == stack, r.urn
        assert meta["labels"][conventions.LABEL_MANAGED_BY] == "pulumi", r.urn
        assert meta["labels"][conventions.LABEL_PART_OF] == "secrets-platform", r.urn
        if "namespace" in meta:
            assert conventions.namespace_env(meta["namespace"]) == stack, r.urn
        assert conventions.env_tokens_in(meta["name"]) <= {stack}, r.urn
    assert run.outputs["environment"] == stack


@pytest.mark.parametrize("stack", ["local", "dev", "stg", "prd"])
def test_every_secret_is_a_pulumi_secret_at_the_secret_boundary(stack):
    run = run_program(stack_settings(stack, {"DAGSTER_SECRET_SLACK_TOKEN": CANARY}))
    for r in run.of_type(SECRET):
        assert is_secret(r.inputs["stringData"]), f"{r.urn}: stringData is not a Pulumi secret"
        assert "data" not in r.inputs, r.urn


def test_outputs_never_carry_a_value():
    """Stack outputs hold names, keys and snippets; no generated, fixed-secret or imported value."""
    run = run_program(stack_settings("prd", {"DAGSTER_SECRET_SLACK_TOKEN": CANARY}))
    text = json.dumps(run.outputs)
    assert CANARY not in text
    assert "generated-" not in text  # the mocks' RandomPassword results
    entry = next(s for s in run.outputs["secrets"] if s["name"] == "dagster-prd-slack-token-secret")
    assert entry["keys"] == ["DAGSTER_SECRET_SLACK_TOKEN"]


def test_imported_value_never_reaches_stdout_or_stderr(capsys):
    run_program(stack_settings("prd", {"DAGSTER_SECRET_SLACK_TOKEN": CANARY}))
    out, err = capsys.readouterr()
    assert CANARY not in out and CANARY not in err


def test_imported_value_never_in_exception_text():
    with pytest.raises(settings.ConfigError) as exc:
        stack_settings("prd", {"DAGSTER_SECRET_SLACK_TOKEN": CANARY, "DAGSTER_SECRET_bad": CANARY})
    assert CANARY not in str(exc.value) and CANARY not in repr(exc.value)


def test_consumer_snippets():
    run = run_program(stack_settings("prd"))
    entry = next(s for s in run.outputs["secrets"] if s["name"] == "snowflake-prd-credentials" and s["namespace"] == "dagster-prd")
    assert entry["type"] == "Opaque"
    assert entry["keys"] == ["SNOWFLAKE_ACCOUNT", "SNOWFLAKE_PASSWORD", "SNOWFLAKE_USER"]
    c = entry["consumers"]
    assert c["envFrom"] == [{"secretRef": {"name": "snowflake-prd-credentials"}}]
    assert c["dagsterEnvSecrets"] == [{"name": "snowflake-prd-credentials"}]
    assert {"group": "snowflake-prd-credentials", "key": "SNOWFLAKE_PASSWORD"} in c["flyteSecrets"]
    assert "{{ env_var('SNOWFLAKE_PASSWORD') }}" in c["dbtEnvVars"]
    assert c["workloadAnnotations"] == {"reloader.stakater.com/search": "true"}
    assert run.outputs["reloader"]["secretAnnotation"] == {"reloader.stakater.com/match": "true"}
    assert run.outputs["reloader"]["rolls"] == ["Deployment", "StatefulSet", "DaemonSet"]
    assert run.outputs["reloader"]["neverRolls"] == ["Job", "CronJob"]


def test_job_runner_may_get_exactly_its_namespace_secrets():
    run = run_program(stack_settings("prd", {"DAGSTER_SECRET_SLACK_TOKEN": CANARY}))
    secrets_by_ns: dict[str, set[str]] = {}
    for r in run.of_type(SECRET):
        secrets_by_ns.setdefault(r.inputs["metadata"]["namespace"], set()).add(r.inputs["metadata"]["name"])
    for r in run.of_type(EXTERNAL_SECRET):  # the Secrets ESO writes count too
        secrets_by_ns.setdefault(r.inputs["metadata"]["namespace"], set()).add(r.inputs["spec"]["target"]["name"])
    assert any(names & {"cube-prd-credentials", "polaris-prd-credentials"} for names in secrets_by_ns.values())
    roles = run.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role")
    assert len(roles) == 3
    for role in roles:
        ns = role.inputs["metadata"]["namespace"]
        (rule,) = role.inputs["rules"]
        assert rule["verbs"] == ["get"], role.urn
        assert rule["resources"] == ["secrets"] and rule["apiGroups"] == [""], role.urn
        assert set(rule["resourceNames"]) == secrets_by_ns[ns], role.urn
    assert not run.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
    for binding in run.of_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"):
        ns = binding.inputs["metadata"]["namespace"]
        assert binding.inputs["subjects"] == [{"kind": "ServiceAccount", "name": "job-runner", "namespace": ns}], binding.urn
        assert binding.inputs["roleRef"]["kind"] == "Role", binding.urn


def urns_and_inputs(run):
    return {r.urn: json.dumps(r.inputs, sort_keys=True, default=str) for r in run.resources}


def test_reordering_config_changes_nothing():
    """Children are keyed by stable ids, never list positions."""
    cfg = base_config("prd")
    cfg["namespaces"] = ["dagster", "floe-jobs", "flytesnacks"]
    cfg["credentials"].append(
        {
            "service": "minio",
            "namespaces": ["flytesnacks", "dagster"],
            "values": {"MINIO_USER": "u"},
            "generated": [{"key": "MINIO_PASSWORD"}, {"key": "MINIO_TOKEN"}],
        }
    )
    reordered = json.loads(json.dumps(cfg))
    reordered["namespaces"].reverse()
    reordered["credentials"].reverse()
    reordered["credentials"][0]["namespaces"].reverse()
    reordered["credentials"][0]["generated"].reverse()
    a = run_program(settings.from_mapping(cfg, set(), "prd", {}))
    b = run_program(settings.from_mapping(reordered, set(), "prd", {}))
    assert urns_and_inputs(a) == urns_and_inputs(b)
    assert a.outputs == b.outputs


def test_rotation_changes_exactly_its_target():
    """Bumping one bundle's rotation changes the keepers of its passwords and nothing else."""
    cfg = base_config("prd")
    cfg["credentials"].append({"service": "minio", "namespaces": ["dagster"], "generated": [{"key": "MINIO_PASSWORD"}]})
    rotated = json.loads(json.dumps(cfg))
    rotated["credentials"][0]["rotation"] = "2"
    before = urns_and_inputs(run_program(settings.from_mapping(cfg, set(), "prd", {})))
    after = urns_and_inputs(run_program(settings.from_mapping(rotated, set(), "prd", {})))
    assert before.keys() == after.keys()
    changed = {urn for urn in before if before[urn] != after[urn]}
    assert len(changed) == 1, changed
    (urn,) = changed
    assert urn.endswith("RandomPassword::snowflake-snowflake-password")
    assert json.loads(after[urn])["keepers"] == {"rotation": "2"}


PINNED_PRD_URNS = ROOT / "tests" / "components" / "prd_urns.json"
CERT = pem("CERTIFICATE")
KEY = pem("PRIVATE KEY")


def fixed_prd_settings() -> settings.Settings:
    """One bundle, pull secret, TLS secret and import of each kind, in two namespaces;
    External Secrets (a bundle kept in Secret Manager and a pushed one) and Vault with an address."""
    cfg = base_config(
        "prd",
        registries=[{"service": "ghcr", "server": "ghcr.io", "username": "bot", "password": "x", "namespaces": ["dagster", "floe-jobs"]}],
        tlsSecrets=[{"service": "dagster-web", "certificate": CERT, "privateKey": KEY, "namespaces": ["dagster"]}],
        gcp={"project": "example-data-platform"},
        externalSecrets={"enabled": True, "chartVersion": "2.9.0"},
        vault={"enabled": True, "chartVersion": "0.34.1", "mount": "floe", "address": "https://vault.example.internal:8200"},
    )
    cfg["credentials"] += [
        {
            "service": "polaris",
            "backend": "gcp-secret-manager",
            "namespaces": ["floe-jobs"],
            "properties": {"POLARIS_CLIENT_SECRET": "client_secret"},
        },
        {
            "service": "cube",
            "backend": "gcp-secret-manager",
            "push": True,
            "namespaces": ["dagster"],
            "generated": [{"key": "CUBE_API_SECRET"}],
        },
        {"service": "salesforce", "backend": "vault", "namespaces": ["floe-jobs"], "properties": {"SALESFORCE_TOKEN": "token"}},
    ]
    return settings.from_mapping(cfg, {"registries", "tlsSecrets"}, "prd", {"DAGSTER_SECRET_SLACK_TOKEN": CANARY})


def test_prd_urns_are_pinned():
    """Renaming a child or a type would replace prd resources; such a change must be deliberate.

    After an intended change, regenerate with:
    python -c "import tests.components.test_platform as t; t.write_pinned_urns()" (see the README).
    """
    run = run_program(fixed_prd_settings())
    actual = sorted(r.urn for r in run.resources)
    expected = json.loads(PINNED_PRD_URNS.read_text())
    missing = sorted(set(expected) - set(actual))
    added = sorted(set(actual) - set(expected))
    assert not missing and not added, f"URNs changed.\nmissing: {missing}\nadded: {added}"


def write_pinned_urns() -> None:  # pragma: no cover - maintenance helper
    run = run_program(fixed_prd_settings())
    PINNED_PRD_URNS.write_text(json.dumps(sorted(r.urn for r in run.resources), indent=1) + "\n")


@pytest.mark.parametrize("stack", ["prd", "dev"])
def test_prd_protects_and_retains_namespaces_and_secrets(stack):
    """The options as the engine receives them (the monitor's RegisterResource request), not just the helper's choice."""
    run = run_program(fixed_prd_settings() if stack == "prd" else stack_settings(stack))
    guarded = run.of_type(SECRET) + run.of_type("kubernetes:core/v1:Namespace")
    assert guarded
    for r in guarded:
        assert (r.protect, r.retain_on_delete) == ((True, True) if stack == "prd" else (False, False)), r.urn
