"""The operator path's refusals: a bad outputs file or an unreachable Vault is exit 2, one message, nothing written."""

from __future__ import annotations

import json
import socket

import pytest

from support import stack_settings
from components.platform import vault_outputs
from localcluster import vault as lv


def outputs() -> dict:
    return json.loads(json.dumps(vault_outputs(stack_settings("local"))))


def test_the_local_stacks_output_plans_its_roles_policies_and_seeds():
    plan = lv.plan_of(outputs())
    assert plan.auth_paths == ("kubernetes-local",)
    assert {r.name for r in plan.roles} == {r["roleName"] for r in outputs()["roles"]}
    assert set(plan.policies) == {p["name"] for p in outputs()["policies"]}
    assert plan.seeds == {"local/salesforce": ("client_id", "client_secret")}


@pytest.mark.parametrize(
    "text, needle",
    [
        (None, "no such file"),
        ("not json", "not the JSON"),
        ('{"secrets": []}', "no `vault` output"),
    ],
)
def test_a_bad_outputs_file_is_named(tmp_path, text, needle):
    path = tmp_path / "outputs.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(lv.VaultError) as err:
        lv.load_outputs(path)
    assert needle in str(err.value) and str(path) in str(err.value)


def test_a_role_naming_an_undefined_policy_is_refused_before_anything_is_written():
    out = outputs()
    out["roles"][0]["tokenPolicies"] = ["not-defined"]
    with pytest.raises(lv.VaultError, match="not-defined"):
        lv.plan_of(out)


def test_a_credential_outside_the_mount_is_refused():
    out = outputs()
    out["credentials"][0]["path"] = "elsewhere/local/salesforce"
    with pytest.raises(lv.VaultError, match="not under the mount"):
        lv.plan_of(out)


def test_an_unreachable_vault_is_one_message_naming_its_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    api = lv.VaultApi(f"http://127.0.0.1:{port}", "token-never-shown")
    with pytest.raises(lv.VaultError) as err:
        api.check_ready()
    assert f"127.0.0.1:{port} is unreachable" in str(err.value) and "token-never-shown" not in str(err.value)


def test_apply_without_a_running_local_vault_exits_2(tmp_path, capsys):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"vault": outputs()}))
    assert lv.main(["--dir", str(tmp_path / "cluster"), "apply", "--stack-outputs", str(path)]) == 2
    assert "is not running" in capsys.readouterr().err
