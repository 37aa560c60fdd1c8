"""A value-free diff of a stack's planned Secrets: a git ref vs the working tree, each planned by its own program.

The base side is the ref's tree (``git archive``, extracted into a temporary directory
that is always removed) planned by the ref's own program: :mod:`secrets_platform.cli.plan_export`
run there in a subprocess with this Python, a minimal environment, the names (never the
values) of the deploy-environment variables, and a timeout. That subprocess is sandboxed
(:func:`sandbox_command`): new user, PID and mount namespaces, so it sees no process of
ours (not this CLI's ``/proc/<pid>/environ``, where a token of the deploy environment
would be), and its whole process tree ends with it: when it exits or is stopped, the
kernel kills everything left in its PID namespace, daemons and new sessions included.
Where no namespace can be made, ``diff --base`` refuses (it never runs the ref's program
unsandboxed). So a change to the program
alone (how a Secret's keys are derived, say) shows up even when the stack file did not
change. A ref older than that module is planned with today's program instead, and the
result says so (:data:`FALLBACK_NOTE`). The working tree is planned in-process by the
program this CLI runs.

Only names, namespaces, keys and rotation metadata cross the boundary or are compared:
the subprocess's JSON is read field by field, everything else ignored. Never a value,
nor a hash of one.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from secrets_platform import conventions
from secrets_platform import settings as settings_pkg
from secrets_platform.cli import plan_export
from secrets_platform.cli.errors import InputError
from secrets_platform.model.secrets import current_slot

ENTRY_POINT = "secrets_platform/cli/plan_export.py"
# The entry point's file in a ref, newest layout first, and the module that runs it: refs from before the
# package move (one top-level package per layer) carry it as secrets_platform/cli/plan_export.py.
ENTRY_POINTS = {ENTRY_POINT: "secrets_platform.cli.plan_export", "secrets_platform/cli/plan_export.py": "secrets_platform.cli.plan_export"}
PLAN_TIMEOUT = 120.0
"""Seconds the ref's program may take to import and plan (it takes a few)."""
GIT_TIMEOUT = 60.0
# What the planning subprocess inherits from this process: enough to run Python, no credential. HOME and
# TMPDIR are folders of its own inside the temporary directory (empty, removed with it).
_INHERITED = ("PATH", "LANG", "LC_ALL", "LC_CTYPE")
# The id the ref's program runs as inside its user namespace (mapped to ours outside: no capability anywhere).
SANDBOX_ID = 65534
SANDBOX_FIX = (
    "diff --base runs the base ref's program only in namespaces of its own; allow unprivileged user namespaces "
    "(Ubuntu 24.04: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0; Debian: "
    "sudo sysctl -w kernel.unprivileged_userns_clone=1) and install util-linux's unshare, or diff without --base"
)
FALLBACK_NOTE = (
    "{ref} predates " + ENTRY_POINT + ", so its side is planned with today's program from its "
    "{stack_file}: changes to the program itself between {ref} and the working tree are not shown"
)


@dataclass(frozen=True)
class Bundle:
    strategy: str
    rotation: str
    generation: int
    generated: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """One side of the diff: names, keys and rotation metadata, nothing else."""

    namespaces: frozenset[str]
    secrets: dict[tuple[str, str], tuple[str, ...]]
    """(namespace, name) -> keys."""
    bundles: dict[str, Bundle]


@dataclass(frozen=True)
class Base:
    plan: Plan
    commit: str
    program: str
    """``ref``: planned by the ref's own program; ``today``: by this CLI's (the ref predates the entry point)."""
    note: str | None = None


def plan_of(s: settings_pkg.Settings) -> Plan:
    return parse_plan(plan_export.describe(s))


