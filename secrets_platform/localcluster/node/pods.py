"""A pod on the local node awaited to its end, and a pod that cannot start named with the cause and the fix."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from secrets_platform.localcluster.node.images import WORKLOAD_IMAGE
from secrets_platform.localcluster.node.node import NodeError

if TYPE_CHECKING:
    from secrets_platform.localcluster.cluster import Cluster

# What a pod that cannot start says (its container's waiting reason), and the fix.
_CANNOT_START = {
    "CreateContainerConfigError": "a Secret or ConfigMap it references is not in its namespace: apply the stack (make up) or fix the reference",
    "ErrImageNeverPull": f"its image is not on the node; pods here never pull: use {WORKLOAD_IMAGE} with imagePullPolicy: Never",
    "ErrImagePull": f"pods here never pull: use {WORKLOAD_IMAGE} with imagePullPolicy: Never",
    "ImagePullBackOff": f"pods here never pull: use {WORKLOAD_IMAGE} with imagePullPolicy: Never",
    "InvalidImageName": "fix the image name",
    "CreateContainerError": "see kubectl describe pod for the runtime's message",
    "RunContainerError": "see kubectl describe pod for the runtime's message",
    "CrashLoopBackOff": "its container keeps exiting: see kubectl logs",
}


def wait_pod(cluster: Cluster, namespace: str, name: str, timeout: float = 120) -> str:
    """Wait until the pod has finished (Succeeded or Failed) and return its phase.

    A pod that cannot start (a missing Secret, an image that would have to be pulled, no node to
    run it, a kubelet or containerd that is not running) raises :class:`NodeError` naming the
    cause and the fix, as soon as it is known.
    """
    deadline = time.monotonic() + timeout
    where = f"pod {namespace}/{name}"
    while True:
        done = cluster.kubectl("get", "pod", name, "-n", namespace, "-o", "json", check=False, timeout=20)
        if done.returncode != 0:
            raise NodeError(f"{where}: {(done.stderr or done.stdout).strip()[-300:]}")
        pod = json.loads(done.stdout)
        status = pod.get("status") or {}
        phase = status.get("phase", "")
        if phase in ("Succeeded", "Failed"):
            return phase
        for c in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
            waiting = (c.get("state") or {}).get("waiting") or {}
            reason = waiting.get("reason", "")
            if reason in _CANNOT_START:
                raise NodeError(f"{where} cannot start: {reason}: {waiting.get('message', '')}: {_CANNOT_START[reason]}")
        for cond in status.get("conditions") or []:
            if cond.get("type") == "PodScheduled" and cond.get("reason") == "Unschedulable":
                raise NodeError(f"{where} cannot be scheduled: {cond.get('message', '')}: is the node Ready? (make cluster-status)")
        pids = cluster.pids()
        for component in ("containerd", "kubelet"):
            if pids.get(component) is None:
                raise NodeError(f"{where} cannot run: {component} is not running ({cluster._tail(component)}): make up restarts it")
        if time.monotonic() > deadline:
            raise NodeError(
                f"{where} is still {phase or 'not started'} after {timeout:.0f} s: see kubectl describe pod {name} -n {namespace}"
            )
        time.sleep(0.3)
