"""Least-privilege rules: RBAC, ClusterSecretStore conditions, project-wide IAM, Vault roles."""

from __future__ import annotations

import json

import pytest
from policy_fixtures import fx  # noqa: F401  (the fixture this module's tests take)

from secrets_platform.policies.rules import privilege

ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
VAULT_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"


# --------------------------------------------------------------------------- privilege-role-no-wildcards


@pytest.mark.parametrize("resource_type", [ROLE, CLUSTER_ROLE])
def test_role_without_wildcards_passes(fx, resource_type):
    assert fx.run(privilege.role_no_wildcards, resource_type, fx.role()) == []


@pytest.mark.parametrize("field", ["apiGroups", "resources", "verbs"])
@pytest.mark.parametrize("resource_type", [ROLE, CLUSTER_ROLE])
def test_wildcard_fails(fx, resource_type, field):
    """A wildcard grants everything, including what is added to the API later."""
    props = fx.role()
    props["rules"][0][field] = ["*"]
    [message] = fx.run(privilege.role_no_wildcards, resource_type, props)
    assert f"rules[0].{field}" in message


def test_subresource_wildcard_fails(fx):
    props = fx.role()
    props["rules"][0]["resources"] = ["secrets/*"]
    [message] = fx.run(privilege.role_no_wildcards, ROLE, props)
    assert "'secrets/*'" in message


# --------------------------------------------------------------------------- privilege-role-secret-get-by-name


def test_get_by_name_passes(fx):
    assert fx.run(privilege.role_secret_get_by_name, ROLE, fx.role()) == []


def test_rules_on_other_resources_are_ignored(fx):
    props = fx.role()
    props["rules"] = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}]
    assert fx.run(privilege.role_secret_get_by_name, ROLE, props) == []
    assert fx.run(privilege.role_secret_get_by_name, CLUSTER_ROLE, props) == []


@pytest.mark.parametrize("verb", ["list", "watch", "update", "delete"])
def test_more_than_get_fails(fx, verb):
    """list/watch return every Secret's values in the namespace."""
    props = fx.role()
    props["rules"][0]["verbs"] = ["get", verb]
    [message] = fx.run(privilege.role_secret_get_by_name, ROLE, props)
    assert f"'{verb}'" in message


def test_get_without_resource_names_fails(fx):
    props = fx.role()
    del props["rules"][0]["resourceNames"]
    [message] = fx.run(privilege.role_secret_get_by_name, ROLE, props)
    assert "without resourceNames" in message


def test_cluster_role_on_secrets_fails(fx):
    """Even 'get by name' in a ClusterRole reaches every namespace, so every environment."""
    [message] = fx.run(privilege.role_secret_get_by_name, CLUSTER_ROLE, fx.role())
    assert "ClusterRole" in message


def test_wildcard_resources_count_as_secrets(fx):
    props = fx.role()
    props["rules"][0]["resources"] = ["*"]
    props["rules"][0]["verbs"] = ["list"]
    messages = fx.run(privilege.role_secret_get_by_name, ROLE, props)
    assert any("'list'" in m for m in messages)


# --------------------------------------------------------------------------- privilege-binding-no-admin-roles


def test_binding_to_own_role_passes(fx):
    assert fx.run(privilege.binding_no_admin_roles, ROLE_BINDING, fx.role_binding()) == []


@pytest.mark.parametrize("role", ["cluster-admin", "admin", "edit"])
@pytest.mark.parametrize("resource_type", [ROLE_BINDING, CLUSTER_ROLE_BINDING])
def test_binding_to_admin_role_fails(fx, resource_type, role):
    props = fx.role_binding()
    props["roleRef"] = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}
    [message] = fx.run(privilege.binding_no_admin_roles, resource_type, props)
    assert f"'{role}'" in message


def test_binding_to_view_passes(fx):
    """The built-in 'view' ClusterRole does not include Secrets."""
    props = fx.role_binding()
    props["roleRef"] = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}
    assert fx.run(privilege.binding_no_admin_roles, ROLE_BINDING, props) == []


