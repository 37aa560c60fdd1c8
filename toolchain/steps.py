#!/usr/bin/env python3
"""Run the long steps of `make toolchain` so a person can follow them.

    steps.py run NAME --what "the pulumi CLI" --expect 12m [--fix TEXT] [-C DIR] -- COMMAND...
    steps.py table [--title TEXT]

``run`` prints one line when the step starts (what it builds, the expected time, the
log file), a line every minute while it runs, and one line with the actual wall-clock
and CPU time when it ends. The command's own output (the build commands, the Go tool's
messages) goes to ``<logs>/NAME.log``, never to the terminal. A failed step prints its
name, the last lines of its log, the log's path and the fix, and exits with the
command's exit code. Every finished step appends one JSON line to ``<logs>/steps.jsonl``:
start, end, wall seconds, CPU seconds of the command and everything it waited for
(``getrusage(RUSAGE_CHILDREN)``), the largest peak RSS among them, the exit code.

``table`` prints the steps of this run (those recorded with the same ``STEPS_RUN``,
which the Makefile sets once per top-level make) and their total; it prints nothing
when no step ran, so a `make toolchain` that rebuilt nothing stays quiet.

Environment: ``STEPS_LOGS`` (the log directory; default ``build/logs``), ``STEPS_RUN``
(the run's id: its start time in seconds since the epoch), ``STEPS_HEARTBEAT`` (seconds
between "still running" lines; 0 turns them off; default 60), ``STEPS_TABLE=defer``
(``table`` prints nothing: a later ``table`` of the same run prints it, e.g. at the end
of `make up`). Standard library only: it runs before the project's virtualenv exists.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

PREFIX = "toolchain"
TAIL_LINES = 15
KEEP_RECORDS = 1000
"""steps.jsonl keeps this many lines (older runs are dropped)."""

# What a failed step's log says (a pattern, case-insensitive), and what to do about it (first match wins).
_FIXES: list[tuple[str, str]] = [
    (
        r"no space left on device",
        "the disk is full: free space (the Go caches need about 5 GB of modules and 12 GB of build cache; "
        "`go clean -cache` empties the build cache), then run the same make command again",
    ),
    (
        r"signal: killed|out of memory|cannot allocate memory",
        "the Go compiler or linker was killed, most likely out of memory (a step peaks near 5 GB): close other "
        "programs or compile fewer packages at once (make toolchain GO_JOBS=1), then run the same make command "
        "again; finished steps are kept",
    ),
    (
        r"checksum mismatch|SECURITY ERROR",
        "a downloaded module does not match the go.sum of its wrapper (toolchain/*/go.sum): do not edit go.sum to "
        "make it pass; check GOPROXY/GONOSUMDB settings and that the proxy serves the published module",
    ),
    (
        r"403 Forbidden|not available|410 Gone|404 Not Found",
        "the module proxy refused a module version: toolchain/README.md lists what it serves; a changed version "
        "in a wrapper go.mod must be one the proxy serves",
    ),
    (
        r"dial tcp|i/o timeout|TLS handshake|connection (refused|reset)|no such host|proxyconnect|unexpected EOF",
        "the Go module proxy could not be reached (`go env GOPROXY` names it): check the network, then run the same "
        "make command again; downloaded modules are kept",
    ),
    (
        r"requires go >=|go\.mod requires go|toolchain not available",
        "this Go is older than a wrapper module needs (GOTOOLCHAIN=local: no other Go is downloaded): install the "
        "Go version the error names (see README, Requirements)",
    ),
    (
        r"missing go\.sum entry|updates to go\.mod needed|go: inconsistent vendoring",
        "a wrapper module's go.mod/go.sum is incomplete: run `go mod tidy` in the wrapper directory the log names "
        "and commit both files (tests/toolchain/test_pins.py checks them against toolchain/versions.txt)",
    ),
]
FIXES: list[tuple[re.Pattern[str], str]] = [(re.compile(pattern, re.I), fix) for pattern, fix in _FIXES]
DEFAULT_FIX = "read the log above for the first error; after fixing it, run the same make command again (finished steps are kept)"


# --------------------------------------------------------------------------- small helpers


def parse_duration(text: str) -> float:
    """``12m``, ``90s``, ``1h30m``, ``1.5m`` or plain seconds -> seconds."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([hms])", text)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != re.sub(r"\s+", "", text):
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (examples: 12m, 90s, 1h30m)")
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0}
    return sum(float(n) * scale[u] for n, u in parts)


