"""The local cluster's ports on 127.0.0.1: one base and fixed offsets, checked free, and the kernel's table of listeners."""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from secrets_platform.localcluster.layout import LOOPBACK, ClusterError

DEFAULT_PORT_BASE = 16443


@dataclass(frozen=True)
class Ports:
    api: int
    etcd: int
    etcd_peer: int
    controller_manager: int
    external_secrets: int
    scheduler: int
    kubelet: int
    kubelet_healthz: int
    vault_injector: int

    @classmethod
    def from_base(cls, base: int) -> "Ports":
        return cls(base, base + 1, base + 2, base + 3, base + 4, base + 5, base + 6, base + 7, base + 8)

    def named(self) -> dict[str, int]:
        return {
            "kube-apiserver": self.api,
            "etcd client": self.etcd,
            "etcd peer": self.etcd_peer,
            "kube-controller-manager": self.controller_manager,
            "external-secrets metrics": self.external_secrets,
            "kube-scheduler": self.scheduler,
            "kubelet": self.kubelet,
            "kubelet healthz": self.kubelet_healthz,
            "Vault agent injector": self.vault_injector,
        }


def free_port_base(count: int = 12) -> int:
    """A base port with ``count`` free consecutive ports on 127.0.0.1 (for test clusters).

    Chosen below the kernel's ephemeral range (``ip_local_port_range``), so no outgoing
    connection (kubectl, the API server's own to etcd) can take one of them between
    this check and the component's bind.
    """
    import random

    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    top = min(low, 65535) - count
    for _ in range(200):
        base = random.randrange(20000, max(top, 20001))
        if all(port_free(base + i) for i in range(count)):
            return base
    raise ClusterError("found no free ports on 127.0.0.1")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((LOOPBACK, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def check_free(ports: Iterable[tuple[str, int]], error: type[ClusterError] = ClusterError) -> None:
    """Each ``(what, port)`` free on 127.0.0.1, or one ``error`` naming the port, what wanted it and the fix."""
    for what, port in ports:
        if not port_free(port):
            raise error(
                f"port {port} on 127.0.0.1 (for {what}) is already in use by another program: "
                f"stop that program (ss -ltnp 'sport = :{port}' shows it), or make destroy and start again with "
                "LOCAL_CLUSTER_PORT_BASE=<another port> make up"
            )


def listening_sockets() -> dict[str, tuple[str, int]]:
    """inode -> (address, port) of every TCP socket in LISTEN state, IPv4 and IPv6."""
    out = {}
    for name, width in (("tcp", 8), ("tcp6", 32)):
        try:
            lines = Path(f"/proc/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] != "0A":  # LISTEN
                continue
            addr_hex, port_hex = cols[1].split(":")
            out[cols[9]] = (_address(addr_hex, width), int(port_hex, 16))
    return out


def _address(hex_addr: str, width: int) -> str:
    import ipaddress

    raw = bytes.fromhex(hex_addr)
    if width == 8:
        return str(ipaddress.IPv4Address(raw[::-1]))
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return str(ipaddress.IPv6Address(words))
