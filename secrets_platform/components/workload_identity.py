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

import pulumi
import pulumi_gcp as gcp

from secrets_platform import conventions
from secrets_platform.components.common import child_options
from secrets_platform.model.specs import WorkloadIdentitySpec

WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"


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
            service_account_id=args.account_resource,
            role=WORKLOAD_IDENTITY_USER,
            member=self.member,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.account])),
        )
        self.register_outputs({"email": self.email, "member": self.member})
