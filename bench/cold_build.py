"""The toolchain's cold build, step by step: ``.venv/bin/python bench/cold_build.py`` (docs/PERFORMANCE.md).

A benchmark, not a test: it builds what `make toolchain` builds the way a fresh machine does,
with empty Go caches, and reports per step (one `go build`, or the module downloads) the wall
and CPU time and how many packages the step compiled that no earlier step had.

It never touches the developer's caches or outputs: the Makefile and toolchain/ are copied
into a temporary directory, ``GOMODCACHE`` and ``GOCACHE`` point at fresh folders inside it,
and the binaries, plugins and logs land there too (removed afterwards unless ``--keep``). It
takes 20 to 40 minutes on 2 cores and needs about 20 GB of free disk.

How "compiled packages no earlier step had" is counted: the build runs with ``go build -x``,
which prints every command the go tool runs, and the go tool runs the compiler only for a
package whose compiled form is not already in the build cache. The build cache starts empty
and only this build fills it, so the compile commands of a step's log are exactly the
packages (standard library included) that no earlier step had compiled with the same inputs
(same source, same dependency versions, same flags). Packages of the same module version
that an earlier step compiled are cache hits and print no compile command. Beside it,
``go list -deps`` after the build gives the size of each step's package graph.

``--predict`` answers the same question without building, in seconds, from the module
graphs alone (``go list -deps`` in each wrapper, on modules already downloaded; nothing is
downloaded): a package counts as shared with an earlier step when its import path, module
version and all of its dependencies' (recursively) are equal, which is what the build
cache's key is made of apart from the source files those versions fix. Use it to see what
aligning a wrapper's dependency versions would save before building anything.

    .venv/bin/python bench/cold_build.py                 # the cold build, about 20-40 min
    .venv/bin/python bench/cold_build.py --predict       # the per-step overlap, from the module graphs
    .venv/bin/python bench/run.py --cold-build ...       # the same, as a series of the benchmark run
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"

# A compile command printed by `go build -x`: ".../compile -o $WORK/b001/_pkg_.a ... -p <import path> ...".
COMPILE = re.compile(r"^\S*/compile -o \S+ .*?-p (\S+)")
LINK = re.compile(r"^\S*/link -o ")


def make_steps(makefile_dir: Path) -> list[dict[str, Any]]:
    """The go builds of `make toolchain`, in make's order: step name, wrapper directory and packages (from ``make -n``)."""
    done = subprocess.run(
        ["make", "-n", "-B", "--no-print-directory", "toolchain", "SYSTEM_PULUMI=", "SYSTEM_LANGHOST=", "STEPS_RUN=0"],
        cwd=makefile_dir,
        capture_output=True,
        text=True,
        check=True,
    )
    steps = []
    for line in done.stdout.replace("\\\n", " ").splitlines():
        m = re.search(r"steps\.py run (\S+) .*?-C (\S+) -- .* go build .*?-ldflags \"[^\"]*\" (.+)$", line)
        if m:
            steps.append({"step": m.group(1), "wrapper": m.group(2), "packages": m.group(3).split()})
    return steps


def go_env(gomodcache: Path, gocache: Path, offline: bool = False) -> dict[str, str]:
    env = dict(os.environ, GOMODCACHE=str(gomodcache), GOCACHE=str(gocache), GOTOOLCHAIN="local", GOFLAGS="-trimpath")
    if offline:
        env["GOPROXY"] = "off"
    for name in ("STEPS_RUN", "STEPS_TABLE", "STEPS_LOGS", "MAKEFLAGS", "MAKELEVEL"):
        env.pop(name, None)
    return env


def graph(wrapper: Path, packages: list[str], env: dict[str, str]) -> dict[str, tuple[str, list[str]]]:
    """``go list -deps``: import path -> (module@version or "std", imports)."""
    fmt = (
        "{{.ImportPath}}\t{{if .Module}}{{.Module.Path}}@{{.Module.Version}}"
        '{{with .Module.Replace}}=>{{.Path}}@{{.Version}}{{end}} go{{.Module.GoVersion}}{{else}}std{{end}}\t{{join .Imports " "}}'
    )
    done = subprocess.run(["go", "list", "-e", "-deps", "-f", fmt, *packages], cwd=wrapper, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"cold_build: go list in {wrapper} failed:\n{done.stderr[-2000:]}")
    out: dict[str, tuple[str, list[str]]] = {}
    for line in done.stdout.splitlines():
        path, module, imports = (line.split("\t") + ["", ""])[:3]
        out[path] = (cache_module(module), imports.split())
    return out


