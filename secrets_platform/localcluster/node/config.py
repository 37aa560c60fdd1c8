"""The node's configuration files and command lines: containerd's, the kubelet's and the CNI network's, all on loopback."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from secrets_platform.localcluster.data_folder import write_kubeconfig
from secrets_platform.localcluster.layout import LOOPBACK
from secrets_platform.localcluster.node import packages
from secrets_platform.localcluster.node.images import SANDBOX_IMAGE

if TYPE_CHECKING:
    from secrets_platform.localcluster.node.node import Node

NODE_NAME = "127.0.0.1"
CNI_PLUGIN = "secrets-platform-loopback-only"


def write_all(node: Node) -> None:
    """Every file containerd and the kubelet read (rewritten at every start)."""
    write_cni(node)
    write(node.root / "containerd.toml", containerd_config(node))
    write(node.root / "kubelet.yaml", json.dumps(kubelet_config(node), indent=2) + "\n")
    write_kubeconfig(node.cluster, node.root / "kubelet.kubeconfig", "kubelet")


def write_cni(node: Node) -> None:
    bin_dir = node.root / "cni" / "bin"
    loopback = bin_dir / "loopback"
    if not loopback.is_symlink():
        loopback.symlink_to(packages.path("loopback CNI plugin"))
    source = (Path(__file__).with_name("cni.py")).read_text()
    write(bin_dir / CNI_PLUGIN, f"#!{sys.executable} -I\n{source}", mode=0o755)
    conflist = {
        "cniVersion": "1.0.0",
        "name": node.network,
        "plugins": [{"type": "loopback"}, {"type": CNI_PLUGIN}],
    }
    net_d = node.root / "cni" / "net.d"
    net_d.mkdir(parents=True, exist_ok=True)
    write(net_d / "10-loopback-only.conflist", json.dumps(conflist, indent=2) + "\n")


def containerd_config(node: Node) -> str:
    c = node.root / "containerd"
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
        f'  address = "{node.socket}"',
        "[ttrpc]",
        f'  address = "{node.socket}.ttrpc"',
        "[debug]",
        '  address = ""',
        "[metrics]",
        '  address = ""',
        '[plugins."io.containerd.internal.v1.opt"]',
        f'  path = "{c / "opt"}"',
        f"[{cri}]",
        f'  stream_server_address = "{LOOPBACK}"',
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
        f'  BinaryName = "{packages.path("runc")}"',
        f'  Root = "{node.root / "runc"}"',
        f"[{cri}.cni]",
        f'  bin_dir = "{node.root / "cni" / "bin"}"',
        f'  conf_dir = "{node.root / "cni" / "net.d"}"',
        "  max_conf_num = 1",
    ]
    return "\n".join(lines) + "\n"


def kubelet_config(node: Node) -> dict:
    p, ports = node.cluster.pki, node.cluster.ports
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": LOOPBACK,
        "port": ports.kubelet,
        "readOnlyPort": 0,
        "healthzBindAddress": LOOPBACK,
        "healthzPort": ports.kubelet_healthz,
        "tlsCertFile": str(p / "kubelet-serving.crt"),
        "tlsPrivateKeyFile": str(p / "kubelet-serving.key"),
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True}, "x509": {"clientCAFile": str(p / "ca.crt")}},
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": f"unix://{node.socket}",
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": node.cgroup_root,
        "failSwapOn": False,
        "failCgroupV1": False,
        # Off: it would write KUBE-FIREWALL chains into the host's iptables.
        "makeIPTablesUtilChains": False,
        "volumePluginDir": str(node.root / "volume-plugins"),
        "podLogsDir": str(node.pod_logs),
        "resolvConf": "",
        "staticPodPath": "",
        # Absolute thresholds: a VM disk near the default percentages would evict pods and collect the local images.
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1Gi", "imagefs.available": "1Gi"},
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "registerNode": True,
        "shutdownGracePeriod": "0s",
    }


def kubelet_args(node: Node) -> list[str]:
    return [
        f"--config={node.root / 'kubelet.yaml'}",
        f"--kubeconfig={node.root / 'kubelet.kubeconfig'}",
        f"--root-dir={node.kubelet_root}",
        f"--cert-dir={node.kubelet_root / 'pki'}",
        f"--hostname-override={NODE_NAME}",
        "--v=1",
    ]


def containerd_args(node: Node) -> list[str]:
    return ["--config", str(node.root / "containerd.toml"), "--log-level", "warn"]


def write(path: Path, text: str, mode: int = 0o644) -> None:
    """Atomically: containerd reloads its CNI folder as it changes, and must never see half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    os.replace(tmp, path)
