"""Hostile and careless stack config (issue 10): refused at once, with one clear error, no value echoed."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from support import ROOT, base_config, load, pem

from secrets_platform import conventions, settings
from secrets_platform.policies.rules import hygiene
from secrets_platform.settings import ConfigError, safe_yaml

# 9 x 9 x ... aliases: a few hundred bytes that expand to 9^9 nodes.
BOMB = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)


def error_of(*, env: str = "dev", secret_keys=None, environ=None, root: Path | None = None, **overrides) -> str:
    with pytest.raises(ConfigError) as exc:
        settings.from_mapping(base_config(env, **overrides), secret_keys or set(), env, environ or {}, root=root)
    text = str(exc.value)
    assert "Fix:" in text
    return text


# --------------------------------------------------------------------------- 2, 3: YAML bombs and odd files


def write_stack(tmp_path: Path, text: str | bytes, env: str = "dev") -> Path:
    path = tmp_path / f"Pulumi.{env}.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_alias_bomb_stack_file_is_refused_with_its_line(tmp_path):
    path = write_stack(tmp_path, "config:\n  secrets-platform:environment: dev\n" + BOMB.replace("\n", "\n  ").join(["  x:\n    ", ""]))
    with pytest.raises(ConfigError, match=r"Pulumi\.dev\.yaml:\d+: is refused: it has aliases that expand to more than"):
        settings.from_stack_file(path)


@pytest.mark.parametrize(
    "text,needle",
    [
        ("- a\n- b\n", "holds a YAML list at the top level, not a mapping"),
        ("just text\n", "holds a YAML string at the top level"),
        ("config: [1, 2]\n", "`config` is a YAML list, not a mapping"),
        (b"\x00\x01\x02\xff\xfe binary", "is not a UTF-8 text file"),
        (b"\x00\x01\x02 binary", "not a text file"),
        ("config: " + "[" * 5000 + "]" * 5000 + "\n", "nesting depth"),
        ("config: " + "[" * 300 + "]" * 300 + "\n", "nests deeper than 100 levels"),
        ("config: &a\n  b: *a\n", "recursive anchor"),
    ],
)
def test_odd_stack_files_give_one_clear_error(tmp_path, text, needle):
    path = write_stack(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        settings.from_stack_file(path)
    message = str(exc.value)
    assert needle in message and str(path) in message and "Fix:" in message


def test_bounded_loader_still_reads_ordinary_anchors():
    assert safe_yaml.load("base: &b {x: 1}\none: *b\ntwo: *b\n") == {"base": {"x": 1}, "one": {"x": 1}, "two": {"x": 1}}


# --------------------------------------------------------------------------- 1: the deploy toolchain's variables


@pytest.mark.parametrize(
    "prefix",
    [
        "GITHUB_",
        "ACTIONS_",
        "RUNNER_",
        "PULUMI_",
        "PULUMI_CONFIG_",
        "GOOGLE_",
        "CLOUDSDK_",
        "VAULT_",
        "AWS_",
        "GH_",
        "KUBECONFIG_",
        "SSH_",
        "KUBE_",
        "A_",
    ],
)
def test_a_prefix_that_reaches_toolchain_variables_is_refused(prefix):
    environ = {
        "GITHUB_TOKEN": "t",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t",
        "PULUMI_ACCESS_TOKEN": "t",
        "VAULT_TOKEN": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "GH_TOKEN": "t",
        "A_X": "t",
    }
    if prefix == "A_":  # a prefix of no tool: refused only when a toolchain name starts with it (none does)
        assert load("dev", environ=environ, imports={"prefix": prefix}).imported[0].variable == "A_X"
        return
    text = error_of(environ=environ, imports={"prefix": prefix})
    assert "secrets-platform:imports.prefix: could import the deploy toolchain's own variables" in text
    assert "'t'" not in text


def test_default_prefix_imports_only_its_own_variables():
    environ = {"DAGSTER_SECRET_SLACK_TOKEN": "v", "GITHUB_TOKEN": "t", "PULUMI_ACCESS_TOKEN": "t", "RUNNER_TEMP": "/tmp"}
    s = load("dev", environ=environ)
    assert [i.variable for i in s.imported] == ["DAGSTER_SECRET_SLACK_TOKEN"]


@pytest.mark.parametrize(
    "name",
    [
        "GITHUB_TOKEN",
        "ACTIONS_RUNTIME_TOKEN",
        "PULUMI_ACCESS_TOKEN",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE",
        "VAULT_TOKEN",
        "AWS_SESSION_TOKEN",
        "KUBECONFIG",
        "RUNNER_TEMP",
    ],
)
def test_toolchain_variables_are_known(name):
    assert conventions.is_toolchain_variable(name)
    assert not conventions.is_toolchain_variable("DAGSTER_SECRET_" + name)


# --------------------------------------------------------------------------- 4: one credential-key detector


@pytest.mark.parametrize(
    "key",
    [
        "DB_PWD",
        "GPG_PASSPHRASE",
        "OPENAI_APIKEY",
        "AWS_CREDENTIALS",
        "CUBE_JWT",
        "JWT",
        "PWD",
        "SNOWFLAKE_PASSWORD",
        "SLACK_TOKEN",
        "API_SECRET",
        "SSH_PRIVATE_KEY",
        "DB_PASS",
        "SENTRY_DSN",
    ],
)
def test_credential_keys_are_refused_as_plain_values(key):
    cred = {"service": "snowflake", "namespaces": ["dagster"], "values": {key: "hunter2-canary"}}
    text = error_of(credentials=[cred])
    assert f"values.{key}: looks like a credential" in text and "hunter2-canary" not in text


@pytest.mark.parametrize("key", ["TOKEN_TTL", "SECRET_NAME", "SNOWFLAKE_PASSWORD_FILE", "MAX_TOKENS", "SNOWFLAKE_ACCOUNT", "PARTITION_KEY"])
def test_references_to_credentials_are_plain_values(key):
    s = load("dev", credentials=[{"service": "snowflake", "namespaces": ["dagster"], "values": {key: "x"}}])
    assert s.config.credentials[0].values == {key: "x"}


@pytest.mark.parametrize(
    "key",
    [
        "DB_PWD",
        "GPG_PASSPHRASE",
        "OPENAI_APIKEY",
        "AWS_CREDENTIALS",
        "JWT",
        "TOKEN_TTL",
        "SECRET_NAME",
        "snowflakePrivateKey",
        "PARTITION_KEY",
        "SNOWFLAKE_PASSWORD_FILE",
    ],
)
def test_settings_and_pack_share_the_detector(key):
    """The pack's ConfigMap/annotation rule and the settings refuse exactly the same keys."""
    assert hygiene.is_credential_key(key) == conventions.looks_like_credential_key(key)
    cred = {"service": "snowflake", "namespaces": ["dagster"], "values": {key: "x"}}
    try:
        load("dev", credentials=[cred])
        refused = False
    except ConfigError:
        refused = True
    assert refused == hygiene.is_credential_key(key)


