"""Reloader (stakater) on the local cluster: what it is told, and when it is healthy.

Built by ``make toolchain`` from github.com/stakater/Reloader (toolchain/reloader) with its
HTTP listener (/metrics, /live) on ``127.0.0.1:0`` (toolchain/reloader_patch.py: upstream
hard-codes ``:9090``, every interface); it runs as a local process from the cluster's
kubeconfig, like the External Secrets controller. Its flags make it batch-safe and scoped:

- ``--ignored-workload-types=jobs,cronjobs``: upstream deletes and re-creates a Job (a
  running batch run is killed) and starts an extra run of a CronJob on every change of a
  Secret it reads; here only Deployments, StatefulSets and DaemonSets roll. A batch run
  reads its Secret when it starts (``dual`` rotation keeps the old value valid meanwhile);
- ``--namespace-selector``: only the platform's namespaces (they carry
  ``app.kubernetes.io/part-of=secrets-platform``, :func:`conventions.labels`), found as they
  appear, since the stack creates them after the cluster starts;
- ``--resources-to-ignore=configmaps``: the platform delivers Secrets;
- ``--reload-strategy=annotations``: a rollout is a pod-template annotation
  (``reloader.stakater.com/last-reloaded-from``); the containers stay as their owner wrote them.

Workloads opt in with ``reloader.stakater.com/search: "true"`` and roll when a Secret they
use carries ``reloader.stakater.com/match: "true"`` (every platform Secret does).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Callable

from secrets_platform import conventions

BINARY = "reloader"
WHAT = "Reloader, which the local cluster starts to roll workloads when a Secret they use changes"
# Reloader's names of conventions.RELOADER_BATCH_KINDS (Job, CronJob).
IGNORED_WORKLOAD_TYPES = ("jobs", "cronjobs")
PLATFORM_NAMESPACES = f"{conventions.LABEL_PART_OF}={conventions.PROJECT}"
LOOPBACK = "127.0.0.1"


def args() -> list[str]:
    """Reloader's command line on the local cluster (it reads $KUBECONFIG; no flag names a listener: it has none)."""
    return [
        f"--ignored-workload-types={','.join(IGNORED_WORKLOAD_TYPES)}",
        f"--namespace-selector={PLATFORM_NAMESPACES}",
        "--resources-to-ignore=configmaps",
        "--reload-strategy=annotations",
        "--log-level=info",
    ]


def environment(kubeconfig: str) -> dict[str, str]:
    """What Reloader reads from its environment beyond PATH/HOME: only the kubeconfig.

    Neither ``KUBERNETES_NAMESPACE`` (it would watch that one namespace instead of the
    platform's) nor ``RELOADER_NAMESPACE`` (it would write a ConfigMap of its options there).
    """
    return {"KUBECONFIG": kubeconfig}


def listen_port(sockets: list[tuple[str, int]]) -> int | None:
    """The port of its HTTP listener among the process's listening sockets (it has exactly one, on 127.0.0.1)."""
    ports = [port for address, port in sockets if address == LOOPBACK]
    return ports[0] if len(ports) == 1 else None


def healthy(sockets: Callable[[], list[tuple[str, int]]]) -> bool:
    """Its /live answers ``alive`` (it listens only once every watch is started)."""
    port = listen_port(sockets())
    if port is None:
        return False
    try:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/live", timeout=2) as resp:
            return resp.read().decode(errors="replace").strip() == "alive"
    except (urllib.error.URLError, OSError):
        return False
