"""The local node's network plugin: chained after the standard ``loopback`` plugin, it gives a pod only its own ``lo``.

A CNI plugin (the container runtime executes it; spec: github.com/containernetworking/cni
SPEC.md): ``loopback`` brings up ``lo`` in the pod's network namespace and returns
127.0.0.1/8 on it; containerd then wants an IP it can report as the pod's IP, and finds
none for its ``eth0``. This plugin passes on loopback's IPv4 address without naming an
interface, so containerd reports 127.0.0.1 as the pod IP. It creates nothing: no
interface, no route, no host-side state, no iptables rule. A pod can therefore reach only
itself: not the host's API server, OpenBao or PostgreSQL, and nothing off the machine.

Self-contained (standard library only): the node copies this file, with the
interpreter's path as its first line, into its CNI plugin folder.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys

SUPPORTED = ("0.4.0", "1.0.0")
# CNI's well-known error codes (SPEC.md, "Error").
INCOMPATIBLE_VERSION, INVALID_ENVIRONMENT, DECODING_FAILURE, INVALID_CONFIG = 1, 4, 6, 7


def _error(code: int, msg: str, version: str = "1.0.0") -> int:
    json.dump({"cniVersion": version, "code": code, "msg": msg}, sys.stdout)
    return 1


def main() -> int:
    command = os.environ.get("CNI_COMMAND", "")
    if command == "VERSION":
        json.dump({"cniVersion": SUPPORTED[-1], "supportedVersions": list(SUPPORTED)}, sys.stdout)
        return 0
    try:
        conf = json.load(sys.stdin)
    except ValueError as err:
        return _error(DECODING_FAILURE, f"network configuration is not JSON: {err}")
    version = conf.get("cniVersion", "")
    if version not in SUPPORTED:
        return _error(INCOMPATIBLE_VERSION, f"cniVersion {version!r} is not one of {', '.join(SUPPORTED)}")
    if command in ("DEL", "CHECK", "GC", "STATUS"):
        return 0  # nothing was created, so nothing to delete or check
    if command != "ADD":
        return _error(INVALID_ENVIRONMENT, f"CNI_COMMAND {command!r} is not ADD, DEL, CHECK or VERSION", version)
    previous = conf.get("prevResult") or {}
    ips = []
    for ip in previous.get("ips") or []:
        try:
            iface = ipaddress.ip_interface(ip.get("address", ""))
        except ValueError:
            continue
        if iface.version == 4 and iface.ip.is_loopback:
            ips.append({"address": str(iface)} if version == "1.0.0" else {"version": "4", "address": str(iface)})
    if not ips:
        return _error(INVALID_CONFIG, "no loopback IPv4 address from the previous plugin: chain this plugin after 'loopback'", version)
    json.dump({"cniVersion": version, "ips": ips, "dns": {}}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
