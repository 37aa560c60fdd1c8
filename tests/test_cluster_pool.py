"""The e2e tier's shared cluster (tests/cluster_pool.py) is lent clean or replaced: with a fake cluster, no process."""

from __future__ import annotations

from pathlib import Path

import cluster_pool
import pytest
from cluster_pool import ClusterPool

STARTED_WITH = {"namespace/default", "namespace/kube-system", "clusterrolebinding.rbac.authorization.k8s.io/system:basic-user"}


class FakeCluster:
    """What the pool sees of a cluster: its objects, its health, and the kubectl deletes it is sent."""

    def __init__(self, root: Path):
        self.root = root
        self.objects = set(STARTED_WITH)
        self.up = True
        self.deleted: list[str] = []
        self.destroyed = False

    def kubectl(self, *args: str, check: bool = True):
        assert args[0] == "delete" and "--wait=false" in args, args
        self.deleted.append(args[1])
        self.objects.discard(args[1])


@pytest.fixture
def pool(monkeypatch, tmp_path):
    roots = iter(tmp_path / f"c{i}" for i in range(10))
    monkeypatch.setattr(cluster_pool, "start_cluster", FakeCluster)
    monkeypatch.setattr(cluster_pool, "stop_cluster", lambda c: setattr(c, "destroyed", True))
    monkeypatch.setattr(cluster_pool, "stop_servers", lambda c, remove=False: None)
    monkeypatch.setattr(cluster_pool, "inventory", lambda c: set(c.objects))
    monkeypatch.setattr(cluster_pool, "healthy", lambda c: c.up)
    monkeypatch.setattr(cluster_pool, "SETTLE_TIMEOUT", 2.0)
    return ClusterPool(lambda: next(roots))


def test_one_cluster_is_started_and_lent_again_when_the_module_left_nothing(pool):
    first = pool.lend()
    first.objects.add("namespace/kube-node-lease")  # the API server's own, whenever it appears
    pool.take_back(first)
    assert pool.lend() is first and pool.starts == 1 and not first.destroyed and first.deleted == []


def test_namespaces_a_module_left_are_deleted_before_the_cluster_is_lent_again(pool):
    first = pool.lend()
    first.objects |= {"namespace/reloader-outside", "namespace/not-the-platforms"}
    pool.take_back(first)
    assert sorted(first.deleted) == ["namespace/not-the-platforms", "namespace/reloader-outside"]
    assert pool.lend() is first and pool.starts == 1


@pytest.mark.parametrize(
    "spoil",
    [
        lambda c: c.objects.add("clusterrolebinding.rbac.authorization.k8s.io/patch-admin"),
        lambda c: c.objects.add("clustersecretstore.external-secrets.io/gcp-secret-manager-local"),
        lambda c: c.objects.discard("namespace/default"),
        lambda c: setattr(c, "up", False),
    ],
    ids=["a ClusterRoleBinding left", "a ClusterSecretStore left", "a namespace it had deleted", "a component stopped"],
)
def test_a_cluster_not_brought_back_is_destroyed_and_the_next_module_gets_a_new_one(pool, spoil):
    first = pool.lend()
    spoil(first)
    with pytest.warns(UserWarning, match="the shared local cluster is replaced"):
        pool.take_back(first)
    assert first.destroyed and first.deleted == []
    second = pool.lend()
    assert second is not first and pool.starts == 2


def test_a_namespace_that_does_not_go_gives_the_cluster_up(pool, monkeypatch):
    first = pool.lend()
    first.objects.add("namespace/stuck")
    monkeypatch.setattr(first, "kubectl", lambda *a, **k: None)  # the deletion never finishes
    with pytest.warns(UserWarning, match=r"namespace/stuck'\] still there"):
        pool.take_back(first)
    assert first.destroyed and pool.lend() is not first


def test_close_stops_the_shared_cluster_and_the_next_borrower_starts_one(pool):
    first = pool.lend()
    pool.close()
    assert first.destroyed
    pool.close()  # nothing runs: nothing to do
    assert pool.lend() is not first and pool.starts == 2
