"""Flyte projects (flyte.projects): their namespace is where Flyte runs the environment's domain.

Flyte runs project P of domain D in namespace ``P-D`` (flyteadmin's default namespace_mapping); a
workload that is a Flyte project gets ``<project>-<domain>`` (conventions.FLYTE_DOMAINS), everything
the stack makes for it goes there, and every check reads that namespace as the stack's environment.
"""

from __future__ import annotations

import json

import pytest
from support import ROOT, base_config, run_program

from secrets_platform import conventions, settings
from secrets_platform.cli.catalog import Catalog, from_file
from secrets_platform.model import resolve
from secrets_platform.policies import cross_stack
from secrets_platform.settings import ConfigError

SECRET = "kubernetes:core/v1:Secret"
NAMESPACE = "kubernetes:core/v1:Namespace"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"


def flyte_config(env: str = "prd", **overrides) -> dict:
    cfg = base_config(env)
    cfg["namespaces"] = ["dagster", "flytesnacks"]
    cfg["credentials"][0]["namespaces"] = ["dagster", "flytesnacks"]
    cfg["flyte"] = {"projects": ["flytesnacks"]}
    cfg.update(overrides)
    return cfg


def test_each_environment_has_one_flyte_domain_and_reads_back_as_itself():
    assert conventions.FLYTE_DOMAINS == {"local": "local", "dev": "development", "stg": "staging", "prd": "production"}
    for env, domain in conventions.FLYTE_DOMAINS.items():
        name = conventions.namespace_name("flytesnacks", env, flyte=True)
        assert name == f"flytesnacks-{domain}"
        assert conventions.env_token_of_name(name) == env
        assert conventions.reference_env_tokens(name) == {env}
        assert conventions.namespace_env(name) == env
    assert conventions.namespace_env("flytesnacks-prod") is None


@pytest.mark.parametrize(
    ("env", "namespace"),
    [("prd", "flytesnacks-production"), ("stg", "flytesnacks-staging"), ("dev", "flytesnacks-development"), ("local", "flytesnacks-local")],
)
def test_a_flyte_project_gets_its_domain_namespace_and_everything_of_it_goes_there(env, namespace):
    cfg = flyte_config(env)
    if env == "local":
        cfg["kubernetes"] = {"renderDir": "rendered/local"}
    s = settings.from_mapping(cfg, set(), env, {})
    assert s.namespace("flytesnacks") == namespace
    assert s.namespace("dagster") == f"dagster-{env}", "workloads that are no Flyte project keep <workload>-<env>"
    run = run_program(s)
    assert {r.inputs["metadata"]["name"] for r in run.of_type(NAMESPACE)} == {f"dagster-{env}", namespace}
    copies = {r.inputs["metadata"]["namespace"] for r in run.of_type(SECRET)}
    assert copies == {f"dagster-{env}", namespace}
    bindings = [r for r in run.of_type(ROLE_BINDING) if r.inputs["metadata"]["namespace"] == namespace]
    assert bindings and bindings[0].inputs["subjects"][0]["namespace"] == namespace
    assert namespace in run.outputs["namespaces"]
    assert f"{namespace}/{conventions.JOB_RUNNER}" in run.outputs["jobRunners"]
    assert {d.namespace for d in resolve(s).descriptors} == {f"dagster-{env}", namespace}


def test_prd_urns_of_a_stack_without_flyte_projects_do_not_change():
    """Opt-in: a stack that names no Flyte project resolves exactly as before (its namespaces end in -<env>)."""
    s = settings.from_mapping(base_config("prd"), set(), "prd", {})
    assert s.namespaces == ("dagster-prd", "floe-jobs-prd")


def problems(cfg: dict, env: str = "prd") -> str:
    with pytest.raises(ConfigError) as exc:
        settings.from_mapping(cfg, set(), env, {})
    return str(exc.value)


def test_a_flyte_project_must_be_a_declared_workload():
    text = problems(flyte_config(flyte={"projects": ["flytesnacks", "missing"]}))
    assert "secrets-platform:flyte.projects[1]: is not a declared namespace (got 'missing')" in text
    assert "add it to secrets-platform:namespaces too" in text


def test_a_flyte_project_listed_twice_is_refused():
    text = problems(flyte_config(flyte={"projects": ["flytesnacks", "flytesnacks"]}))
    assert "secrets-platform:flyte.projects[1]: is listed twice" in text


def test_a_flyte_project_whose_domain_namespace_is_too_long_is_refused():
    project = "p" * 55  # p...-prd fits in 63 characters, p...-production does not
    cfg = flyte_config(namespaces=["dagster", project], flyte={"projects": [project]})
    cfg["credentials"][0]["namespaces"] = ["dagster"]
    text = problems(cfg)
    assert "secrets-platform:flyte.projects[0]" in text and "63" in text and "<project>-production" in text


def test_flyte_projects_must_be_a_list_of_names():
    text = problems(flyte_config(flyte={"projects": "flytesnacks"}))
    assert "secrets-platform:flyte.projects" in text


def test_the_cross_stack_check_claims_the_flyte_namespace():
    s = settings.from_stack_file(ROOT / "Pulumi.prd.yaml")
    held = cross_stack.claims(s, "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k")
    assert ("namespace", "flytesnacks-production") in held
    assert ("namespace", "flytesnacks-prd") not in held


def test_the_cli_selects_a_flyte_project_by_its_workload_name():
    s = settings.from_stack_file(ROOT / "Pulumi.prd.yaml")
    cat = Catalog("prd", "file", from_file(s), s)
    by_workload = cat.only_namespaces(("flytesnacks",))
    assert by_workload.secrets and {x["namespace"] for x in by_workload.secrets} == {"flytesnacks-production"}
    by_name = cat.only_namespaces(("flytesnacks-production",))
    assert json.dumps(by_name.secrets, sort_keys=True) == json.dumps(by_workload.secrets, sort_keys=True)


def test_flyte_vault_snippet_names_the_kv_path_and_each_field_as_flyte_reads_it():
    """Flyte's Vault injector reads {{ .Data.data.<key> }} of <group>; flytekit reads <dir>/<group>/<key> lower-cased."""
    from secrets_platform.model import resolve
    from secrets_platform.model.outputs import vault_outputs

    s = settings.from_stack_file(ROOT / "Pulumi.local.yaml")
    (cred,) = [c for c in vault_outputs(resolve(s))["credentials"] if c["service"] == "salesforce"]
    assert cred["flyteSecrets"] == [
        {
            "group": "floe/local/salesforce",
            "key": field,
            "mountRequirement": "FILE",
            "file": f"/etc/flyte/secrets/floe/local/salesforce/{field}",
        }
        for field in ("client_id", "client_secret")
    ]
    assert "flyteUnreadable" not in cred


def test_flyte_vault_snippet_leaves_out_fields_flyte_cannot_read():
    from secrets_platform.model.consumers import flyte_vault_secrets

    out = flyte_vault_secrets("floe/prd/x", {"X_ID": "ClientId", "X_SECRET": "client-secret", "X_TOKEN": "token"})
    assert [e["key"] for e in out["flyteSecrets"]] == ["token"]
    assert set(out["flyteUnreadable"]) == {"X_ID", "X_SECRET"}
    assert "lower case" in out["flyteUnreadable"]["X_ID"]
