"""Repository secrets from the deploy environment: named per CONVENTIONS, never echoed."""

from __future__ import annotations

import pytest
from support import base_config, load

from secrets_platform import settings
from secrets_platform.settings import ConfigError

CANARY = "xoxb-canary-7f3a9"


def test_variable_becomes_named_secret_in_dagster_namespace():
    s = load(environ={"DAGSTER_SECRET_SLACK_BOT_OAUTH_TOKEN": CANARY, "HOME": "/root"})
    (item,) = s.imported
    assert item.name == "dagster-prd-slack-bot-oauth-token-secret"
    assert item.namespace == "dagster-prd"
    assert item.variable == "DAGSTER_SECRET_SLACK_BOT_OAUTH_TOKEN"
    assert CANARY not in repr(item) and CANARY not in repr(s)


def test_prefix_and_namespace_are_configurable():
    s = load(environ={"PIPE_SECRET_API_KEY": CANARY}, imports={"prefix": "PIPE_SECRET_", "namespace": "floe-jobs"})
    assert [i.name for i in s.imported] == ["floe-jobs-prd-api-key-secret"]


def test_imports_can_be_switched_off():
    assert load(environ={"DAGSTER_SECRET_X": CANARY}, imports={"enabled": False}).imported == ()


@pytest.mark.parametrize("variable", ["DAGSTER_SECRET_", "DAGSTER_SECRET_slack", "DAGSTER_SECRET_A__B", "DAGSTER_SECRET_" + "A" * 60])
def test_variable_that_cannot_become_a_secret_name(variable):
    with pytest.raises(ConfigError) as exc:
        load(environ={variable: CANARY})
    assert f"deploy environment variable {variable}" in str(exc.value)
    assert CANARY not in str(exc.value)


def test_imports_need_the_dagster_namespace():
    with pytest.raises(ConfigError, match="imports.namespace: is not a declared namespace"):
        settings.from_mapping(dict(base_config(), namespaces=["floe-jobs"], credentials=[]), set(), "prd", {"DAGSTER_SECRET_X": CANARY})


def test_empty_variable_is_an_error():
    with pytest.raises(ConfigError, match="DAGSTER_SECRET_X: is empty"):
        load(environ={"DAGSTER_SECRET_X": ""})
