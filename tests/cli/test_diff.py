"""`secrets-platform diff --base REF`: against real git history in a temporary repository copy.

Two kinds of repository: the stack files only (a ref without ``secrets_platform/cli/plan_export.py``,
planned by today's program, with a note), and a minimal copy of the program with the stack
files (each side planned by its own program, the ref's in a subprocess).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import yaml
from cli_support import CANARY, ROOT, SECRET_CANARY, FakeEngine, FakeKubectl, copy_project, invoke, local_state, make_app

from secrets_platform.cli import diff as diff_mod
from secrets_platform.cli.project import Project

PROGRAM = ("secrets_platform",)


def git(root, *args):
    return subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t.invalid", *args], check=True, capture_output=True, text=True
    ).stdout


def commit(root, message):
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def repo(tmp_path):
    root = copy_project(tmp_path)
    git(root, "init", "-q", "-b", "main")
    commit(root, "base")
    return root


def program_repo(root: Path) -> Path:
    """A git repository holding the stack files and a copy of the program (what plans them), committed."""
    root.mkdir()
    copy_project(root)
    for name in PROGRAM:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, root / name)
    (root / ".gitignore").write_text("__pycache__/\n")
    git(root, "init", "-q", "-b", "main")
    commit(root, "program and stack files")
    return root


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """Where diff's temporary directories go, so a test can see that none is left behind."""
    where = tmp_path / "tmp"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


def running(marker: str) -> list[str]:
    """Pids whose command line holds ``marker`` (read from /proc)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker.encode() in cmdline.read_bytes():
                found.append(cmdline.parent.name)
        except OSError:
            pass
    return found


def edit_config(path: Path, change) -> None:
    doc = yaml.safe_load(path.read_text())
    change(doc["config"])
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def bundle(config, service):
    return next(c for c in config["secrets-platform:credentials"] if c["service"] == service)


# ---- the ref's side planned by the ref's program ----------------------------------------------------


def test_a_change_to_the_program_alone_shows_up(tmp_path, scratch):
    """The base is planned by the code at the base: a commit that only renames how a dual bundle's
    previous key is derived (conventions.PREVIOUS_SUFFIX) changes the Secret's keys, and diff says so
    although Pulumi.dev.yaml is the same on both sides. Planned with today's program, it would show nothing."""
    root = program_repo(tmp_path / "repo")
    edit_config(root / "Pulumi.dev.yaml", lambda c: bundle(c, "snowflake").update(rotationStrategy="dual"))
    model = root / "secrets_platform" / "conventions" / "__init__.py"
    today = model.read_text()
    assert 'PREVIOUS_SUFFIX = "_PREVIOUS"' in today
    model.write_text(today.replace('PREVIOUS_SUFFIX = "_PREVIOUS"', 'PREVIOUS_SUFFIX = "_OLD"'))
    commit(root, "dual snowflake; the previous slot is <KEY>_OLD")
    model.write_text(today)
    commit(root, "the previous slot is <KEY>_PREVIOUS")
    assert git(root, "diff", "--name-only", "HEAD~1", "HEAD").split() == ["secrets_platform/conventions/__init__.py"]

    done = invoke(make_app(root), "diff", "--stack", "dev", "--base", "HEAD~1", "--json")
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["baseProgram"] == "ref" and data["baseCommit"] == git(root, "rev-parse", "HEAD~1").strip()
    assert [(c["namespace"], c["name"], c["keysAdded"], c["keysRemoved"]) for c in data["keysChanged"]] == [
        (ns, "snowflake-dev-credentials", ["SNOWFLAKE_PASSWORD_PREVIOUS"], ["SNOWFLAKE_PASSWORD_OLD"])
        for ns in ("dagster-dev", "floe-jobs-dev")
    ]
    assert data["secretsAdded"] == data["secretsRemoved"] == data["rotated"] == []
    text = invoke(make_app(root), "diff", "--stack", "dev", "--base", "HEAD~1").stdout
    assert "each side planned by its own program" in text and "predates" not in text
    assert (
        "~ Secret dagster-dev/snowflake-dev-credentials: keys added ['SNOWFLAKE_PASSWORD_PREVIOUS'], removed ['SNOWFLAKE_PASSWORD_OLD']"
        in text
    )
    assert list(scratch.iterdir()) == []