def parse_plan(data: Any) -> Plan:
    """The fields the diff uses, type-checked; a ValueError naming the first one that is wrong."""

    def strings(value: Any, what: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{what} is not a list of strings")
        return tuple(value)

    def text(entry: dict, key: str, what: str) -> str:
        value = entry.get(key)
        if not isinstance(value, str):
            raise ValueError(f"{what}.{key} is not a string")
        return value

    if not isinstance(data, dict):
        raise ValueError("the plan is not an object")

    def entries(key: str) -> list[dict]:
        value = data.get(key)
        if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
            raise ValueError(f"{key} is not a list of objects")
        return value

    secrets: dict[tuple[str, str], tuple[str, ...]] = {}
    for i, entry in enumerate(entries("secrets")):
        where = f"secrets[{i}]"
        secrets[(text(entry, "namespace", where), text(entry, "name", where))] = strings(entry.get("keys"), f"{where}.keys")
    bundles: dict[str, Bundle] = {}
    for i, entry in enumerate(entries("bundles")):
        generation = entry.get("generation")
        if not isinstance(generation, int) or isinstance(generation, bool):
            raise ValueError(f"bundles[{i}].generation is not an integer")
        where = f"bundles[{i}]"
        bundles[text(entry, "service", where)] = Bundle(
            text(entry, "strategy", where),
            text(entry, "rotation", where),
            generation,
            strings(entry.get("generated"), f"{where}.generated"),
        )
    return Plan(frozenset(strings(data.get("namespaces"), "namespaces")), secrets, bundles)


def _git(root: Path, *args: str, text: bool = True) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=text, timeout=GIT_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise InputError(
            f"`git {args[0]}` in {root} took longer than {GIT_TIMEOUT:.0f}s and was stopped", "retry; check the repository (git fsck)"
        ) from None
    except OSError as err:
        raise InputError(f"cannot run git: {err.strerror or err}", "install git, or run diff in a git checkout") from None


def resolve(root: Path, ref: str, stack: str) -> str:
    """The commit ``ref`` names, after checking the stack file exists there."""
    if not ref or ref.startswith("-"):
        raise InputError(f"--base {ref!r}: not a git ref", "pass a branch, tag or commit, e.g. origin/main")
    if _git(root, "rev-parse", "--is-inside-work-tree").returncode != 0:
        raise InputError(
            f"{root} is not a git checkout, so there is no --base {ref} to compare with", "run diff in a clone of the repository"
        )
    found = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode != 0:
        raise InputError(f"--base {ref}: no such commit in {root}", "pass a branch, tag or commit that exists (git fetch it first in CI)")
    commit = found.stdout.strip()
    if _git(root, "cat-file", "-e", f"{commit}:{conventions.stack_file_name(stack)}").returncode != 0:
        raise InputError(
            f"--base {ref}: {conventions.stack_file_name(stack)} does not exist at that ref", "pick a base where the stack exists"
        )
    return commit


def request(environ: Mapping[str, str]) -> dict[str, Any]:
    """What the subprocess is told about the environment: variable names, and whether each is set to something."""
    return {"variables": {name: bool(value) for name, value in sorted(environ.items())}}


def base_plan(root: Path, ref: str, stack: str, environ: Mapping[str, str]) -> Base:
    commit = resolve(root, ref, stack)
    with tempfile.TemporaryDirectory(prefix="secrets-platform-diff-") as tmp:
        tree = Path(tmp) / "tree"
        module = next((m for path, m in ENTRY_POINTS.items() if _git(root, "cat-file", "-e", f"{commit}:{path}").returncode == 0), None)
        if module is None:
            return Base(
                _today(root, commit, ref, stack, environ, tree),
                commit,
                "today",
                FALLBACK_NOTE.format(ref=ref, stack_file=conventions.stack_file_name(stack)),
            )
        _extract(root, commit, ref, tree)
        return Base(_run_entry_point(tree, ref, commit, stack, environ, module), commit, "ref")


def _extract(root: Path, commit: str, ref: str, tree: Path) -> None:
    archive = _git(root, "archive", "--format=tar", commit, text=False)
    if archive.returncode != 0:
        raise InputError(
            f"--base {ref}: git archive of {commit[:12]} failed: {archive.stderr.decode(errors='replace').strip()[:300]}",
            "check the repository (git fsck), or pick another base",
        )
    tree.mkdir()
    try:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tree, filter=_inside)
    except (tarfile.TarError, OSError) as err:
        raise InputError(f"--base {ref}: the tree of {commit[:12]} cannot be extracted ({err})", "pick another base") from None


