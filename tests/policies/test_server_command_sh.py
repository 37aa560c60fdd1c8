"""The pack's reading of a container's shell script (policies.shell, policies.vault_server), judged by real shells.

Each script runs under dash, bash and busybox's sh (the vault image's /bin/sh is busybox's) with stub programs on
PATH: ``vault``, ``bao`` and ``docker-entrypoint.sh`` record the words they are given, ``cp``, ``sed`` and ``grep``
do nothing (grep finds nothing). Whether a recorded server is in dev mode is Go's question (test_server_flags_go.py judges that part);
here the pack's decision on the script must equal its decision on the words the shell really passed.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from test_policy_hygiene import chart_script

from secrets_platform.policies import argv, shell, vault_server

SHELLS = [s for s in (shutil.which("dash"), shutil.which("bash")) if s] + (
    [f"{shutil.which('busybox')} sh"] if shutil.which("busybox") else []
)
pytestmark = pytest.mark.skipif(not SHELLS, reason="no POSIX shell to judge with")

RECORD = """#!/bin/sh
out=$(mktemp "$SERVER_RECORDS/XXXXXXXX")
printf '%s\\0' "$(basename "$0")" "$@" > "$out"
"""
ENTRYPOINT = """#!/bin/sh
if [ "$1" = server ]; then exec vault "$@"; fi
exec "$@"
"""
NOTHING = "#!/bin/sh\nexit 0\n"
NO_MATCH = "#!/bin/sh\nexit 1\n"  # grep: the chart's raft check finds no stray placeholder, and the script goes on

# Scripts without expansions: the pack reads each (no refusal), and must decide as the shells' words do.
SCRIPTS = [
    "vault server -dev",
    "vault server -config=/x",
    "vault server -config=/x # -dev",
    "vault server -config=/x#y -dev",
    "vault server -config=/x # it's a comment\nvault server -dev-ha",
    "vault server \\\n  -dev",
    "vault server -config=/x \\\\\necho -dev",
    "vault server 2>/dev/null -dev",
    "vault server >/dev/null -dev-tls",
    "vault server -config=/x 2>&1 | cat",
    'vault server -config ";" -dev',
    "vault server -config \\; -dev",
    "vault server -config=/x; -dev",
    "vault server -config=/x x -dev",
    "vault server -- -dev",
    "vault server '' -dev",
    'vault server "-dev"',
    "vault server -de\\v",
    "vault server -config=a'b c'd -dev",
    "vault  server\t-dev=f",
    "exec vault server -dev",
    "env X=1 bao server --dev=true",
    "docker-entrypoint.sh vault server -dev-kv-v1",
    "docker-entrypoint.sh server -dev-leased-kv",
    "sh -c 'vault server -dev'",
    'bash -c "exec bao server -dev-auto-seal"',
    "eval vault server -dev",
    "eval 'vault server' -dev",
    "if true; then vault server -dev; fi",
    "true && vault server -dev-ha",
    "false || bao server -dev-tls",
    "(vault server -dev)",
    "{ vault server -dev; }",
    "true | vault server -dev",
    "vault server -config=/x & wait",
    "vault server -config=/x;vault server -dev",
    "# vault server -dev",
    "echo x # it's\nvault server -dev",
    "vault server -config=/x -dev=false\n",
] + [chart_script(mode, extra).replace("/usr/local/bin/", "") for mode in ("standalone", "ha-raft", "dev") for extra in ("", "-dev-ha")]
# Scripts the pack reads more of than the shell runs (a here-document's body, a word that only looks like a script):
# it finds dev mode where the shells start none. Reading more is the safe side.
OVER_READ = [
    "cat <<EOF\nvault server -dev\nEOF",
    "echo 'vault server -dev'",
]


@pytest.fixture
def stubs(tmp_path) -> dict[str, str]:
    """The environment the judged shells run in: PATH holds only the stubs (and the tools they use)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in {
        "vault": RECORD,
        "bao": RECORD,
        "docker-entrypoint.sh": ENTRYPOINT,
        "cp": NOTHING,
        "sed": NOTHING,
        "grep": NO_MATCH,
    }.items():
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    for tool in ("mktemp", "basename", "cat", "env", "sh", "bash"):
        (bin_dir / tool).symlink_to(shutil.which(tool) or f"/bin/{tool}")
    return {"PATH": str(bin_dir), "HOME": str(tmp_path), "SERVER_RECORDS": str(tmp_path / "records")}


