"""The External Secrets chart's own objects pass the pack only as the pinned chart's, bound to the operator.

Fixtures are the objects the external-secrets chart 2.9.0
(deploy/charts/external-secrets at external-secrets/external-secrets cc5bfbc22,
"release helm chart for 2.9.0") renders with our values (secrets_platform/components/external_secrets.py)
in the dev stack: the ClusterRoles, ClusterRoleBindings and the webhook Secret, with
their real names, kinds, subjects and Secret rules (other rules shortened), and the
labels Helm plus our transform put on them. Each failing test changes one fact.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions, ResourceValidationArgs, StackValidationArgs
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from secrets_platform import conventions
from secrets_platform.policies.rules import ALL_POLICIES, naming, operators, privilege

CHART = "kubernetes:helm.sh/v4:Chart"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
SECRET = "kubernetes:core/v1:Secret"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
OPERATOR = "secrets-platform:external-secrets:Operator"


def chart_labels(env: str, component: str | None = None, version: str = "2.9.0") -> dict[str, str]:
    labels = {
        "helm.sh/chart": f"external-secrets-{version}",
        "app.kubernetes.io/name": "external-secrets" if component is None else f"external-secrets-{component}",
        "app.kubernetes.io/instance": "external-secrets",
        "app.kubernetes.io/version": f"v{version}",
        **conventions.labels(env),
    }
    return labels


CONTROLLER_RULES = [
    {
        "apiGroups": ["external-secrets.io"],
        "resources": ["secretstores", "clustersecretstores", "externalsecrets", "pushsecrets"],
        "verbs": ["get", "list", "watch"],
    },
    {"apiGroups": [""], "resources": ["serviceaccounts", "namespaces"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch", "create", "update", "delete", "patch"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
]
CERT_CONTROLLER_RULES = [
    {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["external-secrets-webhook"], "verbs": ["update", "patch"]},
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update", "patch"]},
]


def urn(env: str, qualified_type: str, name: str) -> str:
    return f"urn:pulumi:{env}::secrets-platform::{qualified_type}::{name}"


def chart_urn(env: str) -> str:
    return urn(env, f"{OPERATOR}${CHART}", "external-secrets-chart")


class Objects:
    """The dev (or given env) stack's chart and the chart's objects that break a resource rule on their own."""

    def __init__(self, env: str = "dev", version: str = "2.9.0") -> None:
        ns = f"external-secrets-{env}"
        self.env = env
        # The engine sends a policy pack no inputs of a helm.sh/v4 Chart (a remote component): empty props.
        self.items: list[dict[str, Any]] = [
            {"type": CHART, "name": "external-secrets-chart", "urn": chart_urn(env), "parent": None, "props": {}},
        ]
        for account in ("external-secrets-webhook", "external-secrets-cert-controller"):
            self.add(
                SERVICE_ACCOUNT,
                f"{ns}/{account}",
                {"metadata": {"name": account, "namespace": ns, "labels": chart_labels(env, None, version)}},
            )
        for role, account, component in (
            ("external-secrets-controller", "external-secrets", None),
            ("external-secrets-cert-controller", "external-secrets-cert-controller", "cert-controller"),
        ):
            rules = CONTROLLER_RULES if component is None else CERT_CONTROLLER_RULES
            self.add(
                CLUSTER_ROLE,
                role,
                {"metadata": {"name": role, "labels": chart_labels(env, component, version)}, "rules": copy.deepcopy(rules)},
            )
            self.add(
                CLUSTER_ROLE_BINDING,
                role,
                {
                    "metadata": {"name": role, "labels": chart_labels(env, component, version)},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                    "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": ns}],
                },
            )
        self.add(
            SECRET,
            f"{ns}/external-secrets-webhook",
            {
                "metadata": {
                    "name": "external-secrets-webhook",
                    "namespace": ns,
                    "labels": {**chart_labels(env, "webhook", version), "external-secrets.io/component": "webhook"},
                },
            },
        )

    def add(self, resource_type: str, name: str, props: dict[str, Any], parent: str | None = "chart") -> dict[str, Any]:
        parent_urn = chart_urn(self.env) if parent == "chart" else parent
        # Every object a chart renders carries its apiVersion and kind, and the provider applies those.
        module, kind = resource_type.split(":")[1:]
        props = {"apiVersion": module.removeprefix("core/"), "kind": kind.removesuffix("Patch"), **props}
        parent_type = f"{OPERATOR}${CHART}" if parent == "chart" else OPERATOR
        item = {
            "type": resource_type,
            "name": f"external-secrets-chart:{name}",
            "parent": parent_urn,
            "urn": urn(self.env, f"{parent_type}${resource_type}", f"external-secrets-chart:{name}"),
            "props": props,
        }
        self.items.append(item)
        return item

    def get(self, resource_type: str, k8s_name: str) -> dict[str, Any]:
        return next(i for i in self.items if i["type"] == resource_type and i["props"].get("metadata", {}).get("name") == k8s_name)

    @property
    def chart(self) -> dict[str, Any]:
        return self.items[0]


def _opts(item: dict[str, Any]) -> PolicyResourceOptions:
    # secrets_platform/components/helm.py protects the chart's Secrets in prd, as it does every platform Secret
    protect = item["type"] == SECRET and item["urn"].startswith("urn:pulumi:prd::")
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], item["parent"])


def violations(objects: Objects, policies=None) -> list[str]:
    """Every policy of the pack over the objects: resource rules one by one, then stack rules."""
    out: list[str] = []
    policies = policies or ALL_POLICIES
    for item in objects.items:
        for policy in policies:
            if hasattr(policy, "validate") and policy.__class__.__name__ == "ResourceValidationPolicy":
                args = ResourceValidationArgs(
                    item["type"], unknown_checking_proxy(copy.deepcopy(item["props"])), item["urn"], item["name"], _opts(item), None, {}
                )
                policy.validate(args, lambda m, u=None, p=policy.name: out.append(f"{p}: {m}"))
    resources = [
        PolicyResource(i["type"], unknown_checking_proxy(copy.deepcopy(i["props"])), i["urn"], i["name"], _opts(i), None, None, [], {})
        for i in objects.items
    ]
    for policy in policies:
        if policy.__class__.__name__ == "StackValidationPolicy":
            policy.validate(StackValidationArgs(resources), lambda m, u=None, p=policy.name: out.append(f"{p}: {m}"))
    return out


def admission_violations(objects: Objects) -> list[str]:
    return [
        v
        for v in violations(objects)
        if v.startswith(("privilege-operator-chart-admitted", "privilege-role-secret-get-by-name", "naming-secret-name-form"))
    ]


@pytest.mark.parametrize("env", ["dev", "stg", "prd"])
def test_pinned_chart_objects_bound_to_the_operator_pass_the_whole_pack(env):
    assert violations(Objects(env)) == []


def test_without_the_admission_the_chart_objects_are_what_the_issue_measured():
    """The 4 violations of the first real preview: two ClusterRoles and the webhook Secret's name."""
    objects = Objects()
    for item in objects.items:
        item["props"].get("metadata", {}).get("labels", {}).pop("helm.sh/chart", None)
    found = violations(objects)
    assert sorted(v.split(":", 1)[0] for v in found) == [
        "naming-secret-name-form",
        "privilege-role-secret-get-by-name",
        "privilege-role-secret-get-by-name",
        "privilege-role-secret-get-by-name",
    ]


