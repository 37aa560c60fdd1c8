"""What the Vault e2e modules share: make up's Vault step as a subprocess, and Vault's HTTP API with a given token."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

from local_project import ROOT

from secrets_platform.localcluster import Cluster
from secrets_platform.localcluster.vault import OpenBao


def run_apply(cluster: Cluster, outputs) -> subprocess.CompletedProcess[str]:
    """`python -m secrets_platform.localcluster.vault apply` (make up's step) against the module's cluster and its local servers."""
    return subprocess.run(
        [sys.executable, "-m", "secrets_platform.localcluster.vault", "--dir", str(cluster.root), "apply", "--stack-outputs", str(outputs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def http(bao: OpenBao, method: str, path: str, token: str | None = None, body=None) -> tuple[int, dict]:
    """One Vault API call: its HTTP status and JSON body (an error's body too)."""
    req = urllib.request.Request(
        f"{bao.address}/v1/{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"X-Vault-Token": token} if token else {},
    )
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")
