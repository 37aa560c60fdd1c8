"""The External Secrets and Vault backends under mocks: what they register, and the
least-privilege and isolation invariants they must keep in every stack."""

from __future__ import annotations

import json

import pulumi
import pytest
from support import base_config, is_secret, run_program, stack_settings

from secrets_platform import conventions, settings
from secrets_platform.components.common import FORCE_APPLY
from secrets_platform.components.helm import label_transform
from secrets_platform.model.vault import VaultNames, injector_fragments, job_runner_role, policy_hcl

STACKS = ["local", "dev", "stg", "prd"]
CHART = "kubernetes:helm.sh/v4:Chart"
STORE = "kubernetes:external-secrets.io/v1:ClusterSecretStore"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
SM_SECRET = "gcp:secretmanager/secret:Secret"
SM_VERSION = "gcp:secretmanager/secretVersion:SecretVersion"
SM_ACCESSOR = "gcp:secretmanager/secretIamMember:SecretIamMember"
GSA = "gcp:serviceaccount/account:Account"
GSA_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
AUDIT_CONFIG = "gcp:projects/iAMAuditConfig:IAMAuditConfig"
CRB = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
VAULT_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"
PROJECT = "example-data-platform"


def charts(run, chart: str):
    return [r for r in run.of_type(CHART) if r.inputs["chart"] == chart]


def with_vault_address(env: str = "prd", **vault) -> settings.Settings:
    cfg = base_config(
        env,
        gcp={"project": PROJECT},
        externalSecrets={"enabled": True, "chartVersion": "2.9.0"},
        vault={"enabled": True, "chartVersion": "0.34.1", "mount": "floe", "address": "https://vault.prd.example.internal:8200", **vault},
    )
    cfg["credentials"].append(
        {"service": "salesforce", "backend": "vault", "namespaces": ["floe-jobs"], "properties": {"SALESFORCE_TOKEN": "token"}}
    )
    return settings.from_mapping(cfg, set(), env, {})


# --------------------------------------------------------------------------- charts


@pytest.mark.parametrize("stack", ["dev", "stg", "prd"])
def test_charts_are_helm_v4_and_pinned_to_config(stack):
    """Each object of a v4 Chart shows up in preview; a version from config never drifts."""
    s = stack_settings(stack)
    run = run_program(s)
    assert not run.of_type("kubernetes:helm.sh/v3:Release")
    (eso,) = charts(run, "external-secrets")
    assert eso.inputs["version"] == s.config.external_secrets.chart_version == "2.9.0", eso.urn
    assert eso.inputs["namespace"] == f"external-secrets-{stack}"
    assert eso.inputs["repositoryOpts"]["repo"] == "https://charts.external-secrets.io"
    (vault,) = charts(run, "vault")
    assert vault.inputs["version"] == s.config.vault.chart_version == "0.34.1", vault.urn
    assert vault.inputs["namespace"] == f"vault-{stack}"
    assert vault.inputs["name"] == "vault"


def test_eso_chart_installs_crds_and_no_cluster_wide_writers():
    """CRDs come with the chart; ClusterExternalSecret/ClusterPushSecret (writers into any namespace) are off."""
    (eso,) = charts(run_program(stack_settings("prd")), "external-secrets")
    values = eso.inputs["values"]
    assert values["installCRDs"] is True
    assert values["processClusterStore"] is True  # our ClusterSecretStore restricts namespaces
    assert values["processClusterExternalSecret"] is False and values["processClusterPushSecret"] is False
    assert values["crds"]["createClusterExternalSecret"] is False
    assert values["serviceAccount"] == {"create": False, "name": "external-secrets"}


def test_chart_objects_get_the_conventions_labels():
    transform = label_transform(conventions.labels("prd"))
    args = pulumi.ResourceTransformArgs(
        custom=True,
        type_="kubernetes:apps/v1:Deployment",
        name="eso:external-secrets-prd/external-secrets",
        props={"metadata": {"name": "external-secrets", "labels": {"app": "x"}}},
        opts=pulumi.ResourceOptions(),
    )
    result = transform(args)
    assert result.props["metadata"]["labels"] == {"app": "x", **conventions.labels("prd")}
    chart_args = pulumi.ResourceTransformArgs(custom=False, type_=CHART, name="c", props={}, opts=pulumi.ResourceOptions())
    assert transform(chart_args) is None


