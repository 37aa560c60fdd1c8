"""The explicit kubernetes provider of a stack; the ambient default provider is never used.

local applies to the local cluster on loopback (``make up`` starts it; its
kubeconfig is ``.cluster/kubeconfig``), or renders manifests into a git-ignored
folder (``make render``); dev, stg and prd apply to the cluster of their kubeconfig
context. (That local reaches loopback only is checked with the settings, before
anything is registered: :func:`settings.kubeconfig.check_local_kubeconfig`.)

Secrets are mutable (``enableSecretMutable``): by default the provider replaces a
Secret whose data changes, and a Secret with a fixed name can only be replaced by
deleting it first, which would leave consumers a window without it during every
rotation. Mutable, a rotation is an in-place update and the Secret never goes away.

Server-side apply everywhere a cluster is reached: no object gets a
``last-applied-configuration`` annotation, which for a Secret would hold its data.
"""

from __future__ import annotations

import pulumi_kubernetes as k8s

from secrets_platform import conventions

from secrets_platform.settings import Settings


def kubernetes_provider(settings: Settings) -> k8s.Provider:
    name = conventions.provider_name("kubernetes", settings.environment)
    if settings.render_dir:
        return k8s.Provider(name, render_yaml_to_directory=settings.render_dir, enable_secret_mutable=True)
    return k8s.Provider(
        name,
        kubeconfig=settings.kubeconfig,
        context=settings.config.kubernetes.context,
        enable_server_side_apply=True,
        enable_secret_mutable=True,
    )
