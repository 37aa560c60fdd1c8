"""localcluster without the binaries: refusals name the cause and the fix, and nothing is half-created."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from secrets_platform import localcluster
from secrets_platform.localcluster import Cluster, ClusterError, Ports, command_lines, free_port_base, pinned_versions
from secrets_platform.localcluster.__main__ import main
from secrets_platform.localcluster.node import packages as node_packages

BUILT = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "external-secrets",
    "vault-injector",
    "reloader",
    "kubectl",
    "external-secrets-crds.yaml",
    "pause-image.tar",
    "busybox-image.tar",
)


@pytest.fixture
def binaries(tmp_path, monkeypatch):
    """Stand-in files where the built binaries are looked up (for the checks that run before any is started)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in BUILT:
        (bin_dir / name).write_text("")
    # The Debian packages the node needs, as stand-ins too: what this machine has installed doesn't matter here.
    debian = tmp_path / "debian"
    debian.mkdir()
    packages = {what: (str(debian / Path(path).name), package) for what, (path, package) in node_packages.PACKAGES.items()}
    for path, _ in packages.values():
        Path(path).write_text("")
    monkeypatch.setattr(node_packages, "PACKAGES", packages)
    return bin_dir


def test_pinned_versions_come_from_the_versions_file():
    versions = pinned_versions()
    assert set(versions) == {"kubernetes", "etcd"}
    assert all(v.startswith("v") for v in versions.values())


def test_missing_binaries_say_to_run_make_toolchain(tmp_path):
    with pytest.raises(ClusterError, match=r"kube-apiserver is missing: run make toolchain|etcd is missing: run make toolchain"):
        Cluster(tmp_path / "c", tmp_path / "nothing").start()
    assert not (tmp_path / "c" / "pki").exists()


def test_a_port_in_use_is_named_with_the_fix(tmp_path, binaries):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cluster = Cluster(tmp_path / "c", binaries, port_base=port)
        with pytest.raises(ClusterError) as err:
            cluster.start()
    text = str(err.value)
    assert f"port {port} on 127.0.0.1" in text and "kube-apiserver" in text and "LOCAL_CLUSTER_PORT_BASE" in text
    # Nothing half-created: no certificates, no state.
    assert cluster.state() is None and not (tmp_path / "c" / "pki").exists()


def test_stale_data_of_another_version_is_refused_with_the_fix(tmp_path, binaries):
    root = tmp_path / "c"
    root.mkdir()
    (root / "cluster.json").write_text(
        json.dumps(
            {
                "versions": {"kubernetes": "v1.29.0", "etcd": "v3.4.23"},
                "ports": asdict(Ports.from_base(1)),
            }
        )
    )
    with pytest.raises(ClusterError, match=r"made by kubernetes v1\.29\.0 / etcd v3\.4\.23.*run make destroy"):
        Cluster(root, binaries).start()


def test_data_of_the_plain_http_etcd_layout_is_refused_before_anything_starts(tmp_path, binaries):
    """Data made when etcd served plain HTTP (no layout in cluster.json, no etcd certificates): the clear make destroy
    message, not an API server that waits for an etcd it can no longer reach; nothing is started or created."""
    root = tmp_path / "c"
    (root / "etcd").mkdir(parents=True)
    (root / "pki").mkdir()
    for name in ("ca.crt", "ca.key", "admin.crt", "admin.key"):
        (root / "pki" / name).write_text("")
    (root / "cluster.json").write_text(
        json.dumps(
            {
                "versions": pinned_versions(),
                "ports": asdict(Ports.from_base(1)),
                "serviceRange": localcluster.SERVICE_RANGE,
            }
        )
    )
    with pytest.raises(ClusterError, match=r"older layout \(its etcd serves plain HTTP.*run make destroy.*then make up"):
        Cluster(root, binaries).start()
    assert not (root / "run").exists() and not (root / "pki" / "etcd-ca.crt").exists()


def test_data_of_the_layout_before_the_node_is_refused_with_the_fix(tmp_path, binaries):
    root = tmp_path / "c"
    root.mkdir()
    old_ports = {"api": 1, "etcd": 2, "etcd_peer": 3, "controller_manager": 4, "external_secrets": 5}
    (root / "cluster.json").write_text(json.dumps({"versions": pinned_versions(), "ports": old_ports}))
    with pytest.raises(ClusterError, match=r"older layout \(its ports differ\): run make destroy, then make up"):
        Cluster(root, binaries).start()


def test_data_without_a_state_file_is_refused(tmp_path, binaries):
    (tmp_path / "c" / "etcd").mkdir(parents=True)
    with pytest.raises(ClusterError, match="older layout.*make destroy"):
        Cluster(tmp_path / "c", binaries).start()


