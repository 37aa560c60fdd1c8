"""When each component is ready: its health endpoint on 127.0.0.1 answers, over TLS where it serves TLS."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

from secrets_platform.localcluster import reloader
from secrets_platform.localcluster.layout import LOOPBACK

if TYPE_CHECKING:
    from secrets_platform.localcluster.cluster import Cluster


def _tls(cluster: Cluster) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(cluster.pki / "ca.crt"))
    ctx.load_cert_chain(str(cluster.pki / "admin.crt"), str(cluster.pki / "admin.key"))
    return ctx


def get(cluster: Cluster, url: str, tls: bool = True) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2, context=_tls(cluster) if tls else None) as resp:
            return resp.read().decode(errors="replace")
    except (urllib.error.URLError, OSError, ssl.SSLError):
        return None


def etcd(cluster: Cluster) -> bool:
    """etcd's /health over TLS, with the API server's etcd client certificate (the only kind etcd accepts)."""
    ctx = ssl.create_default_context(cafile=str(cluster.pki / "etcd-ca.crt"))
    ctx.load_cert_chain(str(cluster.pki / "apiserver-etcd-client.crt"), str(cluster.pki / "apiserver-etcd-client.key"))
    try:
        with urllib.request.urlopen(f"https://{LOOPBACK}:{cluster.ports.etcd}/health", timeout=2, context=ctx) as resp:
            return '"health":"true"' in resp.read().decode(errors="replace")
    except (urllib.error.URLError, OSError, ssl.SSLError):
        return False


def external_secrets(cluster: Cluster) -> bool:
    return "controller_runtime" in (get(cluster, f"http://{LOOPBACK}:{cluster.ports.external_secrets}/metrics", tls=False) or "")


def controller_manager(cluster: Cluster, port: int | None = None) -> bool:
    ctx = ssl.create_default_context(cafile=str(cluster.pki / "ca.crt"))
    try:
        with urllib.request.urlopen(f"https://{LOOPBACK}:{port or cluster.ports.controller_manager}/healthz", timeout=2, context=ctx) as r:
            return r.read().decode().strip() == "ok"
    except (urllib.error.URLError, OSError, ssl.SSLError):
        return False


def scheduler(cluster: Cluster) -> bool:
    return controller_manager(cluster, cluster.ports.scheduler)


def reloader_live(cluster: Cluster) -> bool:
    return reloader.healthy(lambda: cluster.listeners().get("reloader", []))


def kubelet(cluster: Cluster) -> bool:
    return (get(cluster, f"http://{LOOPBACK}:{cluster.ports.kubelet_healthz}/healthz", tls=False) or "").strip() == "ok" and (
        cluster.node.node_ready()
    )
