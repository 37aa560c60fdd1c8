"""The local cluster: etcd, kube-apiserver and kube-controller-manager on loopback.

``make up`` starts it (``python -m secrets_platform.localcluster up``) and applies the local stack
to it; the end-to-end tests start clusters of their own in temporary folders.
It is the envtest/kind idea without containers: real Kubernetes binaries built by
``make toolchain`` (toolchain/kube, toolchain/etcd), certificates made locally,
RBAC authorization, and nothing that can leave the loopback range:

- every listener binds 127.0.0.1 (etcd client and peer, the API server, the
  controller-manager's health port, Reloader's metrics port: upstream hard-codes every
  interface, so ``make toolchain`` builds it patched to 127.0.0.1, :mod:`secrets_platform.localcluster.reloader`);
- etcd speaks TLS only, client and peer, and takes only clients with a certificate
  of its own CA (the API server's): another local user can neither read nor write
  the Secrets it stores;
- the Service range is ``127.100.0.0/16``, so the API server calling a webhook or
  an aggregated API at a Service's ClusterIP stays on loopback too;
- pods run: kube-scheduler binds them to one node (``127.0.0.1``), a kubelet over
  Debian's containerd and runc runs them from locally built images, on a network that
  gives each pod only its own loopback (:mod:`localcluster.node`);
- the Vault agent injector (vault-k8s's admission handler) serves on 127.0.0.1 with a
  certificate of the local CA, called by a URL webhook (:mod:`localcluster.injector`).

The data folder (``.cluster/`` in the repository, git-ignored) keeps etcd's data,
the certificates, the kubeconfig and the logs, so the cluster and what was applied
to it survive ``make down``; ``make destroy`` removes it. The API server writes an
audit log there too (``audit/kube-apiserver.log``, policy :data:`AUDIT_POLICY`):
every request for a Secret, an External Secrets object, a service-account token or
an RBAC object, at ``Metadata`` level (who, what, when; never a body).

The package's modules: :mod:`.layout` (folders, addresses, components, pinned versions),
:mod:`.ports`, :mod:`.audit` (the API server's audit policy), :mod:`.data_folder` (certificates,
kubeconfigs, the state file), :mod:`.command_lines` (each component's command line),
:mod:`.health` (each component's readiness), :mod:`.process` (start a process, await it, stop it) and
:mod:`.cluster` (the life cycle); :mod:`.node`, :mod:`.injector`, :mod:`.reloader`, and the side
servers :mod:`.vault` and :mod:`.postgres`.
"""

from secrets_platform.localcluster import injector, pki, reloader
from secrets_platform.localcluster.audit import AUDIT_LOG_BACKUPS, AUDIT_LOG_MAX_MB, AUDIT_POLICY
from secrets_platform.localcluster.cluster import Cluster
from secrets_platform.localcluster.layout import (
    COMPONENTS,
    DEFAULT_BIN,
    DEFAULT_DIR,
    LOOPBACK,
    ROOT,
    SERVICE_RANGE,
    ClusterError,
    pinned_versions,
)
from secrets_platform.localcluster.ports import Ports, free_port_base
from secrets_platform.localcluster.ports import listening_sockets as _listening_sockets

__all__ = [
    "AUDIT_LOG_BACKUPS",
    "AUDIT_LOG_MAX_MB",
    "AUDIT_POLICY",
    "COMPONENTS",
    "DEFAULT_BIN",
    "DEFAULT_DIR",
    "LOOPBACK",
    "ROOT",
    "SERVICE_RANGE",
    "Cluster",
    "ClusterError",
    "Ports",
    "_listening_sockets",
    "free_port_base",
    "injector",
    "pinned_versions",
    "pki",
    "reloader",
]
