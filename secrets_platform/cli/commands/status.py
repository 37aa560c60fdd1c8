"""``status``: each Secret's sync state in the stack's cluster, and each bundle's age."""

from __future__ import annotations

from dataclasses import dataclass

from secrets_platform.cli.cluster import Kubectl, SyncState, sync_state
from secrets_platform.cli.commands import listing
from secrets_platform.cli.context import StackContext
from secrets_platform.cli.errors import EngineError


@dataclass(frozen=True)
class Status:
    listing: listing.Listing
    states: list[SyncState]
    """One per Secret of the listing, in its order."""

    @property
    def failed(self) -> int:
        return sum(not st.ok for st in self.states)


def no_cluster(stack: StackContext) -> str | None:
    """The folder the stack renders manifests into instead of applying them (then there is no sync state)."""
    return stack.settings.render_dir


def cluster(stack: StackContext) -> Kubectl:
    """kubectl for the stack's cluster, once it answers (EngineError naming why not, and the fix)."""
    kube = stack.kube()
    reason = kube.unreachable_reason()
    if reason:
        fix = (
            "start the local cluster: make up"
            if stack.settings.environment == "local"
            else "connect to the cluster (gcloud container clusters get-credentials ...)"
        )
        raise EngineError(f"cannot report status of stack {stack.name}. {reason}", fix)
    return kube


def run(kube: Kubectl, found: listing.Listing) -> Status:
    try:
        states = [sync_state(kube, secret) for secret in found.catalog.secrets]
    except RuntimeError as err:
        raise EngineError(f"kubectl failed: {err}") from None
    return Status(found, states)
