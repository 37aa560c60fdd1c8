"""Each component's command line and environment: every listener on 127.0.0.1, TLS with the local CA's certificates."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Callable

from secrets_platform.localcluster import injector, reloader
from secrets_platform.localcluster.audit import AUDIT_LOG_BACKUPS, AUDIT_LOG_MAX_MB
from secrets_platform.localcluster.layout import ISSUER, LOOPBACK, SERVICE_RANGE

if TYPE_CHECKING:
    from pathlib import Path

    from secrets_platform.localcluster.cluster import Cluster

CONTROLLERS = (
    "namespace-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "garbage-collector-controller",
    "root-ca-certificate-publisher-controller",
    # For pods that run (secrets_platform/localcluster/node): the node's taints and health, rollouts, batch.
    "node-lifecycle-controller",
    "deployment-controller",
    "replicaset-controller",
    # Reloader rolls StatefulSets and DaemonSets too (secrets_platform/localcluster/reloader.py).
    "statefulset-controller",
    "daemonset-controller",
    "job-controller",
    "cronjob-controller",
    "pod-garbage-collector-controller",
)


def _etcd_listener_tls(p: Path, prefix: str, certificate: str) -> list[str]:
    """One etcd listener's TLS flags (``prefix`` ``peer-`` for the peer listener): it serves ``certificate`` and
    requires of every client a certificate of etcd's own CA."""
    return [
        f"--{prefix}cert-file={p / f'{certificate}.crt'}",
        f"--{prefix}key-file={p / f'{certificate}.key'}",
        f"--{prefix}client-cert-auth",
        f"--{prefix}trusted-ca-file={p / 'etcd-ca.crt'}",
    ]


def etcd(cluster: Cluster) -> list[str]:
    """TLS only, both listeners, and a certificate of etcd's own CA required from every client and peer."""
    p, ports = cluster.pki, cluster.ports
    peer, client = f"https://{LOOPBACK}:{ports.etcd_peer}", f"https://{LOOPBACK}:{ports.etcd}"
    return [
        *_etcd_listener_tls(p, "", "etcd-server"),
        *_etcd_listener_tls(p, "peer-", "etcd-peer"),
        "--tls-min-version=TLS1.2",
        "--name",
        "local",
        "--data-dir",
        str(cluster.root / "etcd"),
        "--listen-client-urls",
        client,
        "--advertise-client-urls",
        client,
        "--listen-peer-urls",
        peer,
        "--initial-advertise-peer-urls",
        peer,
        "--initial-cluster",
        f"local={peer}",
        "--log-level",
        "warn",
    ]


def external_secrets(cluster: Cluster) -> list[str]:
    """The controller of the pinned module as a local process (it reads $KUBECONFIG): metrics on
    loopback, no webhook, no leader election; like the chart's values, no ClusterExternalSecret
    or ClusterPushSecret processing."""
    return [
        f"--metrics-addr={LOOPBACK}:{cluster.ports.external_secrets}",
        "--enable-leader-election=false",
        "--enable-cluster-external-secret-reconciler=false",
        "--enable-cluster-push-secret-reconciler=false",
        "--loglevel=info",
    ]


