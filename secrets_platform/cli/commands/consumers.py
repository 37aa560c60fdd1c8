"""Who consumes a Secret in the stack's cluster: the blast radius of a change, read from the live cluster.

Per namespace, the workloads Reloader rolls when the Secret changes (:mod:`secrets_platform.cli.blast`
decides as Reloader does) and the running Jobs, which Reloader never touches: they finish on the
value they started with.
"""

from __future__ import annotations

from secrets_platform import conventions
from secrets_platform.cli.blast import BlastRadius, blast_radius
from secrets_platform.cli.context import StackContext

Radii = tuple[list[BlastRadius], str | None]


def radii(stack: StackContext, secret_name: str, workloads: list[str]) -> Radii:
    """Each namespace's blast radius read from the live cluster; with a reason instead when it cannot be asked."""
    s = stack.settings
    if s.render_dir:
        return [], f"the local stack renders manifests to {s.render_dir}; no cluster to ask"
    kube = stack.kube()
    reason = kube.unreachable_reason()
    if reason:
        return [], f"cluster not asked: {reason}"
    out = []
    for ns in (s.namespace(w) for w in sorted(workloads)):
        # A Secret not yet created rolls nothing when it appears (Reloader reacts to changes only).
        annotations = kube.secret_annotations(secret_name, ns) or {}
        out.append(blast_radius(ns, kube.workloads(ns), kube.jobs(ns), secret_name, annotations))
    return out, None


def consumers(stack: StackContext, secret_name: str, workloads: list[str], known: Radii | None = None) -> list[str]:
    """One line per namespace of ``workloads``: the workloads Reloader restarts when ``secret_name`` changes."""
    found, reason = known or radii(stack, secret_name, workloads)
    if reason:
        return [
            f'namespace {stack.settings.namespace(w)}: workloads annotated {conventions.RELOADER_CONSUMER_ANNOTATION}: "true" '
            f"that use {secret_name} ({reason})"
            for w in sorted(workloads)
        ]
    return [
        f"namespace {r.namespace}: {', '.join(r.rolls) if r.rolls else 'no Reloader-annotated workload uses it; restart consumers by hand'}"
        for r in found
    ]


def running_jobs(found: list[BlastRadius], dual: bool) -> list[str]:
    """The running Jobs of the blast radius (Reloader leaves them alone), with why they are safe or not; [] when none."""
    running = [f"namespace {r.namespace}: {', '.join(r.jobs)}" for r in found if r.jobs]
    if not running:
        return []
    why = (
        "strategy dual: the old value stays valid as <KEY>_PREVIOUS, so they finish cleanly"
        if dual
        else "strategy single: once the owner sets the new value on the remote system the old one stops working; "
        "let them finish first, or use rotationStrategy: dual"
    )
    return [*running, f"({why})"]
