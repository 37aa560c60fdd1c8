"""The local cluster's node: Debian's containerd and runc under our kubelet, pods on a loopback-only network.

``make up`` runs pods for real: kube-scheduler binds them, and one node named
``127.0.0.1`` runs them with a kubelet (v1.34.4, built with the control plane) over
containerd (Debian's ``containerd``, ``runc``; ``containernetworking-plugins`` for its
``loopback`` plugin). Everything of the node lives in the cluster's data folder
(``<data>/node/``): containerd's root, state, socket and network-namespace mounts,
runc's state, the kubelet's root folder and pod logs, the CNI configuration and plugins.

- Images are never pulled: ``make toolchain`` builds a sandbox image and a busybox
  workload image from the machine's packages (:mod:`localcluster.node.images`), and each
  start imports them (``ctr images import``). Pods use ``imagePullPolicy: Never``.
- The pod network is loopback only: ``loopback`` then our own plugin
  (:mod:`localcluster.node.cni`). A pod has its own ``lo`` and nothing else: it cannot
  reach the API server, OpenBao, PostgreSQL or anything off the machine, and nothing
  is created on the host (no interface, route or iptables rule: the kubelet's
  ``makeIPTablesUtilChains`` is off).
- Pods run in cgroups under a root of this cluster's own (``/secrets-platform-<id>`` in
  every cgroup hierarchy), so two clusters on one machine never touch each other's pods.

Three paths are hard-coded by the programs themselves and live outside the data folder:
containerd's shim sockets (``/run/containerd/s``), the kubelet's device-plugin socket
(``/var/lib/kubelet/device-plugins``), the kubelet's container-log links
(``/var/log/containers``) and libcni's result cache (``/var/lib/cni``). :meth:`Node.cleanup`
(run by ``make down``/``make destroy`` and before every start) kills what is left of this
node's pods, unmounts what is mounted under the data folder, removes the cgroups, and
removes this node's entries in those paths (and the folders, once empty).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from secrets_platform.localcluster.node.images import SANDBOX_IMAGE, SANDBOX_TAR, WORKLOAD_IMAGE, WORKLOAD_TAR

if TYPE_CHECKING:
    from secrets_platform.localcluster import Cluster

NODE_NAME = "127.0.0.1"
# What the node needs from Debian, how it is found, and the package that provides it.
PACKAGES = {
    "containerd": ("/usr/bin/containerd", "containerd"),
    "containerd-shim-runc-v2": ("/usr/bin/containerd-shim-runc-v2", "containerd"),
    "ctr": ("/usr/bin/ctr", "containerd"),
    "runc": ("/usr/sbin/runc", "runc"),
    "loopback CNI plugin": ("/usr/lib/cni/loopback", "containernetworking-plugins"),
}
APT_PACKAGES = "containerd runc containernetworking-plugins busybox-static"
CNI_PLUGIN = "secrets-platform-loopback-only"
CGROUP_FS = Path("/sys/fs/cgroup")
SHIM_SOCKETS = Path("/run/containerd/s")
DEVICE_PLUGINS = Path("/var/lib/kubelet/device-plugins")
CONTAINER_LOGS = Path("/var/log/containers")
CNI_CACHE = Path("/var/lib/cni")
IMAGES = (SANDBOX_TAR, WORKLOAD_TAR)
SOCKET_PATH_MAX = 104
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class NodeError(RuntimeError):
    """Something the user can fix; the message names the cause and the fix."""


def missing_packages() -> list[str]:
    """The Debian packages the node needs that this machine lacks (empty when all are there)."""
    return sorted({package for path, package in PACKAGES.values() if not Path(path).exists()})


class Node:
    """The node of one cluster: file layout, configuration, and the clean-up of everything it leaves behind."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster

    # ------------------------------------------------------------------ paths

    @property
    def root(self) -> Path:
        return self.cluster.root / "node"

    @property
    def socket(self) -> Path:
        """containerd's socket; short names: a unix socket's path has at most 104 bytes here (containerd's limit)."""
        return self.root / "ctd.sock"

    @property
    def kubelet_root(self) -> Path:
        return self.root / "k"

    @property
    def pod_logs(self) -> Path:
        return self.root / "pod-logs"

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
        missing = missing_packages()
        if missing:
            raise NodeError(
                f"the local node needs Debian's {', '.join(missing)} (not installed): "
                f"apt-get install {APT_PACKAGES} (.ci/run installs them when missing), then make up"
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
        self._write_cni()
        _write(self.root / "containerd.toml", self._containerd_config())
        _write(self.root / "kubelet.yaml", json.dumps(self._kubelet_config(), indent=2) + "\n")
        self._write_kubeconfig()
        for hierarchy in _cgroup_hierarchies():
            path = hierarchy / self.cgroup_root.lstrip("/")
            path.mkdir(exist_ok=True)
            if (hierarchy / "cpuset.cpus").exists():  # a new cpuset cgroup starts empty: give it its parent's
                for name in ("cpuset.cpus", "cpuset.mems"):
                    if not (path / name).read_text().strip():
                        (path / name).write_text((hierarchy / name).read_text())

    def _write_cni(self) -> None:
        bin_dir = self.root / "cni" / "bin"
        loopback = bin_dir / "loopback"
        if not loopback.is_symlink():
            loopback.symlink_to(PACKAGES["loopback CNI plugin"][0])
        source = (Path(__file__).with_name("cni.py")).read_text()
        _write(bin_dir / CNI_PLUGIN, f"#!{sys.executable} -I\n{source}", mode=0o755)
        conflist = {
            "cniVersion": "1.0.0",
            "name": self.network,
            "plugins": [{"type": "loopback"}, {"type": CNI_PLUGIN}],
        }
        net_d = self.root / "cni" / "net.d"
        net_d.mkdir(parents=True, exist_ok=True)
        _write(net_d / "10-loopback-only.conflist", json.dumps(conflist, indent=2) + "\n")

    def _containerd_config(self) -> str:
        c = self.root / "containerd"
        cri = 'plugins."io.containerd.grpc.v1.cri"'
        lines = [
            "# Written by secrets_platform/localcluster/node at every start; see its docstring.",
            "version = 2",
            f'root = "{c / "root"}"',
            f'state = "{c / "state"}"',
            # Snapshotters this node doesn't use (they would probe the host).
            'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", '
            '"io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]',
            "[grpc]",
            f'  address = "{self.socket}"',
            "[ttrpc]",
            f'  address = "{self.socket}.ttrpc"',
            "[debug]",
            '  address = ""',
            "[metrics]",
            '  address = ""',
            '[plugins."io.containerd.internal.v1.opt"]',
            f'  path = "{c / "opt"}"',
            f"[{cri}]",
            f'  stream_server_address = "{_loopback()}"',
            '  stream_server_port = "0"',
            f'  sandbox_image = "{SANDBOX_IMAGE}"',
            "  tolerate_missing_hugetlb_controller = true",
            "  disable_apparmor = true",
            # Without CAP_SYS_RESOURCE (this kind of VM) runc dies setting a pod's oom_score_adj.
            "  restrict_oom_score_adj = true",
            "  netns_mounts_under_state_dir = true",
            "  enable_selinux = false",
            f"[{cri}.containerd]",
            '  snapshotter = "overlayfs"',
            '  default_runtime_name = "runc"',
            f"[{cri}.containerd.runtimes.runc]",
            '  runtime_type = "io.containerd.runc.v2"',
            f"[{cri}.containerd.runtimes.runc.options]",
            "  SystemdCgroup = false",
            f'  BinaryName = "{PACKAGES["runc"][0]}"',
            f'  Root = "{self.root / "runc"}"',
            f"[{cri}.cni]",
            f'  bin_dir = "{self.root / "cni" / "bin"}"',
            f'  conf_dir = "{self.root / "cni" / "net.d"}"',
            "  max_conf_num = 1",
        ]
        return "\n".join(lines) + "\n"

    def _kubelet_config(self) -> dict:
        p, ports = self.cluster.pki, self.cluster.ports
        return {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "address": _loopback(),
            "port": ports.kubelet,
            "readOnlyPort": 0,
            "healthzBindAddress": _loopback(),
            "healthzPort": ports.kubelet_healthz,
            "tlsCertFile": str(p / "kubelet-serving.crt"),
            "tlsPrivateKeyFile": str(p / "kubelet-serving.key"),
            "rotateCertificates": False,
            "serverTLSBootstrap": False,
            "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True}, "x509": {"clientCAFile": str(p / "ca.crt")}},
            "authorization": {"mode": "Webhook"},
            "containerRuntimeEndpoint": f"unix://{self.socket}",
            "cgroupDriver": "cgroupfs",
            "cgroupRoot": self.cgroup_root,
            "failSwapOn": False,
            "failCgroupV1": False,
            # Off: it would write KUBE-FIREWALL chains into the host's iptables.
            "makeIPTablesUtilChains": False,
            "volumePluginDir": str(self.root / "volume-plugins"),
            "podLogsDir": str(self.pod_logs),
            "resolvConf": "",
            "staticPodPath": "",
            # Absolute thresholds: a VM disk near the default percentages would evict pods and collect the local images.
            "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1Gi", "imagefs.available": "1Gi"},
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "registerNode": True,
            "shutdownGracePeriod": "0s",
        }

    def _write_kubeconfig(self) -> None:
        self.cluster._write_kubeconfig(self.root / "kubelet.kubeconfig", "kubelet")

    def kubelet_args(self) -> list[str]:
        return [
            f"--config={self.root / 'kubelet.yaml'}",
            f"--kubeconfig={self.root / 'kubelet.kubeconfig'}",
            f"--root-dir={self.kubelet_root}",
            f"--cert-dir={self.kubelet_root / 'pki'}",
            f"--hostname-override={NODE_NAME}",
            "--v=1",
        ]

    def containerd_args(self) -> list[str]:
        return ["--config", str(self.root / "containerd.toml"), "--log-level", "warn"]

    # ------------------------------------------------------------------ running

    def ctr(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PACKAGES["ctr"][0], "--address", str(self.socket), "--namespace", "k8s.io", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={"PATH": SYSTEM_PATH},
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
            "get", "node", NODE_NAME, "-o", 'jsonpath={.status.conditions[?(@.type=="Ready")].status}', check=False, timeout=10
        )
        return done.returncode == 0 and done.stdout.strip() == "True"

    # ------------------------------------------------------------------ clean-up

    def stop_pods(self) -> None:
        """Kill every process in this node's cgroups (the pods' containers and sandboxes), then their shims."""
        for _ in range(20):
            pids = _cgroup_pids(self.cgroup_root)
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
        address = str(self.socket)
        for pid in _processes():
            cmd = _cmdline(pid)
            if cmd and Path(cmd[0]).name.startswith("containerd-shim") and address in cmd:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                args = dict(zip(cmd[1::2], cmd[2::2]))
                if "-id" in args:  # a killed shim leaves its socket
                    _shim_socket(address, args.get("-namespace", "k8s.io"), args["-id"]).unlink(missing_ok=True)

    def cleanup(self) -> None:
        """Remove what a stopped node leaves: pods' processes, mounts, cgroups and its entries outside the data folder.

        Run after containerd and the kubelet stopped (``make down``, ``make destroy``) and before a
        start (a node that was killed leaves all of them). Idempotent.
        """
        self.stop_pods()
        container_ids = _container_ids(self.root / "containerd" / "state")
        sandboxes = self.sandbox_ids()
        _unmount_under(self.cluster.root)
        _remove_cgroups(self.cgroup_root)
        for cid in container_ids:
            _shim_socket(str(self.socket), "k8s.io", cid).unlink(missing_ok=True)
        logs = str(self.pod_logs)
        with contextlib.suppress(OSError):
            for link in CONTAINER_LOGS.iterdir():
                with contextlib.suppress(OSError):
                    if link.is_symlink() and os.readlink(link).startswith(logs):
                        link.unlink()
        with contextlib.suppress(OSError):
            for entry in (CNI_CACHE / "results").iterdir():
                if entry.name.startswith(self.network + "-") or _cache_sandbox(entry.name) in sandboxes:
                    entry.unlink()
        if not _other_kubelet_running(self.kubelet_root):
            with contextlib.suppress(OSError):
                for entry in DEVICE_PLUGINS.iterdir():
                    if entry.is_socket() or entry.name == "DEPRECATION":
                        entry.unlink()
        for folder in (
            SHIM_SOCKETS,
            SHIM_SOCKETS.parent,
            CONTAINER_LOGS,
            CNI_CACHE / "results",
            CNI_CACHE,
            DEVICE_PLUGINS,
            DEVICE_PLUGINS.parent,
        ):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty: another program's entries stay
        # The runtime's state is rebuilt from the API server's objects at the next start.
        for d in (self.root / "containerd", self.root / "runc", self.kubelet_root):
            shutil.rmtree(d, ignore_errors=True)

    def sandbox_ids(self) -> set[str]:
        """The ids of the pod sandboxes containerd's CRI knows (libcni's cache names its entries after them)."""
        ids: set[str] = set()
        for base in ("root", "state"):
            with contextlib.suppress(OSError):
                ids.update(d.name for d in (self.root / "containerd" / base / "io.containerd.grpc.v1.cri" / "sandboxes").iterdir())
        return ids

    def leftovers(self) -> list[str]:
        """What of this node is left on the machine outside the data folder (for tests and status): empty when clean."""
        out = [f"process {pid} ({_cmdline(pid)[0]})" for pid in _cgroup_pids(self.cgroup_root)]
        address = str(self.socket)
        out += [f"process {pid} (shim)" for pid in _processes() if address in _cmdline(pid)]
        out += [
            f"cgroup {h / self.cgroup_root.lstrip('/')}"
            for h in _cgroup_hierarchies(all_=True)
            if (h / self.cgroup_root.lstrip("/")).exists()
        ]
        out += [f"mount {m}" for m in _mounts_under(self.cluster.root)]
        logs = str(self.pod_logs)
        with contextlib.suppress(OSError):
            out += [f"file {link}" for link in CONTAINER_LOGS.iterdir() if link.is_symlink() and os.readlink(link).startswith(logs)]
        with contextlib.suppress(OSError):
            out += [f"file {e}" for e in (CNI_CACHE / "results").iterdir() if e.name.startswith(self.network + "-")]
        return out