def test_role_bound_to_another_service_account_fails():
    objects = Objects()
    objects.get(CLUSTER_ROLE_BINDING, "external-secrets-controller")["props"]["subjects"][0]["name"] = "job-runner"
    [message] = admission_violations(objects)
    assert "external-secrets-controller" in message and "external-secrets-dev/job-runner" in message


def test_role_bound_to_an_extra_subject_fails():
    objects = Objects()
    objects.get(CLUSTER_ROLE_BINDING, "external-secrets-controller")["props"]["subjects"].append(
        {"kind": "Group", "name": "system:serviceaccounts"}
    )
    [message] = admission_violations(objects)
    assert "Group" in message and "system:serviceaccounts" in message


def test_role_bound_to_the_service_account_in_another_namespace_fails():
    objects = Objects()
    objects.get(CLUSTER_ROLE_BINDING, "external-secrets-cert-controller")["props"]["subjects"][0]["namespace"] = "dagster-dev"
    [message] = admission_violations(objects)
    assert "dagster-dev/external-secrets-cert-controller" in message


def test_chart_released_in_another_environments_namespace_fails():
    objects = Objects("dev")
    ns = "external-secrets-prd"
    for item in objects.items[1:]:
        if "namespace" in item["props"]["metadata"]:
            item["props"]["metadata"]["namespace"] = ns
        for subject in item["props"].get("subjects", []):
            subject["namespace"] = ns
    found = admission_violations(objects)
    assert len(found) == 3 and all("released in 'external-secrets-prd', not a namespace of dev" in m for m in found)