def shell_records(stubs: dict[str, str], runner: str, script: str) -> list[list[str]]:
    """The words each stubbed server program was started with when ``runner -c script`` ran."""
    records = Path(stubs["SERVER_RECORDS"])
    shutil.rmtree(records, ignore_errors=True)
    records.mkdir()
    subprocess.run([*runner.split(), "-c", script], env=stubs, capture_output=True, timeout=30, check=False)
    return [path.read_bytes().decode().split("\0")[:-1] for path in sorted(records.iterdir())]


def shell_decision(records: list[list[str]]) -> bool:
    """Dev mode among the servers the shell started (the entrypoint re-runs 'vault server ...', recorded too)."""
    return any(words[1:2] == ["server"] and argv.dev_flags(words[2:]) for words in records)


def pack_decision(script: str) -> bool:
    findings = vault_server.script_findings(script, "args[0]")
    assert all(not f.problem for f in findings), findings
    return bool(findings)


@pytest.mark.parametrize("runner", SHELLS)
def test_the_pack_reads_a_script_as_the_shells_run_it(stubs, runner):
    for script in SCRIPTS:
        records = shell_records(stubs, runner, script)
        assert pack_decision(script) == shell_decision(records), f"{runner} -c {script!r} started {records}"


@pytest.mark.parametrize("runner", SHELLS)
def test_where_the_pack_reads_more_the_shells_start_no_dev_server(stubs, runner):
    for script in OVER_READ:
        assert pack_decision(script) and not shell_decision(shell_records(stubs, runner, script)), script


@pytest.mark.parametrize(
    ("script", "commands"),
    [
        ("a; b && c || d | e & f\ng", [("a",), ("b",), ("c",), ("d",), ("e",), ("f",), ("g",)]),
        ('x ";" y \\| z', [("x", ";", "y", "|", "z")]),
        ("x 2>&1 y >/dev/null <in z", [("x", "y", "z")]),
        ("a#b c # d 'e\nf", [("a#b", "c"), ("f",)]),
        ("a \\\n b", [("a", "b")]),
        ("", []),
    ],
)
def test_commands_and_words(script, commands):
    assert shell.commands(script) == commands


@pytest.mark.parametrize("script", ["vault server -config='/x", 'echo "x', "echo x\\"])
def test_an_unreadable_script_raises(script):
    with pytest.raises(shell.ScriptError):
        shell.commands(script)


@pytest.mark.parametrize(
    ("word", "expands"),
    [
        ("${EXTRA}", True),
        ("$X", True),
        ("`x`", True),
        ("/x/*.hcl", True),
        ("-de?", True),
        ("-[d]ev", True),
        ("{-dev,}", True),
        ("-dev{,}", True),
        ("-config=/x", False),
        ("{", False),
        ("[", False),
        ("-config={x}", False),
    ],
)
def test_may_expand(word, expands):
    assert shell.may_expand(word) is expands


@pytest.mark.parametrize("runner", SHELLS)
def test_the_stubs_record_what_the_shell_passes(stubs, runner):
    """The judge would pass vacuously if the stubs recorded nothing."""
    records = shell_records(stubs, runner, "docker-entrypoint.sh server -dev; bao server '-config=/a b'")
    assert sorted(records) == [["bao", "server", "-config=/a b"], ["vault", "server", "-dev"]]


def test_scripts_nested_too_deep_are_refused():
    script = "vault server -config=/x"
    for _ in range(vault_server.MAX_DEPTH + 1):
        script = f"sh -c {shlex.quote(script)}"
    [finding] = vault_server.script_findings(script, "args[0]")
    assert finding.problem == vault_server.TOO_DEEP[0]


@pytest.mark.parametrize(
    ("script", "refused"),
    [
        ('vault "$@"', True),  # the subcommand may be server
        ('echo "Starting vault $VERSION"', False),  # a word that only may be a script: its server is judged, nothing else
        ('echo "don\'t: vault server -dev"', True),  # a word naming a server that cannot be read as a script
        ('echo "it\'s fine"', False),
        ('case "$MODE" in dev) exit 1;; esac; vault server -config=/x', False),
        ("for f in /vault/*.hcl; do echo $f; done; vault server -config=/x", False),
    ],
)
def test_what_is_refused_outside_the_servers_flags(script, refused):
    assert any(f.problem for f in vault_server.script_findings(script, "args[0]")) is refused