# --------------------------------------------------------------------------- privilege-clustersecretstore-conditions-required


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_store_with_conditions_passes(fx, version):
    t = f"kubernetes:external-secrets.io/{version}:ClusterSecretStore"
    assert fx.run(privilege.clustersecretstore_conditions, t, fx.cluster_secret_store(version=version)) == []


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_store_without_conditions_fails(fx, version):
    """Without conditions any namespace's ExternalSecret reads every secret the store can."""
    t = f"kubernetes:external-secrets.io/{version}:ClusterSecretStore"
    props = fx.cluster_secret_store(version=version)
    del props["spec"]["conditions"]
    [message] = fx.run(privilege.clustersecretstore_conditions, t, props)
    assert "no spec.conditions" in message


def test_store_with_empty_condition_fails(fx):
    props = fx.cluster_secret_store()
    props["spec"]["conditions"] = [{}]
    [message] = fx.run(privilege.clustersecretstore_conditions, "kubernetes:external-secrets.io/v1:ClusterSecretStore", props)
    assert "empty condition (spec.conditions[0])" in message


# --------------------------------------------------------------------------- privilege-gcp-no-project-secret-access


def test_project_grant_of_other_role_passes(fx):
    assert fx.run(privilege.gcp_no_project_secret_access, "gcp:projects/iAMMember:IAMMember", fx.project_iam_member()) == []


@pytest.mark.parametrize("role", ["roles/secretmanager.secretAccessor", "roles/secretmanager.admin"])
@pytest.mark.parametrize(
    "resource_type", ["gcp:projects/iAMMember:IAMMember", "gcp:projects/iAMBinding:IAMBinding", "gcp:folder/iAMMember:IAMMember"]
)
def test_project_wide_secret_access_fails(fx, resource_type, role):
    """Project-wide accessor reads every secret of every environment in the project."""
    props = fx.project_iam_member()
    props["role"] = role
    [message] = fx.run(privilege.gcp_no_project_secret_access, resource_type, props)
    assert f"'{role}'" in message and "SecretIamMember" in message


def test_project_policy_with_accessor_fails(fx):
    props = {
        "project": "p",
        "policyData": json.dumps({"bindings": [{"role": "roles/secretmanager.secretAccessor", "members": ["user:a@b.c"]}]}),
    }
    [message] = fx.run(privilege.gcp_no_project_secret_access, "gcp:projects/iAMPolicy:IAMPolicy", props)
    assert "policyData.bindings[0].role" in message


def test_secret_level_accessor_passes(fx):
    """Granting the accessor role on one secret is the recommended form: not this rule's business."""
    assert fx.run(privilege.gcp_no_project_secret_access, "gcp:secretmanager/secretIamMember:SecretIamMember", fx.secret_iam_member()) == []


# --------------------------------------------------------------------------- privilege-vault-role-bounded


def test_bounded_vault_role_passes(fx):
    assert fx.run(privilege.vault_role_bounded, VAULT_ROLE, fx.vault_role()) == []


@pytest.mark.parametrize("field,value", [("boundServiceAccountNames", ["*"]), ("boundServiceAccountNamespaces", ["floe-*"])])
def test_vault_role_wildcard_fails(fx, field, value):
    props = fx.vault_role()
    props[field] = value
    [message] = fx.run(privilege.vault_role_bounded, VAULT_ROLE, props)
    assert field in message


@pytest.mark.parametrize("field", ["boundServiceAccountNames", "boundServiceAccountNamespaces"])
def test_vault_role_without_bounds_fails(fx, field):
    props = fx.vault_role()
    props[field] = []
    [message] = fx.run(privilege.vault_role_bounded, VAULT_ROLE, props)
    assert f"sets no {field}" in message


@pytest.mark.parametrize("audience", [None, ""])
def test_vault_role_without_audience_fails(fx, audience):
    props = fx.vault_role()
    if audience is None:
        del props["audience"]
    else:
        props["audience"] = audience
    [message] = fx.run(privilege.vault_role_bounded, VAULT_ROLE, props)
    assert "sets no audience" in message


def test_project_policy_that_cannot_be_read_fails(fx):
    """An unreadable policyData can't be shown to grant no secret access."""
    props = {"project": "p", "policyData": "{not json"}
    [message] = fx.run(privilege.gcp_no_project_secret_access, "gcp:projects/iAMPolicy:IAMPolicy", props)
    assert "policyData" in message
