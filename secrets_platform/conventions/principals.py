"""How the systems the audit reads name a Kubernetes ServiceAccount (part of :mod:`secrets_platform.conventions`).

The API server's audit log names a ServiceAccount's requests ``system:serviceaccount:<namespace>:<name>``; GCP's
Data Access logs name a workload that reached Secret Manager over Workload Identity either as its IAM member,
``serviceAccount:<project>.svc.id.goog[<namespace>/<name>]``, or as a principal of the project's workload pool,
``principal://iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<project>.svc.id.goog/subject/ns/<namespace>/sa/<name>``.
"""

from __future__ import annotations

import re

from secrets_platform.conventions.errors import ConventionError
from secrets_platform.conventions.forms import Form
from secrets_platform.conventions.resources import ObjectKey

__all__ = [
    "SERVICE_ACCOUNT_USER_PREFIX",
    "kubernetes_service_account_user",
    "parse_kubernetes_service_account_user",
    "parse_workload_identity_namespace_set",
    "parse_workload_identity_principal",
    "workload_identity_namespace_set",
    "workload_identity_principal",
]

SERVICE_ACCOUNT_USER_PREFIX = "system:serviceaccount:"
_SA_USER = Form("Kubernetes ServiceAccount user", f"{SERVICE_ACCOUNT_USER_PREFIX}{{namespace}}:{{name}}", namespace="[^:]+", name="[^:]+")
# The IAM member form, whatever spells the pool before '.svc.id.goog' (a project id, or a principal:// prefix of it).
_WI_MEMBER_ANY = re.compile(r"^(principal://|serviceAccount:)?.*?\.svc\.id\.goog\[(?P<namespace>[^/\]]+)/(?P<name>[^\]]+)\]\Z")
_WI_PRINCIPAL = re.compile(
    r"^principal://iam\.googleapis\.com/projects/(?P<number>[0-9]+)/locations/global/workloadIdentityPools/"
    r"(?P<project>[^/\s]+)\.svc\.id\.goog/subject/ns/(?P<namespace>[^/\s]+)/sa/(?P<name>[^/\s]+)\Z"
)

# Every ServiceAccount of one namespace, as an IAM principal set of the project's workload pool (GKE's documented form).
_WI_NAMESPACE_SET = re.compile(
    r"^principalSet://iam\.googleapis\.com/projects/(?P<number>[0-9]+)/locations/global/workloadIdentityPools/"
    r"(?P<project>[^/\s]+)\.svc\.id\.goog/namespace/(?P<namespace>[^/\s]+)\Z"
)


def kubernetes_service_account_user(namespace: str, name: str) -> str:
    """The user the API server authenticates a ServiceAccount's token as: ``system:serviceaccount:<namespace>:<name>``."""
    return _SA_USER.build(namespace=namespace, name=name)


def parse_kubernetes_service_account_user(user: str) -> ObjectKey:
    """The inverse of :func:`kubernetes_service_account_user`: the ServiceAccount's (namespace, name)."""
    return ObjectKey(**_SA_USER.parse(user))


def workload_identity_principal(project_number: str, project: str, namespace: str, name: str) -> str:
    """A ServiceAccount as a principal of its project's workload pool (what GCP logs for a direct Workload Identity call)."""
    return (
        f"principal://iam.googleapis.com/projects/{project_number}/locations/global/workloadIdentityPools/"
        f"{project}.svc.id.goog/subject/ns/{namespace}/sa/{name}"
    )


def parse_workload_identity_principal(principal: str) -> ObjectKey:
    """The ServiceAccount a GCP log's Workload Identity principal names, in either spelling: its IAM member or its
    pool principal (the inverse of :func:`workload_identity_principal` and of ``workload_identity_member``)."""
    m = _WI_PRINCIPAL.match(principal) or _WI_MEMBER_ANY.match(principal)
    if m is None:
        raise ConventionError(
            f"Workload Identity principal {principal!r} is not of the form "
            "'serviceAccount:<project>.svc.id.goog[<namespace>/<name>]' or "
            "'principal://iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/"
            "<project>.svc.id.goog/subject/ns/<namespace>/sa/<name>'"
        )
    return ObjectKey(m["namespace"], m["name"])


def workload_identity_namespace_set(project_number: str, project: str, namespace: str) -> str:
    """Every ServiceAccount of ``namespace`` as one IAM principal set of the project's workload pool."""
    return (
        f"principalSet://iam.googleapis.com/projects/{project_number}/locations/global/workloadIdentityPools/"
        f"{project}.svc.id.goog/namespace/{namespace}"
    )


def parse_workload_identity_namespace_set(member: str) -> str:
    """The namespace of :func:`workload_identity_namespace_set`'s form, whole; any other principal set (a cluster's,
    an attribute's, one with more path after the namespace) is refused: it is not one namespace's accounts."""
    m = _WI_NAMESPACE_SET.match(member)
    if m is None:
        raise ConventionError(
            f"Workload Identity principal set {member!r} is not of the form 'principalSet://iam.googleapis.com/projects/"
            "<number>/locations/global/workloadIdentityPools/<project>.svc.id.goog/namespace/<namespace>'"
        )
    return m["namespace"]
