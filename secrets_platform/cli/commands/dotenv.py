"""``dotenv``: the local stack's values into a 0600 ``.env`` file (the one command that handles values).

Values go to the file only: what this returns to main.py are counts, names and reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from secrets_platform import conventions
from secrets_platform.cli import dotenv as dotenv_mod
from secrets_platform.cli.context import StackContext
from secrets_platform.cli.errors import EngineError, InputError
from secrets_platform.model import planned_descriptors

Values = dict[tuple[str, str], dict[str, str]]


@dataclass(frozen=True)
class Written:
    path: Path
    keys: int
    secrets: int
    source: str
    """Where the values came from, in words."""
    not_synced: list[str]
    """namespace/name of each External Secrets Secret not in the file."""
    reason: str | None
    """Why those are missing."""
    ignored: bool | None
    """The file is git-ignored (True), outside any work tree (None)."""


def run(stack: StackContext, output: Path | None, workloads: tuple[str, ...], force: bool) -> Written:
    if stack.name != "local":
        raise InputError(
            f"dotenv is refused for stack {stack.name}: only the local stack's values may leave the cluster",
            "use --stack local; dev, stg and prd values stay in their Secrets",
        )
    s = stack.settings
    path = (output or stack.project.dir / ".env").resolve()
    if path.exists() and not force and not path.read_text(errors="replace").startswith(dotenv_mod.HEADER):
        raise InputError(f"{path} exists and was not written by this command", "move it away or pass --force")
    ignored = dotenv_mod.git_ignored(path) if path.parent.is_dir() else None
    if ignored is False:
        raise InputError(
            f"{path} is inside a git work tree and not git-ignored", f"add {path.name} to .gitignore, or write elsewhere with --output"
        )
    render_dir = dotenv_mod.confined_render_dir(stack.project.dir, s.render_dir) if s.render_dir else None
    secrets, source = _from_pulumi(stack, render_dir)
    wanted = {s.namespace(w) for w in workloads} if workloads else None
    synced, found, not_synced, reason = _from_external_secrets(stack, wanted, render_dir)
    values, origin = dotenv_mod.merge({**secrets, **found}, wanted)
    if not values:
        raise InputError(
            "no Opaque Secret values found" + (f" for workloads {', '.join(workloads)}" if workloads else ""),
            "check --workload, or run `make up`",
        )
    dotenv_mod.write_private(path, dotenv_mod.render(values, origin))
    if synced > len(not_synced):
        source += " and the Secrets External Secrets synced into the local cluster"
    return Written(path, len(values), len(set(origin.values())), source, not_synced, reason, ignored)


def _from_pulumi(stack: StackContext, render_dir: Path | None) -> tuple[Values, str]:
    """The values Pulumi wrote: the local stack's state (one engine workspace), else its rendered manifests."""
    namespaces = set(stack.settings.namespaces)
    if stack.engine_available() and stack.workspace().exists():
        return dotenv_mod.secrets_from_state(stack.workspace().resources(), namespaces), "the local stack's state"
    if render_dir is not None and render_dir.is_dir():
        return dotenv_mod.secrets_from_render_dir(render_dir, namespaces), f"{stack.settings.render_dir}/"
    raise EngineError("the local stack is not deployed: no state and no rendered manifests hold values yet", "run `make up` first")


def _from_external_secrets(
    stack: StackContext, wanted: set[str] | None, render_dir: Path | None
) -> tuple[int, Values, list[str], str | None]:
    """What External Secrets synced: in no Pulumi resource, so read from the Secrets ESO wrote into the local cluster.

    (how many such Secrets the stack plans, the values found, namespace/name of those not found, why not).
    """
    s = stack.settings
    synced = [
        (d.namespace, d.name)
        for d in planned_descriptors(s)
        if d.backend == "gcp-secret-manager" and (wanted is None or d.namespace in wanted)
    ]
    if not synced:
        return 0, {}, [], None
    everything = [conventions.object_key(ns, n) for ns, n in synced]
    if render_dir is not None:
        return len(synced), {}, everything, f"the local stack renders manifests into {s.render_dir}/ (no cluster)"
    kube = stack.kube()
    reason = kube.unreachable_reason()
    if reason:
        return len(synced), {}, everything, reason
    try:
        found, not_synced = dotenv_mod.secrets_from_cluster(kube.secret_manifest, synced, set(s.namespaces))
    except RuntimeError as err:
        raise EngineError(f"kubectl failed reading the local cluster's synced Secrets: {err}", "check `make cluster-status`") from None
    return len(synced), found, not_synced, "External Secrets has not synced them (yet)" if not_synced else None
