"""Every way stack config can be wrong fails before any resource, with one message
that names the key, the bad value and the fix."""

from __future__ import annotations

import json

import pytest
from support import ROOT, base_config, load, pem

from secrets_platform import conventions, settings
from secrets_platform.settings import ConfigError


def problems_of(exc: pytest.ExceptionInfo[ConfigError]) -> str:
    return str(exc.value)


def expect_error(*needles: str, env: str = "prd", secret_keys=None, environ=None, stack: str | None = None, **overrides) -> str:
    with pytest.raises(ConfigError) as exc:
        settings.from_mapping(base_config(env, **overrides), secret_keys or set(), stack or env, environ or {})
    text = str(exc.value)
    for needle in needles:
        assert needle in text, f"{needle!r} not in:\n{text}"
    assert "Fix:" in text
    return text


def test_committed_stack_files_are_valid():
    """Each committed stack file describes exactly its own environment."""
    for env in ("local", "dev", "stg", "prd"):
        s = settings.from_stack_file(ROOT / f"Pulumi.{env}.yaml")
        assert s.environment == env == s.stack
        assert all(conventions.namespace_env(ns) == env for ns in s.namespaces)
        # flytesnacks is a Flyte project: its namespace is where Flyte runs the environment's domain
        assert s.namespace("flytesnacks") == f"flytesnacks-{conventions.FLYTE_DOMAINS[env]}"


def test_engine_hands_structured_config_as_json():
    raw = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in base_config("dev").items()}
    s = settings.from_mapping(raw, set(), "dev", {})
    assert s.namespaces == ("dagster-dev", "floe-jobs-dev")
    assert s.config.credentials[0].generated[0].length == 40


def test_unknown_key():
    expect_error("secrets-platform:credentail", "is not a known key", credentail=[])


def test_unknown_nested_key():
    cfg = base_config()
    cfg["credentials"][0]["rotaton"] = "2"
    expect_error("secrets-platform:credentials[0].rotaton", credentials=cfg["credentials"])


def test_wrong_type_names_key_value_and_fix():
    cfg = base_config()
    cfg["credentials"][0]["generated"][0]["length"] = "forty"
    text = expect_error("secrets-platform:credentials[0].generated[0].length", "'forty'", "whole number", credentials=cfg["credentials"])
    assert text.count("\n  - ") == 1


def test_strict_booleans():
    cfg = base_config()
    cfg["credentials"][0]["generated"][0]["special"] = "yes"
    expect_error("generated[0].special", "true or false", credentials=cfg["credentials"])


def test_password_shorter_than_floor():
    cfg = base_config()
    cfg["credentials"][0]["generated"][0]["length"] = 8
    expect_error("generated[0].length", "greater than or equal to 16", credentials=cfg["credentials"])


def test_environment_differs_from_stack():
    expect_error("secrets-platform:environment", "differs from the stack name 'prd'", "'dev'", env="dev", stack="prd")


def test_stack_that_is_no_environment():
    expect_error("stack", "'production'", env="prd", stack="production")


def test_missing_environment():
    cfg = base_config()
    del cfg["environment"]
    with pytest.raises(ConfigError, match="secrets-platform:environment: is required"):
        settings.from_mapping(cfg, set(), "prd", {})


def test_bad_environment_value():
    expect_error("secrets-platform:environment", "'production'", "local, dev, stg, prd", environment="production")


def test_namespace_name_breaks_conventions():
    expect_error("secrets-platform:namespaces[0]", "Dagster", "RFC 1123", namespaces=["Dagster"])


def test_namespace_over_63_characters():
    long = "a" * 60
    expect_error("secrets-platform:namespaces[0]", "64 characters", namespaces=[long], credentials=[])


def test_workload_that_already_carries_an_environment():
    expect_error("secrets-platform:namespaces[0]", "'dagster-prd'", "list the workload only", namespaces=["dagster-prd"], credentials=[])


def test_duplicate_namespace():
    expect_error("secrets-platform:namespaces[1]", "listed twice", namespaces=["dagster", "dagster"], credentials=[])


def test_duplicate_credential():
    cred = base_config()["credentials"][0]
    expect_error("secrets-platform:credentials[1].service", "declared twice", credentials=[cred, cred])


def test_duplicate_key_in_bundle():
    cfg = base_config()
    cfg["credentials"][0]["generated"].append({"key": "SNOWFLAKE_PASSWORD"})
    expect_error("secrets-platform:credentials[0].generated[1].key", "duplicate key", credentials=cfg["credentials"])


def test_key_in_values_and_generated():
    cfg = base_config()
    cfg["credentials"][0]["values"]["SNOWFLAKE_ROLE"] = "r"
    cfg["credentials"][0]["generated"].append({"key": "SNOWFLAKE_ROLE"})
    expect_error("generated[1].key", "duplicate key", credentials=cfg["credentials"])


def test_key_that_is_no_env_var_name():
    cfg = base_config()
    cfg["credentials"][0]["values"] = {"snowflake-user": "x"}
    expect_error("values.snowflake-user", "environment variable name", credentials=cfg["credentials"])


def test_credential_name_over_63_characters():
    cfg = base_config()
    cfg["credentials"][0]["service"] = "s" * 50
    expect_error("secrets-platform:credentials[0].service", "at most 63", credentials=cfg["credentials"])


def test_credential_for_undeclared_namespace():
    cfg = base_config()
    cfg["credentials"][0]["namespaces"] = ["dagster", "flyte"]
    expect_error("secrets-platform:credentials[0].namespaces[1]", "'flyte'", "not a declared namespace", credentials=cfg["credentials"])


