"""Fixtures of the e2e tier (the local cluster, an applied project); helpers are in tests/support.py."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The e2e tier's local cluster: one per test module, in a temporary folder, on free loopback ports.

    A cluster of the tests' own, never the developer's `.cluster/`: tests can create,
    break and delete anything. Started with the same code as `make up` (secrets_platform/localcluster/),
    with the External Secrets CRDs and controller, the scheduler and the node (a kubelet over
    containerd: pods run, secrets_platform/localcluster/node); stopped and removed after the module, whatever
    happened (no pod, mount or cgroup left).
    """
    from secrets_platform.localcluster import Cluster, free_port_base
    from secrets_platform.localcluster.postgres import LocalPostgres
    from secrets_platform.localcluster.vault import OpenBao

    c = Cluster(tmp_path_factory.mktemp("cluster"), port_base=free_port_base())
    try:
        c.start()
        yield c
    finally:
        # a test that started the local Vault or database beside it must not leave them running
        LocalPostgres(c).stop()
        OpenBao(c).stop()
        c.destroy()


@pytest.fixture(scope="module")
def applied(tmp_path_factory, cluster):
    """A throwaway copy of the project with the local stack applied to the module's cluster (with the pack)."""
    from local_project import LocalProject

    p = LocalProject(tmp_path_factory.mktemp("applied"), cluster)
    p.pulumi("up", "-s", "local", "--yes", "--policy-pack", "policies")
    yield p
    p.pulumi("destroy", "-s", "local", "--yes", check=False)
