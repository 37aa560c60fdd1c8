"""The Automation API wrapper: the Makefile's environment, secret unwrapping, bundle targeting."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import ROOT, SECRET_CANARY, local_state, secret_value

from secrets_platform.cli.commands.rotate import bundle_urns
from secrets_platform.cli.engine import LOCAL_PASSPHRASE, Engine, plain
from secrets_platform.cli.errors import EngineError
from secrets_platform.cli.project import find_project_dir


def test_environment_follows_the_makefile():
    env = Engine(Path("/repo"), {"PATH": "/usr/bin"}).env_vars("local")
    assert env["PULUMI_BACKEND_URL"] == "file:///repo/.state"
    assert env["PULUMI_HOME"] == "/repo/.pulumi-home"
    assert env["PULUMI_SKIP_UPDATE_CHECK"] == "true" and env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert env["PATH"].startswith("/repo/bin:")
    assert env["PULUMI_CONFIG_PASSPHRASE"] == LOCAL_PASSPHRASE


def test_ci_backend_wins_and_no_passphrase_outside_local():
    env = Engine(Path("/repo"), {"PULUMI_BACKEND_URL": "gs://bucket/prd"}).env_vars("prd")
    assert env["PULUMI_BACKEND_URL"] == "gs://bucket/prd" and "PULUMI_CONFIG_PASSPHRASE" not in env


def test_plain_unwraps_exported_secrets():
    assert plain({"a": secret_value({"K": SECRET_CANARY})}) == {"a": {"K": SECRET_CANARY}}
    with pytest.raises(EngineError, match="still encrypted"):
        plain({"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:abc"})


def test_bundle_urns_are_the_component_and_its_children_only():
    urns = bundle_urns(local_state(), "snowflake", "snowflake-local-credentials")
    assert len(urns) == 4 and not any("minio" in u for u in urns)
    with pytest.raises(EngineError):
        bundle_urns(local_state(), "oracle", "oracle-local-credentials")


def test_project_dir_is_found_upwards(tmp_path):
    assert find_project_dir(None, {}, cwd=ROOT / "tests" / "cli") == ROOT
    with pytest.raises(Exception, match="not inside a secrets-platform checkout"):
        find_project_dir(None, {}, cwd=tmp_path)


@pytest.mark.parametrize("kind", ["dangling link", "file"])
def test_an_engine_home_that_cannot_be_a_folder_is_one_error_naming_it(tmp_path, kind):
    home = tmp_path / ".pulumi-home"
    if kind == "dangling link":
        home.symlink_to(tmp_path / "gone")
    else:
        home.write_text("not a folder")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "pulumi").write_text("#!/bin/sh\n")
    (tmp_path / "bin" / "pulumi").chmod(0o755)
    with pytest.raises(EngineError) as err:
        Engine(tmp_path, {"PATH": "/usr/bin"}).open("local")
    assert f"PULUMI_HOME={home} cannot be created" in str(err.value) and "Fix: remove or fix" in str(err.value)