def test_local_installs_no_chart_and_touches_no_cloud():
    """local renders manifests offline: no Helm, no pulumi_gcp, no pulumi_vault resource."""
    run = run_program(stack_settings("local"))
    assert not run.of_type(CHART)
    assert not [r for r in run.resources if r.type.startswith(("gcp:", "vault:", "pulumi:providers:gcp", "pulumi:providers:vault"))]
    (store,) = run.of_type(STORE)
    assert set(store.plain()["spec"]["provider"]) == {"fake"}


# --------------------------------------------------------------------------- Workload Identity


@pytest.mark.parametrize("stack", ["dev", "stg", "prd"])
def test_one_gcp_service_account_per_environment(stack):
    run = run_program(stack_settings(stack))
    (gsa,) = run.of_type(GSA)
    assert gsa.inputs["accountId"] == f"eso-{stack}"
    assert 6 <= len(gsa.inputs["accountId"]) <= 30
    assert gsa.inputs["project"] == PROJECT
    assert not [r for r in run.resources if "serviceAccountKey" in r.type or "ServiceAccountKey" in r.type], "no JSON keys"


@pytest.mark.parametrize("stack", ["dev", "stg", "prd"])
def test_workload_identity_binds_exactly_the_operator_account(stack):
    run = run_program(stack_settings(stack))
    (member,) = run.of_type(GSA_MEMBER)
    assert member.inputs["role"] == "roles/iam.workloadIdentityUser"
    assert member.inputs["member"] == f"serviceAccount:{PROJECT}.svc.id.goog[external-secrets-{stack}/external-secrets]"
    assert member.inputs["serviceAccountId"] == f"projects/{PROJECT}/serviceAccounts/eso-{stack}@{PROJECT}.iam.gserviceaccount.com"
    ksa = run.named("kubernetes:core/v1:ServiceAccount", f"external-secrets-{stack}/external-secrets")
    assert ksa.inputs["metadata"]["annotations"] == {
        **FORCE_APPLY,
        "iam.gke.io/gcp-service-account": f"eso-{stack}@{PROJECT}.iam.gserviceaccount.com",
    }


@pytest.mark.parametrize("stack", STACKS)
def test_no_gcp_grant_wider_than_one_secret(stack):
    """Every IAM resource is per secret (secretAccessor to eso-<env>) or the Workload Identity binding.

    The one project-level resource is a Data Access audit config (it grants nothing: it turns logs on).
    """
    run = run_program(stack_settings(stack))
    sm_ids = {r.inputs["secretId"] for r in run.of_type(SM_SECRET)}
    for r in run.resources:
        if not r.type.startswith("gcp:") or r.type == AUDIT_CONFIG:
            continue
        assert not r.type.startswith(("gcp:projects/", "gcp:organizations/", "gcp:folder/")), r.urn
        if "IamMember" in r.type or "IAMMember" in r.type or "Binding" in r.type or "Policy" in r.type:
            assert r.type in (SM_ACCESSOR, GSA_MEMBER), r.urn
    for grant in run.of_type(SM_ACCESSOR):
        prefix = f"projects/{PROJECT}/secrets/"
        assert grant.inputs["secretId"].startswith(prefix), grant.urn
        assert grant.inputs["secretId"][len(prefix) :] in sm_ids, grant.urn
        assert grant.inputs["role"] == "roles/secretmanager.secretAccessor", grant.urn
        assert grant.inputs["member"] == f"serviceAccount:eso-{stack}@{PROJECT}.iam.gserviceaccount.com", grant.urn
    assert len(run.of_type(SM_ACCESSOR)) == len(sm_ids)


# --------------------------------------------------------------------------- the store


@pytest.mark.parametrize("stack", STACKS)
def test_one_store_admitting_only_its_environment(stack):
    """A store is never usable from another environment: conditions list exactly its namespaces."""
    s = stack_settings(stack)
    run = run_program(s)
    (store,) = run.of_type(STORE)
    spec = store.plain()["spec"]
    assert store.inputs["metadata"]["name"] == f"gcp-secret-manager-{stack}"
    (condition,) = spec["conditions"]
    assert set(condition) == {"namespaces"}, "no selector or regex that could widen later"
    assert condition["namespaces"] == sorted(s.namespaces)
    for ns in condition["namespaces"]:
        assert conventions.reference_env_tokens(ns) == {stack}, store.urn
    for other in set(STACKS) - {stack}:
        assert not [ns for ns in condition["namespaces"] if ns.endswith(f"-{other}")]


