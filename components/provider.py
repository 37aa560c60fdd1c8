"""The explicit kubernetes provider of a stack; the ambient default provider is never used.

local renders manifests into a git-ignored folder and never talks to a cluster;
dev, stg and prd apply to the cluster of their kubeconfig context.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from settings import Settings


def kubernetes_provider(settings: Settings) -> k8s.Provider:
    kube = settings.config.kubernetes
    if settings.render_dir:
        return k8s.Provider(
            f"kubernetes-{settings.environment}",
            render_yaml_to_directory=settings.render_dir,
        )
    return k8s.Provider(
        f"kubernetes-{settings.environment}",
        context=kube.context,
        # Fail rather than guess when a field cannot be applied server-side.
        enable_server_side_apply=True,
        opts=pulumi.ResourceOptions(),
    )
