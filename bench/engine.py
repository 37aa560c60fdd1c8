"""The real engine at scale: ``pulumi preview`` (with and without the pack), ``up`` and a no-op ``up``.

Only when the toolchain is built (``bin/pulumi`` and the kubernetes and random
plugins in ``.pulumi-home/plugins``); otherwise :func:`availability` says why.

For each catalog size (bench/catalog.py, a ``local`` stack of N kubernetes-backend
bundles) two throwaway projects are made in a temp dir, each with its own file
state backend and render dir: *ours* (the real ``__main__.py``, settings and
components), *flat* (bench/flat.py: the same custom resources written by hand, the
floor) and *fair* (bench/flat.py with ``components=True``: the same custom resources
under the same component resources, the fair floor: ours / fair is what our
settings, resolve and spec layers cost). The kubernetes provider renders manifests (``kubernetes.renderDir``), so
no cluster is needed and ``up`` writes files instead of calling an API server.
The checkout's state and ``rendered/`` are never touched; engine output is
discarded (it would show diffs).

Per size: a warm-up (a preview of each project, one with the pack), then
``rounds`` interleaved rounds of ``preview`` / ``preview --policy-pack`` for ours (the
pack, then the no-op analyzers of bench/noop.py, which split the pack's cost into the
engine's, Python serving's and our rules') and ``preview`` for flat and fair (so load changes hit all alike; ratios per round, then the
median), one ``up`` that creates everything per project, then ``rounds`` no-op
``up``s per project. Every run also records, by sampling ``/proc`` (bench/sampler.py), the CPU
seconds and the peak RSS of each process of the run by role (engine, language
host, program, analyzer, providers).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from bench import catalog, noop
from bench.commands import run_checked
from bench.sampler import ROLES, Sampler
from secrets_platform import conventions

ROOT = Path(__file__).resolve().parents[1]
LOCAL_PASSPHRASE = "local-only-passphrase"  # documented in the README; the local stack only
PLUGINS = ("resource-kubernetes", "resource-random")
COPY_FILES = (conventions.PROJECT_FILE, "__main__.py")
COPY_DIRS = ("secrets_platform",)
PROGRAMS = ("ours", "flat", "fair")
FLOOR_MAIN = (
    '"""The {what} (bench/flat.py) as a Pulumi program."""\n\nimport sys\n\n'
    "# bench/ is not installed (the wheel holds only secrets_platform): the checkout's, appended so that it shadows nothing.\n"
    "sys.path.append({root!r})\n\nfrom bench.flat import {function}\n\n{function}()\n"
)
FLOOR_PROGRAMS = {"flat": ("flat floor program", "main"), "fair": ("fair floor program, with components", "main_fair")}
"""The floor projects' ``__main__.py``: what it is, and the function of bench/flat.py it calls."""
RENDER_DIR = "rendered/local"
ENV_STRING_LIMIT = 131_072
"""Linux's limit on one environment string (MAX_ARG_STRLEN, 32 pages). Upstream's language hosts hand the
whole stack config to the program and to the pack as one variable, PULUMI_CONFIG (pulumi/pulumi#8680,
#20402), so there a stack whose config is larger cannot start: about 620 bundles of bench/catalog.py's
shape. Ours hands it over on a pipe (toolchain/pulumi/cmd/pulumi-language-python); each size's
``config_bytes`` says which side of the limit it is on."""


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


class EngineFailed(RuntimeError):
    pass


# --------------------------------------------------------------------------- throwaway projects


def stack_config(credentials: int, root: Path = ROOT) -> str:
    """``Pulumi.local.yaml`` for a catalog of ``credentials`` bundles, rendering into ``rendered/local``."""
    salt = yaml.safe_load((root / conventions.stack_file_name("local")).read_text())["encryptionsalt"]
    cfg = catalog.catalog(credentials, "local")
    cfg["kubernetes"] = {"renderDir": RENDER_DIR}
    return yaml.safe_dump({"encryptionsalt": salt, "config": {f"secrets-platform:{k}": v for k, v in cfg.items()}}, sort_keys=False)


