"""Names of Pulumi resources and cloud identities, each built here and parsed back by its inverse.

Part of :mod:`secrets_platform.conventions` (re-exported there). A resource name is part of its URN,
so these spellings are a contract with every deployed stack: changing one replaces resources.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from secrets_platform.conventions.environments import split_env_suffix
from secrets_platform.conventions.errors import ConventionError, between, matched
from secrets_platform.conventions.forms import Form

__all__ = [
    "GCP_MEMBER_PREFIX",
    "GcpServiceAccount",
    "KindRef",
    "ObjectKey",
    "WorkloadIdentityMember",
    "child_resource_name",
    "gcp_service_account_email",
    "gcp_service_account_id",
    "gcp_service_account_member",
    "gcp_service_account_resource_name",
    "kind_ref",
    "object_key",
    "parse_child_resource_name",
    "parse_gcp_service_account_email",
    "parse_gcp_service_account_id",
    "parse_gcp_service_account_member",
    "parse_gcp_service_account_resource_name",
    "parse_kind_ref",
    "parse_object_key",
    "parse_workload_identity_member",
    "workload_identity_member",
]

_OBJECT_KEY = Form("object key", "{namespace}/{name}", namespace=r"[^/\s]+", name=r"[^/\s]+")
_KIND_REF = Form("object reference", "{kind}/{name}", kind="[^/]+", name="[^/]+")
_GCP_EMAIL = re.compile(r"^(?P<account_id>[^@\s]+)@(?P<project>[^@\s.]+)\.iam\.gserviceaccount\.com\Z")
_GCP_ACCOUNT_PATH = Form("GCP service account path", "projects/{project}/serviceAccounts/{email}", project=r"[^/\s]+", email=r"[^/\s]+")


class ObjectKey(NamedTuple):
    """A namespaced Kubernetes object as ``kubectl`` and the platform's resource names spell it: ``<namespace>/<name>``."""

    namespace: str
    name: str


def object_key(namespace: str, name: str) -> str:
    """``<namespace>/<name>`` (``dagster-prd/job-runner``): a namespaced object's key and its Pulumi resource name."""
    return _OBJECT_KEY.build(namespace=namespace, name=name)


def parse_object_key(key: str) -> ObjectKey:
    """The inverse of :func:`object_key`."""
    return ObjectKey(**_OBJECT_KEY.parse(key))


class KindRef(NamedTuple):
    kind: str
    name: str


def kind_ref(kind: str, name: object) -> str:
    """An object by kind and name, as ``kubectl`` spells it: ``<kind>/<name>`` (``Deployment/dagster-daemon``)."""
    return _KIND_REF.build(kind=kind, name=name)


def parse_kind_ref(ref: str) -> KindRef:
    """The inverse of :func:`kind_ref`."""
    return KindRef(**_KIND_REF.parse(ref))


def child_resource_name(parent: str, *parts: str) -> str:
    """A component's child resource: ``<parent>-<part>-...`` (``vault-prd-auth``, ``vault-prd-dagster-prd-policy``)."""
    if not parts:
        raise ConventionError(f"child resource of {parent!r} needs at least one part")
    return "-".join((parent, *parts))


def parse_child_resource_name(name: str, parent: str) -> str:
    """The inverse of :func:`child_resource_name` given the parent: the rest (``auth``, ``dagster-prd-policy``)."""
    return between(name, f"child resource of {parent}", f"'{parent}-<part>'", prefix=f"{parent}-")


# GCP service account ids: 6-30 chars, start with a letter.
_GCP_SA_ID = re.compile(r"^[a-z]([-a-z0-9]{4,28})[a-z0-9]\Z")


def gcp_service_account_id(component: str, env: str) -> str:
    value = f"{component}-{env}"
    if not _GCP_SA_ID.match(value):
        raise ConventionError(f"GCP service account id {value!r} must be 6-30 characters of a-z, 0-9 and '-', starting with a letter")
    return value


def parse_gcp_service_account_id(value: str) -> tuple[str, str]:
    """The inverse of :func:`gcp_service_account_id`: (component, env)."""
    return split_env_suffix(value, "GCP service account id", "'<component>-<env>'")


class GcpServiceAccount(NamedTuple):
    component: str
    env: str
    project: str


def gcp_service_account_email(component: str, env: str, project: str) -> str:
    """The GCP service account's email: ``<component>-<env>@<project>.iam.gserviceaccount.com``."""
    return f"{gcp_service_account_id(component, env)}@{project}.iam.gserviceaccount.com"


def parse_gcp_service_account_email(email: str) -> GcpServiceAccount:
    """The inverse of :func:`gcp_service_account_email`."""
    m = matched(_GCP_EMAIL, "GCP service account email", email, "'<component>-<env>@<project>.iam.gserviceaccount.com'")
    return GcpServiceAccount(*parse_gcp_service_account_id(m["account_id"]), m["project"])


# How an IAM policy names a service account as a member (and a Workload Identity member: workload_identity_member).
GCP_MEMBER_PREFIX = "serviceAccount:"
_WI_MEMBER = Form(
    "Workload Identity member",
    f"{GCP_MEMBER_PREFIX}{{project}}.svc.id.goog[{{namespace}}/{{account}}]",
    project=r"[^.\s\[]+",
    namespace=r"[^/\s\]]+",
    account=r"[^/\s\]]+",
)
_GCP_MEMBER = re.compile(rf"^{GCP_MEMBER_PREFIX}(?P<email>[^@\s]+@[^@\s.]+\.iam\.gserviceaccount\.com)\Z")


def gcp_service_account_member(email: str) -> str:
    """A GCP service account as an IAM member: ``serviceAccount:<email>``."""
    return f"{GCP_MEMBER_PREFIX}{email}"


def parse_gcp_service_account_member(member: str) -> str:
    """The inverse of :func:`gcp_service_account_member`: the email."""
    return matched(_GCP_MEMBER, "GCP service account member", member, f"'{GCP_MEMBER_PREFIX}<account>@<project>.iam.gserviceaccount.com'")[
        "email"
    ]


def gcp_service_account_resource_name(project: str, email: str) -> str:
    """The IAM resource path of a service account: ``projects/<project>/serviceAccounts/<email>``."""
    return _GCP_ACCOUNT_PATH.build(project=project, email=email)


def parse_gcp_service_account_resource_name(path: str) -> tuple[str, str]:
    """The inverse of :func:`gcp_service_account_resource_name`: (project, email)."""
    m = _GCP_ACCOUNT_PATH.parse(path)
    return m["project"], m["email"]


class WorkloadIdentityMember(NamedTuple):
    project: str
    namespace: str
    account: str


def workload_identity_member(project: str, namespace: str, account: str) -> str:
    """The one Kubernetes identity a GCP account trusts: ``serviceAccount:<project>.svc.id.goog[<ns>/<ksa>]``."""
    return _WI_MEMBER.build(project=project, namespace=namespace, account=account)


def parse_workload_identity_member(member: str) -> WorkloadIdentityMember:
    """The inverse of :func:`workload_identity_member`."""
    return WorkloadIdentityMember(**_WI_MEMBER.parse(member))
