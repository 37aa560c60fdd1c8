"""The data folder's certificates, kubeconfigs and state file: made at the first start, checked at every start."""

from __future__ import annotations

import base64
import json
import shutil
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING

from secrets_platform.localcluster import pki
from secrets_platform.localcluster.layout import LAYOUT, SERVICE_IP, SERVICE_RANGE, ClusterError
from secrets_platform.localcluster.ports import Ports

if TYPE_CHECKING:
    from secrets_platform.localcluster.cluster import Cluster

# The kubeconfigs of the first start (the node's own is written by the node at every start).
KUBECONFIGS = {"admin": "kubeconfig", "controller-manager": "controller-manager.kubeconfig", "scheduler": "scheduler.kubeconfig"}


def check_state(cluster: Cluster, versions: dict[str, str]) -> None:
    """Data of another version or an older layout is refused with the fix (make destroy), before anything starts."""
    root, state = cluster.root, cluster.state()
    if state is None:
        if root.exists() and (root / "etcd").exists():
            raise ClusterError(
                f"{root} holds cluster data without {cluster.state_file.name} (an older layout): run make destroy, then make up"
            )
        return
    if set(state.get("ports") or {}) != {f.name for f in fields(Ports)}:
        raise ClusterError(f"the cluster data in {root} is of an older layout (its ports differ): run make destroy, then make up")
    made = state.get("versions", {})
    if made != versions:
        raise ClusterError(
            f"the cluster data in {root} was made by kubernetes {made.get('kubernetes', '?')} / etcd "
            f"{made.get('etcd', '?')}, and the pinned versions are now kubernetes {versions['kubernetes']} / etcd "
            f"{versions['etcd']}: run make destroy (removes the local stack and the cluster data), then make up"
        )
    if state.get("layout") != LAYOUT or not all((cluster.pki / name).exists() for name in pki.ETCD_FILES):
        raise ClusterError(
            f"the cluster data in {root} is of an older layout (its etcd serves plain HTTP, without client "
            "certificates): run make destroy (removes the local stack and the cluster data), then make up"
        )


def init(cluster: Cluster, versions: dict[str, str]) -> None:
    """First start: certificates, kubeconfigs and the state file (all or nothing)."""
    ports = cluster.ports
    try:
        pki.create(cluster.pki, SERVICE_IP)
        for user, name in KUBECONFIGS.items():
            write_kubeconfig(cluster, cluster.root / name, user)
        (cluster.root / "etcd").mkdir(mode=0o700)
        cluster.state_file.write_text(
            json.dumps({"layout": LAYOUT, "versions": versions, "ports": asdict(ports), "serviceRange": SERVICE_RANGE}, indent=2) + "\n"
        )
    except BaseException:
        for leftover in (cluster.pki, cluster.root / "etcd"):
            shutil.rmtree(leftover, ignore_errors=True)
        for name in KUBECONFIGS.values():
            (cluster.root / name).unlink(missing_ok=True)
        cluster.state_file.unlink(missing_ok=True)
        raise


def write_kubeconfig(cluster: Cluster, path: Path, user: str) -> None:
    """A kubeconfig (mode 0600) for ``user``'s client certificate of the local CA, at the cluster's API server."""
    ca = (cluster.pki / "ca.crt").read_text()

    def b64(p: Path) -> str:
        return base64.b64encode(p.read_bytes()).decode()

    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "secrets-platform-local",
                "cluster": {"server": cluster.server, "certificate-authority-data": base64.b64encode(ca.encode()).decode()},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {"client-certificate-data": b64(cluster.pki / f"{user}.crt"), "client-key-data": b64(cluster.pki / f"{user}.key")},
            }
        ],
        "contexts": [{"name": "secrets-platform-local", "context": {"cluster": "secrets-platform-local", "user": user}}],
        "current-context": "secrets-platform-local",
    }
    path.write_text(json.dumps(doc, indent=2) + "\n")
    path.chmod(0o600)