@pytest.mark.parametrize(
    "value",
    [
        "postgres://user:pw-canary@db.internal/analytics",
        "https://ghp_canary@github.com/org/repo.git",
        "mysql+pymysql://svc:pw-canary@10.0.0.1:3306/x",
    ],
)
def test_url_with_user_info_is_refused(value):
    cred = {"service": "warehouse", "namespaces": ["dagster"], "values": {"WAREHOUSE_URL_TEMPLATE": value}}
    text = error_of(credentials=[cred])
    assert "holds a URL with user-info" in text and "canary" not in text


def test_url_without_user_info_is_a_plain_value():
    cred = {"service": "warehouse", "namespaces": ["dagster"], "values": {"WAREHOUSE_HOST": "postgres://db.internal:5432/analytics"}}
    assert load("dev", credentials=[cred]).config.credentials[0].values["WAREHOUSE_HOST"].startswith("postgres://")


# --------------------------------------------------------------------------- 5: local renderDir confined


@pytest.mark.parametrize(
    "render_dir", ["/etc", "../../..", "rendered/../../x", "~/rendered", "C:/x", ".", ".git/rendered", ".venv/x", "bin"]
)
def test_render_dir_outside_a_repository_folder_is_refused(render_dir):
    text = error_of(env="local", kubernetes={"renderDir": render_dir})
    assert "secrets-platform:kubernetes.renderDir" in text


