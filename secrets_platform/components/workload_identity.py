"""A GCP service account per environment that one Kubernetes service account may act as.

Keyless by construction: GKE Workload Identity lets exactly
``<project>.svc.id.goog[<namespace>/<ksa>]`` mint tokens for the account
(``roles/iam.workloadIdentityUser`` on the account itself, never on the project),
and no key resource exists anywhere. What the account may *read* is granted per
secret by :mod:`components.external_secrets`, never here and never project-wide.

Every id and member is a literal built from config, not another resource's
output, so `pulumi preview` (and the policy pack) sees the real values.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from secrets_platform import conventions
from secrets_platform.components.common import child_options

WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"


@dataclass(frozen=True)
class WorkloadIdentitySpec:
    """A GCP account and its one Kubernetes identity, as the stack resolved them (:func:`workload_identity_spec`)."""

    account_id: str
    """``<component>-<env>`` (6-30 chars, :func:`conventions.gcp_service_account_id`)."""
    email: str
    project: str
    member: str
    """The one Kubernetes identity allowed (:func:`workload_identity_member`)."""
    display_name: str
    description: str


def workload_identity_spec(
    component: str, environment: str, project: str, namespace: str, kubernetes_service_account: str
) -> WorkloadIdentitySpec:
    """``<component>-<env>@<project>``, which only ``<namespace>/<kubernetes_service_account>`` may act as."""
    return WorkloadIdentitySpec(
        conventions.gcp_service_account_id(component, environment),
        service_account_email(component, environment, project),
        project,
        workload_identity_member(project, namespace, kubernetes_service_account),
        f"{component} ({environment})",
        f"secrets-platform: {component} of {environment}, keyless via Workload Identity",
    )


def service_account_email(component: str, environment: str, project: str) -> str:
    return conventions.gcp_service_account_email(component, environment, project)


def workload_identity_member(project: str, namespace: str, kubernetes_service_account: str) -> str:
    """The one Kubernetes identity allowed: ``serviceAccount:<project>.svc.id.goog[<ns>/<ksa>]``."""
    return conventions.workload_identity_member(project, namespace, kubernetes_service_account)


def gcp_labels(environment: str) -> dict[str, str]:
    """The CONVENTIONS labels in GCP's label alphabet (no '/' or '.' in keys)."""
    return {"managed-by": "pulumi", "part-of": conventions.PROJECT, "environment": environment}


class WorkloadIdentity(pulumi.ComponentResource):
    """``<component>-<env>@<project>`` and its Workload Identity binding."""

    TYPE = "secrets-platform:gcp:WorkloadIdentity"

    def __init__(self, name: str, args: WorkloadIdentitySpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        child = child_options(self, opts)
        self.account_id, self.email, self.member = args.account_id, args.email, args.member
        self.account = gcp.serviceaccount.Account(
            conventions.child_resource_name(name, "account"),
            account_id=self.account_id,
            project=args.project,
            display_name=args.display_name,
            description=args.description,
            opts=child,
        )
        self.binding = gcp.serviceaccount.IAMMember(
            conventions.child_resource_name(name, "workload-identity"),
            service_account_id=conventions.gcp_service_account_resource_name(args.project, self.email),
            role=WORKLOAD_IDENTITY_USER,
            member=self.member,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.account])),
        )
        self.register_outputs({"email": self.email, "member": self.member})
