"""The local node's pieces without running it: the CNI plugin's protocol, the images, the configurations' listeners."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from secrets_platform.localcluster import Cluster
from secrets_platform.localcluster.node import Node, config, images

CNI = Path(images.__file__).with_name("cni.py")
# What Debian's loopback plugin (containernetworking-plugins 1.1.1) returns as prevResult.
LOOPBACK_RESULT = {
    "cniVersion": "1.0.0",
    "interfaces": [{"name": "lo", "mac": "00:00:00:00:00:00", "sandbox": "/var/run/netns/x"}],
    "ips": [{"interface": 0, "address": "127.0.0.1/8"}, {"interface": 0, "address": "::1/128"}],
    "dns": {},
}


def cni(command: str, conf: dict | None) -> tuple[int, dict]:
    done = subprocess.run(
        [sys.executable, "-I", str(CNI)],
        input=json.dumps(conf) if conf is not None else "",
        env={"CNI_COMMAND": command, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.returncode, json.loads(done.stdout) if done.stdout else {}


def test_the_cni_plugin_passes_on_only_the_loopback_ipv4_address_without_an_interface():
    rc, out = cni("ADD", {"cniVersion": "1.0.0", "name": "n", "type": "t", "prevResult": LOOPBACK_RESULT})
    assert rc == 0
    assert out == {"cniVersion": "1.0.0", "ips": [{"address": "127.0.0.1/8"}], "dns": {}}


def test_the_cni_plugin_refuses_to_run_without_loopback_before_it():
    rc, out = cni("ADD", {"cniVersion": "1.0.0", "name": "n", "type": "t"})
    assert rc == 1 and out["code"] == 7 and "chain this plugin after 'loopback'" in out["msg"]
    routable = dict(LOOPBACK_RESULT, ips=[{"interface": 0, "address": "10.0.0.5/24"}])
    rc, out = cni("ADD", {"cniVersion": "1.0.0", "name": "n", "type": "t", "prevResult": routable})
    assert rc == 1 and out["code"] == 7, "an address off loopback was passed on"


def test_the_cni_plugin_speaks_the_protocol():
    rc, out = cni("VERSION", None)
    assert rc == 0 and "1.0.0" in out["supportedVersions"]
    assert cni("DEL", {"cniVersion": "1.0.0", "name": "n", "type": "t"}) == (0, {})
    rc, out = cni("ADD", {"cniVersion": "0.1.0", "name": "n", "type": "t"})
    assert rc == 1 and out["code"] == 1
    done = subprocess.run([sys.executable, "-I", str(CNI)], input="{nope", env={"CNI_COMMAND": "ADD"}, capture_output=True, text=True)
    assert done.returncode == 1 and json.loads(done.stdout)["code"] == 6


def _members(archive: Path) -> tuple[dict, dict[str, tarfile.TarInfo], bytes]:
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))[0]  # type: ignore[arg-type]
        config = json.load(tar.extractfile(manifest["Config"]))  # type: ignore[arg-type]
        layer_bytes = tar.extractfile(manifest["Layers"][0]).read()  # type: ignore[union-attr]
    with tarfile.open(fileobj=io.BytesIO(layer_bytes)) as layer:
        return {"manifest": manifest, "config": config}, {m.name: m for m in layer.getmembers()}, layer_bytes


@pytest.mark.skipif(shutil.which("gcc") is None or not images._is_static(images.BUSYBOX), reason="gcc or busybox-static not installed")
def test_the_images_are_built_from_the_machine_and_run_as_non_root_reproducibly(tmp_path):
    for out in (tmp_path / "a", tmp_path / "b"):
        assert images.main(["--out", str(out)]) == 0
    for name in (images.SANDBOX_TAR, images.WORKLOAD_TAR):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), f"{name} differs between two builds"
    meta, files, _ = _members(tmp_path / "a" / images.SANDBOX_TAR)
    assert meta["manifest"]["RepoTags"] == [images.SANDBOX_IMAGE]
    assert set(files) == {"pause"} and meta["config"]["config"]["Entrypoint"] == ["/pause"]
    meta, files, layer = _members(tmp_path / "a" / images.WORKLOAD_TAR)
    assert meta["manifest"]["RepoTags"] == [images.WORKLOAD_IMAGE]
    assert meta["config"]["config"]["User"] == f"{images.WORKLOAD_UID}:{images.WORKLOAD_UID}"
    assert files["bin/sh"].issym() and files["bin/sh"].linkname == "/bin/busybox"
    assert files["tmp"].mode == 0o1777
    with tarfile.open(fileobj=io.BytesIO(layer)) as t:
        passwd = t.extractfile("etc/passwd").read().decode()  # type: ignore[union-attr]
    assert f"app:x:{images.WORKLOAD_UID}:" in passwd


def test_a_dynamic_busybox_is_refused_with_the_package_to_install(tmp_path):
    with pytest.raises(images.ImageError, match="apt-get install busybox-static"):
        images.build_workload(tmp_path / "x.tar", busybox=Path(sys.executable))
    assert not (tmp_path / "x.tar").exists()


def test_every_node_listener_is_on_loopback_and_nothing_touches_the_host_network(tmp_path):
    node = Node(Cluster(tmp_path / "c", tmp_path / "bin", port_base=21000))
    toml = config.containerd_config(node)
    assert 'stream_server_address = "127.0.0.1"' in toml
    assert '[debug]\n  address = ""' in toml and '[metrics]\n  address = ""' in toml
    assert "restrict_oom_score_adj = true" in toml and "netns_mounts_under_state_dir = true" in toml
    assert f'root = "{node.root / "containerd" / "root"}"' in toml
    kubelet = config.kubelet_config(node)
    assert kubelet["address"] == kubelet["healthzBindAddress"] == "127.0.0.1"
    assert kubelet["readOnlyPort"] == 0 and kubelet["makeIPTablesUtilChains"] is False
    assert kubelet["authentication"]["anonymous"]["enabled"] is False and kubelet["authorization"]["mode"] == "Webhook"
    assert kubelet["cgroupRoot"] == node.cgroup_root and kubelet["podLogsDir"].startswith(str(node.root))


def test_two_clusters_never_share_a_cgroup_root_or_a_network_name(tmp_path):
    a, b = Node(Cluster(tmp_path / "a")), Node(Cluster(tmp_path / "b"))
    assert a.cgroup_root != b.cgroup_root and a.network != b.network
