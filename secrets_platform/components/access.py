"""Least privilege for job runners: a `job-runner` account per namespace that may `get`
exactly the Secrets of that namespace, by name, and nothing else.

Never grants list or watch (they would reveal every Secret's data), never `*`, and
never uses a ClusterRole for secrets.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from secrets_platform import conventions
from secrets_platform.components.common import child_options, metadata
from secrets_platform.model.specs import JobRunnerSpec


def secret_rules(secret_names: tuple[str, ...]) -> list[dict]:
    """RBAC rules for reading exactly ``secret_names``.

    An empty ``resourceNames`` would match *every* Secret, so a namespace without
    platform Secrets gets no rule at all.
    """
    if not secret_names:
        return []
    return [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": sorted(set(secret_names))}]


class JobRunnerAccess(pulumi.ComponentResource):
    TYPE = "secrets-platform:access:JobRunnerAccess"

    def __init__(self, name: str, spec: JobRunnerSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        ns, account, role, labels = spec.namespace, spec.service_account, spec.role, spec.labels
        child = child_options(self, opts)
        self.service_account = k8s.core.v1.ServiceAccount(
            conventions.object_key(ns, account),
            metadata=metadata(account, labels, ns),
            opts=child,
        )
        self.role = k8s.rbac.v1.Role(
            conventions.object_key(ns, role),
            metadata=metadata(role, labels, ns),
            rules=secret_rules(spec.secret_names),
            opts=child,
        )
        self.role_binding = k8s.rbac.v1.RoleBinding(
            conventions.object_key(ns, role),
            metadata=metadata(role, labels, ns),
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
            subjects=[{"kind": "ServiceAccount", "name": account, "namespace": ns}],
            opts=child,
        )
        self.register_outputs({"service_account": conventions.object_key(ns, account), "role": role})
