"""`secrets-platform diff --base REF`: against real git history in a temporary repository copy."""

from __future__ import annotations

import json
import subprocess

from cli_support import copy_project, invoke, make_app


def git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True)


def repo(tmp_path):
    root = copy_project(tmp_path)
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qm", "base")
    return root


def test_rotation_strategy_switch_and_new_key_show_without_values(tmp_path):
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
    git(root, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qam", "rotate minio")
    path.write_text(path.read_text().replace("    - service: snowflake\n", "    - service: snowflake\n      rotationStrategy: dual\n", 1))
    data = json.loads(invoke(make_app(root), "diff", "--stack", "dev", "--base", "HEAD", "--json").stdout)
    [change] = data["keysChanged"][:1]
    assert change["keysAdded"] == ["SNOWFLAKE_PASSWORD_PREVIOUS"]
    assert data["rotated"][0]["service"] == "snowflake" and "single -> dual" in data["rotated"][0]["change"]
    text = invoke(make_app(root), "diff", "--stack", "dev", "--base", "HEAD").output
    assert "snowflake" in text and "single -> dual" in text


def test_dual_generation_names_the_slot(tmp_path):
    root = copy_project(tmp_path)
    path = root / "Pulumi.dev.yaml"
    path.write_text(path.read_text().replace("    - service: snowflake\n", "    - service: snowflake\n      rotationStrategy: dual\n      generation: 1\n", 1))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qm", "dual")
    path.write_text(path.read_text().replace("generation: 1", "generation: 2"))
    data = json.loads(invoke(make_app(root), "diff", "--stack", "dev", "--base", "main", "--json").stdout)
    [r] = data["rotated"]
    assert (r["strategy"], r["slot"]) == ("dual", "b") and "PREVIOUS is slot a" in r["detail"]


def test_bad_base_ref_and_unparsable_base_are_exit_2(tmp_path):
    root = repo(tmp_path)
    done = invoke(make_app(root), "diff", "--stack", "dev", "--base", "no-such-ref")
    assert done.exit_code == 2 and "no-such-ref" in done.stderr and "Traceback" not in done.output
    (root / "Pulumi.dev.yaml").write_text("config: [unclosed\n")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qam", "broken")
    git(root, "checkout", "-q", "HEAD~1", "--", "Pulumi.dev.yaml")
    done = invoke(make_app(root), "diff", "--stack", "dev", "--base", "main")
    assert done.exit_code == 2 and "does not parse at --base main" in done.stderr, done.output
