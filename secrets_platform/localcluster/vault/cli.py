"""``python -m secrets_platform.localcluster.vault``: apply the stack's vault output to the local Vault, or print its address."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from secrets_platform.localcluster import DEFAULT_BIN, DEFAULT_DIR, Cluster
from secrets_platform.localcluster.exits import reported
from secrets_platform.localcluster.vault.applier import apply_local
from secrets_platform.localcluster.vault.server import OpenBao

INTERRUPTED = "run it again (every step is idempotent)"


def main(argv: list[str] | None = None) -> int:
    from secrets_platform.localcluster import vault

    parser = argparse.ArgumentParser(
        prog="python -m secrets_platform.localcluster.vault", description=(vault.__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="the local cluster's data folder (default: .cluster/)")
    parser.add_argument("--bin", type=Path, default=DEFAULT_BIN, help="folder of the built binaries (default: build/cluster/)")
    sub = parser.add_subparsers(dest="command", required=True)
    ap = sub.add_parser("apply", help="apply the stack's vault output to the local Vault")
    ap.add_argument("--stack-outputs", type=Path, required=True, help="pulumi stack output -s local --json, saved to a file")
    sub.add_parser("address", help="print the local Vault's address")
    args = parser.parse_args(argv)
    cluster = Cluster(args.dir, args.bin)
    if args.command == "address":
        return reported("local vault", INTERRUPTED, lambda: _address(cluster))
    return reported("local vault", INTERRUPTED, lambda: _apply(cluster, args.stack_outputs))


def _address(cluster: Cluster) -> int:
    print(OpenBao(cluster).address)
    return 0


def _apply(cluster: Cluster, outputs_file: Path) -> int:
    began = time.monotonic()
    done = apply_local(cluster, outputs_file)
    for line in done:
        print(f"local vault: {line}")
    print(f"local vault: applied the stack's Vault definitions to {OpenBao(cluster).address} in {time.monotonic() - began:.1f} s")
    return 0
