"""The local cluster's life cycle with the real binaries: data survives a stop, a dead component is restarted,
a second start changes nothing, destroy leaves no process and no data; with pods running, down and destroy leave
no process, mount, cgroup or file outside the data folder."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from secrets_platform.localcluster import COMPONENTS, DEFAULT_BIN, Cluster, free_port_base
from secrets_platform.localcluster.node import CNI_CACHE, CONTAINER_LOGS, DEVICE_PLUGINS, SHIM_SOCKETS, NodeError, wait_pod
from secrets_platform.localcluster.node.images import WORKLOAD_IMAGE

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (DEFAULT_BIN / "kube-apiserver").exists(), reason="local cluster binaries not built (make toolchain)"),
]


@pytest.fixture
def fresh(tmp_path, no_shared_cluster):
    """A new cluster (not started), alone on the machine: the session's shared one is stopped first (tests/conftest.py),
    so what these tests find outside the data folder is this cluster's."""
    c = Cluster(tmp_path / "cluster", port_base=free_port_base())
    yield c
    c.destroy()


def test_objects_survive_down_and_up_and_a_second_up_starts_nothing(fresh):
    assert fresh.start() is True
    fresh.kubectl("create", "namespace", "survivor-local")
    assert fresh.start() is False, "a running cluster was started again"
    assert set(fresh.stop()) == set(COMPONENTS)
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


HOST_PATHS = (SHIM_SOCKETS.parent, DEVICE_PLUGINS.parent, CONTAINER_LOGS, CNI_CACHE)


def sleeper(cluster: Cluster, name: str) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "restartPolicy": "Always",
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "volumes": [{"name": "scratch", "emptyDir": {"medium": "Memory"}}],
            "containers": [
                {
                    "name": "sleep",
                    "image": WORKLOAD_IMAGE,
                    "imagePullPolicy": "Never",
                    "command": ["sleep", "600"],
                    "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
                    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                }
            ],
        },
    }
    cluster.kubectl("create", "-f", "-", input=json.dumps(pod))
    cluster.kubectl("wait", "--for=condition=Ready", f"pod/{name}", "--timeout=90s", timeout=100)


def outside_processes(cluster: Cluster) -> list[str]:
    """Processes whose command line names the data folder (containerd, kubelet, shims) or that run in its cgroups."""
    root = str(cluster.root)
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if root in cmd:
                out.append(f"{entry.name}: {cmd[:120]}")
    return out


@pytest.mark.parametrize("how", ["down", "destroy"])
def test_down_and_destroy_with_running_pods_leave_nothing_outside_the_data_folder(fresh, how):
    existed = {p: p.exists() for p in HOST_PATHS}
    fresh.start()
    sleeper(fresh, "sleeper")
    node = fresh.node
    assert node.leftovers(), "a running pod left no trace to look for: the check would prove nothing"
    sandboxes = node.sandbox_ids()
    assert sandboxes
    fresh.stop() if how == "down" else fresh.destroy()
    assert node.leftovers() == []
    cached = [e.name for e in (CNI_CACHE / "results").glob("*") if any(s in e.name for s in sandboxes)]
    assert cached == [], f"libcni cache entries of this node's pods were left: {cached}"
    assert outside_processes(fresh) == []
    for path, was in existed.items():
        if not was:
            assert not path.exists(), f"{path} was created and left behind: {list(path.rglob('*'))[:5]}"
    if how == "down":  # and the pod runs again at the next up
        fresh.start()
        fresh.kubectl("wait", "--for=condition=Ready", "pod/sleeper", "--timeout=90s", timeout=100)


def test_a_dead_kubelet_is_named_with_the_fix_and_the_next_up_restarts_it(fresh):
    fresh.start()
    pid = fresh.pids()["kubelet"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while fresh.pids()["kubelet"] is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    fresh.kubectl("run", "late", "--image", WORKLOAD_IMAGE, "--image-pull-policy=Never", "--restart=Never", "--command", "--", "true")
    with pytest.raises(NodeError, match=r"kubelet is not running .*make up restarts it"):
        wait_pod(fresh, "default", "late", timeout=30)
    assert fresh.start() is True
    assert wait_pod(fresh, "default", "late") == "Succeeded"
