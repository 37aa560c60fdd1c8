"""The cross-stack check sees what no single-stack policy can: sharing between stack files."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from conftest import ROOT
from policies import cross_stack

STACKS = sorted(ROOT.glob("Pulumi.*.yaml"))


def copy_stacks(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for path in STACKS:
        if path.name == "Pulumi.yaml":
            continue
        target = tmp_path / path.name
        shutil.copy(path, target)
        out[path.name.split(".")[1]] = target
    return out


def edit(path: Path, change) -> None:
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc))


def test_committed_stacks_share_nothing(capsys):
    assert cross_stack.main([]) == 0
    out = capsys.readouterr().out
    assert "4 stacks, 0 shared objects" in out


def test_two_environments_on_one_kms_key_are_reported(tmp_path, capsys):
    """One key per environment: a prd stack encrypted with the dev key would share its secrets' protection."""
    files = copy_stacks(tmp_path)
    dev_key = yaml.safe_load(files["dev"].read_text())["secretsprovider"]
    edit(files["prd"], lambda d: d.update(secretsprovider=dev_key))
    assert cross_stack.main([str(p) for p in files.values()]) == 1
    out = capsys.readouterr().out
    assert f"✗ secrets provider {dev_key} is shared by stacks dev, prd" in out


def test_shared_claims_name_every_owner():
    found = cross_stack.shared({"dev": {("namespace", "x"), ("secret", "a")}, "prd": {("namespace", "x")}, "stg": {("namespace", "x")}})
    assert found == {("namespace", "x"): ["dev", "prd", "stg"]}


def test_claims_cover_namespaces_accounts_remote_keys_and_imports():
    import settings

    s = settings.from_stack_file(ROOT / "Pulumi.prd.yaml")
    held = cross_stack.claims(s, "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k")
    kinds = {kind for kind, _ in held}
    assert {"namespace", "service account", "secret", "import target", "secrets provider"} <= kinds
    assert ("namespace", "dagster-prd") in held
    assert ("service account", "dagster-prd/job-runner") in held
    assert ("import target", "dagster-prd") in held
    if s.config.external_secrets.enabled:
        assert any(kind == "remote key" for kind, _ in held)


def test_a_stack_file_for_the_wrong_environment_is_invalid(tmp_path, capsys):
    files = copy_stacks(tmp_path)
    edit(files["stg"], lambda d: d["config"].update({"secrets-platform:environment": "prd"}))
    assert cross_stack.main([str(files["stg"]), str(files["prd"])]) == 2
    assert "Pulumi.stg.yaml" in capsys.readouterr().out


def test_missing_stack_file(tmp_path, capsys):
    assert cross_stack.main([str(tmp_path / "Pulumi.nope.yaml")]) == 2
    assert "no such stack file" in capsys.readouterr().err
