"""``python -m secrets_platform.localcluster up|down|destroy|status|kubeconfig``: the Makefile's cluster steps.

    up                     start what is not running (installing the External Secrets CRDs), wait until ready
    down                   stop every process, keep the data
    destroy                stop every process and remove the data folder
    status                 what runs, where it listens, where the logs are
    kubeconfig             print the kubeconfig path
    recover --state DIR    remove Pulumi state locks left by a run that was killed

Exit codes: 0 done, 2 a problem the message names (with the fix).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from secrets_platform.localcluster import DEFAULT_BIN, DEFAULT_DIR, SERVICE_RANGE, Cluster
from secrets_platform.localcluster.exits import reported
from secrets_platform.localcluster.postgres import LocalPostgres, PostgresError, server_bin_dir
from secrets_platform.localcluster.vault import OpenBao


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m secrets_platform.localcluster", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="data folder (default: .cluster/)")
    parser.add_argument("--bin", type=Path, default=DEFAULT_BIN, help="folder of the built binaries (default: build/cluster/)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up")
    for name in ("down", "destroy", "status", "kubeconfig"):
        sub.add_parser(name)
    recover = sub.add_parser("recover")
    recover.add_argument("--state", type=Path, required=True, help="the local stack's file state backend folder")
    args = parser.parse_args(argv)
    cluster = Cluster(args.dir, args.bin)
    return reported("local cluster", "run make down to stop what was started", lambda: COMMANDS[args.command](cluster, args))


def _up(cluster: Cluster, args: argparse.Namespace) -> int:
    began = time.monotonic()
    first = cluster.state() is None
    if first:
        print(f"local cluster: first start, creating certificates and data in {cluster.root}")
    started = cluster.start()
    for component in cluster.found_stopped:
        print(
            f"local cluster: {component} had stopped while the rest ran (its log: {cluster.log(component)}); "
            "the cluster was restarted, data kept",
            file=sys.stderr,
        )
    bao = OpenBao(cluster)
    bao_began = time.monotonic()
    if bao.start():
        print(
            f"local cluster: Vault (OpenBao dev server, in memory) started at {bao.address} in "
            f"{time.monotonic() - bao_began:.1f} s; root token in {bao.token_file} (mode 0600)"
        )
    pg = LocalPostgres(cluster)
    try:
        server_bin_dir()
    except PostgresError as err:  # only vault-database bundles need it: said once, and apply names it again
        print(f"local cluster: the local database is not started: {err}", file=sys.stderr)
    else:
        pg_began = time.monotonic()
        if pg.start():
            print(
                f"local cluster: database (PostgreSQL, for Vault's short-lived users) started at {pg.address} in "
                f"{time.monotonic() - pg_began:.1f} s; data in {pg.data}"
            )
    took = time.monotonic() - began
    verb = "started" if started else "already running"
    print(
        f"local cluster: {verb} at {cluster.server} (Service range {SERVICE_RANGE}), ready in {took:.1f} s; KUBECONFIG={cluster.kubeconfig}"
    )
    return 0


def _down(cluster: Cluster, args: argparse.Namespace) -> int:
    stopped = (["postgres"] if LocalPostgres(cluster).stop() else []) + (["openbao"] if OpenBao(cluster).stop() else []) + cluster.stop()
    print(f"local cluster: {'stopped ' + ', '.join(stopped) if stopped else 'was not running'}; data kept in {cluster.root}")
    return 0


def _destroy(cluster: Cluster, args: argparse.Namespace) -> int:
    LocalPostgres(cluster).stop()
    OpenBao(cluster).stop()
    cluster.destroy()
    print(f"local cluster: stopped and removed {cluster.root}")
    return 0


def _status(cluster: Cluster, args: argparse.Namespace) -> int:
    if cluster.state() is None:
        print(f"local cluster: not created (no data in {cluster.root}); make up creates it")
        return 0
    listeners = cluster.listeners()
    for component, pid in cluster.pids().items():
        where = ", ".join(f"{a}:{p}" for a, p in listeners.get(component, [])) or "-"
        print(f"{component:<24} {'running pid ' + str(pid) if pid else 'stopped':<20} listens {where:<40} log {cluster.log(component)}")
    bao = OpenBao(cluster)
    pid = bao.pid()
    print(f"{'openbao':<24} {'running pid ' + str(pid) if pid else 'stopped':<20} listens {bao.address:<40} log {bao.log}")
    pg = LocalPostgres(cluster)
    pid = pg.pid()
    print(f"{'postgres':<24} {'running pid ' + str(pid) if pid else 'stopped':<20} listens {pg.address:<40} log {pg.log}")
    print(f"ready: {'yes' if cluster.ready() else 'no'}; KUBECONFIG={cluster.kubeconfig}")
    return 0


def _kubeconfig(cluster: Cluster, args: argparse.Namespace) -> int:
    print(cluster.kubeconfig)
    return 0


def _recover(cluster: Cluster, args: argparse.Namespace) -> int:
    """`make up` holds its own lock, so a state lock whose process is gone was left by a killed run."""
    import json
    import os
    import socket

    for lock in sorted((args.state / ".pulumi" / "locks").rglob("*.json")):
        try:
            info = json.loads(lock.read_text())
            pid, host = int(info["pid"]), info.get("hostname")
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if host not in (None, socket.gethostname()) or os.path.exists(f"/proc/{pid}"):
            continue  # another machine's, or a live run's: not ours to remove
        lock.unlink()
        print(
            f"local stack: removed the stale lock of an interrupted pulumi run (pid {pid}); "
            "its pending operations are cleared by the refresh that follows"
        )
    for attrs in _torn_attributes(args.state / ".pulumi"):
        attrs.unlink()
        print(
            f"local stack: removed {attrs}, an attributes file a killed pulumi run left half-written; "
            "the state file beside it is whole, and the file backend reads a missing attributes file as the default"
        )
    return 0


def _torn_attributes(backend: Path) -> list[Path]:
    """The file backend's ``<blob>.attrs`` files that a killed write left unreadable, beside a blob that reads whole.

    Pulumi's file backend stores through gocloud's fileblob: it writes a blob to a temporary file and renames it
    (atomic), but truncates and rewrites the blob's ``.attrs`` JSON in place, so a run killed in between leaves it
    empty or cut, and every later command fails with ``failed to load checkpoint: EOF``. fileblob decodes the first
    JSON value of the file into its attributes and treats a missing file as the defaults: an ``.attrs`` that does not
    decode to an object is torn, and removing it is what fileblob would read anyway. Only where the blob itself decodes
    (plain or gzipped JSON), so a state file is never touched and nothing torn beside a torn state file is hidden.
    """
    import gzip
    import json

    def decodes(text: str) -> bool:
        try:
            value, _ = json.JSONDecoder().raw_decode(text.lstrip())
        except ValueError:
            return False
        return isinstance(value, dict)

    torn = []
    for attrs in sorted(backend.rglob("*.attrs")) if backend.is_dir() else []:
        blob = attrs.with_name(attrs.name[: -len(".attrs")])
        try:
            if decodes(attrs.read_text(errors="replace")) or not blob.is_file():
                continue
            data = blob.read_bytes()
            whole = decodes((gzip.decompress(data) if blob.suffix == ".gz" else data).decode())
        except (OSError, ValueError, EOFError):
            continue
        if whole:
            torn.append(attrs)
    return torn


COMMANDS = {"up": _up, "down": _down, "destroy": _destroy, "status": _status, "kubeconfig": _kubeconfig, "recover": _recover}

if __name__ == "__main__":
    sys.exit(main())
