"""One local cluster, identified by its data folder: its files, its processes' life cycle, and its clients."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from secrets_platform.localcluster import command_lines, data_folder, health, injector, process
from secrets_platform.localcluster import reloader as reloader_component
from secrets_platform.localcluster.audit import AUDIT_POLICY
from secrets_platform.localcluster.layout import (
    COMPONENTS,
    DEFAULT_BIN,
    DEFAULT_DIR,
    ESO_CRDS,
    LOOPBACK,
    SYSTEM_BINARIES,
    ClusterError,
    InRoot,
    pinned_versions,
)
from secrets_platform.localcluster.ports import DEFAULT_PORT_BASE, Ports, check_free, listening_sockets

if TYPE_CHECKING:
    from secrets_platform.localcluster.node import Node


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

    pki = InRoot("pki")
    kubeconfig = InRoot("kubeconfig")
    logs = InRoot("logs")

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    audit_log = InRoot("audit", "kube-apiserver.log")
    """The API server's audit log (JSON lines); rotated backups sit beside it (``kube-apiserver-<time>.log``)."""
    audit_policy = InRoot("audit-policy.json")

    def _write_audit_policy(self) -> None:
        """The policy file of :data:`AUDIT_POLICY` and the log's folder (owner only): at every start, so a changed policy applies."""
        self.audit_log.parent.mkdir(mode=0o700, exist_ok=True)
        self.audit_policy.write_text(json.dumps(AUDIT_POLICY, indent=2) + "\n")

    def pid_file(self, component: str) -> Path:
        return self.root / "run" / f"{component}.pid"

    state_file = InRoot("cluster.json")

    def binary(self, name: str) -> Path:
        return Path(SYSTEM_BINARIES[name]) if name in SYSTEM_BINARIES else self.bin_dir / name

    @property
    def node(self) -> "Node":
        from secrets_platform.localcluster.node import Node

        return Node(self)

    # ------------------------------------------------------------------ state

    def state(self) -> dict | None:
        try:
            return json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise ClusterError(
                f"{self.state_file} is unreadable ({err.__class__.__name__}): "
                "run make destroy to remove the local cluster's data, then make up"
            ) from None

    @property
    def ports(self) -> Ports:
        state = self.state()
        if state:
            return Ports(**state["ports"])  # a state file of another layout fails check_state first
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
                pid = int(self.pid_file(component).read_text())
                out[component] = pid if process.is_process_of(pid, component) else None
            except (OSError, ValueError):
                out[component] = None
        return out

    def running(self) -> bool:
        return any(self.pids().values())

    def ready(self) -> bool:
        """The API server answers /readyz with our admin client certificate."""
        if not (self.pki / "admin.crt").exists():
            return False
        return (health.get(self, f"{self.server}/readyz") or "").strip() == "ok"

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

    # ------------------------------------------------------------------ processes

    def _args(self, component: str) -> list[str]:
        return command_lines.args(self, component)

    def _spawn(self, component: str) -> int:
        proc = process.spawn(
            [str(self.binary(component)), *self._args(component)],
            name=component,
            log=self.log(component),
            pid_file=self.pid_file(component),
            env=command_lines.environment(self, component),
            cwd=self.root,
        )
        self._procs[component] = proc
        return proc.pid

    def _wait(self, component: str, healthy: Callable[[], bool], timeout: float) -> None:
        try:
            process.wait_ready(healthy, self._procs.get(component), timeout, alive=lambda: self.pids()[component] is not None)
        except process.Exited as exited:
            raise ClusterError(f"{component} exited while starting (exit code {exited.code}): {self._tail(component)}") from None
        except process.NotReady:
            raise ClusterError(f"{component} was not ready after {timeout:.0f} s: {self._tail(component)}") from None

    def _run(self, component: str, healthy: Callable[[], bool], timeout: float) -> None:
        """Start ``component`` and wait until ``healthy``."""
        self._spawn(component)
        self._wait(component, healthy, timeout)

    def _tail(self, component: str, lines: int = 3) -> str:
        return process.tail(self.log(component), lines)

    def _check_ports(self) -> None:
        check_free((f"the local cluster's {what}", port) for what, port in self.ports.named().items())

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

    def start(self, timeout: float = 90) -> bool:
        """Start what is not running; True when something was started. Idempotent."""
        versions = self.check_binaries()
        with self.locked():
            data_folder.check_state(self, versions)
            pids = self.pids()
            if all(pids.values()) and self.ready():
                return False
            if any(pids.values()):  # half running (a component died): restart cleanly, data kept
                self.found_stopped = [c for c, pid in pids.items() if pid is None]
                self._stop_processes()
            self._check_ports()
            if self.state() is None:
                data_folder.init(self, versions)
            try:
                self._start_processes(timeout)
            except BaseException:
                self._stop_processes()
                raise
            return True

    def _start_processes(self, timeout: float) -> None:
        """Every component in :data:`COMPONENTS`' order, each healthy before the next starts."""
        self._run("etcd", lambda: health.etcd(self), timeout)
        self._write_audit_policy()
        self._run("kube-apiserver", self.ready, timeout)
        self._run("kube-controller-manager", lambda: health.controller_manager(self), timeout)
        self.apply_crds(self.binary(ESO_CRDS), timeout)
        self._run("kube-scheduler", lambda: health.scheduler(self), timeout)
        self._run("external-secrets", lambda: health.external_secrets(self), timeout)
        self._start_injector(timeout)
        self._run("reloader", lambda: health.reloader_live(self), timeout)
        self._start_node(timeout)

    def _start_injector(self, timeout: float) -> None:
        """The Vault agent injector on 127.0.0.1, then its webhook registered (localcluster/injector.py)."""
        injector.prepare(self)
        self._run("vault-injector", lambda: injector.healthy(self), timeout)
        injector.register(self, timeout)

    def _start_node(self, timeout: float) -> None:
        """containerd with the local images, then the kubelet, until the node is Ready (secrets_platform/localcluster/node)."""
        from secrets_platform.localcluster.node import NodeError

        node = self.node
        try:
            node.prepare()
            self._run("containerd", node.containerd_ready, timeout)
            node.import_images()
            self._run("kubelet", lambda: health.kubelet(self), timeout)
        except NodeError as err:
            raise ClusterError(str(err)) from None

    def _stop_processes(self, timeout: float = 20) -> list[str]:
        stopped = []
        for component in reversed(COMPONENTS):
            pid = self.pids()[component]
            if component == "containerd":  # the kubelet is stopped: its pods go before containerd does
                self.node.stop_pods()
            if pid is not None:
                self._stop_process(component, pid, timeout)
                stopped.append(component)
            self.pid_file(component).unlink(missing_ok=True)
            if component == "containerd":
                self.node.cleanup()
        return stopped

    def _stop_process(self, component: str, pid: int, timeout: float) -> None:
        """SIGTERM, then SIGKILL when ``component`` still runs after ``timeout`` s."""
        process.stop(pid, lambda: self.pids()[component] is not None, timeout)

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
        table = listening_sockets()
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
