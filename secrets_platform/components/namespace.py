"""One environment namespace: Pod Security `restricted`, no default token automount.

Does not create workloads' own service accounts (see :mod:`components.access`).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from secrets_platform import conventions
from secrets_platform.components.common import data_safety, metadata, patch_metadata
from secrets_platform.model.specs import NamespaceSpec

# Pod Security Admission: reject pods that break the `restricted` profile, and warn/audit at it too.
POD_SECURITY_LABELS = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}


class PlatformNamespace(pulumi.ComponentResource):
    """A namespace of one environment and the hardening of its `default` service account."""

    TYPE = "secrets-platform:namespaces:PlatformNamespace"

    def __init__(self, name: str, spec: NamespaceSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        self.name = spec.name
        child = pulumi.ResourceOptions(parent=self)
        self.namespace = k8s.core.v1.Namespace(
            self.name,
            metadata=metadata(self.name, spec.labels, extra_labels=POD_SECURITY_LABELS),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(**data_safety(spec.protect))),
        )
        # The `default` service account exists in every namespace; patch it so pods that
        # name no account get no API token.
        self.default_service_account = k8s.core.v1.ServiceAccountPatch(
            conventions.object_key(self.name, "default"),
            metadata=patch_metadata("default", spec.labels, self.name),
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.namespace])),
        )
        self.register_outputs({"name": self.name})