def test_render_dir_must_be_git_ignored_and_untracked(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("rendered/\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("x")
    subprocess.run(["git", "-C", str(tmp_path), "add", "docs/a.md", ".gitignore"], check=True)
    (tmp_path / "rendered" / "kept").mkdir(parents=True)
    (tmp_path / "rendered" / "kept" / "f.yaml").write_text("x")
    subprocess.run(["git", "-C", str(tmp_path), "add", "-f", "rendered/kept/f.yaml"], check=True)
    assert load_local(tmp_path, "rendered/local").render_dir == "rendered/local"
    assert load_local(tmp_path, "docs/rendered").render_dir == "docs/rendered"  # `rendered/` ignores it at any depth
    for bad in ("docs", "out", "rendered/kept"):  # tracked, not ignored, ignored but holding a tracked file
        text = error_of(env="local", root=tmp_path, kubernetes={"renderDir": bad})
        assert "is not a git-ignored folder" in text, bad


def test_render_dir_may_not_escape_through_a_symbolic_link(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    repo = tmp_path / "repo"
    (repo / ".gitignore").write_text("rendered/\n")
    (tmp_path / "elsewhere").mkdir()
    (repo / "rendered").symlink_to(tmp_path / "elsewhere")
    text = error_of(env="local", root=repo, kubernetes={"renderDir": "rendered/local"})
    assert "outside the repository (through a symbolic link)" in text


def test_make_render_dir_is_accepted_in_the_repository():
    """`make render` writes to rendered/local, which the repository ignores."""
    assert load_local(ROOT, "rendered/local").render_dir == "rendered/local"


def load_local(root: Path, render_dir: str) -> settings.Settings:
    return settings.from_mapping(base_config("local", kubernetes={"renderDir": render_dir}), set(), "local", {}, root=root)


# --------------------------------------------------------------------------- 6: secret config stays secret


def test_registry_server_from_secret_config_is_not_in_the_outputs():
    from secrets_platform.model import planned_descriptors
    from secrets_platform.model.consumers import describe

    reg = {"service": "ghcr", "server": "registry-canary.internal", "username": "bot", "password": "pw", "namespaces": ["dagster"]}
    s = load("dev", secret_keys={"registries"}, registries=[reg])
    outputs = [describe(d) for d in planned_descriptors(s)]
    assert any(o["name"] == "ghcr-dev-pull-secret" for o in outputs)
    assert "registry-canary" not in repr(outputs)


def test_bad_tls_purpose_from_secret_config_is_not_echoed():
    tls = {
        "service": "web",
        "purpose": "Purpose_Canary",
        "certificate": pem("CERTIFICATE"),
        "privateKey": pem("PRIVATE KEY"),
        "namespaces": ["dagster"],
    }
    text = error_of(secret_keys={"tlsSecrets"}, tlsSecrets=[tls])
    assert "secrets-platform:tlsSecrets[0].service" in text and "canary" not in text.lower() and "[secret]" in text


# --------------------------------------------------------------------------- 7: TLS only outside local


VAULT = {"enabled": True, "chartVersion": "0.34.1"}


@pytest.mark.parametrize("env", ["dev", "stg", "prd"])
@pytest.mark.parametrize(
    "key,section", [("address", "vault"), ("kubernetesHost", "vault"), ("chartRepository", "vault"), ("chartRepository", "externalSecrets")]
)
def test_plain_http_is_refused_outside_local(env, key, section):
    overrides: dict[str, Any] = {"vault": {**VAULT, "ha": env != "dev", key: "http://host.example.internal:8200"}}
    if section == "externalSecrets":
        overrides = {
            "externalSecrets": {"enabled": True, "chartVersion": "2.10.0", key: "http://charts.example.internal"},
            "gcp": {"project": "example-project"},
        }
    text = error_of(env=env, **overrides)
    assert f"secrets-platform:{section}.{key}: uses plain http in {env}" in text


def test_https_and_oci_are_accepted():
    s = load("prd", vault={**VAULT, "address": "https://vault.example.internal:8200", "chartRepository": "oci://registry.example/charts"})
    assert s.config.vault.address is not None and s.config.vault.address.startswith("https://")


def test_user_info_in_a_vault_address_is_refused_and_not_echoed():
    text = error_of(vault={**VAULT, "address": "https://root:canary@vault.example.internal"})
    assert "vault.address: carries user-info" in text and "canary" not in text


# --------------------------------------------------------------------------- 8: environment tokens in names


@pytest.mark.parametrize("service", ["snowflake-prd", "prd-snowflake", "snow-stg-flake", "local"])
def test_service_carrying_an_environment_token_is_refused(service):
    text = error_of(credentials=[{"service": service, "namespaces": ["dagster"], "generated": [{"key": "X_PASSWORD"}]}])
    assert "secrets-platform:credentials[0].service: carries an environment token" in text


def test_tls_purpose_carrying_an_environment_token_is_refused():
    tls = {
        "service": "web",
        "purpose": "tls-prd",
        "certificate": pem("CERTIFICATE"),
        "privateKey": pem("PRIVATE KEY"),
        "namespaces": ["dagster"],
    }
    assert "tlsSecrets[0].purpose: carries an environment token" in error_of(secret_keys={"tlsSecrets"}, tlsSecrets=[tls])


def test_workload_carrying_an_environment_token_is_refused():
    assert "secrets-platform:namespaces[2]: carries an environment token" in error_of(namespaces=["dagster", "floe-jobs", "prd-tools"])


def test_invalid_imports_namespace_is_a_config_error_not_a_crash():
    text = error_of(imports={"namespace": "Dagster"})
    assert "secrets-platform:imports.namespace" in text


@pytest.mark.parametrize("prefix", sorted(p for p in conventions.TOOLCHAIN_VARIABLE_PREFIXES if p.endswith("_")) + ["DAGSTER_"])
def test_every_toolchain_prefix_is_refused_as_imports_prefix(prefix):
    assert "could import the deploy toolchain's own variables" in error_of(imports={"prefix": prefix})


def test_the_default_prefix_reaches_no_toolchain_variable():
    assert conventions.toolchain_prefix_conflict("DAGSTER_SECRET_") is None
