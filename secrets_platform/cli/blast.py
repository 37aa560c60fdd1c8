"""A rotation's blast radius, computed from what the cluster holds (pure: no kubectl here).

What rolls is decided the way Reloader v1.4.22 decides it (``common.ShouldReload`` and
``handler.getContainerUsingResource``), for the workload kinds it rolls on our clusters:
Deployments, StatefulSets and DaemonSets. Jobs and CronJobs are never rolled (Reloader
runs with ``--ignored-workload-types=jobs,cronjobs``, secrets_platform/localcluster/reloader.py): a
running Job keeps the value it started with and finishes on it; the next run reads the
new one.

Reloader's rules, for one Secret and one workload of its namespace:

- the Secret carries ``reloader.stakater.com/ignore: "true"``: nothing rolls;
- the workload's annotations are read, or its pod template's when the workload carries
  none of the four opt-in keys below;
- ``secrets.exclude.reloader.stakater.com/reload`` (on the workload) lists the Secret: no;
- ``secret.reloader.stakater.com/reload`` lists it (comma-separated, each a regular
  expression of the whole name): it rolls, whether or not a container uses it;
- ``reloader.stakater.com/search: "true"`` and the Secret carries
  ``reloader.stakater.com/match: "true"`` (every platform Secret does), or
  ``reloader.stakater.com/auto`` / ``secret.reloader.stakater.com/auto`` true: it rolls
  when a container (or init container) uses the Secret through a mounted volume,
  ``envFrom`` or ``secretKeyRef``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from secrets_platform import conventions

RELOAD_LIST = "secret.reloader.stakater.com/reload"
EXCLUDE_LIST = "secrets.exclude.reloader.stakater.com/reload"
SEARCH = "reloader.stakater.com/search"
MATCH = "reloader.stakater.com/match"
AUTO = "reloader.stakater.com/auto"
SECRET_AUTO = "secret.reloader.stakater.com/auto"  # pragma: allowlist secret (an annotation key)
IGNORE = "reloader.stakater.com/ignore"
OPT_IN = (RELOAD_LIST, SEARCH, AUTO, SECRET_AUTO)
ROLLED_KINDS = conventions.RELOADER_ROLLED_KINDS
# Go's strconv.ParseBool, which Reloader uses for the two auto annotations.
_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})


@dataclass(frozen=True)
class BlastRadius:
    """One namespace's share of a rotation: what Reloader rolls and which running Jobs keep the old value."""

    namespace: str
    rolls: tuple[str, ...]
    """``Kind/name`` of the workloads Reloader rolls, sorted."""
    jobs: tuple[str, ...]
    """``Job/name`` of the running Jobs that use the Secret (they finish on the old value), sorted."""


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _pod_spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}


def _listed(value: str, name: str) -> bool:
    """Reloader's reload list: comma-separated regular expressions, each matched against the whole name."""
    for item in value.split(","):
        try:
            if re.fullmatch(item.strip(), name):
                return True
        except re.error:
            continue  # Reloader logs it and skips the entry
    return False


def _secret_volumes(pod: Mapping[str, Any], secret: str) -> set[str]:
    names = set()
    for v in pod.get("volumes") or []:
        sources = [(v.get("secret") or {}).get("secretName")]
        sources += [(s.get("secret") or {}).get("name") for s in (v.get("projected") or {}).get("sources") or []]
        if secret in sources:
            names.add(v.get("name"))
    return names


def uses(pod: Mapping[str, Any], secret: str) -> bool:
    """A container or init container uses ``secret``: a mounted volume of it, ``envFrom`` or ``secretKeyRef``."""
    volumes = _secret_volumes(pod, secret)
    for c in [*(pod.get("containers") or []), *(pod.get("initContainers") or [])]:
        if any(m.get("name") in volumes for m in c.get("volumeMounts") or []):
            return True
        if any((e.get("secretRef") or {}).get("name") == secret for e in c.get("envFrom") or []):
            return True
        if any(((e.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name") == secret for e in c.get("env") or []):
            return True
    return False


def reloader_rolls(workload: Mapping[str, Any], secret: str, secret_annotations: Mapping[str, str]) -> bool:
    """Whether Reloader rolls ``workload`` when ``secret`` (same namespace, with these annotations) changes."""
    if workload.get("kind") not in ROLLED_KINDS or secret_annotations.get(IGNORE) == "true":
        return False
    own = _meta(workload).get("annotations") or {}
    if secret in [s.strip() for s in own.get(EXCLUDE_LIST, "").split(",")]:  # exact names, not expressions
        return False
    ann = (
        own
        if any(k in own for k in OPT_IN)
        else (((workload.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("annotations") or {}
    )
    pod = _pod_spec(workload)
    if ann.get(RELOAD_LIST, "").strip() and _listed(ann[RELOAD_LIST], secret):
        return bool(pod.get("containers") or pod.get("initContainers"))
    auto = (
        (ann.get(SEARCH) == "true" and secret_annotations.get(MATCH) == "true")
        or ann.get(AUTO) in _GO_TRUE
        or ann.get(SECRET_AUTO) in _GO_TRUE
    )
    return auto and uses(pod, secret)


def running(job: Mapping[str, Any]) -> bool:
    """A Job with a pod still active (neither finished nor suspended with none left)."""
    return int((job.get("status") or {}).get("active") or 0) > 0


def blast_radius(
    namespace: str,
    workloads: Iterable[Mapping[str, Any]],
    jobs: Iterable[Mapping[str, Any]],
    secret: str,
    secret_annotations: Mapping[str, str],
) -> BlastRadius:
    """What a change of ``secret`` in ``namespace`` rolls (Reloader) and which running Jobs finish on the old value."""
    rolls = sorted(
        conventions.kind_ref(w.get("kind", "Workload"), _meta(w).get("name"))
        for w in workloads
        if reloader_rolls(w, secret, secret_annotations)
    )
    batch = sorted(conventions.kind_ref("Job", _meta(j).get("name")) for j in jobs if running(j) and uses(_pod_spec(j), secret))
    return BlastRadius(namespace, tuple(rolls), tuple(batch))