def test_the_same_tree_plans_the_same_in_the_subprocess_and_in_process(tmp_path, scratch):
    """The two planners must agree, or every diff would report phantom changes."""
    root = program_repo(tmp_path / "repo")
    for stack in ("local", "dev", "stg", "prd"):
        base = diff_mod.base_plan(root, "HEAD", stack, {"DAGSTER_SECRET_SLACK_TOKEN": CANARY})
        here = diff_mod.plan_of(Project(root).settings(stack, {"DAGSTER_SECRET_SLACK_TOKEN": CANARY}))
        assert base.program == "ref" and base.note is None
        assert base.plan == here, stack
        assert ("dagster-" + stack, f"dagster-{stack}-slack-token-secret") in base.plan.secrets
    assert list(scratch.iterdir()) == []


def test_the_ref_s_program_gets_variable_names_never_values(tmp_path, scratch, monkeypatch):
    """Imported secrets are planned from the names of the deploy environment's variables; no value of
    ours (theirs, nor a passphrase or token in this process's environment) reaches the ref's program."""
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", CANARY + "-passphrase")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    root = program_repo(tmp_path / "repo")
    seen = tmp_path / "seen.json"
    entry = root / "secrets_platform" / "cli" / "plan_export.py"
    entry.write_text(
        entry.read_text().replace(
            "    from secrets_platform import settings as settings_pkg\n",
            f"    import os\n    open({str(seen)!r}, 'w').write(json.dumps({{'environ': dict(os.environ), 'request': request, 'path': sys.path}}))\n"
            "    from secrets_platform import settings as settings_pkg\n",
            1,
        )
    )
    commit(root, "a program that records what it is given")
    git(root, "checkout", "-q", "HEAD~1", "--", "secrets_platform/cli/plan_export.py")
    done = invoke(
        make_app(root, environ={"DAGSTER_SECRET_SLACK_TOKEN": CANARY, "GH_TOKEN": CANARY + "-gh"}),
        "diff",
        "--stack",
        "dev",
        "--base",
        "HEAD",
    )
    assert done.exit_code == 0, done.output
    record = seen.read_text()
    assert CANARY not in record
    data = json.loads(record)
    assert data["request"] == {"variables": {"DAGSTER_SECRET_SLACK_TOKEN": True, "GH_TOKEN": True}}
    assert "PYTHONPATH" not in data["environ"] and not any(k.startswith("PULUMI_") for k in data["environ"])
    assert str(ROOT) not in data["path"][:2]
    assert "dagster-dev-slack-token-secret" not in done.stdout  # planned on both sides: no change
    assert diff_mod.request({"A": "", "B": "x"}) == {"variables": {"A": False, "B": True}}


def test_a_ref_whose_program_does_not_import_is_one_error(tmp_path, scratch):
    root = program_repo(tmp_path / "repo")
    init = root / "secrets_platform" / "settings" / "__init__.py"
    good = init.read_text()
    init.write_text(good + "\nimport pydantic_v9_that_does_not_exist\n")
    commit(root, "a broken program")
    init.write_text(good)
    commit(root, "fixed")
    done = invoke(make_app(root), "diff", "--stack", "dev", "--base", "HEAD~1")
    assert done.exit_code == 2, done.output
    assert "the program at --base HEAD~1" in done.stderr and "fails to import or plan stack dev" in done.stderr
    assert "No module named 'pydantic_v9_that_does_not_exist'" in done.stderr
    assert "Traceback" not in done.output and len(done.stderr.strip().splitlines()) == 2  # the error and its fix
    assert list(scratch.iterdir()) == []


