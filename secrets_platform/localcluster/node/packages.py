"""What the node needs from Debian: each program, where it is found, and the package that provides it."""

from __future__ import annotations

from pathlib import Path

PACKAGES = {
    "containerd": ("/usr/bin/containerd", "containerd"),
    "containerd-shim-runc-v2": ("/usr/bin/containerd-shim-runc-v2", "containerd"),
    "ctr": ("/usr/bin/ctr", "containerd"),
    "runc": ("/usr/sbin/runc", "runc"),
    "loopback CNI plugin": ("/usr/lib/cni/loopback", "containernetworking-plugins"),
}
APT_PACKAGES = "containerd runc containernetworking-plugins busybox-static"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def missing_packages() -> list[str]:
    """The Debian packages the node needs that this machine lacks (empty when all are there)."""
    return sorted({package for path, package in PACKAGES.values() if not Path(path).exists()})


def path(what: str) -> str:
    """Where the program ``what`` (a key of :data:`PACKAGES`) is found."""
    return PACKAGES[what][0]
