"""Least privilege for job runners: a `job-runner` account per namespace that may `get`
exactly the Secrets of that namespace, by name, and nothing else.

Never grants list or watch (they would reveal every Secret's data), never `*`, and
never uses a ClusterRole for secrets.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

import conventions
from components.common import child_options, metadata

ROLE_NAME = "job-runner-secrets"


@dataclass(frozen=True)
class JobRunnerAccessArgs:
    namespace: str
    environment: str
    secret_names: tuple[str, ...]
    """The Secrets the platform creates in this namespace."""


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

    def __init__(self, name: str, args: JobRunnerAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        ns, env = args.namespace, args.environment
        child = child_options(self, opts)
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{ns}/{conventions.JOB_RUNNER}",
            metadata=metadata(conventions.JOB_RUNNER, env, ns),
            opts=child,
        )
        self.role = k8s.rbac.v1.Role(
            f"{ns}/{ROLE_NAME}",
            metadata=metadata(ROLE_NAME, env, ns),
            rules=secret_rules(args.secret_names),
            opts=child,
        )
        self.role_binding = k8s.rbac.v1.RoleBinding(
            f"{ns}/{ROLE_NAME}",
            metadata=metadata(ROLE_NAME, env, ns),
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ROLE_NAME},
            subjects=[{"kind": "ServiceAccount", "name": conventions.JOB_RUNNER, "namespace": ns}],
            opts=child,
        )
        self.register_outputs({"service_account": f"{ns}/{conventions.JOB_RUNNER}", "role": ROLE_NAME})