def test_chart_objects_spread_over_two_namespaces_fail():
    objects = Objects()
    objects.get(SERVICE_ACCOUNT, "external-secrets-webhook")["props"]["metadata"]["namespace"] = "dagster-dev"
    found = admission_violations(objects)
    assert len(found) == 3 and all("released in 2 namespaces" in m for m in found)


@pytest.mark.parametrize("version", ["2.10.0", "2.8.0", "3.0.0-rc.1"])
def test_chart_release_not_reviewed_fails(version):
    """An unpinned chart that drifted, or a chart folder of another release: the objects say which version rendered."""
    found = admission_violations(Objects(version=version))
    assert len(found) == 3 and all(f"rendered by chart version '{version}', which is not a reviewed release" in m for m in found)


def test_another_chart_with_the_same_object_names_fails():
    objects = Objects()
    for item in objects.items[1:]:
        item["props"]["metadata"]["labels"]["helm.sh/chart"] = "not-eso-2.9.0"
    found = admission_violations(objects)
    assert sorted(m.split(":", 1)[0] for m in found) == ["naming-secret-name-form"] + ["privilege-role-secret-get-by-name"] * 3


def test_parent_chart_missing_from_the_stack_fails():
    objects = Objects()
    objects.items.pop(0)
    found = admission_violations(objects)
    assert len(found) == 3 and all("parent Helm chart is not in the stack" in m for m in found)


def test_our_own_cluster_role_touching_secrets_fails():
    """Same name and label, but a child of our component, not of the chart."""
    objects = Objects()
    role = objects.get(CLUSTER_ROLE, "external-secrets-controller")
    objects.items.remove(role)
    objects.add(CLUSTER_ROLE, "external-secrets-controller", role["props"], parent=urn("dev", OPERATOR, "external-secrets"))
    [message] = admission_violations(objects)
    assert message.startswith("privilege-role-secret-get-by-name")


def test_unlisted_chart_role_touching_secrets_fails():
    objects = Objects()
    objects.add(
        CLUSTER_ROLE,
        "external-secrets-reader",
        {
            "metadata": {"name": "external-secrets-reader", "labels": chart_labels("dev")},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}],
        },
    )
    [message] = admission_violations(objects)
    assert message.startswith("privilege-role-secret-get-by-name") and "external-secrets-reader" in message