def _cache_sandbox(name: str) -> str:
    """The sandbox id in a libcni cache entry's name, ``<network>-<sandbox id>-<interface>`` (containerd's own
    ``cni-loopback`` network included)."""
    parts = name.rsplit("-", 2)
    return parts[1] if len(parts) == 3 else ""


def _shim_socket(address: str, namespace: str, group: str) -> Path:
    """Where containerd's runc shim listens: named by containerd's address, the namespace and the (sandbox) id."""
    return SHIM_SOCKETS / hashlib.sha256(os.path.join(address, namespace, group).encode()).hexdigest()


def _loopback() -> str:
    from secrets_platform.localcluster import LOOPBACK

    return LOOPBACK


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    """Atomically: containerd reloads its CNI folder as it changes, and must never see half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    os.replace(tmp, path)


def _cgroup_hierarchies(all_: bool = False) -> list[Path]:
    """The mounted cgroup v1 hierarchies (and the v2 one with ``all_``): where the node's cgroups live."""
    out = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            left, _, right = line.partition(" - ")
            fstype = right.split()[0] if right else ""
            if fstype == "cgroup" or (all_ and fstype == "cgroup2"):
                out.append(Path(left.split()[4]))
    return out


def _cgroup_pids(root: str) -> set[int]:
    pids: set[int] = set()
    for hierarchy in _cgroup_hierarchies(all_=True):
        base = hierarchy / root.lstrip("/")
        if not base.exists():
            continue
        for procs in base.rglob("cgroup.procs"):
            with contextlib.suppress(OSError, ValueError):
                pids.update(int(p) for p in procs.read_text().split())
    return pids