def test_an_unreadable_state_file_is_one_clear_error(tmp_path, binaries):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "cluster.json").write_text("{not json")
    with pytest.raises(ClusterError, match="unreadable.*make destroy"):
        Cluster(tmp_path / "c", binaries).start()


def test_a_second_start_while_one_runs_is_refused(tmp_path, binaries):
    cluster = Cluster(tmp_path / "c", binaries)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; sys.path.insert(0, sys.argv[1]); from secrets_platform.localcluster import Cluster; from pathlib import Path;"
                "c = Cluster(Path(sys.argv[2]));\nwith c.locked():\n    print('held', flush=True); time.sleep(30)"
            ),
            str(localcluster.ROOT),
            str(cluster.root),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ClusterError, match=f"being started or stopped by pid {holder.pid}.*wait"):
            cluster.start()
    finally:
        holder.kill()
        holder.wait()


def test_certificates_are_made_locally_with_private_keys_kept_private(tmp_path):
    pki = tmp_path / "pki"
    localcluster.pki.create(pki, "127.100.0.1")
    for key in pki.glob("*.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    text = subprocess.run(
        ["openssl", "x509", "-in", str(pki / "apiserver.crt"), "-noout", "-text"], capture_output=True, text=True, check=True
    ).stdout
    assert "IP Address:127.0.0.1" in text and "IP Address:127.100.0.1" in text and "DNS:kubernetes.default.svc" in text
    admin = subprocess.run(
        ["openssl", "x509", "-in", str(pki / "admin.crt"), "-noout", "-subject"], capture_output=True, text=True, check=True
    ).stdout
    assert "O = system:masters" in admin
    verify = subprocess.run(
        ["openssl", "verify", "-CAfile", str(pki / "ca.crt"), str(pki / "apiserver.crt"), str(pki / "admin.crt")],
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stderr


def test_etcd_has_a_ca_of_its_own_and_serves_loopback_only(tmp_path):
    """etcd trusts only etcd-ca: its serving, peer and API-server client certificates chain to it, the cluster CA's
    admin certificate does not (so it cannot read etcd), and etcd's certificates name loopback only."""
    pki = tmp_path / "pki"
    localcluster.pki.create(pki, "127.100.0.1")
    for name in localcluster.pki.ETCD_FILES:
        assert (pki / name).exists(), name

    def verify(ca: str, *certs: str) -> bool:
        done = subprocess.run(
            ["openssl", "verify", "-CAfile", str(pki / ca), *(str(pki / c) for c in certs)], capture_output=True, text=True
        )
        return done.returncode == 0

    assert verify("etcd-ca.crt", "etcd-server.crt", "etcd-peer.crt", "apiserver-etcd-client.crt")
    assert not verify("etcd-ca.crt", "admin.crt") and not verify("ca.crt", "apiserver-etcd-client.crt")
    for name in ("etcd-server.crt", "etcd-peer.crt"):
        text = subprocess.run(
            ["openssl", "x509", "-in", str(pki / name), "-noout", "-ext", "subjectAltName"], capture_output=True, text=True
        ).stdout
        assert text.split("\n", 1)[1].strip() == "IP Address:127.0.0.1, DNS:localhost", text


def test_ports_follow_the_base_and_every_one_is_distinct():
    ports = Ports.from_base(20000)
    assert sorted(ports.named().values()) == list(range(20000, 20009))


def test_a_missing_debian_package_is_named_with_the_install_command_and_nothing_is_created(tmp_path, binaries, monkeypatch):
    Path(node_packages.PACKAGES["runc"][0]).unlink()
    cluster = Cluster(tmp_path / "c", binaries, port_base=free_port_base())
    with pytest.raises(ClusterError) as err:
        cluster.start()
    text = str(err.value)
    assert "Debian's runc (not installed)" in text and "apt-get install containerd runc containernetworking-plugins busybox-static" in text
    assert ".ci/run" in text
    assert cluster.state() is None and not (tmp_path / "c" / "pki").exists() and not cluster.running()


def test_missing_node_images_say_to_run_make_toolchain(tmp_path, binaries):
    (binaries / "busybox-image.tar").unlink()
    with pytest.raises(ClusterError, match=r"busybox-image.tar is missing: run make toolchain \(it builds the local node's images\)"):
        Cluster(tmp_path / "c", binaries).start()
    assert not (tmp_path / "c" / "pki").exists()


def test_cli_exits_2_with_one_line_and_no_traceback(tmp_path, capsys):
    rc = main(["--dir", str(tmp_path / "c"), "--bin", str(tmp_path / "none"), "up"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("local cluster: ") and "Traceback" not in err and err.count("\n") == 1


def test_status_of_a_cluster_never_created(tmp_path, capsys):
    assert main(["--dir", str(tmp_path / "c"), "status"]) == 0
    assert "not created" in capsys.readouterr().out


def test_listening_sockets_are_read_from_the_kernel():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        table = localcluster._listening_sockets()
    assert ("127.0.0.1", port) in table.values()


def test_the_audit_policy_never_logs_a_body_and_records_every_credential_request(tmp_path):
    """Metadata at most (a body of a Secret, a token request or a store would carry a value); credentials first."""
    policy = localcluster.AUDIT_POLICY
    assert {rule["level"] for rule in policy["rules"]} <= {"None", "Metadata"}
    first = policy["rules"][0]
    assert first["level"] == "Metadata" and "verbs" not in first and "users" not in first
    covered = {(r["group"], tuple(r.get("resources", ["*"]))) for r in first["resources"]}
    assert ("", ("secrets", "serviceaccounts/token", "serviceaccounts")) in covered
    assert {"external-secrets.io", "rbac.authorization.k8s.io"} <= {group for group, _ in covered}
    c = Cluster(tmp_path, port_base=30000)
    c._write_audit_policy()
    assert json.loads(c.audit_policy.read_text()) == policy
    assert stat.S_IMODE(c.audit_log.parent.stat().st_mode) & 0o077 == 0
    args = c._args("kube-apiserver")
    assert f"--audit-policy-file={c.audit_policy}" in args and f"--audit-log-path={c.audit_log}" in args
    assert f"--audit-log-maxsize={localcluster.AUDIT_LOG_MAX_MB}" in args
    assert f"--audit-log-maxbackup={localcluster.AUDIT_LOG_BACKUPS}" in args
    assert str(c.audit_log).startswith(str(tmp_path))


def test_openbaos_audit_device_is_declared_in_its_config_and_a_large_log_is_moved_aside(tmp_path, monkeypatch):
    """OpenBao 2.x enables no audit device through the API: the file device is an `audit` stanza, values HMACed."""
    from secrets_platform.localcluster.vault import server as vault

    bao = vault.OpenBao(Cluster(tmp_path, port_base=30000))
    bao.root.mkdir(parents=True)
    bao.audit_log.write_text("old\n")
    monkeypatch.setattr(vault, "AUDIT_LOG_MAX_BYTES", 2)
    bao._write_audit_config()
    doc = json.loads(bao.audit_config.read_text())
    assert bao.audit_config.suffix == ".json"  # OpenBao parses it as JSON by its name
    [stanza] = doc["audit"]
    assert stanza == {
        "file": {
            "file": {"description": stanza["file"]["file"]["description"], "options": {"file_path": str(bao.audit_log), "mode": "0600"}}
        }
    }
    assert not bao.audit_log.exists() and (bao.root / "audit.log.1").read_text() == "old\n"


def test_a_data_folder_too_deep_for_the_nodes_sockets_is_refused_before_anything_starts(tmp_path, binaries):
    deep = tmp_path / ("d" * 60) / "c"
    cluster = Cluster(deep, binaries, port_base=free_port_base())
    with pytest.raises(ClusterError, match=r"too deep for the node's unix sockets .*use a data folder with a shorter path"):
        cluster.start()
    assert cluster.state() is None and not (deep / "pki").exists()


def test_both_etcd_listeners_serve_tls_and_require_a_certificate_of_etcds_own_ca(tmp_path):
    cluster = Cluster(tmp_path / "c", tmp_path / "bin", port_base=21000)
    argv = command_lines.etcd(cluster)
    flags = dict(a.lstrip("-").split("=", 1) for a in argv if a.startswith("--") and "=" in a)
    for prefix, certificate in (("", "etcd-server"), ("peer-", "etcd-peer")):
        assert flags[f"{prefix}cert-file"] == str(cluster.pki / f"{certificate}.crt")
        assert flags[f"{prefix}key-file"] == str(cluster.pki / f"{certificate}.key")
        assert flags[f"{prefix}trusted-ca-file"] == str(cluster.pki / "etcd-ca.crt")
        assert f"--{prefix}client-cert-auth" in argv
    listening = [argv[i + 1] for i, a in enumerate(argv) if a in ("--listen-client-urls", "--listen-peer-urls")]
    assert len(listening) == 2 and all(url.startswith("https://127.0.0.1:") for url in listening)


def test_the_data_folder_layout_is_under_each_parts_own_root(tmp_path):
    cluster = Cluster(tmp_path / "c", tmp_path / "bin", port_base=21000)
    assert cluster.pki == tmp_path / "c" / "pki" and cluster.state_file == tmp_path / "c" / "cluster.json"
    assert cluster.audit_log == tmp_path / "c" / "audit" / "kube-apiserver.log"
    assert cluster.node.socket == cluster.node.root / "ctd.sock" and cluster.node.root == tmp_path / "c" / "node"
    assert isinstance(Cluster.pki, localcluster.layout.InRoot)  # on the class: the declaration, not a path
