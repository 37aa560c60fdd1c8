"""toolchain/steps.py, the progress driver of `make toolchain`, with fake commands (no Go, no timing asserted).

What a person sees: a start line naming what is built, the expected time and the log; an end line
with the actual time; the command's own output only in the log; a failed step's name, log, last
lines and fix; at the end, a table of the run's steps and nothing when no step ran.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STEPS = ROOT / "toolchain" / "steps.py"


def steps(tmp_path: Path, *args: str, run: str = "1000.5", **env: str) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": "/usr/bin:/bin", "STEPS_LOGS": str(tmp_path / "logs"), "STEPS_RUN": run, "STEPS_HEARTBEAT": "0", **env}
    return subprocess.run([sys.executable, str(STEPS), *args], cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=60)


def records(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "logs" / "steps.jsonl").read_text().splitlines()]


def test_a_step_says_what_it_builds_and_keeps_the_build_output_in_its_log(tmp_path):
    noisy = "cd toolchain/pulumi && go build -o bin/pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
    done = steps(tmp_path, "run", "pulumi", "--what", "the pulumi CLI", "--expect", "12m", "--", sys.executable, "-c", f"print({noisy!r})")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("toolchain: pulumi: building the pulumi CLI, expected about 12 min on 2 cores")
    assert "log: logs/pulumi.log" in lines[0]
    assert lines[-1].startswith("toolchain: pulumi: done in ") and "expected about 12 min" in lines[-1]
    assert noisy not in done.stdout + done.stderr  # the echoed build command is not on the terminal...
    assert noisy in (tmp_path / "logs" / "pulumi.log").read_text()  # ...but in the log named there
    (rec,) = records(tmp_path)
    assert rec["step"] == "pulumi" and rec["run"] == "1000.5" and rec["rc"] == 0 and rec["expect_s"] == 720
    assert rec["end"] >= rec["start"] and rec["wall_s"] >= 0


def test_cpu_time_counts_the_command_and_what_it_waited_for(tmp_path):
    # A grandchild burning CPU: the step's CPU is the whole tree's, as with go build's compilers.
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass"
    inner = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {burn!r}], check=True)"
    done = steps(tmp_path, "run", "burn", "--", sys.executable, "-c", inner)
    assert done.returncode == 0, done.stderr
    (rec,) = records(tmp_path)
    assert rec["cpu_s"] >= 0.4 and rec["user_s"] > 0 and rec["max_rss_mib"] > 0


@pytest.mark.parametrize(
    ("output", "fix"),
    [
        ("write /root/.cache/go-build/ab/x: no space left on device", "the disk is full"),
        ("compile: signal: killed", "GO_JOBS=1"),
        ("go: github.com/x/y@v1.2.3: reading https://proxy.golang.org/...: 403 Forbidden", "the module proxy refused"),
        ("go: downloading x\ndial tcp 142.250.1.1:443: i/o timeout", "could not be reached"),
        ("cmd/pulumi/main.go:12:2: undefined: foo", "read the log above for the first error"),
    ],
)
def test_a_failed_step_names_the_step_the_log_and_the_fix(tmp_path, output, fix):
    script = f"import sys; print({output!r}, file=sys.stderr); sys.exit(3)"
    done = steps(tmp_path, "run", "etcd", "--what", "etcd for the local cluster", "--", sys.executable, "-c", script)
    assert done.returncode == 3  # make stops on it
    err = done.stderr
    assert "step etcd (etcd for the local cluster) FAILED (exit 3)" in err
    assert "full log: logs/etcd.log" in err
    assert output.splitlines()[-1] in err  # the log's last lines, shown
    assert "fix: " in err and fix in err.split("fix: ", 1)[1]
    (rec,) = records(tmp_path)
    assert rec["rc"] == 3


def test_a_step_given_fix_is_used_when_the_log_shows_no_known_cause(tmp_path):
    done = steps(tmp_path, "run", "x", "--fix", "run make toolchain-clean first", "--", sys.executable, "-c", "raise SystemExit(1)")
    assert done.returncode == 1 and "fix: run make toolchain-clean first" in done.stderr


def test_a_command_that_cannot_start_fails_with_the_step_named(tmp_path):
    done = steps(tmp_path, "run", "ghost", "--", str(tmp_path / "no-such-tool"))
    assert done.returncode == 127 and "step ghost FAILED: could not start" in done.stdout


def test_a_quiet_step_prints_nothing_and_is_not_in_the_table_unless_it_fails(tmp_path):
    ok = steps(tmp_path, "run", "--quiet", "install-random", "--", sys.executable, "-c", "print('installing')")
    assert ok.returncode == 0 and ok.stdout == "" and ok.stderr == ""
    assert steps(tmp_path, "table").stdout == ""
    bad = steps(tmp_path, "run", "--quiet", "install-kubernetes", "--", sys.executable, "-c", "raise SystemExit(4)")
    assert bad.returncode == 4 and "step install-kubernetes" in bad.stderr and "full log: logs/install-kubernetes.log" in bad.stderr


def test_the_table_lists_this_runs_steps_and_the_total(tmp_path):
    py = sys.executable
    steps(tmp_path, "run", "old", "--", py, "-c", "pass", run="900.0")  # an earlier make: not in this run's table
    steps(tmp_path, "run", "modules", "--expect", "4m", "--", py, "-c", "pass")
    steps(tmp_path, "run", "kube-control-plane", "--expect", "10m", "--", py, "-c", "raise SystemExit(2)")
    out = steps(tmp_path, "table", "--title", "make up").stdout
    assert "make up: the steps of this run" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ") and line.split()}
    assert "old" not in rows
    assert rows["modules"].split()[1:3] == ["4", "min"] and rows["modules"].rstrip().endswith("ok")
    assert rows["kube-control-plane"].rstrip().endswith("FAILED (2)")
    assert "steps in all" in out and "14 min" in out  # expected times add up
    assert "make up so far:" in out


def test_the_table_is_silent_when_nothing_was_built_and_waits_when_deferred(tmp_path):
    steps(tmp_path, "run", "etcd", "--", sys.executable, "-c", "pass", run="900.0")
    assert steps(tmp_path, "table").stdout == ""  # a make that rebuilt nothing prints no table
    steps(tmp_path, "run", "etcd", "--", sys.executable, "-c", "pass")
    assert steps(tmp_path, "table", STEPS_TABLE="defer").stdout == ""  # inside make up: its end prints it
    assert "etcd" in steps(tmp_path, "table", "--final", STEPS_TABLE="defer").stdout


def test_a_line_cut_short_in_the_records_is_skipped(tmp_path):
    steps(tmp_path, "run", "etcd", "--", sys.executable, "-c", "pass")
    with open(tmp_path / "logs" / "steps.jsonl", "a") as f:
        f.write('{"run": "1000.5", "step": "cut')
    assert "etcd" in steps(tmp_path, "table").stdout


def test_bad_expected_time_is_one_clear_error(tmp_path):
    done = steps(tmp_path, "run", "x", "--expect", "twelve", "--", "true")
    assert done.returncode == 2 and "not a duration: 'twelve'" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_every_go_build_of_make_toolchain_runs_as_a_step(tmp_path):
    """`make -n` in a copy of the Makefile and toolchain/: each go build goes through steps.py, none is echoed bare."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copytree(ROOT / "toolchain", tmp_path / "toolchain", ignore=shutil.ignore_patterns("*-embed.json"))
    shutil.copytree(
        ROOT / "secrets_platform" / "localcluster" / "node", tmp_path / "secrets_platform" / "localcluster" / "node"
    )  # the node images' sources
    done = subprocess.run(
        ["make", "-n", "toolchain", "SYSTEM_PULUMI=", "SYSTEM_LANGHOST="], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.replace("\\\n", " ").splitlines()  # a recipe line continued with a backslash is one command
    builds = [line for line in lines if " go build " in line or " list -e -deps " in line]
    assert builds and all("steps.py run " in line for line in builds), builds
    names = [line.split("steps.py run ", 1)[1].split()[0] for line in lines if "steps.py run " in line and "--quiet" not in line]
    assert names == [
        "modules",
        "pulumi",
        "kubernetes-provider",
        "random-provider",
        "etcd",
        "kube-control-plane",
        "external-secrets",
        "vault-injector",
        "reloader",
    ]
    assert any("steps.py table" in line for line in lines)