def human(seconds: float) -> str:
    """A duration the way a person says it: ``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def about(seconds: float) -> str:
    """An expectation, rounded: ``about 12 min``, ``under a minute``."""
    if seconds < 60:
        return "under a minute"
    return f"about {round(seconds / 60)} min"


def short(seconds: float) -> str:
    """An expectation for the table: ``12 min``, ``<1 min``."""
    return "<1 min" if seconds < 60 else f"{round(seconds / 60)} min"


def clock(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch).strftime("%H:%M:%S")


def logs_dir() -> Path:
    return Path(os.environ.get("STEPS_LOGS") or "build/logs")


def run_id() -> str | None:
    return os.environ.get("STEPS_RUN") or None


def shown(path: Path) -> str:
    """A path as short as it can be said from the current directory."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def say(message: str) -> None:
    print(f"{PREFIX}: {message}", flush=True)


def fix_for(log_text: str, default: str | None) -> str:
    for pattern, fix in FIXES:
        if pattern.search(log_text):
            return fix
    return default or DEFAULT_FIX


def append_record(path: Path, record: dict[str, Any]) -> None:
    """One JSON line per step (O_APPEND: steps finishing side by side under make -j don't interleave)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    try:
        lines = path.read_text().splitlines(keepends=True)
        if len(lines) > KEEP_RECORDS * 2:
            path.write_text("".join(lines[-KEEP_RECORDS:]))
    except OSError:
        pass


def read_records(path: Path) -> list[dict[str, Any]]:
    records = []
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut short by a crash: skip it, keep the rest
    return records


# --------------------------------------------------------------------------- run


def run(args: argparse.Namespace) -> int:
    command: list[str] = args.command
    if not command:
        print(f"{PREFIX}: step {args.name}: no command given (steps.py run NAME ... -- COMMAND...)", file=sys.stderr)
        return 2
    logs = logs_dir()
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{args.name}.log"
    expect = args.expect
    what = args.what or args.name

    start = time.time()
    expect_text = f", expected {about(expect)} on 2 cores" if expect else ""
    eta = f" (until about {clock(start + expect)})" if expect and expect >= 60 else ""
    if not args.quiet:
        say(f"{args.name}: building {what}{expect_text}{eta}; log: {shown(log)}")

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    ran = supervise(args, command, log, what, start)
    if ran is None:
        return 127
    rc, end = ran
    after = resource.getrusage(resource.RUSAGE_CHILDREN)

    user = after.ru_utime - before.ru_utime
    system = after.ru_stime - before.ru_stime
    record = {
        "run": run_id(),
        "step": args.name,
        "what": what,
        "expect_s": expect,
        "start": round(start, 3),
        "end": round(end, 3),
        "wall_s": round(end - start, 3),
        "cpu_s": round(user + system, 3),
        "user_s": round(user, 3),
        "sys_s": round(system, 3),
        # ru_maxrss of children is the largest single descendant's peak, in KiB on Linux.
        "max_rss_mib": round(after.ru_maxrss / 1024, 1),
        "rc": rc,
        "log": str(log.resolve()),
    }
    if not args.quiet or rc != 0:
        append_record(logs / "steps.jsonl", record)

    if rc == 0:
        if args.quiet:
            return 0
        say(f"{args.name}: done in {human(end - start)} (CPU {human(user + system)}; expected {about(expect) if expect else '-'})")
        return 0
    failed(args.name, what, rc, end - start, log, args.fix)
    return rc if 0 < rc < 256 else 1


def supervise(args: argparse.Namespace, command: list[str], log: Path, what: str, start: float) -> tuple[int, float] | None:
    """The step's command, its output in ``log``, with a heartbeat: (exit code, end time); None when it could not start (said)."""
    with open(log, "w") as out:
        out.write(f"# step {args.name}: {what}\n# started {dt.datetime.fromtimestamp(start).isoformat(timespec='seconds')}\n")
        out.write(f"# in {Path(args.directory or '.').resolve()}\n$ {shlex.join(command)}\n")
        out.flush()
        try:
            child = subprocess.Popen(command, cwd=args.directory, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        except OSError as err:
            out.write(f"# could not start: {err}\n")
            say(f"step {args.name} FAILED: could not start {command[0]!r}: {err.strerror}")
            return None
        done = threading.Event()
        interval = 0.0 if args.quiet else float(os.environ.get("STEPS_HEARTBEAT", "60") or 0)
        if interval > 0:
            threading.Thread(target=heartbeat, args=(args.name, start, args.expect, interval, done), daemon=True).start()
        try:
            rc = child.wait()
        except KeyboardInterrupt:
            child.send_signal(signal.SIGINT)
            rc = child.wait()
        done.set()
        end = time.time()
        out.write(f"\n# exit {rc} after {end - start:.1f} s\n")
    return rc, end


def heartbeat(name: str, start: float, expect: float, interval: float, done: threading.Event) -> None:
    while not done.wait(interval):
        elapsed = time.time() - start
        left = f" of {about(expect)}" if expect else ""
        if expect and elapsed > expect:
            left = f", longer than expected ({about(expect)}; a busy machine is slower)"
        say(f"{name}: still building, {human(elapsed)} so far{left}")


def failed(name: str, what: str, rc: int, seconds: float, log: Path, fix: str | None) -> None:
    text = log.read_text(errors="replace")
    # The log's tail without our own header/footer lines.
    body = [line for line in text.splitlines() if not line.startswith(("# ", "$ "))]
    tail = [line for line in body if line.strip()][-TAIL_LINES:]
    how = "was interrupted" if rc in (130, -signal.SIGINT) else f"FAILED (exit {rc})"
    lines = [f"step {name} ({what}) {how} after {human(seconds)}."]
    if tail:
        lines.append(f"last lines of {shown(log)}:")
        lines += [f"    {line}" for line in tail]
    lines.append(f"full log: {shown(log)}")
    lines.append(f"fix: {fix_for(text, fix)}")
    for line in lines:
        print(f"{PREFIX}: {line}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- table


def table_lines(records: list[dict[str, Any]], rid: str | None, now: float, title: str) -> list[str]:
    """The table of one run's steps; empty when none ran (or no run id is known)."""
    if rid is None:
        return []
    mine = [r for r in records if r.get("run") == rid]
    if not mine:
        return []
    try:
        started = float(rid)
    except ValueError:
        started = min(r["start"] for r in mine)
    head = f"  {'step':<22} {'expected':>10} {'took':>13} {'CPU':>13} {'peak RSS':>9}  result"
    lines = [f"{title}: the steps of this run (started {clock(started)})", "", head, "  " + "-" * (len(head) - 2)]
    for r in mine:
        result = "ok" if r["rc"] == 0 else f"FAILED ({r['rc']})"
        expected = short(r["expect_s"]) if r.get("expect_s") else "-"
        lines.append(
            f"  {r['step']:<22} {expected:>10} {human(r['wall_s']):>13} {human(r['cpu_s']):>13} "
            f"{r['max_rss_mib'] / 1024:>6.1f} GB  {result}"
        )
    wall = sum(r["wall_s"] for r in mine)
    cpu = sum(r["cpu_s"] for r in mine)
    expect = sum(r.get("expect_s") or 0 for r in mine)
    lines.append("  " + "-" * (len(head) - 2))
    lines.append(f"  {'steps in all':<22} {short(expect):>10} {human(wall):>13} {human(cpu):>13}")
    lines.append("")
    lines.append(f"  {title} so far: {human(now - started)} from start to this line (logs: {shown(Path(mine[-1]['log']).parent)})")
    return lines


def table(args: argparse.Namespace) -> int:
    if os.environ.get("STEPS_TABLE") == "defer" and not args.final:
        return 0
    lines = table_lines(read_records(logs_dir() / "steps.jsonl"), run_id(), time.time(), args.title)
    if lines:
        print()
        for line in lines:
            print(line)
        print(flush=True)
    return 0


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="action", required=True)
    p_run = sub.add_parser(
        "run",
        usage="steps.py run NAME [--what TEXT] [--expect 12m] [--fix TEXT] [-C DIR] [--quiet] -- COMMAND...",
        help="run one step: a start line, its output into <logs>/NAME.log, an end line",
    )
    p_run.add_argument("name", help="the step's name (also its log file's)")
    p_run.add_argument("--what", help="what the step builds, for people")
    p_run.add_argument("--expect", type=parse_duration, default=0.0, help="expected wall time on 2 cores with empty caches (12m, 90s)")
    p_run.add_argument("--fix", help="what to do when the step fails and the log shows no known cause")
    p_run.add_argument("-C", dest="directory", help="run the command in this directory")
    p_run.add_argument("--quiet", action="store_true", help="a short step: no lines and no record unless it fails")
    p_table = sub.add_parser("table", help="print this run's steps (nothing when none ran)")
    p_table.add_argument("--title", default="make toolchain")
    p_table.add_argument("--final", action="store_true", help="print even when STEPS_TABLE=defer (the run's last table)")
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after the first "--" is the command, options and all.
    command: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1 :]
    args = parser.parse_args(argv)
    args.command = command
    if args.action == "run":
        return run(args)
    return table(args)


if __name__ == "__main__":
    sys.exit(main())
