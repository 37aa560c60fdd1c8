"""The pack judges the object pulumi-kubernetes applies, not how the registration spells it.

Each fixture is what the provider would act on (pulumi-kubernetes provider/v4 at
the pinned f47bc2d6f199; secrets_platform/policies/kube.py cites the functions):

- a ``...Patch`` type with server-side apply (which a Patch requires) is an apply
  PATCH that upserts, so it creates the object when it is absent;
- the inputs' apiVersion and kind are what is applied, whatever the token says;
- a namespaced object without ``metadata.namespace`` lands in the provider's
  default namespace (its ``namespace`` input, which the engine sends the pack with
  every resource).

Every case here got no violation from the whole pack before (the issue measured
them); tests/e2e/test_patch_apply_e2e.py shows the first one on the real engine,
provider and API server.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from policy_fixtures import fx  # noqa: F401  (the fixture this module's tests take)
from pulumi_policy import PolicyProviderResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.proxy import unknown_checking_proxy

from secrets_platform import conventions
from secrets_platform.policies.rules import ALL_POLICIES, coverage

RBAC = "rbac.authorization.k8s.io/v1"
CRB_PATCH = f"kubernetes:{RBAC}:ClusterRoleBindingPatch"
CR_PATCH = f"kubernetes:{RBAC}:ClusterRolePatch"
RB_PATCH = f"kubernetes:{RBAC}:RoleBindingPatch"
SECRET = "kubernetes:core/v1:Secret"
K8S_PROVIDER = "pulumi:providers:kubernetes"


def provider(env: str = "prd", name: str | None = None, **inputs: Any) -> PolicyProviderResource:
    name = name or f"kubernetes-{env}"
    props = {"context": f"gke_example-data-platform_europe-west1_data-{env}", "enableServerSideApply": "true", **inputs}
    return PolicyProviderResource(
        K8S_PROVIDER, unknown_checking_proxy(props), f"urn:pulumi:{env}::secrets-platform::{K8S_PROVIDER}::{name}", name
    )


def pack(
    fx, resource_type: str, props: dict[str, Any], *, stack: str = "prd", on: PolicyProviderResource | None = None, **kw
) -> dict[str, list[str]]:
    """Every resource rule of the pack over one registration: rule name -> messages."""
    found: dict[str, list[str]] = {}

    def report_as(name: str) -> ReportViolation:
        return lambda message, urn: found.setdefault(name, []).append(message)

    for policy in ALL_POLICIES:
        if isinstance(policy, StackValidationPolicy):
            continue
        assert isinstance(policy, ResourceValidationPolicy), policy.name
        args = fx.resource_args(resource_type, props, stack=stack, **kw)
        args = ResourceValidationArgs(args.resource_type, args.props, args.urn, args.name, args.opts, on, None)
        policy.validate(args, report_as(policy.name))
    return found


def crb(subject: dict[str, str], role: str, env: str = "prd") -> dict[str, Any]:
    return {
        "apiVersion": RBAC,
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "everyone-admin", "labels": conventions.labels(env)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [subject],
    }


# --------------------------------------------------------------------------- the issue's cases


def test_cluster_role_binding_patch_to_cluster_admin_for_everyone_fails(fx):
    found = pack(fx, CRB_PATCH, crb({"kind": "Group", "name": "system:authenticated"}, "cluster-admin"), protect=True, on=provider())
    assert "cluster-admin" in found["privilege-binding-no-admin-roles"][0]
    assert "system:authenticated" in found["isolation-binding-subject-env"][0]
    assert "(registered as 'ClusterRoleBindingPatch')" in found["privilege-binding-no-admin-roles"][0]
    assert set(found) == {"privilege-binding-no-admin-roles", "isolation-binding-subject-env"}


def test_cluster_role_patch_listing_secrets_fails(fx):
    props = {
        "apiVersion": RBAC,
        "kind": "ClusterRole",
        "metadata": {"name": "secret-lister", "labels": conventions.labels("prd")},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}],
    }
    found = pack(fx, CR_PATCH, props, on=provider())
    assert set(found) == {"privilege-role-secret-get-by-name"}
    assert "ClusterRole 'secret-lister'" in found["privilege-role-secret-get-by-name"][0]


def test_prd_role_binding_patch_to_the_dev_job_runner_fails(fx):
    props = fx.role_binding("prd")
    props.update(apiVersion=RBAC, kind="RoleBinding")
    props["subjects"] = [{"kind": "ServiceAccount", "name": conventions.JOB_RUNNER, "namespace": "dagster-dev"}]
    found = pack(fx, RB_PATCH, props, on=provider())
    assert set(found) == {"isolation-binding-subject-env"}
    assert "dagster-dev/job-runner" in found["isolation-binding-subject-env"][0]


def test_any_token_whose_inputs_say_cluster_role_is_judged_as_a_cluster_role(fx):
    props = {
        "apiVersion": RBAC,
        "kind": "ClusterRole",
        "metadata": {"name": "secret-lister", "labels": conventions.labels("prd")},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]}],
    }
    unknown = pack(fx, "kubernetes:example.com/v1:Anything", props, on=provider())
    assert {
        "coverage-type-allow-listed",
        "coverage-k8s-object-applied",
        "privilege-role-secret-get-by-name",
        "privilege-role-no-wildcards",
    } <= set(unknown)
    # A known token with other inputs: the provider applies the ClusterRole; the token is refused in every environment.
    for stack in ("local", "dev", "prd"):
        found = pack(fx, "kubernetes:core/v1:ConfigMap", props, stack=stack)
        [message] = found["coverage-k8s-object-applied"]
        assert "names another object than its inputs' apiVersion and kind" in message and "'ClusterRole'" in message


def test_prd_secret_without_namespace_through_a_dev_namespace_provider_fails(fx):
    props = fx.secret("prd")
    del props["metadata"]["namespace"]
    dev_namespace = provider("prd", namespace="dagster-dev")
    found = pack(fx, SECRET, props, protect=True, on=dev_namespace)
    [message] = found["isolation-object-env-agree"]
    assert "its namespace 'dagster-dev' says dev" in message and "Secret 'dagster-dev/snowflake-prd-credentials'" in message
    # and the provider itself is refused for that default namespace
    [provider_message] = pack(fx, K8S_PROVIDER, {"context": "gke_p_r_data-prd", "namespace": "dagster-dev"}, name="kubernetes-prd")[
        "coverage-k8s-provider-env"
    ]
    assert "default namespace 'dagster-dev'" in provider_message


@pytest.mark.parametrize("stack", ["local", "dev", "stg", "prd"])
def test_helm_v3_release_is_refused_in_every_stack(fx, stack):
    found = pack(fx, "kubernetes:helm.sh/v3:Release", fx.vault_release(stack), stack=stack)
    [message] = found["coverage-type-allow-listed"]
    assert "kubernetes:helm.sh/v3:Release" in message and "never registered" in message and "helm.sh/v4:Chart" in message
    assert fx.CANARY not in message


@pytest.mark.parametrize("stack", ["local", "dev", "stg", "prd"])
@pytest.mark.parametrize(
    "token", ["aws:s3/bucket:Bucket", "kubernetes:yaml:ConfigFile", "pulumi-python:dynamic:Resource", "command:local:Command"]
)
def test_an_unknown_type_is_refused_in_every_stack(fx, stack, token):
    [message] = pack(fx, token, {"anything": fx.CANARY}, stack=stack)["coverage-type-allow-listed"]
    assert f"'{token}'" in message and "does not know how to judge" in message
    assert "secrets_platform/policies/rules/coverage.py" in message and "reviewed change" in message and "tests" in message
    assert fx.CANARY not in message


# --------------------------------------------------------------------------- the applied object


def test_a_namespaced_object_placed_by_the_kubeconfig_context_is_refused(fx):
    """No metadata.namespace, no provider namespace: the provider uses the context's namespace, which the pack can't read."""
    props = fx.role_binding("dev")
    props.update(apiVersion=RBAC, kind="RoleBinding")
    del props["metadata"]["namespace"]
    [message] = pack(fx, f"kubernetes:{RBAC}:RoleBinding", props, stack="dev", on=provider("dev"))["coverage-k8s-object-applied"]
    assert "sets no metadata.namespace" in message and "kubeconfig context's namespace" in message


def test_a_cluster_scoped_object_needs_no_namespace(fx):
    props = crb({"kind": "ServiceAccount", "name": "vault", "namespace": "vault-dev"}, "system:auth-delegator", "dev")
    props["metadata"]["name"] = "vault-dev-auth-delegator"
    assert pack(fx, f"kubernetes:{RBAC}:ClusterRoleBinding", props, stack="dev", on=provider("dev")) == {}


def test_a_kind_the_pack_does_not_know_is_refused_under_any_token(fx):
    props = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv", "labels": conventions.labels("dev")}}
    found = pack(fx, "kubernetes:core/v1:PersistentVolume", props, stack="dev", on=provider("dev"))
    assert "does not know how to judge" in found["coverage-type-allow-listed"][0]
    assert "'PersistentVolume' of 'v1', a kind the policy pack does not know" in found["coverage-k8s-object-applied"][0]


def test_inputs_without_api_version_and_kind_are_refused(fx):
    props = fx.configmap("dev")
    [message] = pack(fx, "kubernetes:core/v1:ConfigMap", props, stack="dev")["coverage-k8s-object-applied"]
    assert "sets no apiVersion and kind" in message


def test_an_unknown_kind_at_preview_fails_closed_in_prd(fx):
    props = fx.secret("prd")
    props["kind"] = fx.UNKNOWN
    found = pack(fx, SECRET, props, protect=True)
    assert "apiVersion/kind is unknown at preview" in found["coverage-k8s-object-applied"][0]
    props = fx.secret("dev")
    props["kind"] = fx.UNKNOWN
    assert "coverage-k8s-object-applied" not in pack(fx, SECRET, props, stack="dev")


@pytest.mark.parametrize("stack", ["dev", "stg", "prd"])
def test_objects_on_the_default_provider_are_refused_outside_local(fx, stack):
    props = fx.secret(stack)
    default = provider(stack, name="default_4_25_0")
    [message] = pack(fx, SECRET, props, stack=stack, protect=True, on=default)["coverage-k8s-object-applied"]
    assert "default Kubernetes provider" in message


def test_local_may_use_the_default_provider(fx):
    assert pack(fx, SECRET, fx.secret("local"), stack="local", on=provider("local", name="default")) == {}


def test_a_compliant_patch_passes(fx):
    """The program's own kind of Patch (the namespace's default ServiceAccount) passes: judged, not refused."""
    props = fx.service_account_patch("prd")
    props.update(apiVersion="v1", kind="ServiceAccount")
    assert pack(fx, "kubernetes:core/v1:ServiceAccountPatch", props, on=provider()) == {}


def test_a_secret_patch_is_judged_as_a_secret(fx):
    props = fx.secret("prd")
    props["metadata"]["name"] = "snowflake-credentials"
    found = pack(fx, "kubernetes:core/v1:SecretPatch", props, on=provider())
    assert set(found) == {"naming-secret-name-form", "safety-object-prd-protected"}


# --------------------------------------------------------------------------- providers


def provider_messages(fx, stack: str, **inputs: Any) -> list[str]:
    return pack(fx, K8S_PROVIDER, inputs, stack=stack, name=f"kubernetes-{stack}").get("coverage-k8s-provider-env", [])


@pytest.mark.parametrize("stack", ["dev", "stg", "prd"])
def test_the_stacks_own_provider_passes(fx, stack):
    assert provider_messages(fx, stack, context=f"gke_example-data-platform_europe-west1_data-{stack}", enableServerSideApply="true") == []


@pytest.mark.parametrize("stack", ["dev", "stg", "prd"])
def test_an_ambient_provider_is_refused_outside_local(fx, stack):
    [message] = provider_messages(fx, stack, enableServerSideApply="true")
    assert "names no kubeconfig context" in message and f"Pulumi.{stack}.yaml" in message
    [message] = provider_messages(fx, stack, kubeconfig="/home/ci/.kube/config")
    assert "names no kubeconfig context" in message


def test_local_providers_are_the_settings_business(fx):
    assert provider_messages(fx, "local", kubeconfig=".cluster/kubeconfig") == []
    assert provider_messages(fx, "local", renderYamlToDirectory="rendered/local") == []


def test_another_environments_context_kubeconfig_or_namespace_is_refused(fx):
    [m] = provider_messages(fx, "dev", context="gke_example-data-platform_europe-west1_data-prd")
    assert "names prd" in m
    [m] = provider_messages(fx, "prd", context="shared-cluster")
    assert "names no environment" in m
    found = provider_messages(
        fx, "dev", context="gke_p_r_data-dev", kubeconfig="/home/ci/.kube/prd.yaml", cluster="data-prd", namespace="dagster-prd"
    )
    assert len(found) == 3 and "kubeconfig '/home/ci/.kube/prd.yaml' of prd" in found[0]
    assert "cluster 'data-prd' of prd" in found[1] and "'dagster-prd'" in found[2]


def test_an_inline_kubeconfig_is_read_for_its_contexts(fx):
    inline = (
        "apiVersion: v1\nkind: Config\ncurrent-context: data-prd\n"
        "contexts:\n- name: data-prd\n  context: {cluster: data-prd, user: ci}\n"
        f"clusters:\n- name: data-prd\n  cluster: {{server: 'https://10.0.0.1', certificate-authority-data: {fx.CANARY}}}\n"
        f"users:\n- name: ci\n  user: {{token: {fx.CANARY}}}\n"
    )
    found = provider_messages(fx, "dev", kubeconfig=inline)
    assert len(found) == 2 and "contexts or clusters of prd" in found[0] and "'data-prd', which names prd" in found[1]
    assert all(fx.CANARY not in m for m in found)
    assert provider_messages(fx, "prd", kubeconfig=inline) == []


# --------------------------------------------------------------------------- the allow-list


def test_every_allow_listed_type_has_a_row_in_the_pack_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "policies" / "README.md").read_text()
    listed = {t for t in coverage.ALLOWED if not t.startswith("kubernetes:") or t.endswith(":Chart")}
    missing = sorted(t for t in listed if f"`{t}`" not in readme)
    assert missing == []
    from secrets_platform.policies import kube

    kinds = sorted({k for _, _, k in kube.KNOWN})
    assert [k for k in kinds if f"`{k}`" not in readme] == []


def test_the_allow_list_rule_reads_no_allowed_resource():
    """Its type filter admits only types outside the list: an allowed resource is never decoded for it."""
    applies = coverage.type_allow_listed.applies  # type: ignore[attr-defined]
    assert not any(applies(t) for t in coverage.ALLOWED)
    assert applies("kubernetes:helm.sh/v3:Release") and applies("aws:s3/bucket:Bucket")


def test_no_message_of_the_new_rules_carries_a_value(fx):
    props = copy.deepcopy(fx.secret("prd"))
    props["metadata"]["annotations"] = {"note": fx.CANARY}
    found = pack(fx, "kubernetes:example.com/v1:Anything", props, on=provider("prd", namespace="dagster-dev", name="default"))
    assert found and all(fx.CANARY not in m for messages in found.values() for m in messages)
