"""The local cluster: etcd, kube-apiserver and kube-controller-manager on loopback.

``make up`` starts it (``python -m localcluster up``) and applies the local stack
to it; the end-to-end tests start clusters of their own in temporary folders.
It is the envtest/kind idea without containers: real Kubernetes binaries built by
``make toolchain`` (toolchain/kube, toolchain/etcd), certificates made locally,
RBAC authorization, and nothing that can leave the loopback range:

- every listener binds 127.0.0.1 (etcd client and peer, the API server, the
  controller-manager's health port, Reloader's metrics port: upstream hard-codes every
  interface, so ``make toolchain`` builds it patched to 127.0.0.1, :mod:`secrets_platform.localcluster.reloader`);
- etcd speaks TLS only, client and peer, and takes only clients with a certificate
  of its own CA (the API server's): another local user can neither read nor write
  the Secrets it stores;
- the Service range is ``127.100.0.0/16``, so the API server calling a webhook or
  an aggregated API at a Service's ClusterIP stays on loopback too;
- pods run: kube-scheduler binds them to one node (``127.0.0.1``), a kubelet over
  Debian's containerd and runc runs them from locally built images, on a network that
  gives each pod only its own loopback (:mod:`localcluster.node`);
- the Vault agent injector (vault-k8s's admission handler) serves on 127.0.0.1 with a
  certificate of the local CA, called by a URL webhook (:mod:`localcluster.injector`).

The data folder (``.cluster/`` in the repository, git-ignored) keeps etcd's data,
the certificates, the kubeconfig and the logs, so the cluster and what was applied
to it survive ``make down``; ``make destroy`` removes it. The API server writes an
audit log there too (``audit/kube-apiserver.log``, policy :data:`AUDIT_POLICY`):
every request for a Secret, an External Secrets object, a service-account token or
an RBAC object, at ``Metadata`` level (who, what, when; never a body).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from secrets_platform.localcluster import injector, pki
from secrets_platform.localcluster import reloader as reloader_component

if TYPE_CHECKING:
    from secrets_platform.localcluster.node import Node

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / ".cluster"
DEFAULT_BIN = ROOT / "build" / "cluster"
VERSIONS_FILE = ROOT / "toolchain" / "versions.txt"

SERVICE_RANGE = "127.100.0.0/16"
SERVICE_IP = "127.100.0.1"  # the first address of the range: the `kubernetes` Service
LOOPBACK = "127.0.0.1"
ISSUER = "https://kubernetes.default.svc.cluster.local"
DEFAULT_PORT_BASE = 16443
CONTROLLERS = (
    "namespace-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "garbage-collector-controller",
    "root-ca-certificate-publisher-controller",
    # For pods that run (secrets_platform/localcluster/node): the node's taints and health, rollouts, batch.
    "node-lifecycle-controller",
    "deployment-controller",
    "replicaset-controller",
    # Reloader rolls StatefulSets and DaemonSets too (secrets_platform/localcluster/reloader.py).
    "statefulset-controller",
    "daemonset-controller",
    "job-controller",
    "cronjob-controller",
    "pod-garbage-collector-controller",
)
# Processes in start order; stopped in reverse.
# reloader: Reloader, batch-safe and scoped to the platform's namespaces (secrets_platform/localcluster/reloader.py).
COMPONENTS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "external-secrets",
    "vault-injector",
    "reloader",
    "containerd",
    "kubelet",
)
# Debian's, not built by make toolchain (secrets_platform/localcluster/node).
SYSTEM_BINARIES = {"containerd": "/usr/bin/containerd"}
ESO_CRDS = "external-secrets-crds.yaml"
# The data folder's layout; state files of another (older) layout are refused with the fix (make destroy).
# 2: etcd serves TLS with client certificates (layout 1 served plain HTTP).
LAYOUT = 2

# The API server's audit policy (audit.k8s.io/v1), written into the data folder at every start.
# Nothing is logged above `Metadata`: a request or response body of a Secret, a token request,
# an ExternalSecret or a store (the local fake provider's store holds values) would carry a
# value, and so could a Pod's or a ConfigMap's. The first matching rule wins.
AUDIT_LOG_MAX_MB = 20
AUDIT_LOG_BACKUPS = 5
AUDIT_POLICY: dict = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    # RequestReceived repeats every request before its answer; ResponseStarted is only for long watches.
    "omitStages": ["RequestReceived"],
    "omitManagedFields": True,
    "rules": [
        # Credentials and who may read them: every verb, every user, the platform's own controllers included.
        {
            "level": "Metadata",
            "resources": [
                {"group": "", "resources": ["secrets", "serviceaccounts/token", "serviceaccounts"]},
                {"group": "external-secrets.io"},
                {"group": "generators.external-secrets.io"},
                {"group": "rbac.authorization.k8s.io"},
                {"group": "authentication.k8s.io", "resources": ["tokenreviews"]},
            ],
        },
        # Noise with no credential in it: health probes, discovery, leases, events.
        {"level": "None", "nonResourceURLs": ["/healthz*", "/readyz*", "/livez*", "/version", "/openapi/*", "/api", "/apis", "/apis/*"]},
        {
            "level": "None",
            "resources": [
                {"group": "coordination.k8s.io", "resources": ["leases"]},
                {"group": "", "resources": ["events"]},
                {"group": "events.k8s.io"},
            ],
        },
        # Reads of everything else: none (they are frequent and read no credential).
        {"level": "None", "verbs": ["get", "list", "watch"]},
        # Changes to everything else: who changed what, never the body (a Pod or ConfigMap may carry a value).
        {"level": "Metadata"},
    ],
}


class ClusterError(RuntimeError):
    """Something the user can fix; the message names the cause and the fix."""


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


def pinned_versions(path: Path = VERSIONS_FILE) -> dict[str, str]:
    """The control plane's pinned versions from toolchain/versions.txt: {"kubernetes": "v1.34.4", "etcd": "v3.6.16"}."""
    wanted = {"k8s.io/kubernetes": "kubernetes", "go.etcd.io/etcd/server/v3": "etcd"}
    out = {}
    for line in path.read_text().splitlines():
        cols = line.split()
        if len(cols) >= 4 and not line.startswith("#") and cols[2] in wanted:
            out[wanted[cols[2]]] = cols[3]
    return out


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
        if all(_port_free(base + i) for i in range(count)):
            return base
    raise ClusterError("found no free ports on 127.0.0.1")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((LOOPBACK, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                return False
            raise
    return True


class Cluster:
    """One local cluster, identified by its data folder."""

    def __init__(self, root: Path = DEFAULT_DIR, bin_dir: Path = DEFAULT_BIN, port_base: int | None = None):
        self.root = Path(root)
        self.bin_dir = Path(bin_dir)
        self._port_base = port_base
        self._procs: dict[str, subprocess.Popen] = {}
        self.found_stopped: list[str] = []
        """The components :meth:`start` found stopped while others ran (it restarted the cluster)."""

    # ------------------------------------------------------------------ paths

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    @property
    def audit_log(self) -> Path:
        """The API server's audit log (JSON lines); rotated backups sit beside it (``kube-apiserver-<time>.log``)."""
        return self.root / "audit" / "kube-apiserver.log"

    @property
    def audit_policy(self) -> Path:
        return self.root / "audit-policy.json"

    def _write_audit_policy(self) -> None:
        """The policy file of :data:`AUDIT_POLICY` and the log's folder (owner only): at every start, so a changed policy applies."""
        self.audit_log.parent.mkdir(mode=0o700, exist_ok=True)
        self.audit_policy.write_text(json.dumps(AUDIT_POLICY, indent=2) + "\n")

    def _pid_file(self, component: str) -> Path:
        return self.root / "run" / f"{component}.pid"

    @property
    def _state_file(self) -> Path:
        return self.root / "cluster.json"

    def binary(self, name: str) -> Path:
        return Path(SYSTEM_BINARIES[name]) if name in SYSTEM_BINARIES else self.bin_dir / name

    @property
    def node(self) -> "Node":
        from secrets_platform.localcluster.node import Node

        return Node(self)

    # ------------------------------------------------------------------ state

    def state(self) -> dict | None:
        try:
            return json.loads(self._state_file.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise ClusterError(
                f"{self._state_file} is unreadable ({err.__class__.__name__}): "
                "run make destroy to remove the local cluster's data, then make up"
            ) from None

    @property
    def ports(self) -> Ports:
        state = self.state()
        if state:
            return Ports(**state["ports"])  # a state file of another layout fails _check_state first
        base = self._port_base or int(os.environ.get("LOCAL_CLUSTER_PORT_BASE", DEFAULT_PORT_BASE))
        return Ports.from_base(base)

    @property
    def server(self) -> str:
        return f"https://{LOOPBACK}:{self.ports.api}"

    def pids(self) -> dict[str, int | None]:
        """Each component's pid when it is running (checked against the process table), else None."""
        out: dict[str, int | None] = {}
        for component in COMPONENTS:
            try:
                pid = int(self._pid_file(component).read_text())
                out[component] = pid if _is_process_of(pid, component) else None
            except (OSError, ValueError):
                out[component] = None
        return out

    def running(self) -> bool:
        return any(self.pids().values())

    # ------------------------------------------------------------------ lock

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One start/stop at a time per data folder; a second one is told who holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        lock = self.root / "lock"
        with open(lock, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                raise ClusterError(
                    f"the local cluster in {self.root} is being started or stopped by pid {holder}; "
                    "wait for that make up/down to finish, then run yours again"
                ) from None
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
            try:
                yield
            finally:
                fh.seek(0)
                fh.truncate()

    # ------------------------------------------------------------------ HTTP health

    def _tls(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        ctx.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))
        return ctx

    def _get(self, url: str, tls: bool = True) -> str | None:
        try:
            with urllib.request.urlopen(url, timeout=2, context=self._tls() if tls else None) as resp:
                return resp.read().decode(errors="replace")
        except (urllib.error.URLError, OSError, ssl.SSLError):
            return None

    def ready(self) -> bool:
        """The API server answers /readyz with our admin client certificate."""
        if not (self.pki / "admin.crt").exists():
            return False
        return (self._get(f"{self.server}/readyz") or "").strip() == "ok"

    def _etcd_healthy(self) -> bool:
        """etcd's /health over TLS, with the API server's etcd client certificate (the only kind etcd accepts)."""
        ctx = ssl.create_default_context(cafile=str(self.pki / "etcd-ca.crt"))
        ctx.load_cert_chain(str(self.pki / "apiserver-etcd-client.crt"), str(self.pki / "apiserver-etcd-client.key"))
        try:
            with urllib.request.urlopen(f"https://{LOOPBACK}:{self.ports.etcd}/health", timeout=2, context=ctx) as resp:
                return '"health":"true"' in resp.read().decode(errors="replace")
        except (urllib.error.URLError, OSError, ssl.SSLError):
            return False

    def _external_secrets_healthy(self) -> bool:
        return "controller_runtime" in (self._get(f"http://{LOOPBACK}:{self.ports.external_secrets}/metrics", tls=False) or "")

    def _controller_manager_healthy(self, port: int | None = None) -> bool:
        ctx = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        try:
            with urllib.request.urlopen(f"https://{LOOPBACK}:{port or self.ports.controller_manager}/healthz", timeout=2, context=ctx) as r:
                return r.read().decode().strip() == "ok"
        except (urllib.error.URLError, OSError, ssl.SSLError):
            return False

    def _scheduler_healthy(self) -> bool:
        return self._controller_manager_healthy(self.ports.scheduler)

    def _kubelet_healthy(self) -> bool:
        return (
            self._get(f"http://{LOOPBACK}:{self.ports.kubelet_healthz}/healthz", tls=False) or ""
        ).strip() == "ok" and self.node.node_ready()

    # ------------------------------------------------------------------ life cycle

    def check_binaries(self) -> dict[str, str]:
        versions = pinned_versions()
        from secrets_platform.localcluster.node import NodeError

        for name in (*COMPONENTS, "kubectl", ESO_CRDS):
            if name not in SYSTEM_BINARIES and not self.binary(name).exists():
                what = (
                    reloader_component.WHAT
                    if name == reloader_component.BINARY
                    else "the Vault agent injector"
                    if name == injector.COMPONENT
                    else "the local control plane"
                )
                raise ClusterError(f"{self.binary(name)} is missing: run make toolchain (it builds {what})")
        try:
            self.node.check()
        except NodeError as err:
            raise ClusterError(str(err)) from None
        return versions

    def _check_state(self, versions: dict[str, str]) -> None:
        state = self.state()
        if state is None:
            if self.root.exists() and (self.root / "etcd").exists():
                raise ClusterError(
                    f"{self.root} holds cluster data without {self._state_file.name} (an older layout): run make destroy, then make up"
                )
            return
        from dataclasses import fields

        if set(state.get("ports") or {}) != {f.name for f in fields(Ports)}:
            raise ClusterError(f"the cluster data in {self.root} is of an older layout (its ports differ): run make destroy, then make up")
        made = state.get("versions", {})
        if made != versions:
            raise ClusterError(
                f"the cluster data in {self.root} was made by kubernetes {made.get('kubernetes', '?')} / etcd "
                f"{made.get('etcd', '?')}, and the pinned versions are now kubernetes {versions['kubernetes']} / etcd "
                f"{versions['etcd']}: run make destroy (removes the local stack and the cluster data), then make up"
            )
        if state.get("layout") != LAYOUT or not all((self.pki / name).exists() for name in pki.ETCD_FILES):
            raise ClusterError(
                f"the cluster data in {self.root} is of an older layout (its etcd serves plain HTTP, without client "
                "certificates): run make destroy (removes the local stack and the cluster data), then make up"
            )

    def _init(self, versions: dict[str, str]) -> None:
        """First start: certificates, kubeconfigs and the state file (all or nothing)."""
        ports = self.ports
        try:
            pki.create(self.pki, SERVICE_IP)
            self._write_kubeconfig(self.kubeconfig, "admin")
            self._write_kubeconfig(self.root / "controller-manager.kubeconfig", "controller-manager")
            self._write_kubeconfig(self.root / "scheduler.kubeconfig", "scheduler")
            (self.root / "etcd").mkdir(mode=0o700)
            self._state_file.write_text(
                json.dumps({"layout": LAYOUT, "versions": versions, "ports": asdict(ports), "serviceRange": SERVICE_RANGE}, indent=2) + "\n"
            )
        except BaseException:
            for leftover in (self.pki, self.root / "etcd"):
                shutil.rmtree(leftover, ignore_errors=True)
            for leftover in (
                self.kubeconfig,
                self.root / "controller-manager.kubeconfig",
                self.root / "scheduler.kubeconfig",
                self._state_file,
            ):
                leftover.unlink(missing_ok=True)
            raise

    def _write_kubeconfig(self, path: Path, user: str) -> None:
        ca = (self.pki / "ca.crt").read_text()
        import base64

        def b64(p: Path) -> str:
            return base64.b64encode(p.read_bytes()).decode()

        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "secrets-platform-local",
                    "cluster": {"server": self.server, "certificate-authority-data": base64.b64encode(ca.encode()).decode()},
                }
            ],
            "users": [
                {
                    "name": user,
                    "user": {"client-certificate-data": b64(self.pki / f"{user}.crt"), "client-key-data": b64(self.pki / f"{user}.key")},
                }
            ],
            "contexts": [{"name": "secrets-platform-local", "context": {"cluster": "secrets-platform-local", "user": user}}],
            "current-context": "secrets-platform-local",
        }
        path.write_text(json.dumps(doc, indent=2) + "\n")
        path.chmod(0o600)

    def _args(self, component: str) -> list[str]:
        p, ports = self.pki, self.ports
        if component == "etcd":
            # TLS only, both listeners, and a certificate of etcd's own CA required from every client and peer.
            peer, client = f"https://{LOOPBACK}:{ports.etcd_peer}", f"https://{LOOPBACK}:{ports.etcd}"
            return [
                f"--cert-file={p / 'etcd-server.crt'}",
                f"--key-file={p / 'etcd-server.key'}",
                "--client-cert-auth",
                f"--trusted-ca-file={p / 'etcd-ca.crt'}",
                f"--peer-cert-file={p / 'etcd-peer.crt'}",
                f"--peer-key-file={p / 'etcd-peer.key'}",
                "--peer-client-cert-auth",
                f"--peer-trusted-ca-file={p / 'etcd-ca.crt'}",
                "--tls-min-version=TLS1.2",
                "--name",
                "local",
                "--data-dir",
                str(self.root / "etcd"),
                "--listen-client-urls",
                client,
                "--advertise-client-urls",
                client,
                "--listen-peer-urls",
                peer,
                "--initial-advertise-peer-urls",
                peer,
                "--initial-cluster",
                f"local={peer}",
                "--log-level",
                "warn",
            ]
        if component == "external-secrets":
            # The controller of the pinned module as a local process (it reads $KUBECONFIG): metrics on
            # loopback, no webhook, no leader election; like the chart's values, no ClusterExternalSecret
            # or ClusterPushSecret processing.
            return [
                f"--metrics-addr={LOOPBACK}:{ports.external_secrets}",
                "--enable-leader-election=false",
                "--enable-cluster-external-secret-reconciler=false",
                "--enable-cluster-push-secret-reconciler=false",
                "--loglevel=info",
            ]
        if component == "kube-apiserver":
            return [
                f"--etcd-servers=https://{LOOPBACK}:{ports.etcd}",
                f"--etcd-cafile={p / 'etcd-ca.crt'}",
                f"--etcd-certfile={p / 'apiserver-etcd-client.crt'}",
                f"--etcd-keyfile={p / 'apiserver-etcd-client.key'}",
                f"--bind-address={LOOPBACK}",
                f"--advertise-address={LOOPBACK}",
                f"--secure-port={ports.api}",
                f"--tls-cert-file={p / 'apiserver.crt'}",
                f"--tls-private-key-file={p / 'apiserver.key'}",
                f"--client-ca-file={p / 'ca.crt'}",
                f"--service-account-issuer={ISSUER}",
                f"--service-account-key-file={p / 'sa.pub'}",
                f"--service-account-signing-key-file={p / 'sa.key'}",
                f"--service-cluster-ip-range={SERVICE_RANGE}",
                f"--requestheader-client-ca-file={p / 'front-proxy-ca.crt'}",
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-username-headers=X-Remote-User",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                f"--proxy-client-cert-file={p / 'front-proxy-client.crt'}",
                f"--proxy-client-key-file={p / 'front-proxy-client.key'}",
                "--authorization-mode=Node,RBAC",
                "--enable-admission-plugins=NodeRestriction",
                f"--kubelet-client-certificate={p / 'apiserver-kubelet-client.crt'}",
                f"--kubelet-client-key={p / 'apiserver-kubelet-client.key'}",
                f"--kubelet-certificate-authority={p / 'ca.crt'}",
                "--kubelet-preferred-address-types=InternalIP",
                "--anonymous-auth=false",
                "--endpoint-reconciler-type=none",
                "--profiling=false",
                "--enable-priority-and-fairness=false",
                f"--audit-policy-file={self.audit_policy}",
                f"--audit-log-path={self.audit_log}",
                "--audit-log-format=json",
                f"--audit-log-maxsize={AUDIT_LOG_MAX_MB}",
                f"--audit-log-maxbackup={AUDIT_LOG_BACKUPS}",
                # blocking: an event is on disk before the request is answered (no buffer to lose at a crash)
                "--audit-log-mode=blocking",
            ]
        if component == "kube-scheduler":
            return [
                f"--kubeconfig={self.root / 'scheduler.kubeconfig'}",
                f"--authentication-kubeconfig={self.root / 'scheduler.kubeconfig'}",
                f"--authorization-kubeconfig={self.root / 'scheduler.kubeconfig'}",
                f"--bind-address={LOOPBACK}",
                f"--secure-port={ports.scheduler}",
                f"--tls-cert-file={p / 'scheduler-serving.crt'}",
                f"--tls-private-key-file={p / 'scheduler-serving.key'}",
                "--leader-elect=false",
                "--profiling=false",
            ]
        if component == "vault-injector":
            return injector.args(self)
        if component == "reloader":
            return reloader_component.args()
        if component == "containerd":
            return self.node.containerd_args()
        if component == "kubelet":
            return self.node.kubelet_args()
        return [
            f"--kubeconfig={self.root / 'controller-manager.kubeconfig'}",
            f"--authentication-kubeconfig={self.root / 'controller-manager.kubeconfig'}",
            f"--authorization-kubeconfig={self.root / 'controller-manager.kubeconfig'}",
            f"--bind-address={LOOPBACK}",
            f"--secure-port={ports.controller_manager}",
            f"--tls-cert-file={p / 'controller-manager-serving.crt'}",
            f"--tls-private-key-file={p / 'controller-manager-serving.key'}",
            f"--controllers={','.join(CONTROLLERS)}",
            "--use-service-account-credentials=true",
            "--leader-elect=false",
            f"--service-account-private-key-file={p / 'sa.key'}",
            f"--root-ca-file={p / 'ca.crt'}",
            "--profiling=false",
        ]

    def _spawn(self, component: str) -> int:
        self.logs.mkdir(exist_ok=True)
        (self.root / "run").mkdir(exist_ok=True)
        # A clean environment: etcd reads ETCD_* variables, clients read KUBECONFIG.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.root), "LANG": "C.UTF-8"}
        if component in ("containerd", "kubelet"):  # they run Debian's runc, shims, mount and CNI plugins
            env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        if component == "external-secrets":
            env["KUBECONFIG"] = str(self.kubeconfig)
        if component == "reloader":
            env.update(reloader_component.environment(str(self.kubeconfig)))
        with open(self.log(component), "ab") as log:
            log.write(f"--- localcluster: starting {component} at {time.strftime('%Y-%m-%dT%H:%M:%S')} ---\n".encode())
            log.flush()
            proc = subprocess.Popen(
                [str(self.binary(component)), *self._args(component)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.root,
                start_new_session=True,
            )
        self._pid_file(component).write_text(str(proc.pid))
        self._procs[component] = proc
        return proc.pid

    def _wait(self, component: str, healthy, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if healthy():
                return
            proc = self._procs.get(component)
            code = proc.poll() if proc else None
            if code is not None or self.pids()[component] is None:
                raise ClusterError(f"{component} exited while starting (exit code {code}): {self._tail(component)}")
            time.sleep(0.2)
        raise ClusterError(f"{component} was not ready after {timeout:.0f} s: {self._tail(component)}")

    def _tail(self, component: str, lines: int = 3) -> str:
        try:
            text = (
                self.log(component)
                .read_text(errors="replace")
                .rsplit("--- localcluster: starting", 1)[-1]
                .strip()
                .splitlines()[1:][-lines:]
            )
        except OSError:
            text = []
        return (" | ".join(t.strip()[:300] for t in text) or "no output") + f" (full log: {self.log(component)})"

    def _check_ports(self) -> None:
        for what, port in self.ports.named().items():
            if not _port_free(port):
                raise ClusterError(
                    f"port {port} on 127.0.0.1 (for the local cluster's {what}) is already in use by another program: "
                    f"stop that program (ss -ltnp 'sport = :{port}' shows it), or make destroy and start again with "
                    "LOCAL_CLUSTER_PORT_BASE=<another port> make up"
                )

    def start(self, timeout: float = 90) -> bool:
        """Start what is not running; True when something was started. Idempotent."""
        versions = self.check_binaries()
        with self.locked():
            self._check_state(versions)
            pids = self.pids()
            if all(pids.values()) and self.ready():
                return False
            if any(pids.values()):  # half running (a component died): restart cleanly, data kept
                self.found_stopped = [c for c, pid in pids.items() if pid is None]
                self._stop_processes()
            if self.state() is None:
                self._check_ports()
                self._init(versions)
            else:
                self._check_ports()
            try:
                self._spawn("etcd")
                self._wait("etcd", self._etcd_healthy, timeout)
                self._write_audit_policy()
                self._spawn("kube-apiserver")
                self._wait("kube-apiserver", self.ready, timeout)
                self._spawn("kube-controller-manager")
                self._wait("kube-controller-manager", self._controller_manager_healthy, timeout)
                self.apply_crds(self.binary(ESO_CRDS), timeout)
                self._spawn("kube-scheduler")
                self._wait("kube-scheduler", self._scheduler_healthy, timeout)
                self._spawn("external-secrets")
                self._wait("external-secrets", self._external_secrets_healthy, timeout)
                self._start_injector(timeout)
                self._spawn("reloader")
                self._wait("reloader", lambda: reloader_component.healthy(lambda: self.listeners().get("reloader", [])), timeout)
                self._start_node(timeout)
            except BaseException:
                self._stop_processes()
                raise
            return True

    def _start_injector(self, timeout: float) -> None:
        """The Vault agent injector on 127.0.0.1, then its webhook registered (localcluster/injector.py)."""
        injector.prepare(self)
        self._spawn("vault-injector")
        self._wait("vault-injector", lambda: injector.healthy(self), timeout)
        injector.register(self, timeout)

    def _start_node(self, timeout: float) -> None:
        """containerd with the local images, then the kubelet, until the node is Ready (secrets_platform/localcluster/node)."""
        from secrets_platform.localcluster.node import NodeError

        node = self.node
        try:
            node.prepare()
            self._spawn("containerd")
            self._wait("containerd", node.containerd_ready, timeout)
            node.import_images()
            self._spawn("kubelet")
            self._wait("kubelet", self._kubelet_healthy, timeout)
        except NodeError as err:
            raise ClusterError(str(err)) from None

    def _stop_processes(self, timeout: float = 20) -> list[str]:
        stopped = []
        for component in reversed(COMPONENTS):
            pid = self.pids()[component]
            if component == "containerd":  # the kubelet is stopped: its pods go before containerd does
                self.node.stop_pods()
            if pid is None:
                self._pid_file(component).unlink(missing_ok=True)
                if component == "containerd":
                    self.node.cleanup()
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self.pids()[component] is not None and time.monotonic() < deadline:
                time.sleep(0.1)
            if self.pids()[component] is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                time.sleep(0.2)
            self._pid_file(component).unlink(missing_ok=True)
            if component == "containerd":
                self.node.cleanup()
            stopped.append(component)
        return stopped

    def stop(self) -> list[str]:
        """Stop every component (data kept); the names of those that were running."""
        with self.locked():
            return self._stop_processes()

    def destroy(self) -> None:
        """Stop everything and remove the data folder."""
        with self.locked():
            self._stop_processes()
        shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------------ clients

    def kubectl(self, *args: str, input: str | None = None, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        env["KUBECONFIG"] = str(self.kubeconfig)
        done = subprocess.run(
            [str(self.binary("kubectl")), *args], input=input, capture_output=True, text=True, env=env, timeout=timeout, check=False
        )
        if check and done.returncode != 0:
            raise ClusterError(f"kubectl {' '.join(args[:3])} failed: {(done.stderr or done.stdout).strip()[-500:]}")
        return done

    def apply_crds(self, path: Path, timeout: float = 60) -> None:
        """Install CRDs server-side (too large for the last-applied annotation) and wait until they are served."""
        if not path.exists():
            raise ClusterError(f"{path} is missing: run make toolchain (it fetches the CRDs of the pinned External Secrets module)")
        self.kubectl(
            "apply", "--server-side", "--force-conflicts", "--field-manager=secrets-platform-local", "-f", str(path), timeout=timeout
        )
        self.kubectl("wait", "--for=condition=Established", "--timeout", f"{int(timeout)}s", "-f", str(path), timeout=timeout + 5)

    def listeners(self) -> dict[str, list[tuple[str, int]]]:
        """Every TCP listening socket of the running components: component -> [(address, port)]."""
        out: dict[str, list[tuple[str, int]]] = {}
        table = _listening_sockets()
        for component, pid in self.pids().items():
            if pid is None:
                continue
            inodes = set()
            with contextlib.suppress(OSError):
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    with contextlib.suppress(OSError):
                        target = os.readlink(fd)
                        if target.startswith("socket:["):
                            inodes.add(target[8:-1])
            out[component] = sorted(table[i] for i in inodes if i in table)
        return out


def _is_process_of(pid: int, binary: str) -> bool:
    """A live (not zombie) process running ``binary``; one still starting (no command line yet) counts."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except (OSError, IndexError):
        return False
    return state != "Z" and (not cmdline or Path(cmdline).name == binary)


def _listening_sockets() -> dict[str, tuple[str, int]]:
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
