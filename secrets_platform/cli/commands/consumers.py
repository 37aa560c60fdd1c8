"""Who consumes a Secret in the stack's cluster: the Reloader-annotated workloads of each namespace that use it."""

from __future__ import annotations

from secrets_platform import conventions
from secrets_platform.cli.cluster import reloading_workloads
from secrets_platform.cli.context import StackContext


def consumers(stack: StackContext, secret_name: str, workloads: list[str]) -> list[str]:
    """One line per namespace of ``workloads``: the workloads Reloader restarts when ``secret_name`` changes."""
    s = stack.settings
    namespaces = [s.namespace(w) for w in sorted(workloads)]
    if s.render_dir:
        return [
            f'namespace {ns}: workloads annotated {conventions.RELOADER_CONSUMER_ANNOTATION}: "true" that mount {secret_name} '
            f"(the local stack renders manifests to {s.render_dir}; no cluster to ask)"
            for ns in namespaces
        ]
    kube = stack.kube()
    reason = kube.unreachable_reason()
    lines = []
    for ns in namespaces:
        if reason:
            lines.append(f"namespace {ns}: Reloader-annotated workloads using {secret_name} (cluster not asked: {reason})")
            continue
        found = reloading_workloads(kube.workloads(ns), secret_name)
        lines.append(
            f"namespace {ns}: {', '.join(found) if found else 'no Reloader-annotated workload uses it; restart consumers by hand'}"
        )
    return lines
