"""The real engine on the local stack: preview, up, a no-op up, and preview with the policy pack.

Runs only when the toolchain is there (``bin/pulumi`` and the provider plugins the
local stack needs in ``.pulumi-home/plugins``, see ``make toolchain``); otherwise
:func:`availability` says why and the runner prints a "skipped: no engine" line.

Like tests/cli/test_e2e.py it works on a throwaway copy of the project in a temp
dir, with its own file state backend and render dir, so the checkout's state and
``rendered/`` are never touched. Engine output is discarded (it would show diffs).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCAL_PASSPHRASE = "local-only-passphrase"  # documented in the README; the local stack only
PLUGINS = ("resource-kubernetes", "resource-random")
COPY_FILES = ("Pulumi.yaml", "Pulumi.local.yaml", "__main__.py", "conventions.py")
COPY_DIRS = ("settings", "components", "policies")


def availability(root: Path = ROOT) -> str | None:
    """None when the engine can run the local stack, else why not."""
    if not (root / "bin" / "pulumi").exists():
        return "no engine: bin/pulumi not built (make toolchain)"
    plugins = root / ".pulumi-home" / "plugins"
    installed = [p.name for p in plugins.iterdir() if p.is_dir()] if plugins.is_dir() else []
    missing = [p for p in PLUGINS if not any(name.startswith(p + "-v") for name in installed)]
    if missing:
        return f"no engine: plugins {', '.join(missing)} not installed in .pulumi-home/plugins (make toolchain)"
    return None


def _copy(root: Path, dest: Path) -> None:
    for name in COPY_FILES:
        shutil.copy(root / name, dest / name)
    for name in COPY_DIRS:
        shutil.copytree(root / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", "config.*.json"))
    for name in (".venv", "bin"):
        (dest / name).symlink_to(root / name)
    (dest / ".state").mkdir()


def _environ(root: Path, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "DAGSTER_SECRET_"))}
    env.update({
        "PULUMI_HOME": str(root / ".pulumi-home"),
        "PULUMI_BACKEND_URL": f"file://{work / '.state'}",
        "PULUMI_CONFIG_PASSPHRASE": LOCAL_PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PATH": os.pathsep.join([str(root / "bin"), str(root / ".venv" / "bin"), os.environ.get("PATH", "")]),
    })
    return env


class EngineFailed(RuntimeError):
    pass


def _run(args: list[str], work: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([str(ROOT / "bin" / "pulumi"), *args, "--stack", "local", "--non-interactive", "--color", "never"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        tail = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()][-3:]
        raise EngineFailed(f"`pulumi {' '.join(args)}` exited {done.returncode}: {' | '.join(tail)}")
    return seconds


def measure(repeats: int = 3, root: Path = ROOT) -> dict[str, Any]:
    """Median seconds of each operation; ``skipped`` says why when it could not run."""
    why = availability(root)
    if why:
        return {"skipped": why}
    with tempfile.TemporaryDirectory(prefix="secrets-platform-bench-") as tmp:
        work = Path(tmp)
        _copy(root, work)
        env = _environ(root, work)
        try:
            subprocess.run([str(root / "bin" / "pulumi"), "stack", "init", "local", "--non-interactive"],
                           cwd=work, env=env, capture_output=True, text=True, check=True, timeout=300)
            preview = ["preview"]
            with_pack = [*preview, "--policy-pack", str(work / "policies")]
            _run(preview, work, env)  # warm-up: plugin start, bytecode caches
            samples: dict[str, list[float]] = {"preview": [], "preview_with_pack": []}
            for _ in range(repeats):  # interleaved, so load changes hit both alike
                samples["preview"].append(_run(preview, work, env))
                samples["preview_with_pack"].append(_run(with_pack, work, env))
            samples["up_create"] = [_run(["up", "--yes", "--skip-preview"], work, env)]
            samples["up_noop"] = [_run(["up", "--yes", "--skip-preview"], work, env) for _ in range(repeats)]
            samples["preview_noop"] = [_run(preview, work, env) for _ in range(repeats)]
            _run(["destroy", "--yes", "--skip-preview"], work, env)
        except (EngineFailed, subprocess.SubprocessError) as err:
            return {"skipped": f"engine failed: {err}"}
    medians = {k: statistics.median(v) for k, v in samples.items()}
    ratios = [b / a for a, b in zip(samples["preview"], samples["preview_with_pack"])]
    return {
        "repeats": repeats,
        "seconds": medians,
        "samples": samples,
        # Per interleaved pair, then the median: the figure least moved by load.
        "pack_ratio": statistics.median(ratios),
    }
