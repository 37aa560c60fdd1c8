"""A throwaway copy of the project that the real engine runs on.

Never the checkout: each copy has its own file state backend, and applies to a
local cluster of the tests' own (tests/conftest.py's ``cluster``: the session's, lent to one module at a
time, in a temporary folder, on free loopback ports), so tests don't disturb a developer's
`make up`, and can edit the stack file. Without a cluster the copy renders
manifests instead (`make render`'s mode). The engine and plugins come from
`make toolchain` (bin/, .pulumi-home/).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import yaml

from secrets_platform.localcluster import DEFAULT_BIN, Cluster

ROOT = Path(__file__).resolve().parents[2]
PULUMI = ROOT / "bin" / "pulumi"
PLUGINS = ROOT / ".pulumi-home" / "plugins"
COPIED = ("Pulumi.yaml", "Pulumi.local.yaml", "__main__.py", "secrets_platform", "policies")
PASSPHRASE = "local-only-passphrase"


def engine_missing() -> str | None:
    """Why the engine tier can't run here, or None."""
    if not PULUMI.exists():
        return "bin/pulumi not built (run make toolchain)"
    if not any(PLUGINS.glob("resource-kubernetes-v*")) or not any(PLUGINS.glob("resource-random-v*")):
        return "provider plugins not installed (run make toolchain)"
    if not (DEFAULT_BIN / "kube-apiserver").exists():
        return "local cluster binaries not built (run make toolchain)"
    return None


class LocalProject:
    def __init__(self, root: Path, cluster: Cluster | None = None):
        """A copy applying to ``cluster``; with None, it renders manifests into rendered/local/."""
        self.root = root
        self.cluster = cluster
        for name in COPIED:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(src, root / name)
        (root / ".venv").symlink_to(ROOT / ".venv")
        (root / ".state").mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "DAGSTER_SECRET_", "KUBECONFIG"))}
        self.env.update(
            PATH=f"{ROOT / 'bin'}:{os.environ.get('PATH', '')}",
            PULUMI_HOME=str(ROOT / ".pulumi-home"),
            PULUMI_BACKEND_URL=f"file://{root / '.state'}",
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
        )
        self.pulumi("stack", "init", "local")
        kubernetes = {"kubeconfig": str(cluster.kubeconfig)} if cluster else {"renderDir": "rendered/local"}
        self.edit_stack(lambda c: c.update({"secrets-platform:kubernetes": kubernetes}))

    @property
    def rendered(self) -> Path:
        return self.root / "rendered" / "local"

    def pulumi(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(PULUMI), *args, "--non-interactive", "--color", "never"],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    def preview_steps(self, *args: str) -> dict[str, str]:
        """URN -> operation of a `pulumi preview --json`, without the unchanged ('same') steps."""
        proc = self.pulumi("preview", "-s", "local", "--json", *args)
        steps = json.loads(proc.stdout).get("steps", [])
        return {s["urn"]: s["op"] for s in steps if s["op"] != "same"}

    def settings(self):
        """The copy's stack file, as the CLI and the cross-stack check read it."""
        from secrets_platform import settings

        return settings.from_stack_file(self.root / "Pulumi.local.yaml", environ={})

    def edit_stack(self, change) -> None:
        path = self.root / "Pulumi.local.yaml"
        doc = yaml.safe_load(path.read_text())
        change(doc["config"])
        path.write_text(yaml.safe_dump(doc, sort_keys=False))

    def secrets(self) -> dict[str, dict[str, str]]:
        """The platform's Secrets (from the cluster, else rendered): `<namespace>/<name>` -> decoded data."""
        if self.cluster:
            return {
                key: {k: base64.b64decode(v).decode() for k, v in (doc.get("data") or {}).items()}
                for key, doc in self.cluster_secrets().items()
            }
        out = {}
        for path in sorted((self.rendered / "1-manifest").glob("v1-secret-*.yaml")):
            doc = yaml.safe_load(path.read_text())
            meta = doc["metadata"]
            data = {k: base64.b64decode(v).decode() for k, v in (doc.get("data") or {}).items()}
            data.update(doc.get("stringData") or {})
            out[f"{meta['namespace']}/{meta['name']}"] = data
        return out

    def cluster_secrets(self) -> dict[str, dict]:
        """Secrets of the platform in the cluster (by label): `<namespace>/<name>` -> the object."""
        assert self.cluster is not None
        found = json.loads(
            self.cluster.kubectl("get", "secrets", "-A", "-l", "app.kubernetes.io/part-of=secrets-platform", "-o", "json").stdout
        )
        return {f"{o['metadata']['namespace']}/{o['metadata']['name']}": o for o in found["items"]}

    def state_text(self) -> str:
        """Every file of the state backend: checkpoints, history and backups."""
        return "\n".join(p.read_text(errors="replace") for p in (self.root / ".state").rglob("*") if p.is_file())