@pytest.mark.parametrize("stack", ["dev", "stg", "prd"])
def test_store_uses_gcpsm_with_workload_identity(stack):
    (store,) = run_program(stack_settings(stack)).of_type(STORE)
    gcpsm = store.inputs["spec"]["provider"]["gcpsm"]
    assert gcpsm["projectID"] == PROJECT
    wi = gcpsm["auth"]["workloadIdentity"]
    assert wi["serviceAccountRef"] == {"name": "external-secrets", "namespace": f"external-secrets-{stack}"}
    assert (wi["clusterName"], wi["clusterLocation"]) == (f"data-{stack}", "europe-west1")
    assert "secretRef" not in gcpsm["auth"], "no JSON key"


def test_local_fake_store_holds_documents_as_pulumi_secrets():
    (store,) = run_program(stack_settings("local")).of_type(STORE)
    spec = store.inputs["spec"]
    assert is_secret(spec) or is_secret(spec.get("provider")), "fake values must stay Pulumi secrets"
    data = {e["key"]: json.loads(e["value"]) for e in store.plain()["spec"]["provider"]["fake"]["data"]}
    assert set(data) == {"cube-local-credentials", "polaris-local-credentials"}
    assert set(data["polaris-local-credentials"]) == {"client_id", "client_secret"}
    assert set(data["cube-local-credentials"]) == {"CUBE_API_SECRET"}


# --------------------------------------------------------------------------- credentials


@pytest.mark.parametrize("stack", STACKS)
def test_external_secret_per_consumer_namespace(stack):
    s = stack_settings(stack)
    run = run_program(s)
    found = {(r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]) for r in run.of_type(EXTERNAL_SECRET)}
    assert found == {(f"floe-jobs-{stack}", f"polaris-{stack}-credentials"), (f"dagster-{stack}", f"cube-{stack}-credentials")}
    es = run.named(EXTERNAL_SECRET, f"floe-jobs-{stack}/polaris-{stack}-credentials")
    spec = es.inputs["spec"]
    assert spec["refreshInterval"] == ("15s" if stack == "local" else "1h")  # the stack files' values
    assert spec["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": f"gcp-secret-manager-{stack}"}
    assert spec["target"]["name"] == f"polaris-{stack}-credentials"
    assert spec["target"]["creationPolicy"] == "Owner"
    assert spec["target"]["template"]["metadata"]["labels"] == conventions.labels(stack)
    assert spec["data"] == [
        {"secretKey": "POLARIS_CLIENT_ID", "remoteRef": {"key": f"polaris-{stack}-credentials", "property": "client_id"}},
        {"secretKey": "POLARIS_CLIENT_SECRET", "remoteRef": {"key": f"polaris-{stack}-credentials", "property": "client_secret"}},
    ]


def test_refresh_interval_comes_from_config():
    cfg = base_config("dev", gcp={"project": PROJECT}, externalSecrets={"enabled": True, "chartVersion": "2.9.0", "refreshInterval": "15m"})
    cfg["credentials"].append(
        {"service": "polaris", "backend": "gcp-secret-manager", "namespaces": ["dagster"], "properties": {"A_KEY": "a"}}
    )
    run = run_program(settings.from_mapping(cfg, set(), "dev", {}))
    (es,) = run.of_type(EXTERNAL_SECRET)
    assert es.inputs["spec"]["refreshInterval"] == "15m"


@pytest.mark.parametrize("stack", ["dev", "stg", "prd"])
def test_secret_manager_secret_per_bundle(stack):
    run = run_program(stack_settings(stack))
    secrets = {r.inputs["secretId"]: r for r in run.of_type(SM_SECRET)}
    assert set(secrets) == {f"polaris-{stack}-credentials", f"cube-{stack}-credentials"}
    for r in secrets.values():
        assert r.inputs["labels"]["environment"] == stack
        assert r.inputs["replication"] == {"auto": {}}
        assert r.inputs["project"] == PROJECT