def test_plain_credential_value_is_refused_without_echoing_it():
    cfg = base_config()
    cfg["credentials"][0]["values"]["SNOWFLAKE_PASSWORD"] = "hunter2-canary"
    cfg["credentials"][0]["generated"] = []
    text = expect_error("values.SNOWFLAKE_PASSWORD", "looks like a credential", credentials=cfg["credentials"])
    assert "hunter2-canary" not in text


REGISTRY = {"service": "ghcr", "server": "ghcr.io", "username": "bot", "password": "pw-canary-123", "namespaces": ["dagster"]}


def test_secret_input_in_plain_text_is_refused_without_echoing_it():
    text = expect_error(
        "secrets-platform:registries", "plain text", "pulumi config set --secret --path 'registries[0].password'", registries=[REGISTRY]
    )
    assert "pw-canary-123" not in text


def test_secret_input_set_with_secret_is_accepted():
    s = load(secret_keys={"registries"}, registries=[REGISTRY])
    assert s.config.registries[0].password.get_secret_value() == "pw-canary-123"
    assert "pw-canary-123" not in repr(s)


def test_secret_value_never_echoed_in_type_errors():
    bad = dict(REGISTRY, password=12345678)
    text = expect_error("secrets-platform:registries[0].password", secret_keys={"registries"}, registries=[bad])
    assert "12345678" not in text


def test_tls_requires_pem_cert_and_key():
    tls = {"service": "dagster-web", "certificate": "not a cert", "privateKey": "tls-key-canary", "namespaces": ["dagster"]}
    text = expect_error(
        "tlsSecrets[0].certificate", "tls.crt", "tlsSecrets[0].privateKey", "tls.key", secret_keys={"tlsSecrets"}, tlsSecrets=[tls]
    )
    assert "tls-key-canary" not in text


def test_registry_requires_server_and_username():
    bad = dict(REGISTRY, server="")
    expect_error("secrets-platform:registries[0].server", secret_keys={"registries"}, registries=[bad])


def test_two_entries_claiming_one_secret():
    tls = {
        "service": "ghcr",
        "purpose": "pull",
        "certificate": pem("CERTIFICATE"),
        "privateKey": pem("PRIVATE KEY"),
        "namespaces": ["dagster"],
    }
    # Both entries come from secret config: the message names the two keys, not the Secret
    # name built from their (secret) service and purpose.
    text = expect_error(
        "secrets-platform:tlsSecrets[0]: creates the same Secret in the same namespace as secrets-platform:registries[0]",
        secret_keys={"registries", "tlsSecrets"},
        registries=[REGISTRY],
        tlsSecrets=[tls],
    )
    assert "ghcr" not in text


def test_render_dir_outside_local_is_refused():
    expect_error("secrets-platform:kubernetes.renderDir", "plain-text secrets", kubernetes={"renderDir": "out"})


def test_local_without_render_dir_applies_to_the_local_cluster():
    cfg = base_config("local")
    del cfg["kubernetes"]
    s = settings.from_mapping(cfg, set(), "local", {})
    assert s.render_dir is None and s.kubeconfig == ".cluster/kubeconfig"


def test_local_render_mode_reaches_no_cluster():
    assert settings.from_mapping(base_config("local"), set(), "local", {}).kubeconfig is None


def test_local_refuses_a_kubeconfig_context():
    cfg = base_config("local")
    cfg["kubernetes"] = {"context": "gke_example_europe-west1_data-prd"}
    with pytest.raises(ConfigError, match=r"kubernetes\.context: is set for local"):
        settings.from_mapping(cfg, set(), "local", {})


def test_render_dir_and_kubeconfig_together_are_refused():
    cfg = base_config("local")
    cfg["kubernetes"] = {"renderDir": "rendered/local", "kubeconfig": "/tmp/kubeconfig"}
    with pytest.raises(ConfigError, match=r"kubernetes\.kubeconfig: is set together with kubernetes\.renderDir"):
        settings.from_mapping(cfg, set(), "local", {})


def test_all_problems_in_one_message():
    cfg = base_config()
    cfg["credentials"][0]["namespaces"] = ["nope"]
    with pytest.raises(ConfigError) as exc:
        settings.from_mapping(dict(cfg, namespaces=["Bad"]), set(), "prd", {})
    assert "2 problems" in str(exc.value)
    assert len(exc.value.problems) == 2


def test_bad_json_from_engine():
    with pytest.raises(ConfigError, match="namespaces: is not valid structured config"):
        settings.from_mapping(dict(base_config(), namespaces="[dagster"), set(), "prd", {})


def test_stack_file_with_encrypted_values(tmp_path):
    """Tools that read stack files see `secure:` values as present but opaque."""
    path = tmp_path / "Pulumi.dev.yaml"
    cfg = {f"secrets-platform:{k}": v for k, v in base_config("dev").items()}
    cfg["secrets-platform:registries"] = [dict(REGISTRY, password={"secure": "v1:abc"})]
    path.write_text(json.dumps({"config": cfg}))
    s = settings.from_stack_file(path)
    assert s.config.registries[0].password.get_secret_value() == "[encrypted]"


def test_unreadable_stack_file(tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text("config: [unclosed")
    with pytest.raises(ConfigError, match=r"Pulumi.dev.yaml:\d+: cannot be read as YAML"):
        settings.from_stack_file(path)


def test_protection_only_in_prd():
    assert load("prd").protect
    assert not load("dev").protect
    assert not load("local").protect
