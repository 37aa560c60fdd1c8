"""Names of Pulumi resources and cloud identities, each built here and parsed back by its inverse.

Part of :mod:`secrets_platform.conventions` (re-exported there). A resource name is part of its URN,
so these spellings are a contract with every deployed stack: changing one replaces resources.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from secrets_platform.conventions.errors import ConventionError

_OBJECT_KEY = re.compile(r"^(?P<namespace>[^/\s]+)/(?P<name>[^/\s]+)\Z")
_GCP_EMAIL = re.compile(r"^(?P<account_id>[^@\s]+)@(?P<project>[^@\s.]+)\.iam\.gserviceaccount\.com\Z")
_GCP_ACCOUNT_PATH = re.compile(r"^projects/(?P<project>[^/\s]+)/serviceAccounts/(?P<email>[^/\s]+)\Z")
_WI_MEMBER = re.compile(r"^serviceAccount:(?P<project>[^.\s\[]+)\.svc\.id\.goog\[(?P<namespace>[^/\s\]]+)/(?P<account>[^/\s\]]+)\]\Z")


def _refuse(what: str, value: str, form: str) -> ConventionError:
    return ConventionError(f"{what} {value!r} is not of the form {form}")


class ObjectKey(NamedTuple):
    """A namespaced Kubernetes object as ``kubectl`` and the platform's resource names spell it: ``<namespace>/<name>``."""

    namespace: str
    name: str


def object_key(namespace: str, name: str) -> str:
    """``<namespace>/<name>`` (``dagster-prd/job-runner``): a namespaced object's key and its Pulumi resource name."""
    return f"{namespace}/{name}"


def parse_object_key(key: str) -> ObjectKey:
    """The inverse of :func:`object_key`."""
    m = _OBJECT_KEY.match(key)
    if not m:
        raise _refuse("object key", key, "'<namespace>/<name>'")
    return ObjectKey(m["namespace"], m["name"])


def child_resource_name(parent: str, *parts: str) -> str:
    """A component's child resource: ``<parent>-<part>-...`` (``vault-prd-auth``, ``vault-prd-dagster-prd-policy``)."""
    if not parts:
        raise ConventionError(f"child resource of {parent!r} needs at least one part")
    return "-".join((parent, *parts))


def parse_child_resource_name(name: str, parent: str) -> str:
    """The inverse of :func:`child_resource_name` given the parent: the rest (``auth``, ``dagster-prd-policy``)."""
    prefix = f"{parent}-"
    if not name.startswith(prefix) or len(name) == len(prefix):
        raise _refuse(f"child resource of {parent}", name, f"'{prefix}<part>'")
    return name[len(prefix) :]


class GcpServiceAccount(NamedTuple):
    account_id: str
    project: str


def gcp_service_account_email(account_id: str, project: str) -> str:
    """``<account id>@<project>.iam.gserviceaccount.com``."""
    return f"{account_id}@{project}.iam.gserviceaccount.com"


def parse_gcp_service_account_email(email: str) -> GcpServiceAccount:
    """The inverse of :func:`gcp_service_account_email`."""
    m = _GCP_EMAIL.match(email)
    if not m:
        raise _refuse("GCP service account email", email, "'<account id>@<project>.iam.gserviceaccount.com'")
    return GcpServiceAccount(m["account_id"], m["project"])


def gcp_service_account_path(project: str, email: str) -> str:
    """The IAM resource path of a service account: ``projects/<project>/serviceAccounts/<email>``."""
    return f"projects/{project}/serviceAccounts/{email}"


def parse_gcp_service_account_path(path: str) -> tuple[str, str]:
    """The inverse of :func:`gcp_service_account_path`: (project, email)."""
    m = _GCP_ACCOUNT_PATH.match(path)
    if not m:
        raise _refuse("GCP service account path", path, "'projects/<project>/serviceAccounts/<email>'")
    return m["project"], m["email"]


class WorkloadIdentityMember(NamedTuple):
    project: str
    namespace: str
    account: str


def workload_identity_member(project: str, namespace: str, account: str) -> str:
    """The one Kubernetes identity a GCP account trusts: ``serviceAccount:<project>.svc.id.goog[<ns>/<ksa>]``."""
    return f"serviceAccount:{project}.svc.id.goog[{object_key(namespace, account)}]"


def parse_workload_identity_member(member: str) -> WorkloadIdentityMember:
    """The inverse of :func:`workload_identity_member`."""
    m = _WI_MEMBER.match(member)
    if not m:
        raise _refuse("Workload Identity member", member, "'serviceAccount:<project>.svc.id.goog[<namespace>/<account>]'")
    return WorkloadIdentityMember(m["project"], m["namespace"], m["account"])