def test_user_managed_replication_from_config():
    cfg = base_config(
        "prd",
        gcp={"project": PROJECT, "replicaLocations": ["europe-west1", "europe-west4"]},
        externalSecrets={"enabled": True, "chartVersion": "2.9.0"},
    )
    cfg["credentials"].append(
        {"service": "polaris", "backend": "gcp-secret-manager", "namespaces": ["dagster"], "properties": {"A_KEY": "a"}}
    )
    (sm,) = run_program(settings.from_mapping(cfg, set(), "prd", {})).of_type(SM_SECRET)
    assert sm.inputs["replication"] == {"userManaged": {"replicas": [{"location": "europe-west1"}, {"location": "europe-west4"}]}}


def test_pushed_version_is_generated_once_and_secret():
    run = run_program(stack_settings("prd"))
    (version,) = run.of_type(SM_VERSION)  # only cube pushes; polaris' values are added by its owner
    assert is_secret(version.inputs["secretData"])
    document = json.loads(version.plain()["secretData"])
    assert document == {"CUBE_API_SECRET": "generated-cube-cube-api-secret"}
    pw = run.named("random:index/randomPassword:RandomPassword", "cube-cube-api-secret")
    assert pw.inputs["length"] == 48


def test_outputs_describe_eso_secrets_without_values():
    run = run_program(stack_settings("prd"))
    entry = next(e for e in run.outputs["secrets"] if e["name"] == "polaris-prd-credentials")
    assert entry["backend"] == "gcp-secret-manager"
    assert entry["remoteKey"] == "polaris-prd-credentials"
    assert entry["consumers"]["envFrom"] == [{"secretRef": {"name": "polaris-prd-credentials"}}]
    assert run.outputs["externalSecrets"]["gcpServiceAccount"] == f"eso-prd@{PROJECT}.iam.gserviceaccount.com"
    assert "generated-" not in json.dumps(run.outputs)


# --------------------------------------------------------------------------- Vault


@pytest.mark.parametrize("stack", ["stg", "prd"])
def test_vault_is_ha_with_raft_and_never_dev_mode(stack):
    (vault,) = charts(run_program(stack_settings(stack)), "vault")
    server = vault.inputs["values"]["server"]
    assert server["dev"]["enabled"] is False
    assert server["ha"]["enabled"] is True and server["ha"]["raft"]["enabled"] is True
    assert server["ha"]["replicas"] >= 3
    assert 'storage "raft"' in server["ha"]["raft"]["config"]
    assert vault.inputs["values"]["injector"]["enabled"] is True
    assert vault.inputs["values"]["injector"]["authPath"] == f"auth/kubernetes-{stack}"


def test_vault_dev_is_a_single_server_without_dev_mode():
    (vault,) = charts(run_program(stack_settings("dev")), "vault")
    server = vault.inputs["values"]["server"]
    assert server["dev"]["enabled"] is False and server["standalone"]["enabled"] is True and server["ha"]["enabled"] is False


@pytest.mark.parametrize("stack", STACKS)
def test_vault_auth_account_is_bound_to_auth_delegator_only(stack):
    run = run_program(stack_settings(stack))
    (crb,) = run.of_type(CRB)
    assert crb.inputs["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:auth-delegator"}
    assert crb.inputs["subjects"] == [{"kind": "ServiceAccount", "name": "vault-auth", "namespace": f"vault-{stack}"}]
    assert not run.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"), "the platform defines no ClusterRole"


def test_policy_is_read_only_on_exactly_the_namespace_credentials():
    names = VaultNames("prd", "floe", "kubernetes-prd")
    hcl = policy_hcl(names, "floe-jobs-prd", ("salesforce", "hubspot"))
    assert 'path "floe/data/prd/salesforce" {\n  capabilities = ["read"]\n}' in hcl
    assert 'path "floe/metadata/prd/hubspot" {\n  capabilities = ["read"]\n}' in hcl
    for verb in ("create", "update", "delete", "sudo", "patch", "list"):
        assert verb not in hcl.split("\n", 1)[1]
    paths = [line.split('"')[1] for line in hcl.splitlines() if line.startswith("path ")]
    assert paths == ["floe/data/prd/hubspot", "floe/metadata/prd/hubspot", "floe/data/prd/salesforce", "floe/metadata/prd/salesforce"]
    assert "*" not in hcl, "no wildcard: a bundle of another namespace is never readable"


