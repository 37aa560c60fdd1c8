"""The node of one cluster: its file layout, its checks, containerd's client, and the clean-up of what it leaves behind."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from secrets_platform.localcluster.layout import InRoot
from secrets_platform.localcluster.node import config, host, packages
from secrets_platform.localcluster.node.images import SANDBOX_TAR, WORKLOAD_TAR

if TYPE_CHECKING:
    from secrets_platform.localcluster.cluster import Cluster

IMAGES = (SANDBOX_TAR, WORKLOAD_TAR)
SOCKET_PATH_MAX = 104


class NodeError(RuntimeError):
    """Something the user can fix; the message names the cause and the fix."""


class Node:
    """The node of one cluster: file layout, configuration, and the clean-up of everything it leaves behind."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster

    # ------------------------------------------------------------------ paths

    @property
    def root(self) -> Path:
        return self.cluster.root / "node"

    socket = InRoot("ctd.sock")
    """containerd's socket; short names: a unix socket's path has at most 104 bytes here (containerd's limit)."""
    kubelet_root = InRoot("k")
    pod_logs = InRoot("pod-logs")

    @property
    def cgroup_root(self) -> str:
        """``/secrets-platform-<12 hex of the data folder's path>``: this cluster's own cgroup subtree."""
        return "/secrets-platform-" + hashlib.sha256(str(self.cluster.root.resolve()).encode()).hexdigest()[:12]

    @property
    def network(self) -> str:
        """The CNI network's name, unique per cluster (libcni names its cache entries after it)."""
        return "secrets-platform-" + self.cgroup_root.rsplit("-", 1)[1]

    # ------------------------------------------------------------------ preparation

    def check(self) -> None:
        """The Debian packages and the built images are there, or one error with the fix."""
        missing = packages.missing_packages()
        if missing:
            raise NodeError(
                f"the local node needs Debian's {', '.join(missing)} (not installed): "
                f"apt-get install {packages.APT_PACKAGES} (.ci/run installs them when missing), then make up"
            )
        longest = str(self.kubelet_root / "pod-resources" / "kubelet.sock")
        if len(f"{self.socket}.ttrpc") > SOCKET_PATH_MAX or len(longest) > SOCKET_PATH_MAX:
            raise NodeError(
                f"the local cluster's data folder {self.cluster.root} is too deep for the node's unix sockets "
                f"({longest} is over {SOCKET_PATH_MAX} bytes): use a data folder with a shorter path"
            )
        for image in IMAGES:
            if not self.cluster.binary(image).exists():
                raise NodeError(f"{self.cluster.binary(image)} is missing: run make toolchain (it builds the local node's images)")

    def prepare(self) -> None:
        """Configuration files and this cluster's cgroup root; clears what a previous run left."""
        self.cleanup()
        for d in (self.root / "containerd", self.root / "runc", self.kubelet_root, self.pod_logs, self.root / "cni" / "bin"):
            d.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        config.write_all(self)
        for hierarchy in host.cgroup_hierarchies():
            path = hierarchy / self.cgroup_root.lstrip("/")
            path.mkdir(exist_ok=True)
            if (hierarchy / "cpuset.cpus").exists():  # a new cpuset cgroup starts empty: give it its parent's
                for name in ("cpuset.cpus", "cpuset.mems"):
                    if not (path / name).read_text().strip():
                        (path / name).write_text((hierarchy / name).read_text())

    # ------------------------------------------------------------------ running

    def ctr(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [packages.path("ctr"), "--address", str(self.socket), "--namespace", "k8s.io", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={"PATH": packages.SYSTEM_PATH},
        )

    def containerd_ready(self) -> bool:
        return self.socket.is_socket() and self.ctr("version", timeout=5).returncode == 0

    def import_images(self) -> None:
        for image in IMAGES:
            done = self.ctr("images", "import", str(self.cluster.binary(image)))
            if done.returncode != 0:
                raise NodeError(
                    f"containerd could not import {self.cluster.binary(image)} ({(done.stderr or done.stdout).strip()[-300:]}): "
                    "run make toolchain-clean, make toolchain (it rebuilds the images), then make up"
                )

    def node_ready(self) -> bool:
        done = self.cluster.kubectl(
            "get", "node", config.NODE_NAME, "-o", 'jsonpath={.status.conditions[?(@.type=="Ready")].status}', check=False, timeout=10
        )
        return done.returncode == 0 and done.stdout.strip() == "True"

    # ------------------------------------------------------------------ clean-up

    def stop_pods(self) -> None:
        """Kill every process in this node's cgroups (the pods' containers and sandboxes), then their shims."""
        for _ in range(20):
            pids = host.cgroup_pids(self.cgroup_root)
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
        address = str(self.socket)
        for pid in host.processes():
            cmd = host.cmdline(pid)
            if cmd and Path(cmd[0]).name.startswith("containerd-shim") and address in cmd:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                args = dict(zip(cmd[1::2], cmd[2::2]))
                if "-id" in args:  # a killed shim leaves its socket
                    host.shim_socket(address, args.get("-namespace", "k8s.io"), args["-id"]).unlink(missing_ok=True)

    def cleanup(self) -> None:
        """Remove what a stopped node leaves: pods' processes, mounts, cgroups and its entries outside the data folder.

        Run after containerd and the kubelet stopped (``make down``, ``make destroy``) and before a
        start (a node that was killed leaves all of them). Idempotent.
        """
        self.stop_pods()
        container_ids = host.container_ids(self.root / "containerd" / "state")
        sandboxes = self.sandbox_ids()
        host.unmount_under(self.cluster.root)
        host.remove_cgroups(self.cgroup_root)
        for cid in container_ids:
            host.shim_socket(str(self.socket), "k8s.io", cid).unlink(missing_ok=True)
        self._remove_host_entries(sandboxes)
        # The runtime's state is rebuilt from the API server's objects at the next start.
        for d in (self.root / "containerd", self.root / "runc", self.kubelet_root):
            shutil.rmtree(d, ignore_errors=True)

    def _remove_host_entries(self, sandboxes: set[str]) -> None:
        """This node's container-log links, libcni cache entries and (no other kubelet running) device-plugin sockets."""
        logs = str(self.pod_logs)
        with contextlib.suppress(OSError):
            for link in host.CONTAINER_LOGS.iterdir():
                with contextlib.suppress(OSError):
                    if link.is_symlink() and os.readlink(link).startswith(logs):
                        link.unlink()
        with contextlib.suppress(OSError):
            for entry in (host.CNI_CACHE / "results").iterdir():
                if entry.name.startswith(self.network + "-") or host.cache_sandbox(entry.name) in sandboxes:
                    entry.unlink()
        if not host.other_kubelet_running(self.kubelet_root):
            with contextlib.suppress(OSError):
                for entry in host.DEVICE_PLUGINS.iterdir():
                    if entry.is_socket() or entry.name == "DEPRECATION":
                        entry.unlink()
        for folder in (
            host.SHIM_SOCKETS,
            host.SHIM_SOCKETS.parent,
            host.CONTAINER_LOGS,
            host.CNI_CACHE / "results",
            host.CNI_CACHE,
            host.DEVICE_PLUGINS,
            host.DEVICE_PLUGINS.parent,
        ):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty: another program's entries stay

    def sandbox_ids(self) -> set[str]:
        """The ids of the pod sandboxes containerd's CRI knows (libcni's cache names its entries after them)."""
        ids: set[str] = set()
        for base in ("root", "state"):
            with contextlib.suppress(OSError):
                ids.update(d.name for d in (self.root / "containerd" / base / "io.containerd.grpc.v1.cri" / "sandboxes").iterdir())
        return ids

    def leftovers(self) -> list[str]:
        """What of this node is left on the machine outside the data folder (for tests and status): empty when clean."""
        out = [f"process {pid} ({host.cmdline(pid)[0]})" for pid in host.cgroup_pids(self.cgroup_root)]
        address = str(self.socket)
        out += [f"process {pid} (shim)" for pid in host.processes() if address in host.cmdline(pid)]
        out += [
            f"cgroup {h / self.cgroup_root.lstrip('/')}"
            for h in host.cgroup_hierarchies(all_=True)
            if (h / self.cgroup_root.lstrip("/")).exists()
        ]
        out += [f"mount {m}" for m in host.mounts_under(self.cluster.root)]
        logs = str(self.pod_logs)
        with contextlib.suppress(OSError):
            out += [f"file {link}" for link in host.CONTAINER_LOGS.iterdir() if link.is_symlink() and os.readlink(link).startswith(logs)]
        with contextlib.suppress(OSError):
            out += [f"file {e}" for e in (host.CNI_CACHE / "results").iterdir() if e.name.startswith(self.network + "-")]
        return out
