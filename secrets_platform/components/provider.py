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

from secrets_platform.model.specs import ProviderSpec


def kubernetes_provider(spec: ProviderSpec) -> k8s.Provider:
    """The stack's kubernetes provider as the model resolved it (``kubernetes-<env>``)."""
    if spec.render_dir:
        return k8s.Provider(spec.kubernetes, render_yaml_to_directory=spec.render_dir, enable_secret_mutable=True)
    return k8s.Provider(
        spec.kubernetes,
        kubeconfig=spec.kubeconfig,
        context=spec.context,
        enable_server_side_apply=True,
        enable_secret_mutable=True,
    )