def two_namespace_vault(env: str = "prd", address: bool = False) -> settings.Settings:
    cfg = base_config(
        env,
        gcp={"project": PROJECT},
        externalSecrets={"enabled": True, "chartVersion": "2.9.0"},
        vault={
            "enabled": True,
            "chartVersion": "0.34.1",
            "mount": "floe",
            **({"address": "https://vault.prd.example.internal:8200"} if address else {}),
        },
    )
    cfg["credentials"] += [
        {"service": "salesforce", "backend": "vault", "namespaces": ["floe-jobs"], "properties": {"SALESFORCE_TOKEN": "token"}},
        {"service": "hubspot", "backend": "vault", "namespaces": ["dagster", "floe-jobs"], "properties": {"HUBSPOT_TOKEN": "token"}},
    ]
    return settings.from_mapping(cfg, set(), env, {})


def test_one_policy_and_role_per_namespace_reading_only_its_credentials():
    out = run_program(two_namespace_vault()).outputs["vault"]
    policies = {p["namespace"]: p for p in out["policies"]}
    assert policies["dagster-prd"]["name"] == "floe-dagster-prd-read" and policies["dagster-prd"]["services"] == ["hubspot"]
    assert "salesforce" not in policies["dagster-prd"]["hcl"], "dagster's runner must not read floe-jobs' salesforce bundle"
    assert policies["floe-jobs-prd"]["services"] == ["hubspot", "salesforce"]
    roles = {r["boundServiceAccountNamespaces"][0]: r for r in out["roles"]}
    assert set(roles) == {"dagster-prd", "floe-jobs-prd"}
    for ns, role in roles.items():
        assert role["roleName"] == f"job-runner-{ns}"
        assert role["boundServiceAccountNamespaces"] == [ns] and role["boundServiceAccountNames"] == ["job-runner"]
        assert role["tokenPolicies"] == [f"floe-{ns}-read"]
        assert (role["authPath"], role["backend"], role["audience"]) == ("auth/kubernetes-prd", "kubernetes-prd", "vault")


@pytest.mark.parametrize("stack", STACKS)
def test_vault_roles_bind_only_namespaces_of_the_environment(stack):
    s = stack_settings(stack)
    out = run_program(s).outputs["vault"]
    # one role per namespace that declares Vault credentials (KV or database), binding only that namespace
    declaring = sorted({s.namespace(w) for c in s.config.credentials if c.backend in ("vault", "vault-database") for w in c.namespaces})
    assert [r["boundServiceAccountNamespaces"] for r in out["roles"]] == [[ns] for ns in declaring]
    assert f"floe-jobs-{stack}" in declaring, "every stack file gives floe-jobs the salesforce bundle"
    role = next(r for r in out["roles"] if r["boundServiceAccountNamespaces"] == [f"floe-jobs-{stack}"])
    assert role["roleName"] == f"job-runner-floe-jobs-{stack}"
    assert "*" not in json.dumps(out["roles"]), "no Vault role with '*'"
    assert (role["tokenTtl"], role["tokenMaxTtl"]) == (3600, 14400)


def test_without_address_vault_side_is_outputs_only():
    run = run_program(stack_settings("prd"))
    assert not [r for r in run.resources if r.type.startswith("vault:") or r.type == "pulumi:providers:vault"]
    out = run.outputs["vault"]
    assert out["appliedBy"].startswith("operator")
    assert 'path "floe/data/prd/salesforce"' in out["policies"][0]["hcl"]


