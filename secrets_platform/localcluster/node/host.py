"""What a node leaves on the host outside the data folder, and how it is found and removed.

Processes in this node's cgroups and containerd's shims, mounts under the data folder, the
cgroups themselves, and the entries in the paths the programs hard-code: containerd's shim
sockets, the kubelet's device-plugin sockets and container-log links, libcni's result cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from pathlib import Path

CGROUP_FS = Path("/sys/fs/cgroup")
SHIM_SOCKETS = Path("/run/containerd/s")
DEVICE_PLUGINS = Path("/var/lib/kubelet/device-plugins")
CONTAINER_LOGS = Path("/var/log/containers")
CNI_CACHE = Path("/var/lib/cni")


def cache_sandbox(name: str) -> str:
    """The sandbox id in a libcni cache entry's name, ``<network>-<sandbox id>-<interface>`` (containerd's own
    ``cni-loopback`` network included)."""
    parts = name.rsplit("-", 2)
    return parts[1] if len(parts) == 3 else ""


def shim_socket(address: str, namespace: str, group: str) -> Path:
    """Where containerd's runc shim listens: named by containerd's address, the namespace and the (sandbox) id."""
    return SHIM_SOCKETS / hashlib.sha256(os.path.join(address, namespace, group).encode()).hexdigest()


def cgroup_hierarchies(all_: bool = False) -> list[Path]:
    """The mounted cgroup v1 hierarchies (and the v2 one with ``all_``): where the node's cgroups live."""
    out = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            left, _, right = line.partition(" - ")
            fstype = right.split()[0] if right else ""
            if fstype == "cgroup" or (all_ and fstype == "cgroup2"):
                out.append(Path(left.split()[4]))
    return out


def cgroup_pids(root: str) -> set[int]:
    pids: set[int] = set()
    for hierarchy in cgroup_hierarchies(all_=True):
        base = hierarchy / root.lstrip("/")
        if not base.exists():
            continue
        for procs in base.rglob("cgroup.procs"):
            with contextlib.suppress(OSError, ValueError):
                pids.update(int(p) for p in procs.read_text().split())
    return pids


def remove_cgroups(root: str) -> None:
    for hierarchy in cgroup_hierarchies(all_=True):
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


def processes() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def cmdline(pid: int) -> list[str]:
    try:
        return [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    except OSError:
        return []


def other_kubelet_running(own_root: Path) -> bool:
    """A kubelet of another cluster runs on this machine (it shares the hard-coded device-plugin folder)."""
    for pid in processes():
        cmd = cmdline(pid)
        if cmd and Path(cmd[0]).name == "kubelet" and f"--root-dir={own_root}" not in cmd:
            return True
    return False


def container_ids(state: Path) -> list[str]:
    with contextlib.suppress(OSError):
        return [d.name for d in (state / "io.containerd.runtime.v2.task" / "k8s.io").iterdir()]
    return []


def _unescape(path: str) -> str:
    return path.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def mounts_under(root: Path) -> list[str]:
    prefix = str(root.resolve())
    out = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            point = _unescape(line.split()[4])
            if point == prefix or point.startswith(prefix + "/"):
                out.append(point)
    return out


def unmount_under(root: Path) -> None:
    """Unmount (lazily, deepest first) every mount under ``root``: rootfs overlays, network namespaces, secret volumes."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    mnt_detach = 2
    for _ in range(5):
        points = mounts_under(root)
        if not points:
            return
        for point in sorted(points, key=len, reverse=True):
            libc.umount2(point.encode(), mnt_detach)
