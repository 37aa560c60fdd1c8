"""A value-free diff of a stack's planned Secrets: the stack file at a git ref vs the working tree.

Both sides are described by :func:`components.platform.planned_descriptors`; only
names, namespaces, keys and rotation metadata are compared, never a value nor a hash
of one. (The base side is read with today's program on the base's stack file.)
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any, Mapping

import settings as settings_pkg
from components.credentials import current_slot
from components.platform import planned_descriptors
from secrets_cli.errors import InputError


def base_settings(root: Path, ref: str, stack: str, environ: Mapping[str, str]) -> settings_pkg.Settings:
    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30, check=False)

    if git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise InputError(f"--base {ref}: no such commit in {root}", "pass a branch, tag or commit that exists (git fetch it first in CI)")
    shown = git("show", f"{ref}:Pulumi.{stack}.yaml")
    if shown.returncode != 0:
        raise InputError(f"--base {ref}: Pulumi.{stack}.yaml does not exist at that ref", "pick a base where the stack exists")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"Pulumi.{stack}.yaml"
        path.write_text(shown.stdout)
        try:
            return settings_pkg.from_stack_file(path, environ)
        except settings_pkg.ConfigError as err:
            first = str(err).replace(str(path), f"{ref}:Pulumi.{stack}.yaml")
            raise InputError(f"the stack file does not parse at --base {ref}: {first}", "pick another base ref") from None


def _bundles(s: settings_pkg.Settings) -> dict[str, Any]:
    return {c.service: c for c in s.config.credentials}


def compare(old: settings_pkg.Settings, new: settings_pkg.Settings) -> dict[str, Any]:
    before = {(d.namespace, d.name): d for d in planned_descriptors(old)}
    after = {(d.namespace, d.name): d for d in planned_descriptors(new)}
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    changed = []
    for key in sorted(after.keys() & before.keys()):
        ka, kb = set(after[key].keys), set(before[key].keys)
        if ka != kb:
            changed.append({"namespace": key[0], "name": key[1], "keysAdded": sorted(ka - kb), "keysRemoved": sorted(kb - ka)})
    rotations = []
    ob, nb = _bundles(old), _bundles(new)
    for service in sorted(ob.keys() & nb.keys()):
        o, n = ob[service], nb[service]
        gen = sorted(g.key for g in n.generated)
        if not gen:
            continue
        entry = {"service": service, "strategy": n.rotation_strategy, "keys": gen}
        if o.rotation_strategy != n.rotation_strategy:
            entry.update(change=f"strategy {o.rotation_strategy} -> {n.rotation_strategy}: every generated key gets a new value")
        elif n.rotation_strategy == "single" and o.rotation != n.rotation:
            entry.update(change=f"rotation {o.rotation} -> {n.rotation}: every generated key gets a new value")
        elif n.rotation_strategy == "dual" and o.generation != n.generation:
            slot = current_slot(n.generation)
            entry.update(change=f"generation {o.generation} -> {n.generation}", slot=slot,
                         detail=f"slot {slot} regenerated and current; <KEY>_PREVIOUS is slot {current_slot(o.generation)}"
                         if n.generation == o.generation + 1 else "more than one step: both slots may be new")
        else:
            continue
        rotations.append(entry)
    ons, nns = set(old.namespaces), set(new.namespaces)
    return {
        "secretsAdded": [{"namespace": ns, "name": n, "keys": list(after[(ns, n)].keys)} for ns, n in added],
        "secretsRemoved": [{"namespace": ns, "name": n} for ns, n in removed],
        "keysChanged": changed,
        "rotated": rotations,
        "namespacesGained": sorted(nns - ons),
        "namespacesLost": sorted(ons - nns),
    }