def test_with_address_pulumi_vault_applies_auth_and_a_policy_and_role_per_namespace():
    run = run_program(with_vault_address("prd", tokenTtl=1800, tokenMaxTtl=7200, audience="vault-prd"))
    (provider,) = run.of_type("pulumi:providers:vault")
    assert provider.inputs["address"] == "https://vault.prd.example.internal:8200"
    assert "token" not in provider.inputs, "the token comes from VAULT_TOKEN, never from config"
    (auth,) = run.of_type("vault:index/authBackend:AuthBackend")
    assert (auth.inputs["type"], auth.inputs["path"]) == ("kubernetes", "kubernetes-prd")
    (cfg,) = run.of_type("vault:kubernetes/authBackendConfig:AuthBackendConfig")
    assert cfg.inputs["kubernetesHost"] == "https://kubernetes.default.svc"
    (policy,) = run.of_type("vault:index/policy:Policy")
    names = VaultNames("prd", "floe", "kubernetes-prd")
    assert policy.inputs["name"] == "floe-floe-jobs-prd-read"
    assert policy.inputs["policy"] == policy_hcl(names, "floe-jobs-prd", ("salesforce",))
    (role,) = run.of_type(VAULT_ROLE)
    i = role.inputs
    assert i["roleName"] == "job-runner-floe-jobs-prd" and i["backend"] == "kubernetes-prd"
    assert i["boundServiceAccountNames"] == ["job-runner"]
    assert i["boundServiceAccountNamespaces"] == ["floe-jobs-prd"]
    assert (i["audience"], i["tokenTtl"], i["tokenMaxTtl"]) == ("vault-prd", 1800, 7200)
    assert i["tokenPolicies"] == ["floe-floe-jobs-prd-read"]


def test_with_address_two_namespaces_get_two_roles():
    run = run_program(two_namespace_vault(address=True))
    roles = {r.inputs["roleName"]: r.inputs for r in run.of_type(VAULT_ROLE)}
    assert set(roles) == {"job-runner-dagster-prd", "job-runner-floe-jobs-prd"}
    assert roles["job-runner-dagster-prd"]["boundServiceAccountNamespaces"] == ["dagster-prd"]
    policies = {p.inputs["name"]: p.inputs["policy"] for p in run.of_type("vault:index/policy:Policy")}
    assert "salesforce" not in policies["floe-dagster-prd-read"]


def test_injector_annotations_for_vault_credentials():
    run = run_program(stack_settings("prd"))
    (cred,) = run.outputs["vault"]["credentials"]
    assert cred["path"] == "floe/prd/salesforce"
    assert set(cred["consumers"]) == {"floe-jobs-prd"}
    c = cred["consumers"]["floe-jobs-prd"]
    a = c["podAnnotations"]
    assert a["vault.hashicorp.com/agent-inject"] == "true"
    assert a["vault.hashicorp.com/role"] == "job-runner-floe-jobs-prd"
    assert a["vault.hashicorp.com/auth-path"] == "auth/kubernetes-prd"
    assert a["vault.hashicorp.com/agent-inject-secret-salesforce-salesforce-client-secret"] == "floe/data/prd/salesforce"
    assert 'index .Data.data "client_secret"' in a["vault.hashicorp.com/agent-inject-template-salesforce-salesforce-client-secret"]
    assert c["files"]["SALESFORCE_CLIENT_SECRET"] == "/vault/secrets/salesforce-salesforce-client-secret"
    (volume,) = c["volumes"]
    assert volume["projected"]["sources"][0]["serviceAccountToken"]["audience"] == "vault"
    assert a["vault.hashicorp.com/agent-service-account-token-volume-name"] == volume["name"]
    assert c["serviceAccountName"] == "job-runner"
    # Vault bundles make no Kubernetes Secret, so the job-runner Role does not list them.
    assert "salesforce-prd-credentials" not in {e["name"] for e in run.outputs["secrets"]}


def test_injector_annotations_name_each_namespace_role():
    out = run_program(two_namespace_vault()).outputs["vault"]
    hubspot = next(c for c in out["credentials"] if c["service"] == "hubspot")
    assert {ns: f["podAnnotations"]["vault.hashicorp.com/role"] for ns, f in hubspot["consumers"].items()} == {
        "dagster-prd": "job-runner-dagster-prd",
        "floe-jobs-prd": "job-runner-floe-jobs-prd",
    }


def test_injector_fragments_are_pure():
    names = VaultNames("dev", "floe", "kubernetes-dev")
    f = injector_fragments(names, "a-dev", "api", {"API_TOKEN": "token"}, "vault", 3600)
    assert f["files"] == {"API_TOKEN": "/vault/secrets/api-api-token"}
    assert job_runner_role(names, "a-dev", "vault", 60, 120).namespaces == ("a-dev",)
