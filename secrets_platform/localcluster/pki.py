"""Certificates and keys of a local cluster, made with the machine's ``openssl``.

One CA signs everything but the aggregation layer's client and etcd: the API server's serving certificate (SANs for every
name and loopback address a client may use), the admin client (group
``system:masters``), the controller-manager's and the scheduler's clients and serving
certificates, the kubelet's client (``system:node:127.0.0.1``) and serving certificate, and
the API server's client to the kubelet, and the Vault agent injector's serving certificate
(127.0.0.1 only; the API server calls that webhook with this CA). etcd has a CA of its own (``etcd-ca``), as kubeadm
sets it up, so no client of the API server's CA can talk to etcd: it signs etcd's serving and
peer certificates (127.0.0.1 only) and the one client etcd accepts, ``apiserver-etcd-client``
(the API server, and the health check). The service-account key pair signs and verifies
service-account tokens. Keys never leave the cluster's data folder (mode 0600).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

DAYS = "3650"
# What a cluster data folder of the current layout holds for etcd (older layouts served plain HTTP).
# The Vault agent injector's serving certificate and key: <name>.crt, <name>.key (localcluster/injector.py).
VAULT_INJECTOR = "vault-injector-serving"
ETCD_FILES = ("etcd-ca.crt", "etcd-server.crt", "etcd-server.key", "etcd-peer.crt", "etcd-peer.key", "apiserver-etcd-client.crt")


class PkiError(RuntimeError):
    pass


def _openssl(*args: str, cwd: Path) -> None:
    try:
        done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError:
        raise PkiError("openssl is not installed: install it (apt-get install openssl) and run make up again") from None
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()
        raise PkiError(f"openssl {args[0]} failed: {last[-1] if last else 'no output'}")


def _key(path: Path) -> None:
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", path.name, cwd=path.parent)
    path.chmod(0o600)


def _ca(pki: Path, name: str, subject: str) -> None:
    _key(pki / f"{name}.key")
    _openssl(
        "req",
        "-x509",
        "-new",
        "-key",
        f"{name}.key",
        "-subj",
        subject,
        "-days",
        DAYS,
        "-sha256",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-out",
        f"{name}.crt",
        cwd=pki,
    )


def _signed(pki: Path, name: str, subject: str, *, server_names: list[str] | None = None, client: bool = False, ca: str = "ca") -> None:
    key, csr, crt, ext = (pki / f"{name}.{s}" for s in ("key", "csr", "crt", "ext"))
    _key(key)
    _openssl("req", "-new", "-key", key.name, "-subj", subject, "-out", csr.name, cwd=pki)
    usage = ["keyUsage = critical, digitalSignature, keyEncipherment"]
    usage.append(f"extendedKeyUsage = {'serverAuth, clientAuth' if client and server_names else 'clientAuth' if client else 'serverAuth'}")
    if server_names:
        usage.append("subjectAltName = " + ", ".join(server_names))
    ext.write_text("basicConstraints = critical, CA:FALSE\n" + "\n".join(usage) + "\n")
    _openssl(
        "x509",
        "-req",
        "-in",
        csr.name,
        "-CA",
        f"{ca}.crt",
        "-CAkey",
        f"{ca}.key",
        "-CAcreateserial",
        "-days",
        DAYS,
        "-sha256",
        "-extfile",
        ext.name,
        "-out",
        crt.name,
        cwd=pki,
    )
    csr.unlink()
    ext.unlink()


def vault_injector_serving(pki: Path) -> None:
    """The Vault agent injector's serving certificate (127.0.0.1 only): the API server calls its webhook with the CA."""
    _signed(pki, VAULT_INJECTOR, "/CN=vault-agent-injector", server_names=["IP:127.0.0.1"])
    for leftover in pki.glob("*.srl"):
        leftover.unlink()


def create(pki: Path, service_ip: str) -> None:
    """Write every certificate and key the cluster needs into ``pki`` (which must be empty or absent)."""
    pki.mkdir(parents=True, exist_ok=True)
    os.chmod(pki, 0o700)
    _ca(pki, "ca", "/CN=secrets-platform-local-ca")
    # The aggregation layer's own CA and client, as kubeadm sets them up (controllers read it).
    _ca(pki, "front-proxy-ca", "/CN=secrets-platform-local-front-proxy-ca")
    _signed(pki, "front-proxy-client", "/CN=front-proxy-client", client=True, ca="front-proxy-ca")
    names = [
        "IP:127.0.0.1",
        f"IP:{service_ip}",
        "DNS:localhost",
        "DNS:kubernetes",
        "DNS:kubernetes.default",
        "DNS:kubernetes.default.svc",
        "DNS:kubernetes.default.svc.cluster.local",
    ]
    _signed(pki, "apiserver", "/CN=kube-apiserver", server_names=names)
    _signed(pki, "controller-manager-serving", "/CN=kube-controller-manager", server_names=["IP:127.0.0.1", "DNS:localhost"])
    _signed(pki, "admin", "/O=system:masters/CN=secrets-platform-admin", client=True)
    _signed(pki, "controller-manager", "/CN=system:kube-controller-manager", client=True)
    # etcd: serving and peer certificates for loopback only, one client. The serving certificate is a client's too:
    # etcd's gRPC gateway (its HTTP /v3 API) dials etcd itself with it, and etcd requires a client certificate.
    _ca(pki, "etcd-ca", "/CN=secrets-platform-local-etcd-ca")
    loopback = ["IP:127.0.0.1", "DNS:localhost"]
    _signed(pki, "etcd-server", "/CN=etcd-local", server_names=loopback, client=True, ca="etcd-ca")
    _signed(pki, "etcd-peer", "/CN=etcd-local-peer", server_names=loopback, client=True, ca="etcd-ca")
    _signed(pki, "apiserver-etcd-client", "/CN=kube-apiserver-etcd-client", client=True, ca="etcd-ca")
    # The scheduler and the node (secrets_platform/localcluster/node): the kubelet's client (the Node authorizer's
    # system:node:<name> in system:nodes), its serving certificate, and the API server's client to it.
    _signed(pki, "scheduler", "/CN=system:kube-scheduler", client=True)
    _signed(pki, "scheduler-serving", "/CN=kube-scheduler", server_names=["IP:127.0.0.1", "DNS:localhost"])
    _signed(pki, "kubelet", "/O=system:nodes/CN=system:node:127.0.0.1", client=True)
    _signed(pki, "kubelet-serving", "/CN=127.0.0.1", server_names=["IP:127.0.0.1"])
    _signed(pki, "apiserver-kubelet-client", "/O=system:masters/CN=kube-apiserver-kubelet-client", client=True)
    vault_injector_serving(pki)
    _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "sa.key", cwd=pki)
    (pki / "sa.key").chmod(0o600)
    _openssl("pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)
    for leftover in pki.glob("*.srl"):
        leftover.unlink()