def test_a_ref_whose_program_hangs_is_stopped(tmp_path, scratch, monkeypatch):
    monkeypatch.setattr(diff_mod, "PLAN_TIMEOUT", 3.0)
    root = program_repo(tmp_path / "repo")
    entry = root / "secrets_platform" / "cli" / "plan_export.py"
    good = entry.read_text()
    marker = f"hung-grandchild-{uuid.uuid4().hex}"
    # It also starts a child that holds its output pipes: stopping only the direct child would hang diff.
    entry.write_text(
        f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)  # {marker}'])\n"
        "time.sleep(600)\n"
    )
    commit(root, "a program that never answers")
    entry.write_text(good)
    started = time.monotonic()
    try:
        done = invoke(make_app(root), "diff", "--stack", "dev", "--base", "HEAD")
        assert time.monotonic() - started < 30
        assert done.exit_code == 2 and "did not plan stack dev within 3s and was stopped" in done.stderr, done.output
        assert "--base HEAD" in done.stderr and "Traceback" not in done.output
        assert list(scratch.iterdir()) == []
        assert not running(marker), "the program's child outlived the timeout"
    finally:
        for pid in running(marker):
            os.kill(int(pid), signal.SIGKILL)


def _record_then_plan(root: Path, code: str) -> None:
    """Commit a plan_export.py that runs ``code`` first and then plans as usual; the working tree keeps the good one."""
    entry = root / "secrets_platform" / "cli" / "plan_export.py"
    good = entry.read_text()
    entry.write_text(
        good.replace(
            "    from secrets_platform import settings as settings_pkg\n",
            code + "    from secrets_platform import settings as settings_pkg\n",
            1,
        )
    )
    commit(root, "a program that does more than plan")
    entry.write_text(good)


