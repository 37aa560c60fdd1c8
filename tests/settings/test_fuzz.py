"""Property-based fuzzing (hypothesis) of the readers of untrusted input: the settings loader and the
consumer parsers. Whatever the input, the only failure is the reader's own clear error (ConfigError,
InputError): never a traceback, never a hang. Bounded example counts keep it in the unit tier."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from support import base_config

from secrets_platform import settings
from secrets_platform.cli import references
from secrets_platform.cli.errors import InputError
from secrets_platform.settings import ConfigError, safe_yaml

FUZZ = hsettings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

# YAML-ish text: the characters that make YAML structure, plus words the readers look for.
YAML_TOKENS = st.sampled_from(
    [
        "config:",
        "secrets-platform:",
        "environment:",
        "dev",
        "prd",
        "local",
        "namespaces:",
        "credentials:",
        "- ",
        "  ",
        "\n",
        "&a ",
        "*a",
        "&b ",
        "*b",
        "<<: ",
        "[",
        "]",
        "{",
        "}",
        ",",
        ": ",
        "'",
        '"',
        "#",
        "!!python/object ",
        "!!binary ",
        "---\n",
        "env_var('K')",
        "{{ env_var(\"SNOWFLAKE_PASSWORD\", 'x') }}",
        "envSecrets:",
        "name:",
        "transform:",
        "pipeline:",
        "secrets:",
        "key:",
        "image_pull_secrets:",
        "%YAML 1.1\n",
        "? ",
        "|\n",
        ">\n",
        "\t",
        "\x00",
        "\ufeff",
        "~",
        "null",
        "1e9",
        "0x1f",
    ]
)
yaml_text = st.lists(st.one_of(YAML_TOKENS, st.text(string.printable, max_size=8)), max_size=60).map("".join)

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=True), st.text(max_size=20))
json_like = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=25
)
CONFIG_KEYS = [
    "environment",
    "namespaces",
    "credentials",
    "registries",
    "tlsSecrets",
    "imports",
    "kubernetes",
    "gcp",
    "externalSecrets",
    "vault",
]


@FUZZ
@given(text=yaml_text)
def test_stack_file_reader_fails_only_cleanly(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "Pulumi.dev.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        settings.from_stack_file(path)
    except ConfigError as err:
        assert "Fix:" in str(err)


@FUZZ
@given(data=st.binary(max_size=200))
def test_stack_file_reader_takes_any_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "Pulumi.prd.yaml"
    path.write_bytes(data)
    try:
        settings.from_stack_file(path)
    except ConfigError:
        pass


@FUZZ
@given(
    env=st.sampled_from(["local", "dev", "stg", "prd"]),
    key=st.sampled_from(CONFIG_KEYS),
    value=json_like,
    secret=st.booleans(),
    environ=st.dictionaries(st.text(string.ascii_uppercase + "_", min_size=1, max_size=20), st.text(max_size=5), max_size=3),
)
def test_settings_validation_fails_only_cleanly(env, key, value, secret, environ):
    """One key of an otherwise valid config replaced by anything JSON can hold."""
    cfg = base_config(env)
    cfg[key] = value
    try:
        settings.from_mapping(cfg, {key} if secret else set(), env, environ)
    except ConfigError as err:
        assert "Fix:" in str(err)


@FUZZ
@given(
    credential=st.dictionaries(
        st.sampled_from(["service", "namespaces", "values", "generated", "backend", "properties", "push", "rotation"]),
        json_like,
        max_size=6,
    )
)
def test_credential_entries_fail_only_cleanly(credential):
    try:
        settings.from_mapping(base_config("dev", credentials=[credential]), set(), "dev", {})
    except ConfigError:
        pass


@FUZZ
@given(text=yaml_text, name=st.sampled_from(["profiles.yml", "values.yaml", "pipeline.json", "pipeline.yaml"]))
def test_consumer_yaml_parsers_fail_only_cleanly(tmp_path_factory, text, name):
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_text(text, encoding="utf-8")
    try:
        references.scan_file(path, strict=True)
    except InputError:
        pass


PY_TOKENS = st.sampled_from(
    [
        "Secret(",
        "group=",
        "key=",
        ")",
        "'s'",
        '"k"',
        "G",
        " = ",
        "\n",
        "flytekit.Secret(",
        ",",
        "(",
        "def f():\n    ",
        "import x\n",
        "*",
        "**kw",
        "f'{x}'",
        "\\",
        "#",
    ]
)


@FUZZ
@given(text=st.lists(st.one_of(PY_TOKENS, st.text(max_size=5)), max_size=40).map("".join))
def test_flyte_parser_fails_only_cleanly(text):
    try:
        references.flyte_references("tasks.py", text)
    except InputError:
        pass


@pytest.mark.parametrize("copies", [9, 50])
def test_bounded_loader_refuses_any_bomb_width(copies):
    bomb = (
        "a: &a ["
        + ",".join(["x"] * copies)
        + "]\n"
        + "".join(f"b{i}: &b{i} [" + ",".join([f"*{'a' if i == 0 else f'b{i - 1}'}"] * copies) + "]\n" for i in range(6))
    )
    with pytest.raises(safe_yaml.UnsafeYamlError):
        safe_yaml.load(bomb)


# --------------------------------------------------------------------------- the parsers of other systems' formats (secrets_platform/parsers/)

HCL_TOKENS = st.sampled_from(
    ['path "', "path", '"', "{", "}", "[", "]", "=", ":", ",", "capabilities", '"read"', '"deny"', '"sudo"', "policy", "#", "/*", "*/"]
    + ["\n", " ", "sys/", "auth/", "*", "+", "<<EOF\n", "EOF\n", "1", "true", '{"path": ', "null", "\\"]
)


@FUZZ
@given(text=st.lists(st.one_of(HCL_TOKENS, st.text(max_size=4)), max_size=40).map("".join))
def test_vault_policy_reader_fails_only_with_its_own_error(text):
    """Whatever the text, grants() returns grants with known capabilities or raises ParseError (the rules refuse it)."""
    from secrets_platform.parsers import ParseError, vault_policy

    try:
        grants = vault_policy.grants(text)
    except ParseError:
        return
    for grant in grants:
        assert grant.capabilities <= vault_policy.CAPABILITIES and not grant.path.startswith("/")


URL_TOKENS = st.sampled_from(
    ["postgresql://", "postgres://", "@", ":", "/", "?", "&", "=", ",", "%", "%2E", "%40", "[", "]", "::1", "db", "prd", "5432"]
    + ["host", "hostaddr", "port", "dbname", "user", "password", "passfile", "sslpassword", "service", "sslmode", "verify-full"]
    + ["require", "{{", "}}", " ", "\n", "#"]
)
SECRET_WORD = "canaryPW9"


@FUZZ
@given(url=st.lists(st.one_of(URL_TOKENS, st.just(SECRET_WORD), st.text(max_size=3)), max_size=25).map("".join))
def test_database_urls_are_accepted_only_without_credentials(url):
    """A connection URL either passes with no credential libpq would read, or is one clear error that never shows the canary."""
    from secrets_platform.parsers import conninfo

    cfg = base_config("prd", vault={"enabled": True, "chartVersion": "0.34.1", "mount": "floe"})
    cfg["credentials"] = cfg["credentials"] + [
        {
            "service": "warehouse",
            "backend": "vault-database",
            "namespaces": ["dagster"],
            "properties": {"W_USER": "username", "W_PW": "password"},
        }
    ]
    cfg["databaseConnections"] = {"warehouse": {"url": url, "username": "vault_admin", "password": "x"}}
    try:
        settings.from_mapping(cfg, {"databaseConnections"}, "prd", {})
    except ConfigError as err:
        assert SECRET_WORD not in str(err) and "Fix:" in str(err)
        return
    params = conninfo.parse(url)
    assert not set(params) & (conninfo.SECRET_KEYWORDS | {"user", "service"})
    assert set(params) <= conninfo.ALLOWED_KEYWORDS and params.get("sslmode") in ("require", "verify-ca", "verify-full")
    assert conninfo.database(url).endpoints


@FUZZ
@given(text=st.text(max_size=40))
def test_address_readers_fail_only_with_their_own_error(text):
    from secrets_platform.parsers import ParseError, addresses

    for reader in (addresses.canonical_host, addresses.canonical_url, addresses.gcpkms_key):
        try:
            reader(text)
        except ParseError:
            pass


NAME_PARTS = st.sampled_from(["a", "b", "a-b", "x", "svc", "svc-x", "slot", "stand"])
KEY_PARTS = st.sampled_from(["A", "B", "B_C", "C", "X", "SLOT_A", "SLOT_B", "Token", "TOKEN", "STAND_IN", "x"])


@hsettings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    bundles=st.lists(
        st.tuples(NAME_PARTS, st.lists(KEY_PARTS, min_size=1, max_size=3, unique=True), st.sampled_from(["single", "dual"])),
        min_size=1,
        max_size=3,
        unique_by=lambda b: b[0],
    )
)
def test_accepted_bundles_never_make_one_urn_twice(bundles):
    """Settings refuse every set of keys whose derived resource names collide: what they accept registers unique URNs."""
    from support import run_program

    credentials = [
        {"service": s, "namespaces": ["dagster"], "generated": [{"key": k} for k in keys], "rotationStrategy": strategy}
        for s, keys, strategy in bundles
    ]
    try:
        s = settings.from_mapping(base_config("dev", credentials=credentials), set(), "dev", {})
    except ConfigError as err:
        assert "Fix:" in str(err)
        return
    urns = [r.urn for r in run_program(s).resources]
    assert len(urns) == len(set(urns))
