"""The operators' own objects: which chart objects may break a rule, and on what proof.

An operator installed per environment needs what no platform object may have.
The External Secrets controller writes the Secrets of every consumer namespace,
so its chart ships ClusterRoles that read and write Secrets cluster-wide, and its
webhook keeps its serving certificate in a Secret the chart names
``<release>-webhook``, whatever the values say. Without an admission the first
preview of every stack with External Secrets on fails.

The admission is a refinement of the rules, not an exemption list: no config, and
it holds only on facts the pack sees in the stack itself. A chart object is
admitted when *all* of these hold:

- it is a direct child of a ``kubernetes:helm.sh/v4:Chart`` (its URN says so;
  only the program can make a resource a child of a chart);
- it carries the chart's ``helm.sh/chart`` label ``<chart>-<version>`` naming an
  operator listed in :data:`OPERATOR_CHARTS` (what Helm rendered, not what we
  asked for), and its name is one of that operator's listed objects;
- the version Helm rendered (the label) is a release of that chart listed as
  reviewed in :data:`OPERATOR_CHARTS` (2.9.0): an unpinned chart that drifts to a
  new release, or a chart folder holding another version, is refused until its
  objects are reviewed. (The engine sends a policy pack no inputs of a
  ``helm.sh/v4:Chart``, a remote component, nor the stack config: what the chart
  rendered is the one fact about its version the pack can see.);
- the chart's namespaced objects all sit in one namespace, of the stack's own
  environment (the release namespace);
- a ClusterRole: it aggregates into no other role (aggregation would copy its
  Secret rules into ``view``/``edit``/``admin``), and every RoleBinding or
  ClusterRoleBinding of the stack that refers to it, in any form (plain, a
  ``...Patch``, any token whose inputs say so: ``Resource.type`` is the applied
  kind, secrets_platform/policies/kube.py), is rendered by the same chart
  and binds exactly the operator's own service account for that role, in the
  chart's namespace;
- a Secret: it sits in the chart's namespace and the chart gives it no data (the
  operator fills it at run time).

The resource rules (``privilege-role-secret-get-by-name``,
``naming-secret-name-form``) skip an object that passes the first two checks,
which they can read on the object alone; the stack rule
``privilege-operator-chart-admitted`` proves the rest with the whole stack in
view, and reports each object it cannot prove. A ClusterRole of ours, or of any
chart not listed here, still fails the resource rule as before.

Why that keeps the guarantee meaningful is in policies/README.md: the roles reach
every namespace of *the cluster*, and a cluster belongs to one environment.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from secrets_platform import conventions
from secrets_platform.policies.operator_charts import (  # noqa: F401  (parent_type, OPERATOR_CHARTS: read by the tests and the README)
    HELM_CHART,
    OPERATOR_CHARTS,
    OperatorChart,
    chart_label,
    claimed,
    parent_type,
)
from secrets_platform.policies.support import (
    BINDING_TYPES,
    MANDATORY,
    ROLE_TYPES,
    SECRET,
    Resource,
    at,
    entries,
    keys_of,
    show,
    stack_rule,
)

_AGGREGATE_LABEL = "rbac.authorization.k8s.io/aggregate-to-"


def _release_namespaces(chart: str, resources: list[Resource]) -> set[str]:
    """The namespaces of the chart's namespaced objects: where the release is."""
    out = set()
    for r in resources:
        if r.parent == chart:
            namespace = r.k8s_namespace()
            if namespace:
                out.add(namespace)
    return out


def _chart_problems(
    r: Resource, chart: Resource | None, operator: OperatorChart, version: str, namespaces: set[str], env: str | None
) -> Iterator[str]:
    """What the stack shows about the release (the engine sends no inputs of a helm.sh/v4 Chart, so its objects tell)."""
    if chart is None or chart.type != HELM_CHART:
        yield "its parent Helm chart is not in the stack"
        return
    if version not in operator.versions:
        yield (
            f"it was rendered by chart version {show(version)}, which is not a reviewed release of the chart "
            f"({', '.join(sorted(operator.versions))}; pin one in the stack file, or review the new release's objects "
            "and add it to OPERATOR_CHARTS)"
        )
    if len(namespaces) != 1:
        yield f"its chart is released in {len(namespaces)} namespaces, not one"
    else:
        (namespace,) = namespaces
        if not env or conventions.reference_env_tokens(namespace) != {env}:
            yield f"its chart is released in {show(namespace)}, not a namespace of {env or 'this stack'}"


