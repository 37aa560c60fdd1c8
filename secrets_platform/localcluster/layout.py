"""What the local cluster is made of and where it lives: its folders, addresses, components and pinned versions."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, overload

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / ".cluster"
DEFAULT_BIN = ROOT / "build" / "cluster"
VERSIONS_FILE = ROOT / "toolchain" / "versions.txt"

SERVICE_RANGE = "127.100.0.0/16"
SERVICE_IP = "127.100.0.1"  # the first address of the range: the `kubernetes` Service
LOOPBACK = "127.0.0.1"
ISSUER = "https://kubernetes.default.svc.cluster.local"
# Processes in start order; stopped in reverse.
# reloader: Reloader, batch-safe and scoped to the platform's namespaces (secrets_platform/localcluster/reloader.py).
COMPONENTS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "external-secrets",
    "vault-injector",
    "reloader",
    "containerd",
    "kubelet",
)
# Debian's, not built by make toolchain (secrets_platform/localcluster/node).
SYSTEM_BINARIES = {"containerd": "/usr/bin/containerd"}
ESO_CRDS = "external-secrets-crds.yaml"
# The data folder's layout; state files of another (older) layout are refused with the fix (make destroy).
# 2: etcd serves TLS with client certificates (layout 1 served plain HTTP).
LAYOUT = 2


class _Rooted(Protocol):
    @property
    def root(self) -> Path: ...


class InRoot:
    """A read-only path attribute, ``<instance>.root / <parts>``: how the cluster, its node and its servers declare
    the layout of their data folders, one line a path (``pki = InRoot("pki")``)."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts

    @overload
    def __get__(self, instance: None, owner: type) -> InRoot: ...

    @overload
    def __get__(self, instance: _Rooted, owner: type) -> Path: ...

    def __get__(self, instance: _Rooted | None, owner: type) -> Path | InRoot:
        return self if instance is None else instance.root.joinpath(*self.parts)


class ClusterError(RuntimeError):
    """Something the user can fix; the message names the cause and the fix."""


def pinned_versions(path: Path = VERSIONS_FILE) -> dict[str, str]:
    """The control plane's pinned versions from toolchain/versions.txt: {"kubernetes": "v1.34.4", "etcd": "v3.6.16"}."""
    wanted = {"k8s.io/kubernetes": "kubernetes", "go.etcd.io/etcd/server/v3": "etcd"}
    out = {}
    for line in path.read_text().splitlines():
        cols = line.split()
        if len(cols) >= 4 and not line.startswith("#") and cols[2] in wanted:
            out[wanted[cols[2]]] = cols[3]
    return out