def config_env_bytes(credentials: int) -> int:
    """Size of the ``PULUMI_CONFIG=...`` string the engine would pass for a catalog (JSON, each value JSON-encoded)."""
    cfg = catalog.catalog(credentials, "local")
    cfg["kubernetes"] = {"renderDir": RENDER_DIR}
    values = {f"secrets-platform:{k}": v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for k, v in cfg.items()}
    return len("PULUMI_CONFIG=" + json.dumps(values, separators=(",", ":"))) + 1


def pack_dir(work: Path, label: str, policies: Path, root: Path = ROOT, profile: Path | None = None) -> Path:
    """A copy of a policy pack at ``work/packs/<label>/policies``, beside ``secrets_platform/`` (conventions included) and ``.venv`` as in the checkout.

    With ``profile``, the copy's entry point first installs bench/pack_hook.py, which
    profiles the pack's servicer into ``profile`` (JSON) and ``profile``.pstats.
    """
    base = work / "packs" / label
    base.mkdir(parents=True)
    shutil.copytree(root / "secrets_platform", base / "secrets_platform", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(policies, base / "policies", ignore=shutil.ignore_patterns("__pycache__"))
    (base / ".venv").symlink_to(root / ".venv")
    if profile is not None:
        entry = base / "policies" / "__main__.py"
        entry.rename(entry.with_name("_unprofiled_main.py"))
        entry.write_text(
            f"import runpy\nimport sys\n\nsys.path.append({str(root)!r})  # bench/ is not installed: the checkout's\n"
            f"import bench.pack_hook\n\nbench.pack_hook.install({str(profile)!r})\n"
            "runpy.run_path(__file__.replace('__main__.py', '_unprofiled_main.py'), run_name='__main__')\n"
        )
    return base / "policies"


@dataclass
class Project:
    """One throwaway project (``ours``, ``flat`` or ``fair``) of a catalog size, with its own state and stack."""

    program: str
    credentials: int
    path: Path
    env: dict[str, str]
    root: Path = ROOT

    @classmethod
    def create(cls, work: Path, program: str, credentials: int, root: Path = ROOT) -> "Project":
        path = work / f"{program}-{credentials}"
        path.mkdir()
        for name in COPY_FILES:
            shutil.copy(root / name, path / name)
        for name in COPY_DIRS:
            shutil.copytree(root / name, path / name, ignore=shutil.ignore_patterns("__pycache__"))
        if program in FLOOR_PROGRAMS:
            what, function = FLOOR_PROGRAMS[program]
            (path / "__main__.py").write_text(FLOOR_MAIN.format(what=what, root=str(root), function=function))
        (path / conventions.stack_file_name("local")).write_text(stack_config(credentials, root))
        for name in (".venv", "bin"):
            (path / name).symlink_to(root / name)
        (path / ".state").mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "DAGSTER_SECRET_"))}
        env.update(
            {
                "PULUMI_HOME": str(root / ".pulumi-home"),
                "PULUMI_BACKEND_URL": f"file://{path / '.state'}",
                "PULUMI_CONFIG_PASSPHRASE": LOCAL_PASSPHRASE,
                "PULUMI_SKIP_UPDATE_CHECK": "true",
                "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
                "PATH": os.pathsep.join([str(root / "bin"), str(root / ".venv" / "bin"), os.environ.get("PATH", "")]),
            }
        )
        project = cls(program, credentials, path, env, root)
        run_checked(
            [str(root / "bin" / "pulumi"), "stack", "init", "local", "--non-interactive"],
            "`pulumi stack init local`",
            error=EngineFailed,
            cwd=path,
            env=env,
            timeout=300,
            tail=300,
        )
        return project

    def run(self, *args: str, pack: Path | None = None, extra_env: dict[str, str] | None = None) -> dict[str, Any]:
        """One engine command; wall seconds and, per role, CPU seconds and peak RSS."""
        argv = [str(self.root / "bin" / "pulumi"), *args, "--stack", "local", "--non-interactive", "--color", "never"]
        if pack is not None:
            argv += ["--policy-pack", str(pack)]
        env = {**self.env, **(extra_env or {})}
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=self.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sampler = Sampler(proc.pid)
        try:
            output, _ = proc.communicate(timeout=3600)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
        seconds = time.perf_counter() - start
        roles = sampler.stop()
        if proc.returncode != 0:
            tail = [line for line in output.splitlines() if line.strip()][-4:]
            raise EngineFailed(
                f"`pulumi {' '.join(args)}` ({self.program}, {self.credentials} credentials) exited {proc.returncode}: {' | '.join(tail)}"
            )
        return {"seconds": seconds, "roles": roles}