def test_binding_of_ours_to_the_operator_role_fails():
    """Anyone else bound to the controller's role would read every Secret of the cluster."""
    objects = Objects()
    objects.add(
        ROLE_BINDING,
        "dagster-dev/job-runner-eso",
        {
            "metadata": {"name": "job-runner-eso", "namespace": "dagster-dev", "labels": conventions.labels("dev")},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "external-secrets-controller"},
            "subjects": [{"kind": "ServiceAccount", "name": "job-runner", "namespace": "dagster-dev"}],
        },
        parent=urn("dev", OPERATOR, "external-secrets"),
    )
    [message] = admission_violations(objects)
    assert "not rendered by the same chart" in message


def test_operator_role_aggregated_into_builtin_roles_fails():
    objects = Objects()
    objects.get(CLUSTER_ROLE, "external-secrets-controller")["props"]["metadata"]["labels"][
        "rbac.authorization.k8s.io/aggregate-to-edit"
    ] = "true"
    [message] = admission_violations(objects)
    assert "aggregates into other roles" in message


def test_webhook_secret_in_another_namespace_fails():
    objects = Objects()
    objects.get(SECRET, "external-secrets-webhook")["props"]["metadata"]["namespace"] = "dagster-dev"
    found = admission_violations(objects)
    assert len(found) == 3 and all("released in 2 namespaces" in m for m in found)
    assert any("Secret 'dagster-dev/external-secrets-webhook'" in m for m in found)


def test_webhook_secret_with_data_fails():
    objects = Objects()
    objects.get(SECRET, "external-secrets-webhook")["props"]["stringData"] = {"tls.key": "canary-never-print"}
    [message] = admission_violations(objects)
    assert "stringData" in message and "canary" not in message


def test_other_chart_secret_names_still_fail_the_name_form():
    objects = Objects()
    objects.get(SECRET, "external-secrets-webhook")["props"]["metadata"]["name"] = "external-secrets-token"
    [message] = admission_violations(objects)
    assert message.startswith("naming-secret-name-form")


def test_unknown_binding_subject_fails_closed_in_prd():
    objects = Objects("prd")
    objects.get(CLUSTER_ROLE_BINDING, "external-secrets-controller")["props"]["subjects"][0]["namespace"] = UNKNOWN_STRING_VALUE
    [message] = admission_violations(objects)
    assert "unknown at preview" in message


def test_resource_rules_alone_leave_only_the_claimed_objects():
    """The resource rules skip exactly the listed chart objects; the stack rule is what admits them."""
    objects = Objects()
    role = objects.get(CLUSTER_ROLE, "external-secrets-controller")
    assert violations(objects, [privilege.role_secret_get_by_name, naming.secret_name_form]) == []
    assert violations(objects, [operators.operator_chart_admitted]) == []
    assert operators.parent_type(role["urn"]) == CHART


# A ClusterRoleBindingPatch applied with server-side apply upserts the binding (secrets_platform/policies/kube.py):
# it counts as a binding of the role like any other form, and so does any token whose inputs say so.
@pytest.mark.parametrize(
    "binding_type",
    [
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBindingPatch",
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBindingPatch",
        "kubernetes:example.com/v1:Anything",
    ],
)
def test_binding_of_any_form_to_the_operator_role_fails(binding_type):
    objects = Objects()
    kind = "RoleBinding" if "RoleBindingPatch" in binding_type and "Cluster" not in binding_type else "ClusterRoleBinding"
    metadata: dict[str, Any] = {"name": "job-runner-eso", "labels": conventions.labels("dev")}
    if kind == "RoleBinding":
        metadata["namespace"] = "dagster-dev"
    objects.add(
        binding_type,
        "job-runner-eso",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": kind,
            "metadata": metadata,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "external-secrets-controller"},
            "subjects": [{"kind": "ServiceAccount", "name": conventions.JOB_RUNNER, "namespace": "dagster-dev"}],
        },
        parent=urn("dev", OPERATOR, "external-secrets"),
    )
    [message] = admission_violations(objects)
    assert "binds it but is not rendered by the same chart" in message
    assert f"{kind} 'job-runner-eso'" in message or f"{kind} 'dagster-dev/job-runner-eso'" in message
