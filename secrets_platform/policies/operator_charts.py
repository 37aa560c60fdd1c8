"""Which objects of an operator's chart the pack may admit: the charts reviewed, and what an object claims.

Helpers, not rules: ``privilege-operator-chart-admitted`` (``policies.rules.operators``)
proves an admission with the whole stack in view; the resource rules that leave a
claimed object to it (``privilege-role-secret-get-by-name``, ``naming-secret-name-form``)
import ``admitted_role`` and ``admitted_secret`` from here, so that no rule module
imports another. Why an admission exists, and on what proof: ``policies.rules.operators``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from secrets_platform.policies.resource import read_urn
from secrets_platform.policies.support import Resource

HELM_CHART = "kubernetes:helm.sh/v4:Chart"
CHART_LABEL = "helm.sh/chart"
_CHART_LABEL_VALUE = re.compile(
    r"^(?P<chart>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-(?P<version>v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$"
)


@dataclass(frozen=True)
class OperatorChart:
    """What one operator's chart renders that no platform object may have."""

    chart: str
    """The chart's name (Chart.yaml ``name``, the first part of its ``helm.sh/chart`` label)."""
    secret_roles: Mapping[str, str]
    """ClusterRole touching Secrets -> the chart's service account it must be bound to."""
    own_secrets: frozenset[str]
    """Secrets the chart names itself (not configurable), created empty."""
    versions: frozenset[str]
    """The chart releases whose objects were reviewed (and are the fixtures of the tests)."""


# The external-secrets chart (deploy/charts/external-secrets), release name
# 'external-secrets' (secrets_platform/components/helm.py: the release is named after the chart).
# The controller's service account is ours (serviceAccount.create false, same name);
# the cert controller runs as the chart's own 'external-secrets-cert-controller'.
OPERATOR_CHARTS: Mapping[str, OperatorChart] = {
    "external-secrets": OperatorChart(
        chart="external-secrets",
        secret_roles={
            "external-secrets-controller": "external-secrets",
            "external-secrets-cert-controller": "external-secrets-cert-controller",
        },
        own_secrets=frozenset({"external-secrets-webhook"}),
        versions=frozenset({"2.9.0"}),
    ),
}


def parent_type(urn: str) -> str | None:
    """The type of a resource's parent, from its URN (``...::Parent$Own::name``)."""
    parts = read_urn(urn)
    return parts.parent_type if parts else None


def chart_label(r: Resource) -> tuple[str, str] | None:
    """``(chart, version)`` from the object's ``helm.sh/chart`` label, if it has a well-formed one."""
    label = r.get("metadata", "labels", CHART_LABEL)
    if not isinstance(label, str):
        return None
    m = _CHART_LABEL_VALUE.match(label)
    return (m.group("chart"), m.group("version")) if m else None


def claimed(r: Resource, kind: str) -> OperatorChart | None:
    """The operator whose chart object ``r`` says it is, read on the object alone; None if it is not one."""
    if r.kind != kind or parent_type(r.urn) != HELM_CHART:
        return None
    label = chart_label(r)
    operator = OPERATOR_CHARTS.get(label[0]) if label else None
    if operator is None:
        return None
    names = operator.secret_roles if kind == "ClusterRole" else operator.own_secrets
    return operator if r.k8s_name() in names else None


def admitted_role(r: Resource) -> bool:
    """A ClusterRole the resource rule leaves to ``privilege-operator-chart-admitted``."""
    return claimed(r, "ClusterRole") is not None


def admitted_secret(r: Resource) -> bool:
    """A Secret the naming rule leaves to ``privilege-operator-chart-admitted``."""
    return claimed(r, "Secret") is not None