# --------------------------------------------------------------------------- the series


@dataclass
class Series:
    """What one size measures: operation name -> samples (each a ``Project.run`` result)."""

    credentials: int
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, op: str, sample: dict[str, Any]) -> None:
        self.samples.setdefault(op, []).append(sample)

    def seconds(self, op: str) -> list[float]:
        return [s["seconds"] for s in self.samples.get(op, [])]


def per_round_ratio(a: list[float], b: list[float]) -> float | None:
    """Median of a[i] / b[i]: ratios of runs taken seconds apart, the figure load moves least."""
    pairs = [x / y for x, y in zip(a, b) if y > 0]
    return statistics.median(pairs) if pairs else None


def spread(values: list[float]) -> float | None:
    """(max - min) / median: how far repeats of one measurement scatter."""
    if len(values) < 2:
        return None
    return (max(values) - min(values)) / statistics.median(values)


def summarize(series: Series, packs: list[str]) -> dict[str, Any]:
    resources = catalog.custom_resource_count(series.credentials)
    ops: dict[str, Any] = {}
    for op, samples in series.samples.items():
        secs = [s["seconds"] for s in samples]
        roles: dict[str, dict[str, float]] = {}
        for role in ROLES:
            present = [s["roles"][role] for s in samples if role in s["roles"]]
            if present:
                roles[role] = {
                    "cpu_seconds": statistics.median(r["cpu_seconds"] for r in present),
                    "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in present),
                }
        ops[op] = {
            "seconds": statistics.median(secs),
            "samples": secs,
            "spread": spread(secs),
            "ms_per_resource": statistics.median(secs) / resources * 1e3,
            "roles": roles,
        }
    preview = series.seconds("ours preview")
    ratios: dict[str, float | None] = {
        "ours_flat_preview": per_round_ratio(preview, series.seconds("flat preview")),
        "ours_fair_preview": per_round_ratio(preview, series.seconds("fair preview")),
        "ours_flat_up": per_round_ratio(series.seconds("ours up"), series.seconds("flat up")),
        "ours_flat_noop_up": per_round_ratio(series.seconds("ours up (no-op)"), series.seconds("flat up (no-op)")),
    }
    for label in packs:
        ratios[f"{label}_ratio"] = per_round_ratio(series.seconds(f"ours preview --policy-pack {label}"), preview)
    return {
        "credentials": series.credentials,
        "custom_resources": resources,
        "component_resources": catalog.component_count(series.credentials),
        "ops": ops,
        "ratios": ratios,
    }


@dataclass(frozen=True)
class Operations:
    """What a size measures besides ours' previews: ``up`` and no-op ``up``s, the flat and the fair floors."""

    up: bool = True
    flat: bool = True
    fair: bool = True
    noop_rounds: int | None = None
    """No-op ``up``s per program (default: the rounds)."""


