"""The e2e tier's shared local cluster: one for the session, lent to one module at a time and taken back clean.

Each e2e module used to start and destroy a local cluster of its own (etcd, the API server, the controllers,
External Secrets, the injector, Reloader, containerd and a kubelet: secrets_platform/localcluster), about a
dozen starts in the tier. Now the session starts one when a module first asks for ``cluster``
(tests/conftest.py) and lends it to each module in turn. Each module still applies, changes and destroys
its own copy of the stack on it, as before: tests that rotate, refresh, patch-apply or destroy do so on
their module's stack alone.

What a module borrows is what a new cluster gives it, as far as its tests can see:

- every component running and ready;
- no namespace, ClusterRoleBinding or ClusterSecretStore but those the cluster had when it was started
  (the module before destroyed its stack; namespaces its tests created are deleted here, and their
  deletion waited for);
- no OpenBao or PostgreSQL running and none of their files: a module that starts them gets new ones
  (a new root token, new passwords, an empty database, an empty Vault and Vault audit log).

A cluster that cannot be brought back to that is destroyed and the next module gets a new one, so no module
depends on which modules ran before it. Modules that judge a cluster's own history keep one of their own
(``own_cluster`` in tests/conftest.py), and modules that start clusters themselves close the shared one first
(``no_shared_cluster``): no second cluster runs beside theirs, as before.
"""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from secrets_platform.localcluster import Cluster, free_port_base
from secrets_platform.localcluster.postgres import LocalPostgres
from secrets_platform.localcluster.vault import OpenBao

KINDS = "namespaces,clusterrolebindings,clustersecretstores.external-secrets.io"
"""What a module's stack (or its tests) may add to a cluster beyond its namespaces' contents."""
SYSTEM_NAMESPACES = {f"namespace/{name}" for name in ("default", "kube-system", "kube-public", "kube-node-lease")}
"""The API server's own namespaces: never a module's leftovers, whenever they appeared."""
SETTLE_TIMEOUT = 180.0
"""How long deleted namespaces may take to go (their pods stop first) before the cluster is given up."""


def start_cluster(root: Path) -> Cluster:
    """A new local cluster in ``root`` on free loopback ports, started (stopped and removed again if the start fails)."""
    cluster = Cluster(root, port_base=free_port_base())
    try:
        cluster.start()
    except BaseException:
        stop_cluster(cluster)
        raise
    return cluster


def stop_servers(cluster: Cluster, remove: bool = False) -> None:
    """Stop the local Vault and database a module started beside ``cluster``; with ``remove``, drop their files too."""
    for server in (LocalPostgres(cluster), OpenBao(cluster)):
        server.stop()
        if remove:
            shutil.rmtree(server.root, ignore_errors=True)


def stop_cluster(cluster: Cluster) -> None:
    """Stop the servers beside ``cluster``, then stop it and remove its data (no pod, mount or cgroup left)."""
    try:
        stop_servers(cluster)
    finally:
        cluster.destroy()


def inventory(cluster: Cluster) -> set[str]:
    """The cluster's namespaces, ClusterRoleBindings and ClusterSecretStores (``kind/name``)."""
    return set(cluster.kubectl("get", KINDS, "-o", "name").stdout.split())


def healthy(cluster: Cluster) -> bool:
    """Every component of ``cluster`` running, and its API server ready."""
    return all(cluster.pids().values()) and cluster.ready()


class ClusterPool:
    """The session's one shared cluster (started on first use), lent to one module at a time."""

    def __init__(self, new_root: Callable[[], Path]):
        self._new_root = new_root
        self._cluster: Cluster | None = None
        self._started_with: set[str] = set()
        self.starts = 0
        """How many clusters the pool started (a cluster it gave up is replaced by a new one)."""

    def lend(self) -> Cluster:
        """The shared cluster, clean (a new one when there is none or it is no longer healthy)."""
        if self._cluster is not None and not healthy(self._cluster):
            self.close()
        if self._cluster is None:
            self._cluster = start_cluster(self._new_root())
            self._started_with = inventory(self._cluster)
            self.starts += 1
        return self._cluster

    def take_back(self, cluster: Cluster) -> None:
        """Bring ``cluster`` back to how it was started, or destroy it when that fails (the next module gets a new one,
        and a warning says why)."""
        assert cluster is self._cluster, "a cluster the pool did not lend"
        try:
            stop_servers(cluster, remove=True)
            problem = self._settle(cluster)
        except BaseException:
            self.close()
            raise
        if problem:
            warnings.warn(f"the shared local cluster is replaced: {problem}", stacklevel=2)
            self.close()

    def _left(self, cluster: Cluster) -> set[str]:
        """What ``cluster`` holds beyond what it was started with (its own system namespaces aside)."""
        return {name for name in inventory(cluster) - self._started_with if name not in SYSTEM_NAMESPACES}

    def _settle(self, cluster: Cluster) -> str | None:
        """Delete the namespaces a module left, wait until the cluster holds what it held when started; else what is wrong."""
        if not healthy(cluster):
            return "a component stopped or the API server is not ready"
        if gone := self._started_with - inventory(cluster):
            return f"{sorted(gone)} deleted"
        left = self._left(cluster)
        if kept := sorted(name for name in left if not name.startswith("namespace/")):
            return f"{kept} left (a stack not destroyed?)"
        for name in left:
            cluster.kubectl("delete", name, "--wait=false", check=False)
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while left and time.monotonic() < deadline:
            time.sleep(1)
            left = self._left(cluster)
        if left:
            return f"{sorted(left)} still there {SETTLE_TIMEOUT:.0f} s after their deletion"
        return None if healthy(cluster) else "a component stopped or the API server is not ready"

    def close(self) -> None:
        """Stop and remove the shared cluster, if one runs (a module that starts its own cluster runs alone)."""
        cluster, self._cluster = self._cluster, None
        if cluster is not None:
            stop_cluster(cluster)
