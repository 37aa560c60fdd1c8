"""Fixtures of the e2e tier (the local cluster, an applied project); helpers are in tests/support.py and tests/cluster_pool.py."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def cluster_pool(tmp_path_factory):
    """The session's shared local cluster (tests/cluster_pool.py), started when a module first borrows it, stopped and
    removed at the end of the session, whatever happened."""
    from cluster_pool import ClusterPool

    pool = ClusterPool(lambda: tmp_path_factory.mktemp("cluster"))
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(scope="module")
def cluster(cluster_pool):
    """The e2e tier's local cluster: the session's shared one, lent to one module at a time (tests/cluster_pool.py).

    A cluster of the tests' own, never the developer's `.cluster/`, in a temporary folder, on free loopback
    ports: tests can create, break and delete anything. Started with the same code as `make up`
    (secrets_platform/localcluster/), with the External Secrets CRDs and controller, the scheduler and the node (a
    kubelet over containerd: pods run, secrets_platform/localcluster/node). After the module it is taken back as
    it was started, whatever happened: the local Vault and database a test started beside it stopped and their
    files removed, the namespaces the module left deleted; a cluster that cannot be brought back is destroyed
    (no pod, mount or cgroup left) and the next module gets a new one.
    """
    c = cluster_pool.lend()
    try:
        yield c
    finally:
        cluster_pool.take_back(c)


@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory, no_shared_cluster):
    """A new local cluster for the module alone, for tests that judge a cluster's whole history (its audit log):
    started after the shared one is stopped, stopped and removed after the module with the Vault and database
    beside it, whatever happened (no pod, mount or cgroup left)."""
    from cluster_pool import start_cluster, stop_cluster

    c = start_cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield c
    finally:
        stop_cluster(c)


@pytest.fixture(scope="module")
def no_shared_cluster(cluster_pool):
    """Stops the shared cluster for a module that starts clusters of its own: no second cluster runs beside them."""
    cluster_pool.close()


@pytest.fixture(scope="module")
def applied(tmp_path_factory, cluster):
    """A throwaway copy of the project with the local stack applied to the module's cluster (with the pack)."""
    from local_project import LocalProject

    p = LocalProject(tmp_path_factory.mktemp("applied"), cluster)
    p.pulumi("up", "-s", "local", "--yes", "--policy-pack", "policies")
    yield p
    p.pulumi("destroy", "-s", "local", "--yes", check=False)


def pytest_collection_modifyitems(items):
    """Modules that stop the shared cluster (``no_shared_cluster``) run first, so the session starts it once.

    Only the order of whole modules changes, for speed: no module depends on what ran before it
    (tests/cluster_pool.py), so each also runs alone, or in any order.
    """
    solo = {item.module for item in items if "no_shared_cluster" in getattr(item, "fixturenames", ())}
    items.sort(key=lambda item: getattr(item, "module", None) not in solo)