def _remove_cgroups(root: str) -> None:
    for hierarchy in _cgroup_hierarchies(all_=True):
        base = hierarchy / root.lstrip("/")
        if not base.exists():
            continue
        for d in sorted((p for p in base.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                d.rmdir()
        for _ in range(20):
            try:
                base.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)


def _processes() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _cmdline(pid: int) -> list[str]:
    try:
        return [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    except OSError:
        return []


def _other_kubelet_running(own_root: Path) -> bool:
    """A kubelet of another cluster runs on this machine (it shares the hard-coded device-plugin folder)."""
    for pid in _processes():
        cmd = _cmdline(pid)
        if cmd and Path(cmd[0]).name == "kubelet" and f"--root-dir={own_root}" not in cmd:
            return True
    return False


def _container_ids(state: Path) -> list[str]:
    with contextlib.suppress(OSError):
        return [d.name for d in (state / "io.containerd.runtime.v2.task" / "k8s.io").iterdir()]
    return []


def _unescape(path: str) -> str:
    return path.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def _mounts_under(root: Path) -> list[str]:
    prefix = str(root.resolve())
    out = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            point = _unescape(line.split()[4])
            if point == prefix or point.startswith(prefix + "/"):
                out.append(point)
    return out


def _unmount_under(root: Path) -> None:
    """Unmount (lazily, deepest first) every mount under ``root``: rootfs overlays, network namespaces, secret volumes."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    mnt_detach = 2
    for _ in range(5):
        points = _mounts_under(root)
        if not points:
            return
        for point in sorted(points, key=len, reverse=True):
            libc.umount2(point.encode(), mnt_detach)


# What a pod that cannot start says (its container's waiting reason), and the fix.
_CANNOT_START = {
    "CreateContainerConfigError": "a Secret or ConfigMap it references is not in its namespace: apply the stack (make up) or fix the reference",
    "ErrImageNeverPull": f"its image is not on the node; pods here never pull: use {WORKLOAD_IMAGE} with imagePullPolicy: Never",
    "ErrImagePull": f"pods here never pull: use {WORKLOAD_IMAGE} with imagePullPolicy: Never",
    "ImagePullBackOff": f"pods here never pull: use {WORKLOAD_IMAGE} with imagePullPolicy: Never",
    "InvalidImageName": "fix the image name",
    "CreateContainerError": "see kubectl describe pod for the runtime's message",
    "RunContainerError": "see kubectl describe pod for the runtime's message",
    "CrashLoopBackOff": "its container keeps exiting: see kubectl logs",
}


def wait_pod(cluster: Cluster, namespace: str, name: str, timeout: float = 120) -> str:
    """Wait until the pod has finished (Succeeded or Failed) and return its phase.

    A pod that cannot start (a missing Secret, an image that would have to be pulled, no node to
    run it, a kubelet or containerd that is not running) raises :class:`NodeError` naming the
    cause and the fix, as soon as it is known.
    """
    deadline = time.monotonic() + timeout
    where = f"pod {namespace}/{name}"
    while True:
        done = cluster.kubectl("get", "pod", name, "-n", namespace, "-o", "json", check=False, timeout=20)
        if done.returncode != 0:
            raise NodeError(f"{where}: {(done.stderr or done.stdout).strip()[-300:]}")
        pod = json.loads(done.stdout)
        status = pod.get("status") or {}
        phase = status.get("phase", "")
        if phase in ("Succeeded", "Failed"):
            return phase
        for c in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
            waiting = (c.get("state") or {}).get("waiting") or {}
            reason = waiting.get("reason", "")
            if reason in _CANNOT_START:
                raise NodeError(f"{where} cannot start: {reason}: {waiting.get('message', '')}: {_CANNOT_START[reason]}")
        for cond in status.get("conditions") or []:
            if cond.get("type") == "PodScheduled" and cond.get("reason") == "Unschedulable":
                raise NodeError(f"{where} cannot be scheduled: {cond.get('message', '')}: is the node Ready? (make cluster-status)")
        pids = cluster.pids()
        for component in ("containerd", "kubelet"):
            if pids.get(component) is None:
                raise NodeError(f"{where} cannot run: {component} is not running ({cluster._tail(component)}): make up restarts it")
        if time.monotonic() > deadline:
            raise NodeError(
                f"{where} is still {phase or 'not started'} after {timeout:.0f} s: see kubectl describe pod {name} -n {namespace}"
            )
        time.sleep(0.3)