def measure_size(
    work: Path,
    credentials: int,
    rounds: int,
    packs: dict[str, Path],
    ops: Operations,
    root: Path = ROOT,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every operation at one catalog size; see the module docstring for the order."""
    series = Series(credentials)
    ours = Project.create(work, "ours", credentials, root)
    floor = Project.create(work, "flat", credentials, root) if ops.flat else None
    fair_floor = Project.create(work, "fair", credentials, root) if ops.fair else None
    first_pack = next(iter(packs.values()), None)

    def step(op: str, project: Project, *args: str, pack: Path | None = None, keep: bool = True) -> None:
        sample = project.run(*args, pack=pack)
        if keep:
            series.add(op, sample)
        if progress:
            progress(f"  {credentials:>5} credentials  {op:<40} {sample['seconds']:8.2f} s" + ("" if keep else "  (warm-up)"))

    step("warm-up", ours, "preview", pack=first_pack, keep=False)  # plugins, bytecode of the program and the pack
    if floor:
        step("warm-up", floor, "preview", keep=False)
    if fair_floor:
        step("warm-up", fair_floor, "preview", keep=False)
    for _ in range(rounds):
        step("ours preview", ours, "preview")
        for label, pack in packs.items():
            step(f"ours preview --policy-pack {label}", ours, "preview", pack=pack)
        if floor:
            step("flat preview", floor, "preview")
        if fair_floor:
            step("fair preview", fair_floor, "preview")
    if ops.up:
        step("ours up", ours, "up", "--yes", "--skip-preview")
        if floor:
            step("flat up", floor, "up", "--yes", "--skip-preview")
        for _ in range(rounds if ops.noop_rounds is None else ops.noop_rounds):
            step("ours up (no-op)", ours, "up", "--yes", "--skip-preview")
            if floor:
                step("flat up (no-op)", floor, "up", "--yes", "--skip-preview")
    return summarize(series, list(packs))


def measure(
    sizes: tuple[int, ...] = (10, 100, 300, 600),
    rounds: int = 3,
    *,
    packs: dict[str, Path] | None = None,
    up: bool = True,
    up_max: int | None = None,
    flat: bool = True,
    fair: bool = True,
    noop_rounds: int | None = None,
    noops: tuple[str, ...] = noop.LABELS,
    root: Path = ROOT,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The engine series; ``skipped`` says why when it could not run.

    ``up_max``: sizes above it get previews only (``up`` grows with the square of the stack).

    ``packs``: label -> policy pack directory (default ``{"pack": policies/}``); each is
    measured in every round, so two versions of the pack can be compared side by side.

    ``noops``: the no-op analyzers (bench/noop.py) measured in the same rounds after the packs;
    ``noop_skipped`` says why when they could not be made (the rest is measured without them).
    """
    why = availability(root)
    if why:
        return {"skipped": why}
    with tempfile.TemporaryDirectory(prefix="secrets-platform-bench-") as tmp:
        work = Path(tmp)
        copies = {label: pack_dir(work, label, src, root) for label, src in (packs or {"pack": root / "policies"}).items()}
        out: dict[str, Any] = {
            "rounds": rounds,
            "packs": {k: str(v) for k, v in (packs or {"pack": root / "policies"}).items()},
            "sizes": {},
        }
        try:
            made = noop.packs(work, noops, root)
            copies.update(made)
            out["packs"].update({label: f"bench/noop.py ({label})" for label in made})
        except (RuntimeError, OSError, subprocess.SubprocessError) as err:
            out["noop_skipped"] = str(err)
        try:
            for size in sizes:
                ops = Operations(up and (up_max is None or size <= up_max), flat, fair, noop_rounds)
                out["sizes"][str(size)] = measure_size(work, size, rounds, copies, ops, root, progress)
                out["sizes"][str(size)]["config_bytes"] = config_env_bytes(size)
        except (EngineFailed, subprocess.SubprocessError, OSError) as err:
            return {"skipped": f"engine failed: {err}", **out}
    return out


def quick(
    credentials: int = 300,
    rounds: int = 2,
    noops: tuple[str, ...] = noop.LABELS,
    root: Path = ROOT,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """``--quick``: preview with and without the pack on ours, with the no-op analyzers, and the fair floor's
    preview, ``rounds`` rounds after a warm-up."""
    result = measure((credentials,), rounds, up=False, flat=False, noops=noops, root=root, progress=progress)
    if "skipped" in result:
        return result
    size = result["sizes"][str(credentials)]
    result["preview_pack_ratio"] = size["ratios"]["pack_ratio"]
    for label in noops:
        result[f"{label}_ratio"] = size["ratios"].get(f"{label}_ratio")
    result["ours_fair_floor_ratio"] = size["ratios"]["ours_fair_preview"]
    result["credentials"] = credentials
    return result