def cache_module(listed: str) -> str:
    """A package's module as the build cache keys it, from ``graph``'s "m@v[=>r@w] goX" field.

    The key holds the selected version (``m@v``, not a replacement's) and the module's go
    directive, and hashes the source files, which the replacement fixes. So a replacement by
    the same version (toolchain/kube replaces each Kubernetes staging module by its published
    release) is the same as none, while ``k8s.io/kubectl@v0.0.0=>k8s.io/kubectl@v0.34.4`` is
    not ``k8s.io/kubectl@v0.34.4``: same source, another key.
    """
    selected, _, replacement = listed.partition("=>")
    return replacement if replacement.split(" ")[0] == selected else listed


def package_keys(g: dict[str, tuple[str, list[str]]], wrapper: str) -> dict[str, str]:
    """A key per package that is equal across wrappers exactly when the package, its module version and all its deps are."""
    keys: dict[str, str] = {}

    def key(path: str, seen: tuple[str, ...] = ()) -> str:
        if path in keys:
            return keys[path]
        if path not in g or path in seen:  # "C", or an import cycle go list reported
            return path
        module, imports = g[path]
        # the main module's own packages are never shared with another wrapper
        own = wrapper if module.startswith("github.com/secrets-platform/") else ""
        h = hashlib.sha256(f"{path}|{module}|{own}|".encode())
        for dep in sorted(imports):
            h.update(key(dep, (*seen, path)).encode())
        keys[path] = h.hexdigest()
        return keys[path]

    for path in g:
        key(path)
    return keys


def predict(makefile_dir: Path = ROOT) -> list[dict[str, Any]]:
    """Per step: packages in its graph, and those no earlier step's graph had (same key)."""
    env = go_env(Path(_go("env", "GOMODCACHE")), Path(_go("env", "GOCACHE")), offline=True)
    seen: set[str] = set()
    rows = []
    for s in make_steps(makefile_dir):
        g = graph(makefile_dir / s["wrapper"], s["packages"], env)
        keys = set(package_keys(g, s["wrapper"]).values())
        rows.append({"step": s["step"], "packages": len(keys), "new_packages": len(keys - seen)})
        seen |= keys
    return rows


def _go(*args: str) -> str:
    return subprocess.run(["go", *args], capture_output=True, text=True, check=True).stdout.strip()


def compiled(log: Path) -> dict[str, Any]:
    """What a step's ``go build -x`` log says it compiled and linked."""
    packages: set[str] = set()
    compiles = links = 0
    with open(log, errors="replace") as f:
        for line in f:
            m = COMPILE.match(line)
            if m:
                compiles += 1
                packages.add(m.group(1))
            elif LINK.match(line):
                links += 1
    return {"compiles": compiles, "compiled_packages": len(packages), "links": links}


