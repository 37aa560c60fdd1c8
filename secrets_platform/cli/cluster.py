"""Read-only cluster access through ``kubectl``: sync state and Reloader consumers.

Reads no Secret's data, with one exception: :meth:`Kubectl.secret_manifest`, which only
``dotenv`` calls, for the local stack's ExternalSecret-synced Secrets, and whose values go
to the 0600 file and nowhere else (kubectl's output is a pipe, never the terminal).
Otherwise Secrets are queried for ``metadata.creationTimestamp`` or ``metadata.annotations``
only (a jsonpath), ExternalSecrets, workloads and Jobs as objects (they hold references, not values).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from secrets_platform import conventions
from secrets_platform.cli import blast

WORKLOAD_KINDS = "deployments,statefulsets,daemonsets"

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def _run(args: Sequence[str]) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30, check=False)


@dataclass(frozen=True)
class SyncState:
    name: str
    namespace: str
    backend: str
    store: str
    status: str
    ok: bool
    age: str


@dataclass
class Kubectl:
    context: str | None
    runner: Runner = _run
    binary: str = "kubectl"
    kubeconfig: str | None = None
    """A kubeconfig file to read instead of the ambient one (the local cluster's)."""

    def _base(self) -> list[str]:
        return [
            self.binary,
            *(["--kubeconfig", self.kubeconfig] if self.kubeconfig else []),
            *(["--context", self.context] if self.context else []),
            "--request-timeout=10s",
        ]

    def unreachable_reason(self) -> str | None:
        """None when the cluster answers; else one sentence saying why not."""
        if self.runner is _run and shutil.which(self.binary) is None:
            return "kubectl is not installed, so the cluster cannot be asked."
        try:
            done = self.runner([*self._base(), "get", "--raw=/version"])
        except (OSError, subprocess.SubprocessError) as err:
            return f"kubectl could not run ({err.__class__.__name__})."
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            where = (
                f"context {self.context!r}"
                if self.context
                else f"kubeconfig {self.kubeconfig}"
                if self.kubeconfig
                else "the current kubeconfig context"
            )
            return f"The cluster of {where} is not reachable: {detail[-1] if detail else 'kubectl failed'}."
        return None

    def _json(self, args: list[str]) -> dict[str, Any] | None:
        done = self.runner([*self._base(), *args, "-o", "json"])
        if done.returncode != 0:
            if "NotFound" in done.stderr or "not found" in done.stderr:
                return None
            raise RuntimeError((done.stderr or "kubectl failed").strip().splitlines()[-1])
        return json.loads(done.stdout or "{}")

    def secret_created(self, name: str, namespace: str) -> str | None:
        done = self.runner([*self._base(), "get", "secret", name, "-n", namespace, "-o", "jsonpath={.metadata.creationTimestamp}"])
        if done.returncode != 0:
            if "NotFound" in done.stderr or "not found" in done.stderr:
                return None
            raise RuntimeError((done.stderr or "kubectl failed").strip().splitlines()[-1])
        return done.stdout.strip() or None

    def secret_manifest(self, name: str, namespace: str) -> dict[str, Any] | None:
        """The Secret with its data (dotenv only, local stack only); None when it does not exist."""
        return self._json(["get", "secret", name, "-n", namespace])

    def external_secret(self, name: str, namespace: str) -> dict[str, Any] | None:
        return self._json(["get", "externalsecrets.external-secrets.io", name, "-n", namespace])

    def workloads(self, namespace: str) -> list[dict[str, Any]]:
        found = self._json(["get", WORKLOAD_KINDS, "-n", namespace])
        return list((found or {}).get("items") or [])

    def jobs(self, namespace: str) -> list[dict[str, Any]]:
        found = self._json(["get", "jobs.batch", "-n", namespace])
        return list((found or {}).get("items") or [])

    def secret_annotations(self, name: str, namespace: str) -> dict[str, str] | None:
        """The Secret's annotations (metadata only, never its data); None when it does not exist."""
        done = self.runner([*self._base(), "get", "secret", name, "-n", namespace, "-o", "jsonpath={.metadata.annotations}"])
        if done.returncode != 0:
            if "NotFound" in done.stderr or "not found" in done.stderr:
                return None
            raise RuntimeError((done.stderr or "kubectl failed").strip().splitlines()[-1])
        return dict(json.loads(done.stdout)) if done.stdout.strip() else {}


def age(timestamp: str | None, now: dt.datetime | None = None) -> str:
    if not timestamp:
        return "-"
    try:
        then = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return timestamp
    seconds = int(((now or dt.datetime.now(dt.timezone.utc)) - then).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{max(seconds, 0)}s ago"


def sync_state(kube: Kubectl, secret: dict[str, Any], now: dt.datetime | None = None) -> SyncState:
    name, ns, backend = secret["name"], secret["namespace"], secret.get("backend", "kubernetes")
    if backend in ("kubernetes", "imported"):
        created = kube.secret_created(name, ns)
        if created is None:
            return SyncState(name, ns, backend, "-", "Missing", False, "-")
        return SyncState(name, ns, backend, "-", "Applied", True, age(created, now))
    es = kube.external_secret(name, ns)
    if es is None:
        return SyncState(name, ns, backend, "-", "NoExternalSecret", False, "-")
    store = ((es.get("spec") or {}).get("secretStoreRef") or {}).get("name", "-")
    status = es.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    if ready is None:
        return SyncState(name, ns, backend, store, "Pending", False, age((es.get("metadata") or {}).get("creationTimestamp"), now))
    ok = ready.get("status") == "True"
    reason = ready.get("reason") or ("SecretSynced" if ok else "NotReady")
    when = status.get("refreshTime") or ready.get("lastTransitionTime")
    return SyncState(name, ns, backend, store, "Synced" if ok else reason, ok, age(when, now))


def reloading_workloads(workloads: list[dict[str, Any]], secret: str, secret_annotations: dict[str, str] | None = None) -> list[str]:
    """``Kind/name`` of workloads Reloader will roll when ``secret`` changes (Reloader's rules: :mod:`secrets_platform.cli.blast`).

    ``secret_annotations`` default to a platform Secret's (``reloader.stakater.com/match: "true"``).
    """
    ann = {blast.MATCH: "true"} if secret_annotations is None else secret_annotations
    return sorted(
        conventions.kind_ref(w.get("kind", "Workload"), (w.get("metadata") or {}).get("name"))
        for w in workloads
        if blast.reloader_rolls(w, secret, ann)
    )