def _role_problems(role: Resource, namespace: str | None, operator: OperatorChart, bindings: list[Resource]) -> Iterator[str]:
    labels = role.get("metadata", "labels", default={})
    aggregates = sorted(k for k in keys_of(labels, "metadata.labels") if k.startswith(_AGGREGATE_LABEL))
    if aggregates or role.get("aggregationRule"):
        yield "it aggregates into other roles (" + ", ".join(show(a) for a in aggregates or ["aggregationRule"]) + ")"
    name = role.k8s_name()
    assert name is not None, "_claimed found this role by its name"
    account = operator.secret_roles[name]
    for binding in bindings:
        if binding.get("roleRef", "kind") != "ClusterRole" or binding.get("roleRef", "name") != name:
            continue
        if binding.parent != role.parent:
            yield f"{binding.describe()} binds it but is not rendered by the same chart"
            continue
        subjects = list(entries(binding.get("subjects", default=[]), "subjects"))
        for where, subject in subjects:
            kind = at(subject, "kind", where=f"{where}.kind")
            sname = at(subject, "name", where=f"{where}.name")
            snamespace = at(subject, "namespace", where=f"{where}.namespace")
            if (kind, sname, snamespace) != ("ServiceAccount", account, namespace):
                shown = conventions.object_key(snamespace, sname) if isinstance(snamespace, str) and isinstance(sname, str) else sname
                yield (
                    f"{binding.describe()} binds it to {kind if isinstance(kind, str) else 'a subject'} {show(shown)} ({where}), "
                    f"not only the operator's own ServiceAccount {show(conventions.object_key(str(namespace), account))}"
                )


def _secret_problems(secret: Resource, namespace: str | None) -> Iterator[str]:
    if secret.k8s_namespace() != namespace:
        yield f"it is not in the chart's namespace {show(namespace) if isinstance(namespace, str) else ''}".rstrip()
    filled = [f for f in ("data", "stringData") if keys_of(secret.get(f, default={}), f)]
    if filled:
        yield f"the chart gives it {' and '.join(filled)}; the operator's own Secret starts empty"


@stack_rule("privilege-operator-chart-admitted", MANDATORY)
def operator_chart_admitted(resources: list[Resource], config: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
    """A chart object that may break a resource rule (an operator's Secret-reading ClusterRole, its webhook's Secret) belongs to a pinned operator chart released in this environment, and its roles are bound only to that operator's own service accounts.

    Every chart object the resource rules left to this rule is proven to be the pinned operator's own.
    """
    by_urn = {r.urn: r for r in resources}
    bindings = [r for r in resources if r.type in BINDING_TYPES]
    for r in resources:
        if r.type in ROLE_TYPES:
            operator, kind = claimed(r, "ClusterRole"), "ClusterRole"
        elif r.type == SECRET:
            operator, kind = claimed(r, "Secret"), "Secret"
        else:
            continue
        if operator is None:
            continue
        label = chart_label(r)
        assert label is not None
        chart = by_urn.get(r.parent) if r.parent else None
        namespaces = _release_namespaces(r.parent, resources) if r.parent else set()
        problems = list(_chart_problems(r, chart, operator, label[1], namespaces, r.env))
        if not problems:
            (namespace,) = namespaces
            problems = list(_role_problems(r, namespace, operator, bindings) if kind == "ClusterRole" else _secret_problems(r, namespace))
        if problems:
            what = "grants access to Secrets cluster-wide" if kind == "ClusterRole" else "does not follow the Secret name forms"
            yield (
                f"{r.describe()} {what} and is admitted only as the pinned {show(operator.chart)} chart's own object, "
                f"but {'; '.join(problems)}. Install the operator with secrets_platform/components/helm.py (pinned chart, release in the "
                "environment's operator namespace) and bind its roles only to its own service accounts.",
                r.urn,
            )


POLICIES = [operator_chart_admitted]