def du(path: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def measure(workdir: Path | None = None, keep: bool = False, progress=print) -> dict[str, Any]:
    """The cold build in a temporary copy; per-step wall, CPU, new packages; the caches' sizes."""
    root = Path(tempfile.mkdtemp(prefix="cold-build-", dir=workdir))
    src, gomod, gocache = root / "src", root / "gomodcache", root / "gocache"
    try:
        src.mkdir()
        shutil.copy(ROOT / "Makefile", src / "Makefile")
        shutil.copytree(ROOT / "toolchain", src / "toolchain", ignore=shutil.ignore_patterns("*-embed.json", "__pycache__"))
        env = go_env(gomod, gocache)
        env.pop("GOFLAGS")  # the Makefile sets its own
        # Nothing from PATH: no pulumi of the pinned version is linked instead of built.
        command = ["make", "--no-print-directory", "toolchain", "GO_BUILD_FLAGS=-x", "SYSTEM_PULUMI=", "SYSTEM_LANGHOST="]
        progress(f"cold build in {root} (GOMODCACHE and GOCACHE empty): {' '.join(command)}")
        load_start = os.getloadavg()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.time()
        with open(root / "make.log", "w") as log:
            proc = subprocess.Popen(command, cwd=src, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                log.flush()
                progress(line.rstrip("\n"))
            rc = proc.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        build = {
            "start": start,
            "wall_s": round(time.time() - start, 1),
            "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
            "max_rss_mib": round(after.ru_maxrss / 1024),
            "loadavg_start": list(load_start),
            "loadavg_end": list(os.getloadavg()),
            "rc": rc,
        }
        (root / "build.json").write_text(json.dumps(build))
        if rc != 0:
            raise SystemExit(f"cold_build: make toolchain failed (exit {rc}); its output: {root / 'make.log'}")
        result = analyse(root)
        result["directory"] = str(root) if keep else None
        return result
    except BaseException:
        keep = True  # what is there to see stays: the make output, the step logs, the caches
        print(f"cold_build: kept {root}", file=sys.stderr)
        raise
    finally:
        if not keep:
            _remove(root)


def analyse(root: Path) -> dict[str, Any]:
    """The figures of a finished cold build in ``root`` (``measure``'s temporary directory; ``--analyse`` for a kept one)."""
    src, gomod, gocache = root / "src", root / "gomodcache", root / "gocache"
    build = json.loads((root / "build.json").read_text())
    records = [json.loads(line) for line in (src / "build" / "logs" / "steps.jsonl").read_text().splitlines()]
    wrappers = {s["step"]: s for s in make_steps(src)}
    offline = go_env(gomod, gocache, offline=True)
    steps = []
    for r in records:
        row = {k: r[k] for k in ("step", "what", "wall_s", "cpu_s", "max_rss_mib", "expect_s", "start", "end")}
        row["start_offset_s"] = round(r["start"] - build["start"], 1)
        row.update(compiled(Path(r["log"])))  # the modules step compiles the standard library
        if r["step"] in wrappers:
            w = wrappers[r["step"]]
            row["graph_packages"] = len(graph(src / w["wrapper"], w["packages"], offline))
        steps.append(row)
    return {
        "started": dt.datetime.fromtimestamp(build["start"], dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_s": build["wall_s"],
        "cpu_s": build["cpu_s"],
        "max_rss_mib": build["max_rss_mib"],
        "steps": steps,
        "modules_downloaded": len(list((gomod / "cache" / "download").rglob("*.zip"))),
        "gomodcache_bytes": du(gomod),
        "gocache_bytes": du(gocache),
        "loadavg_start": build["loadavg_start"],
        "loadavg_end": build["loadavg_end"],
        "environment": environment(),
    }


def _remove(root: Path) -> None:
    # The module cache is read-only on purpose; make it writable to remove it.
    subprocess.run(["chmod", "-R", "u+w", str(root)], check=False)
    shutil.rmtree(root, ignore_errors=True)


def environment() -> dict[str, Any]:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = None
    return {"go": _go("version"), "cpus": os.cpu_count(), "machine": platform.machine(), "commit": commit}


def human(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}"


def table(result: dict[str, Any]) -> str:
    head = f"{'step':<22} {'starts at':>9} {'wall':>7} {'CPU':>7} {'CPU/wall':>8} {'peak RSS':>9} {'new pkgs':>8} {'of graph':>8}"
    lines = [head, "-" * len(head)]
    for s in result["steps"]:
        new = s.get("compiled_packages", "-")
        lines.append(
            f"{s['step']:<22} {human(s['start_offset_s']):>9} {human(s['wall_s']):>7} {human(s['cpu_s']):>7} "
            f"{s['cpu_s'] / s['wall_s'] if s['wall_s'] else 0:>8.2f} {s['max_rss_mib'] / 1024:>7.1f}GB {new:>8} {s.get('graph_packages', '-'):>8}"
        )
    lines.append("-" * len(head))
    lines.append(
        f"{'make toolchain':<22} {'':>9} {human(result['wall_s']):>7} {human(result['cpu_s']):>7} "
        f"{result['cpu_s'] / result['wall_s']:>8.2f} {result['max_rss_mib'] / 1024:>7.1f}GB "
        f"{sum(s.get('compiled_packages', 0) for s in result['steps']):>8}"
    )
    lines.append(
        f"modules downloaded: {result['modules_downloaded']} ({result['gomodcache_bytes'] / 1e9:.1f} GB module cache); "
        f"build cache {result['gocache_bytes'] / 1e9:.1f} GB; load average {result['loadavg_start'][0]:.1f} at the start, "
        f"{result['loadavg_end'][0]:.1f} at the end ({result['environment']['cpus']} CPUs)"
    )
    return "\n".join(lines)


def predict_table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'step':<22} {'packages':>8} {'not in an earlier step':>22}", "-" * 54]
    for r in rows:
        lines.append(f"{r['step']:<22} {r['packages']:>8} {r['new_packages']:>22}")
    lines.append(f"{'in all':<22} {sum(r['packages'] for r in rows):>8} {sum(r['new_packages'] for r in rows):>22}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--predict", action="store_true", help="the per-step package overlap from the module graphs; no build")
    parser.add_argument("--workdir", type=Path, help="where the temporary copy and caches go (default: the system's temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy, caches and logs")
    parser.add_argument("--analyse", type=Path, metavar="DIR", help="only the figures of a kept cold build's directory")
    args = parser.parse_args(argv)
    if args.predict:
        print(predict_table(predict()))
        return 0
    result = analyse(args.analyse) if args.analyse else measure(args.workdir, args.keep)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{dt.datetime.now(dt.timezone.utc).strftime('%Y%m%dT%H%M%SZ')}-cold-build.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(table(result))
    print(f"\nresults: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
