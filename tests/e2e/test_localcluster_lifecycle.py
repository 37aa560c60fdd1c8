"""The local cluster's life cycle with the real binaries: data survives a stop, a dead component is restarted,
a second start changes nothing, destroy leaves no process and no data."""

from __future__ import annotations

import os
import signal
import time

import pytest

from localcluster import DEFAULT_BIN, Cluster, free_port_base

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (DEFAULT_BIN / "kube-apiserver").exists(), reason="local cluster binaries not built (make toolchain)"),
]


@pytest.fixture
def fresh(tmp_path):
    c = Cluster(tmp_path / "cluster", port_base=free_port_base())
    yield c
    c.destroy()


def test_objects_survive_down_and_up_and_a_second_up_starts_nothing(fresh):
    assert fresh.start() is True
    fresh.kubectl("create", "namespace", "survivor-local")
    assert fresh.start() is False, "a running cluster was started again"
    assert set(fresh.stop()) == {"etcd", "kube-apiserver", "kube-controller-manager", "external-secrets"}
    assert not fresh.running() and not fresh.ready()
    assert fresh.start() is True
    fresh.kubectl("get", "namespace", "survivor-local")


def test_a_dead_api_server_is_restarted_by_the_next_up(fresh):
    fresh.start()
    pid = fresh.pids()["kube-apiserver"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while fresh.pids()["kube-apiserver"] is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not fresh.ready()
    assert fresh.start() is True
    assert fresh.ready() and fresh.pids()["kube-apiserver"] not in (None, pid)


def test_destroy_leaves_no_process_and_no_data(fresh):
    fresh.start()
    pids = [p for p in fresh.pids().values() if p]
    fresh.destroy()
    assert not fresh.root.exists()
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower(), f"pid {pid} still runs"