def kube_apiserver(cluster: Cluster) -> list[str]:
    p, ports = cluster.pki, cluster.ports
    return [
        f"--etcd-servers=https://{LOOPBACK}:{ports.etcd}",
        f"--etcd-cafile={p / 'etcd-ca.crt'}",
        f"--etcd-certfile={p / 'apiserver-etcd-client.crt'}",
        f"--etcd-keyfile={p / 'apiserver-etcd-client.key'}",
        f"--bind-address={LOOPBACK}",
        f"--advertise-address={LOOPBACK}",
        f"--secure-port={ports.api}",
        f"--tls-cert-file={p / 'apiserver.crt'}",
        f"--tls-private-key-file={p / 'apiserver.key'}",
        f"--client-ca-file={p / 'ca.crt'}",
        f"--service-account-issuer={ISSUER}",
        f"--service-account-key-file={p / 'sa.pub'}",
        f"--service-account-signing-key-file={p / 'sa.key'}",
        f"--service-cluster-ip-range={SERVICE_RANGE}",
        f"--requestheader-client-ca-file={p / 'front-proxy-ca.crt'}",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        f"--proxy-client-cert-file={p / 'front-proxy-client.crt'}",
        f"--proxy-client-key-file={p / 'front-proxy-client.key'}",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        f"--kubelet-client-certificate={p / 'apiserver-kubelet-client.crt'}",
        f"--kubelet-client-key={p / 'apiserver-kubelet-client.key'}",
        f"--kubelet-certificate-authority={p / 'ca.crt'}",
        "--kubelet-preferred-address-types=InternalIP",
        "--anonymous-auth=false",
        "--endpoint-reconciler-type=none",
        "--profiling=false",
        "--enable-priority-and-fairness=false",
        f"--audit-policy-file={cluster.audit_policy}",
        f"--audit-log-path={cluster.audit_log}",
        "--audit-log-format=json",
        f"--audit-log-maxsize={AUDIT_LOG_MAX_MB}",
        f"--audit-log-maxbackup={AUDIT_LOG_BACKUPS}",
        # blocking: an event is on disk before the request is answered (no buffer to lose at a crash)
        "--audit-log-mode=blocking",
    ]


def _serving(cluster: Cluster, kubeconfig: str, certificate: str, port: int) -> list[str]:
    """A control-plane client on its own kubeconfig (the data folder's ``kubeconfig``, for delegated authentication and
    authorization too) that serves its health on 127.0.0.1:``port`` with its ``certificate`` of the local CA (pki.create)."""
    p, path = cluster.pki, cluster.root / kubeconfig
    return [
        f"--kubeconfig={path}",
        f"--authentication-kubeconfig={path}",
        f"--authorization-kubeconfig={path}",
        f"--bind-address={LOOPBACK}",
        f"--secure-port={port}",
        f"--tls-cert-file={p / f'{certificate}.crt'}",
        f"--tls-private-key-file={p / f'{certificate}.key'}",
    ]


def kube_scheduler(cluster: Cluster) -> list[str]:
    return [
        *_serving(cluster, "scheduler.kubeconfig", "scheduler-serving", cluster.ports.scheduler),
        "--leader-elect=false",
        "--profiling=false",
    ]


def kube_controller_manager(cluster: Cluster) -> list[str]:
    p = cluster.pki
    return [
        *_serving(cluster, "controller-manager.kubeconfig", "controller-manager-serving", cluster.ports.controller_manager),
        f"--controllers={','.join(CONTROLLERS)}",
        "--use-service-account-credentials=true",
        "--leader-elect=false",
        f"--service-account-private-key-file={p / 'sa.key'}",
        f"--root-ca-file={p / 'ca.crt'}",
        "--profiling=false",
    ]


def containerd(cluster: Cluster) -> list[str]:
    from secrets_platform.localcluster.node import config

    return config.containerd_args(cluster.node)


def kubelet(cluster: Cluster) -> list[str]:
    from secrets_platform.localcluster.node import config

    return config.kubelet_args(cluster.node)


_COMMAND_LINES: dict[str, Callable[[Cluster], list[str]]] = {
    "etcd": etcd,
    "external-secrets": external_secrets,
    "kube-apiserver": kube_apiserver,
    "kube-scheduler": kube_scheduler,
    "kube-controller-manager": kube_controller_manager,
    "vault-injector": injector.args,
    "reloader": lambda cluster: reloader.args(),
    "containerd": containerd,
    "kubelet": kubelet,
}


def args(cluster: Cluster, component: str) -> list[str]:
    """The command line of ``component`` (a name of :data:`secrets_platform.localcluster.layout.COMPONENTS`)."""
    return _COMMAND_LINES[component](cluster)


def environment(cluster: Cluster, component: str) -> dict[str, str]:
    """A clean environment: etcd reads ETCD_* variables, clients read KUBECONFIG."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cluster.root), "LANG": "C.UTF-8"}
    if component in ("containerd", "kubelet"):  # they run Debian's runc, shims, mount and CNI plugins
        env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    if component == "external-secrets":
        env["KUBECONFIG"] = str(cluster.kubeconfig)
    if component == "reloader":
        env.update(reloader.environment(str(cluster.kubeconfig)))
    return env