def _inside(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """tarfile's ``data`` filter, skipping (not failing on) a member it refuses, e.g. a link out of the tree."""
    try:
        return tarfile.data_filter(member, dest)
    except tarfile.FilterError:
        return None


def _today(root: Path, commit: str, ref: str, stack: str, environ: Mapping[str, str], tree: Path) -> Plan:
    """The ref's stack file planned by this CLI's program (a ref older than the entry point)."""
    shown = _git(root, "show", f"{commit}:{conventions.stack_file_name(stack)}")
    tree.mkdir()
    path = tree / conventions.stack_file_name(stack)
    path.write_text(shown.stdout)
    try:
        return plan_of(settings_pkg.from_stack_file(path, environ))
    except settings_pkg.ConfigError as err:
        first = str(err).replace(str(path), f"{ref}:{conventions.stack_file_name(stack)}")
        raise InputError(f"the stack file does not parse at --base {ref}: {first}", "pick another base ref") from None


def sandbox_command(argv: list[str]) -> list[str]:
    """``argv`` run by util-linux's ``unshare`` in new user, PID and mount namespaces, as an unprivileged id.

    - PID namespace, with its own ``/proc``: the program is its namespace's init and sees no process
      outside it (this CLI's ``/proc/<pid>/environ`` and command line included);
    - when it exits, the kernel kills every process left in the namespace (a daemon it forked, a child
      in a session of its own); ``--kill-child`` kills it, and so the namespace, when unshare is killed;
    - user namespace: it runs as ``SANDBOX_ID``, mapped to this user outside, with no capability in
      this namespace (as root, too).
    """
    unshare = shutil.which("unshare", path=os.environ.get("PATH") or "/usr/bin:/bin") or shutil.which("unshare", path="/usr/bin:/bin")
    if unshare is None:
        raise InputError("unshare (util-linux) is not installed, so the base ref's program cannot be sandboxed", SANDBOX_FIX)
    return [
        unshare,
        "--user",
        f"--map-user={SANDBOX_ID}",
        f"--map-group={SANDBOX_ID}",
        "--pid",
        "--fork",
        "--mount",
        "--mount-proc",
        "--kill-child",
        "--",
        *argv,
    ]


def _check_sandbox(env: Mapping[str, str], cwd: Path) -> None:
    """Make one throwaway sandbox first, so a machine that cannot is one clear error (not the program's failure)."""
    try:
        done = subprocess.run(
            sandbox_command([sys.executable, "-E", "-s", "-c", "pass"]),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise InputError(f"cannot start the sandbox for the base ref's program ({err.__class__.__name__})", SANDBOX_FIX) from None
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        raise InputError(
            f"cannot sandbox the base ref's program here: {(lines[-1] if lines else f'exit {done.returncode}')[:300]}", SANDBOX_FIX
        )


def _run_entry_point(tree: Path, ref: str, commit: str, stack: str, environ: Mapping[str, str], module: str) -> Plan:
    where = f"the program at --base {ref} ({commit[:12]})"
    env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
    env.setdefault("PATH", "/usr/bin:/bin")
    for name, var in (("home", "HOME"), ("tmp", "TMPDIR")):
        own = tree.parent / name
        own.mkdir(mode=0o700, exist_ok=True)
        env[var] = str(own)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    _check_sandbox(env, tree)
    # -E: no PYTHON* variable of ours (PYTHONPATH) reaches it; -s: no user site; -m puts the tree first on sys.path.
    cmd = sandbox_command([sys.executable, "-E", "-s", "-m", module, "--stack", stack])
    # Its own session too, so a timeout stops unshare and the program at once (their namespace then goes with them).
    with subprocess.Popen(
        cmd, cwd=tree, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as proc:
        try:
            stdout, stderr = proc.communicate(json.dumps(request(environ)), timeout=PLAN_TIMEOUT)
        except subprocess.TimeoutExpired:
            _stop(proc)
            raise InputError(
                f"{where} did not plan stack {stack} within {PLAN_TIMEOUT:.0f}s and was stopped",
                f"run `python -m {module} --stack {stack}` in a checkout of that ref to see why, or pick another base",
            ) from None
        except BaseException:
            _stop(proc)
            raise
        finally:  # nothing it started outlives it
            _kill_session(proc)
    done = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    out: Any = None
    try:
        out = json.loads(done.stdout) if done.stdout.strip() else None
    except ValueError:
        pass
    if isinstance(out, dict) and isinstance(out.get("error"), str):
        message = out["error"].replace(f"{tree}{os.sep}", f"{ref}:")
        raise InputError(f"the stack file does not parse at --base {ref}: {message}", "pick another base ref")
    if done.returncode != 0 or not isinstance(out, dict):
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        cause = (lines[-1] if lines else f"exit {done.returncode}, no output")[:300].replace(f"{tree}{os.sep}", "")
        raise InputError(
            f"{where} fails to import or plan stack {stack}: {cause}",
            "fix the program at that ref, or pick another base (in a checkout of the ref, "
            f"`python -m {module} --stack {stack}` shows the whole error)",
        )
    if out.get("format") != plan_export.FORMAT:
        raise InputError(
            f"{where} describes its plan in format {out.get('format')!r}; this CLI reads format {plan_export.FORMAT}",
            "run the diff with the CLI of the newer side, or pick another base",
        )
    try:
        return parse_plan(out.get("plan"))
    except ValueError as err:
        raise InputError(f"{where} printed a plan this CLI cannot read: {err}", "pick another base") from None


def _stop(proc: subprocess.Popen) -> None:
    """Kill the planning process and everything in its session, and reap it."""
    _kill_session(proc)
    try:
        proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - a grandchild that left the session keeps a pipe open
        pass


def _kill_session(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def compare(old: Plan, new: Plan) -> dict[str, Any]:
    before, after = old.secrets, new.secrets
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    changed = []
    for key in sorted(after.keys() & before.keys()):
        ka, kb = set(after[key]), set(before[key])
        if ka != kb:
            changed.append({"namespace": key[0], "name": key[1], "keysAdded": sorted(ka - kb), "keysRemoved": sorted(kb - ka)})
    rotations = []
    ob, nb = old.bundles, new.bundles
    for service in sorted(ob.keys() & nb.keys()):
        o, n = ob[service], nb[service]
        gen = sorted(n.generated)
        if not gen:
            continue
        entry: dict[str, Any] = {"service": service, "strategy": n.strategy, "keys": gen}
        if o.strategy != n.strategy:
            entry.update(change=f"strategy {o.strategy} -> {n.strategy}: every generated key gets a new value")
        elif n.strategy == "single" and o.rotation != n.rotation:
            entry.update(change=f"rotation {o.rotation} -> {n.rotation}: every generated key gets a new value")
        elif n.strategy == "dual" and o.generation != n.generation:
            slot = current_slot(n.generation)
            entry.update(
                change=f"generation {o.generation} -> {n.generation}",
                slot=slot,
                detail=f"slot {slot} regenerated and current; <KEY>_PREVIOUS is slot {current_slot(o.generation)}"
                if n.generation == o.generation + 1
                else "more than one step: both slots may be new",
            )
        else:
            continue
        rotations.append(entry)
    return {
        "secretsAdded": [{"namespace": ns, "name": n, "keys": list(after[(ns, n)])} for ns, n in added],
        "secretsRemoved": [{"namespace": ns, "name": n} for ns, n in removed],
        "keysChanged": changed,
        "rotated": rotations,
        "namespacesGained": sorted(new.namespaces - old.namespaces),
        "namespacesLost": sorted(old.namespaces - new.namespaces),
    }