def test_the_ref_s_program_cannot_read_the_cli_s_environment_nor_see_its_processes(tmp_path, scratch):
    """The CLI run as a process with a token in its environment (the preview workflow's GH_TOKEN): the ref's program
    looks for it in its own environment and in every process it can see (/proc/<pid>/environ and cmdline, its
    parent's first); it finds nothing, and it sees no process but its own."""
    root = program_repo(tmp_path / "repo")
    seen = tmp_path / "seen.json"
    _record_then_plan(
        root,
        "    import os\n"
        "    found, pids = {}, []\n"
        "    for d in os.listdir('/proc'):\n"
        "        if d.isdigit():\n"
        "            pids.append(int(d))\n"
        "            for f in ('environ', 'cmdline'):\n"
        "                try:\n"
        "                    found[d + '/' + f] = open('/proc/' + d + '/' + f, 'rb').read().decode(errors='replace')\n"
        "                except OSError:\n"
        "                    pass\n"
        "    try:\n"
        "        found['parent'] = open('/proc/%d/environ' % os.getppid(), 'rb').read().decode(errors='replace')\n"
        "    except OSError as err:\n"
        "        found['parent'] = repr(err)\n"
        f"    open({str(seen)!r}, 'w').write(json.dumps({{'environ': dict(os.environ), 'proc': found, 'pids': pids, 'ppid': os.getppid()}}))\n",
    )
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "HOME": str(tmp_path), "GH_TOKEN": CANARY + "-gh"}
    env["PULUMI_CONFIG_PASSPHRASE"] = CANARY + "-passphrase"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "secrets-platform"), "--project-dir", str(root), "diff", "--stack", "dev", "--base", "HEAD"],
        env={**env, "TMPDIR": str(scratch)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    record = seen.read_text()
    assert CANARY not in record, "a value of the CLI's environment reached the ref's program"
    data = json.loads(record)
    assert data["ppid"] == 0 and data["pids"] and max(data["pids"]) < 10, "the ref's program sees processes outside its own"
    assert set(data["environ"]) <= {"PATH", "LANG", "LC_ALL", "LC_CTYPE", "HOME", "TMPDIR", "PYTHONDONTWRITEBYTECODE"}
    assert Path(data["environ"]["HOME"]).name == "home" and str(tmp_path) != data["environ"]["HOME"]
    assert list(scratch.iterdir()) == []


def test_nothing_the_ref_s_program_starts_outlives_it(tmp_path, scratch, monkeypatch):
    """A ref's program that leaves a daemon in a session of its own, a shell's `sleep 300 &` holding its output
    pipes, and a double fork, then plans normally: diff returns at once with the plan, and none of them runs on."""
    monkeypatch.setattr(diff_mod, "PLAN_TIMEOUT", 60.0)
    root = program_repo(tmp_path / "repo")
    marker = f"left-behind-{uuid.uuid4().hex}"
    sleeper = f"import time; time.sleep(300)  # {marker}"
    _record_then_plan(
        root,
        "    import os, subprocess, shlex\n"
        f"    subprocess.Popen([sys.executable, '-c', {sleeper!r}], start_new_session=True, stdin=subprocess.DEVNULL,"
        " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        f"    os.system(shlex.join([sys.executable, '-c', {sleeper!r}]) + ' &')\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        f"            os.execv(sys.executable, [sys.executable, '-c', {sleeper!r}])\n"
        "        os._exit(0)\n",
    )
    started = time.monotonic()
    try:
        done = invoke(make_app(root), "diff", "--stack", "dev", "--base", "HEAD", "--json")
        took = time.monotonic() - started
        assert done.exit_code == 0, done.output
        assert json.loads(done.stdout)["baseProgram"] == "ref"
        assert took < 50, f"diff waited {took:.0f} s for the ref's program's children"
        left = running(marker)
        assert not left, f"{len(left)} process(es) the ref's program started outlived diff"
        assert list(scratch.iterdir()) == []
    finally:
        for pid in running(marker):
            os.kill(int(pid), signal.SIGKILL)


def test_without_a_sandbox_the_ref_s_program_is_not_run(tmp_path, scratch, monkeypatch):
    """Where no namespace can be made (here: no unshare), diff --base refuses with the fix, and runs nothing."""
    root = program_repo(tmp_path / "repo")
    ran = tmp_path / "ran"
    _record_then_plan(root, f"    open({str(ran)!r}, 'w').write('ran')\n")
    monkeypatch.setattr(diff_mod.shutil, "which", lambda *a, **k: None)
    done = invoke(make_app(root), "diff", "--stack", "dev", "--base", "HEAD")
    assert done.exit_code == 2, done.output
    assert "cannot be sandboxed" in done.stderr and "unprivileged user namespaces" in done.stderr
    assert "Traceback" not in done.output and not ran.exists()
    assert list(scratch.iterdir()) == []


def test_an_unparsable_stack_file_at_a_ref_with_the_program_is_exit_2(tmp_path, scratch):
    root = program_repo(tmp_path / "repo")
    path = root / "Pulumi.dev.yaml"
    good = path.read_text()
    edit_config(path, lambda c: bundle(c, "snowflake").update(rotationStrategy="triple"))
    commit(root, "unknown strategy")
    path.write_text(good)
    done = invoke(make_app(root), "diff", "--stack", "dev", "--base", "HEAD")
    assert done.exit_code == 2, done.output
    assert "does not parse at --base HEAD" in done.stderr and "rotationStrategy" in done.stderr and "triple" in done.stderr
    assert "Traceback" not in done.output
    assert list(scratch.iterdir()) == []


def test_a_link_out_of_the_ref_s_tree_is_not_followed(tmp_path, scratch):
    """Extraction keeps the ref's tree inside the temporary directory: a link pointing out of it is skipped."""
    root = program_repo(tmp_path / "repo")
    (tmp_path / "outside").mkdir()
    (root / "escape").symlink_to(tmp_path / "outside")
    (root / "escape-file").symlink_to("../../outside/x")
    commit(root, "links out of the tree")
    done = invoke(make_app(root), "diff", "--stack", "dev", "--base", "HEAD")
    assert done.exit_code == 0, done.output
    assert list((tmp_path / "outside").iterdir()) == [] and list(scratch.iterdir()) == []


def test_a_plan_in_another_format_is_refused(tmp_path, scratch):
    root = program_repo(tmp_path / "repo")
    entry = root / "secrets_platform" / "cli" / "plan_export.py"
    entry.write_text(entry.read_text().replace("FORMAT = 1\n", "FORMAT = 2\n"))
    commit(root, "a future plan format")
    git(root, "checkout", "-q", "HEAD~1", "--", "secrets_platform/cli/plan_export.py")
    done = invoke(make_app(root), "diff", "--stack", "dev", "--base", "HEAD")
    assert done.exit_code == 2 and "format 2; this CLI reads format 1" in done.stderr, done.output


# ---- a ref older than the entry point: today's program, said so -------------------------------------


def test_rotation_strategy_switch_and_new_key_show_without_values(tmp_path, scratch):
    root = repo(tmp_path)
    path = root / "Pulumi.dev.yaml"
    text = path.read_text()
    head, tail = text.split("    - service: minio\n", 1)
    path.write_text(head + "    - service: minio\n" + tail.replace('rotation: "1"', 'rotation: "2026-12-01"', 1))
    done = invoke(make_app(root), "diff", "--stack", "dev", "--base", "main", "--json")
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert [r["service"] for r in data["rotated"]] == ["minio"] and data["rotated"][0]["strategy"] == "single"
    assert data["secretsAdded"] == [] and data["secretsRemoved"] == []
    assert data["baseProgram"] == "today" and any("main predates secrets_platform/cli/plan_export.py" in n for n in data["notes"])
    commit(root, "rotate minio")
    path.write_text(path.read_text().replace("    - service: snowflake\n", "    - service: snowflake\n      rotationStrategy: dual\n", 1))
    data = json.loads(invoke(make_app(root), "diff", "--stack", "dev", "--base", "HEAD", "--json").stdout)
    [change] = data["keysChanged"][:1]
    assert change["keysAdded"] == ["SNOWFLAKE_PASSWORD_PREVIOUS"]
    assert data["rotated"][0]["service"] == "snowflake" and "single -> dual" in data["rotated"][0]["change"]
    text = invoke(make_app(root), "diff", "--stack", "dev", "--base", "HEAD").output
    assert "snowflake" in text and "single -> dual" in text
    assert "both sides planned by today's program" in text
    assert "note: HEAD predates secrets_platform/cli/plan_export.py, so its side is planned with today's program" in text
    assert list(scratch.iterdir()) == []


def test_dual_generation_names_the_slot(tmp_path):
    root = copy_project(tmp_path)
    path = root / "Pulumi.dev.yaml"
    path.write_text(
        path.read_text().replace(
            "    - service: snowflake\n", "    - service: snowflake\n      rotationStrategy: dual\n      generation: 1\n", 1
        )
    )
    git(root, "init", "-q", "-b", "main")
    commit(root, "dual")
    path.write_text(path.read_text().replace("generation: 1", "generation: 2"))
    data = json.loads(invoke(make_app(root), "diff", "--stack", "dev", "--base", "main", "--json").stdout)
    [r] = data["rotated"]
    assert (r["strategy"], r["slot"]) == ("dual", "b") and "PREVIOUS is slot a" in r["detail"]


def test_bad_base_ref_and_unparsable_base_are_exit_2(tmp_path, scratch):
    root = repo(tmp_path)
    done = invoke(make_app(root), "diff", "--stack", "dev", "--base", "no-such-ref")
    assert done.exit_code == 2 and "no-such-ref" in done.stderr and "Traceback" not in done.output
    done = invoke(make_app(root), "diff", "--stack", "dev", "--base", "--output=/tmp/x")
    assert done.exit_code == 2 and "not a git ref" in done.stderr
    (root / "Pulumi.dev.yaml").write_text("config: [unclosed\n")
    commit(root, "broken")
    git(root, "checkout", "-q", "HEAD~1", "--", "Pulumi.dev.yaml")
    done = invoke(make_app(root), "diff", "--stack", "dev", "--base", "main")
    assert done.exit_code == 2 and "does not parse at --base main" in done.stderr, done.output
    assert list(scratch.iterdir()) == []


# ---- never a value ---------------------------------------------------------------------------------


def spellings(value: str) -> set[str]:
    """The value, its sha256/sha1/md5 hex digests and the base64 of the value and of each digest."""
    raw = value.encode()
    out = {value}
    for b in (raw, *(hashlib.new(h, raw).digest() for h in ("sha256", "sha1", "md5"))):
        out |= {base64.b64encode(b).decode().rstrip("="), base64.urlsafe_b64encode(b).decode().rstrip("=")}
    for h in ("sha256", "sha1", "md5"):
        digest = hashlib.new(h, raw).hexdigest()
        out |= {digest, digest.upper()}
    return out


def test_diff_never_prints_a_value_nor_a_hash_of_one(tmp_path, scratch):
    """Every value diff could reach is planted: fixed values in both stack files (kept, added, removed),
    a `secure:` ciphertext, an imported variable, the deployed state's generated passwords, rendered
    manifests and a .env in the checkout, and Secret data and a workload's literal env in the cluster.
    A diff with rotations (single, dual), keys added and removed, Secrets added and removed prints none
    of them in any spelling."""
    planted = {
        "kept": "kept-value-canary-4d1e",
        "removed": "removed-value-canary-8c2a",
        "added": "added-value-canary-1b9f",
        "new_bundle": "new-bundle-canary-6e0d",
        "cipher": "v1:ciphertext-canary-3a7c",
        "imported": CANARY,
        "generated": SECRET_CANARY,
        "rendered": "rendered-canary-5f3b",
        "dotenv": "dotenv-canary-2c8e",
        "cluster": "cluster-data-canary-9d4a",
        "workload": "workload-env-canary-7e1f",
    }
    root = program_repo(tmp_path / "repo")

    def base(c):
        bundle(c, "snowflake").update(values={"SNOWFLAKE_ACCOUNT": planted["kept"], "SNOWFLAKE_USER": "svc_pipelines_dev"})
        bundle(c, "minio").update(
            rotationStrategy="dual", generation=3, values={"MINIO_ROOT_USER": "pipelines", "MINIO_REGION": planted["removed"]}
        )
        c["secrets-platform:registries"] = [
            {
                "service": "ghcr",
                "server": "ghcr.io",
                "username": "bot",
                "password": {"secure": planted["cipher"]},
                "namespaces": ["dagster"],
            }
        ]

    edit_config(root / "Pulumi.dev.yaml", base)
    (root / ".gitignore").write_text("__pycache__/\nrendered/\n.env\n")
    commit(root, "base")

    def working(c):
        snowflake = bundle(c, "snowflake")
        snowflake["rotation"] = "2026-12-02"  # single: every generated key
        snowflake["values"]["SNOWFLAKE_ROLE"] = planted["added"]
        snowflake["generated"].append({"key": "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"})
        minio = bundle(c, "minio")
        minio["generation"] = 4  # dual: one slot
        del minio["values"]["MINIO_REGION"]
        creds = c["secrets-platform:credentials"]
        creds[:] = [b for b in creds if b["service"] != "polaris"]
        creds.append(
            {
                "service": "redis",
                "namespaces": ["flytesnacks"],
                "values": {"REDIS_HOST": planted["new_bundle"]},
                "generated": [{"key": "REDIS_PASSWORD"}],
            }
        )
        c["secrets-platform:namespaces"].append("airbyte")

    edit_config(root / "Pulumi.dev.yaml", working)
    (root / "rendered" / "dev").mkdir(parents=True)
    (root / "rendered" / "dev" / "secret.yaml").write_text(f"stringData:\n  SNOWFLAKE_PASSWORD: {planted['rendered']}\n")
    (root / ".env").write_text(f"SNOWFLAKE_PASSWORD={planted['dotenv']}\n")
    engine = FakeEngine(
        root, installed=True, deployed={"dev"}, state={"dev": local_state(planted["generated"])}, stack_outputs={"dev": {"secrets": []}}
    )
    secret_data = json.dumps({"data": {"SNOWFLAKE_PASSWORD": base64.b64encode(planted["cluster"].encode()).decode()}})
    workloads = json.dumps(
        {
            "items": [
                {
                    "kind": "Deployment",
                    "metadata": {"name": "daemon", "annotations": {"reloader.stakater.com/search": "true"}},
                    "spec": {
                        "template": {
                            "spec": {
                                "containers": [
                                    {
                                        "env": [{"name": "TOKEN", "value": planted["workload"]}],
                                        "envFrom": [
                                            {"secretRef": {"name": "snowflake-dev-credentials"}},
                                            {"secretRef": {"name": "minio-dev-credentials"}},
                                        ],
                                    }
                                ]
                            }
                        }
                    },
                }
            ]
        }
    )
    kube = FakeKubectl(
        {
            "--raw=/version": (0, "{}", ""),
            # the blast radius asks a Secret for its annotations only (the platform's match annotation)
            "jsonpath={.metadata.annotations}": (0, json.dumps({"reloader.stakater.com/match": "true"}), ""),
            "get secret": (0, secret_data, ""),
            "deployment": (0, workloads, ""),
        }
    )
    environ = {"DAGSTER_SECRET_SLACK_TOKEN": planted["imported"]}

    outputs = []
    for extra in ([], ["--json"]):
        done = invoke(make_app(root, engine=engine, environ=environ, kubectl=kube), "diff", "--stack", "dev", "--base", "main", *extra)
        assert done.exit_code == 0, done.output
        outputs.append(done.stdout + done.stderr)
    data = json.loads(done.stdout)
    # The diff reports every kind of change, so the check below looks at a full output.
    assert data["baseProgram"] == "ref"
    assert {(r["service"], r["strategy"]) for r in data["rotated"]} == {("snowflake", "single"), ("minio", "dual")}
    assert {c["name"] for c in data["keysChanged"]} == {"snowflake-dev-credentials", "minio-dev-credentials"}
    assert any("MINIO_REGION" in c["keysRemoved"] for c in data["keysChanged"])
    assert any("SNOWFLAKE_ROLE" in c["keysAdded"] for c in data["keysChanged"])
    assert [s["name"] for s in data["secretsAdded"]] == ["redis-dev-credentials"]
    assert {s["name"] for s in data["secretsRemoved"]} == {"polaris-dev-credentials"}
    assert data["namespacesGained"] == ["airbyte-dev"]
    assert any("Deployment/daemon" in line for lines in data["consumers"].values() for line in lines)
    for name, value in planted.items():
        for form in spellings(value):
            for out in outputs:
                assert form not in out, f"{name} printed as {form!r}"
    assert list(scratch.iterdir()) == []


def test_outside_a_git_checkout_is_exit_2(tmp_path, scratch):
    root = copy_project(tmp_path)
    done = invoke(make_app(root), "diff", "--stack", "dev", "--base", "main")
    assert done.exit_code == 2 and "is not a git checkout" in done.stderr and "Traceback" not in done.output


def test_only_names_keys_and_rotation_metadata_are_read_from_a_plan():
    """Whatever else the ref's program prints is dropped, not carried into the diff; a malformed plan is refused."""
    plan = diff_mod.parse_plan(
        {
            "namespaces": ["dagster-dev"],
            "values": {"A": CANARY},
            "secrets": [{"namespace": "dagster-dev", "name": "a-dev-credentials", "keys": ["A"], "value": CANARY, "sha256": CANARY}],
            "bundles": [{"service": "a", "strategy": "single", "rotation": "1", "generation": 1, "generated": ["A"], "result": CANARY}],
        }
    )
    assert plan.secrets == {("dagster-dev", "a-dev-credentials"): ("A",)} and CANARY not in repr(plan)
    for bad, message in [
        ({"namespaces": [], "secrets": "x", "bundles": []}, "secrets is not a list of objects"),
        (
            {
                "namespaces": [],
                "secrets": [],
                "bundles": [{"service": "a", "strategy": "single", "rotation": "1", "generation": "1", "generated": []}],
            },
            "bundles[0].generation",
        ),
        ({"namespaces": [], "secrets": [{"namespace": "n", "name": "x", "keys": [1]}], "bundles": []}, "secrets[0].keys"),
    ]:
        with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
            diff_mod.parse_plan(bad)
