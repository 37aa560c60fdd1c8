"""Settings that cannot be half-accepted (issue 21): full-match patterns, connection URLs read by libpq,
URLs by urllib/ipaddress, colliding resource names, a named cluster outside local.

Each case is refused with one ConfigError naming the key, the value (never a secret one) and the fix,
before anything is registered.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from support import ROOT, base_config, run_program

from secrets_platform import settings
from secrets_platform.settings import ConfigError

CANARY = "canary-pw-7f3e-never-print"


def error(env: str = "dev", secret_keys=(), **overrides) -> str:
    with pytest.raises(ConfigError) as exc:
        settings.from_mapping(base_config(env, **overrides), set(secret_keys), env, {})
    text = str(exc.value)
    assert "Fix:" in text and "nothing was created" in text and "Traceback" not in text
    return text


def accepted(env: str = "dev", secret_keys=(), **overrides) -> settings.Settings:
    return settings.from_mapping(base_config(env, **overrides), set(secret_keys), env, {})


# --------------------------------------------------------------------------- full-match patterns


VAULT = {"enabled": True, "chartVersion": "0.34.1", "mount": "floe"}


@pytest.mark.parametrize(
    "overrides, key",
    [
        ({"vault": {**VAULT, "mount": "floe\n"}}, "vault.mount"),
        (
            {
                "externalSecrets": {"enabled": True, "chartVersion": "2.9.0", "refreshInterval": "1h\n"},
                "gcp": {"project": "example-data-platform"},
            },
            "refreshInterval",
        ),
        ({"vault": {**VAULT, "authPath": "kubernetes-dev\n"}}, "vault.authPath"),
        ({"namespaces": ["dagster\n"]}, "namespaces[0]"),
        ({"credentials": [{"service": "snowflake", "namespaces": ["dagster"], "values": {"SNOWFLAKE_USER\n": "svc"}}]}, "values"),
        ({"credentials": [{"service": "snowflake", "namespaces": ["dagster"], "generated": [{"key": "SNOWFLAKE_PASSWORD\n"}]}]}, "key"),
        ({"credentials": [{"service": "snowflake\n", "namespaces": ["dagster"], "generated": [{"key": "A"}]}]}, "service"),
        ({"credentials": [{"service": "snowflake", "namespaces": ["dagster"], "generated": [{"key": "A"}], "maxAge": "90d\n"}]}, "maxAge"),
        ({"externalSecrets": {"enabled": True, "chartVersion": "2.9.0\n"}, "gcp": {"project": "example-data-platform"}}, "chartVersion"),
        ({"gcp": {"project": "example-data-platform\n"}}, "gcp.project"),
    ],
)
def test_a_trailing_newline_is_one_clear_error(overrides, key):
    """`$` matches before a final newline; every pattern is anchored with \\Z, so "floe\\n" is no mount name."""
    text = error("dev", **overrides)
    assert key in text and "\\n" in text  # the value is shown, newline visible


def _regex_literals(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in ("compile", "match", "fullmatch", "search"):
            for arg in node.args[:1]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    yield arg.value
                elif isinstance(arg, ast.JoinedStr):
                    yield "".join(v.value for v in arg.values if isinstance(v, ast.Constant) and isinstance(v.value, str))


@pytest.mark.parametrize(
    "module",
    [
        "secrets_platform/conventions",
        "secrets_platform/settings",
        "secrets_platform/parsers",
        "secrets_platform/policies/cross_stack.py",
        "secrets_platform/cli/freshness.py",
    ],
    ids=lambda m: m,
)
def test_no_pattern_ends_in_a_dollar(module):
    """Patterns that decide what a name is end in \\Z (or use fullmatch): `$` would take a trailing newline."""
    root = ROOT / module
    files = [root] if root.is_file() else sorted(root.rglob("*.py"))
    found = [(f.relative_to(ROOT), p) for f in files for p in _regex_literals(f) if p.endswith("$")]
    assert found == []


# --------------------------------------------------------------------------- databaseConnections.url through libpq

DB_CRED = {
    "service": "warehouse",
    "backend": "vault-database",
    "namespaces": ["dagster"],
    "properties": {"WAREHOUSE_USER": "username", "WAREHOUSE_PASSWORD": "password"},
}


def with_connection(url: str, env: str = "prd") -> dict:
    cfg = base_config(env, vault=VAULT)
    cfg["credentials"] = cfg["credentials"] + [DB_CRED]
    cfg["databaseConnections"] = {"warehouse": {"url": url, "username": "vault_admin", "password": "admin-password"}}
    return cfg


def connection_error(url: str) -> str:
    with pytest.raises(ConfigError) as exc:
        settings.from_mapping(with_connection(url), {"databaseConnections"}, "prd", {})
    text = str(exc.value)
    assert "secrets-platform:databaseConnections.warehouse.url" in text and "Fix:" in text
    assert CANARY not in text and "admin-password" not in text
    return text


@pytest.mark.parametrize(
    "url, named",
    [
        (f"postgresql://vault_admin:{CANARY}@db.internal/analytics?sslmode=verify-full", "password"),
        (f"postgresql://db.internal/analytics?sslmode=verify-full&password={CANARY}", "password"),
        (f"postgresql://db.internal/analytics?password={CANARY}&sslmode=require", "password"),
        (f"postgresql://db.internal/analytics?sslmode=require&passfile=/tmp/{CANARY}", "passfile"),
        (f"postgresql://db.internal/analytics?sslmode=require&sslpassword={CANARY}", "sslpassword"),
        ("postgresql://db.internal/analytics?sslmode=require&user=vault_admin", "user"),
        ("postgresql://vault_admin@db.internal/analytics?sslmode=require", "user"),
    ],
)
def test_a_credential_anywhere_in_the_connection_url_is_refused_unseen(url, named):
    """libpq reads a password from user-info and from ?password= (a file of them from passfile): none in the stack file."""
    text = connection_error(url)
    assert "carries user-info, a credential" in text and named in text and "(got [secret])" in text


@pytest.mark.parametrize(
    "url, needle",
    [
        ("postgresql://db.internal/analytics?sslmode=require&service=prd", "libpq keywords the platform does not judge (service)"),
        ("postgresql://db.internal/analytics?sslmode=require&options=-c%20role%3Dpostgres", "(options)"),
        (f"postgresql://db.internal/analytics?sslmode=require&{CANARY}=1", "is not a connection URL libpq accepts"),
        (f"postgresql://db.internal/analytics {CANARY}?sslmode=require", "is not a connection URL libpq accepts"),
        ("postgresql:///analytics?host=/var/run/postgresql&sslmode=require", "Unix socket"),
        ("postgresql://a.internal,b.internal/analytics?sslmode=require&port=1,2,3", "3 ports for 2 hosts"),
        ("postgresql://db.internal/?sslmode=require", "names no database"),
        ("postgresql://db.internal/analytics?sslmode=prefer", "connects without TLS (sslmode=prefer)"),
        # libpq reads the last of a repeated keyword, pgx (Vault's driver) the first: never both
        ("postgresql://db.internal/analytics?sslmode=verify-full&sslmode=disable", "gives sslmode more than once"),
        ("postgresql://db.internal/analytics?sslmode=require&host=db-prd.internal&host=db-dev.internal", "gives host more than once"),
    ],
)
def test_connection_urls_are_judged_by_libpqs_reading(url, needle):
    assert needle in connection_error(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://db.internal/analytics?sslmode=verify-full",
        "postgres://db.internal:6432/analytics?sslmode=require&application_name=vault",
        "postgresql://a.internal,b.internal/analytics?sslmode=verify-full&target_session_attrs=read-write",
        "postgresql://[2001:db8::5]:5432/analytics?sslmode=verify-ca",
        "postgresql://db.internal/analytics?hostaddr=10.0.0.5&sslmode=verify-full",
    ],
)
def test_well_formed_connection_urls_are_accepted(url):
    s = settings.from_mapping(with_connection(url), {"databaseConnections"}, "prd", {})
    assert s.config.database_connections["warehouse"].url == url


# --------------------------------------------------------------------------- the cluster a stack reaches


@pytest.mark.parametrize("env", ["dev", "stg", "prd"])
def test_a_remote_stack_without_a_kubeconfig_context_is_refused(env):
    """gcp.* alone name a cluster for the cross-stack check, but the provider would apply to the ambient context."""
    text = error(env, kubernetes={}, gcp={"project": "example-data-platform", "region": "europe-west1", "clusterName": f"data-{env}"})
    assert f"secrets-platform:kubernetes.context: is required for {env}" in text and "ambient kubeconfig" in text


@pytest.mark.parametrize("context", ["gke_example-data-platform_europe-west1_data-dev\n", " gke_x", "a\tb"])
def test_a_context_with_blanks_or_control_characters_is_refused(context):
    text = error("dev", kubernetes={"context": context})
    assert "secrets-platform:kubernetes.context: has surrounding blanks or control characters" in text


def test_local_needs_no_context():
    assert accepted("local").config.kubernetes.context is None


@pytest.mark.parametrize(
    "host",
    ["https://api.prd.example.internal", "https://PRD-api.example.internal:6443", "https://k8s-stg.example.internal"],
)
def test_vault_kubernetes_host_of_another_environment_is_refused(host):
    text = error("dev", vault={**VAULT, "kubernetesHost": host})
    assert "secrets-platform:vault.kubernetesHost: names the API server of" in text and "dev's own API server" in text


@pytest.mark.parametrize(
    "host", ["https://kubernetes.default.svc", "https://kubernetes.default.svc.cluster.local:443", "https://api.dev.example.internal"]
)
def test_vault_kubernetes_host_of_its_own_cluster_is_accepted(host):
    assert accepted("dev", vault={**VAULT, "kubernetesHost": host}).config.vault.kubernetes_host == host


@pytest.mark.parametrize(
    "key, value", [("kubernetesHost", "kubernetes.default.svc"), ("address", "vault.internal:8200"), ("address", "https://")]
)
def test_vault_urls_without_scheme_or_host_are_refused(key, value):
    text = error("dev", vault={**VAULT, key: value})
    assert f"secrets-platform:vault.{key}: is not an http(s) URL with a host" in text


# --------------------------------------------------------------------------- resource names that would collide


def bundle(service: str, *keys: str, strategy: str = "single", **more) -> dict:
    return {"service": service, "namespaces": ["dagster"], "generated": [{"key": k} for k in keys], "rotationStrategy": strategy, **more}


@pytest.mark.parametrize(
    "credentials, needle",
    [
        # across bundles: <service>-<key slug> is the same for a-b + C and a + B_C
        ([bundle("a-b", "C"), bundle("a", "B_C")], "makes the resource name 'a-b-c'"),
        # by letter case within a bundle
        ([bundle("svc", "TOKEN", "Token")], "differs from the key TOKEN of this bundle only by letter case"),
        # a dual slot's name: x (dual) makes svc-x-slot-a; svc-x + SLOT_A makes the same
        ([bundle("svc", "X", strategy="dual"), bundle("svc-x", "SLOT_A")], "makes the resource name 'svc-x-slot-a'"),
    ],
)
def test_colliding_resource_names_are_refused_before_anything_is_registered(credentials, needle):
    text = error("dev", credentials=credentials)
    assert needle in text and "rename one of the two keys" in text


def test_without_the_check_the_names_would_be_one_urn():
    """What the rule prevents: the program derives one URN for both keys (the engine refuses it mid-up)."""
    s = accepted("dev", credentials=[bundle("a-b", "C")])
    t = accepted("dev", credentials=[bundle("a", "B_C")])
    [first] = [r.urn for r in run_program(s).resources if r.type == "random:index/randomPassword:RandomPassword"]
    [second] = [r.urn for r in run_program(t).resources if r.type == "random:index/randomPassword:RandomPassword"]
    assert first == second


# --------------------------------------------------------------------------- chart paths from the project root


def test_project_root_is_the_folder_of_pulumi_yaml():
    from secrets_platform.settings.rules.backends import PROJECT_ROOT

    assert PROJECT_ROOT == ROOT and (PROJECT_ROOT / "Pulumi.yaml").is_file()


def test_committed_stacks_stay_valid():
    for env in ("local", "dev", "stg", "prd"):
        assert settings.from_stack_file(ROOT / f"Pulumi.{env}.yaml", {}).environment == env


def test_every_message_names_the_key_and_fix_without_a_traceback():
    text = error("prd", vault={**VAULT, "mount": "floe\n", "kubernetesHost": "https://api.dev.example.internal"}, kubernetes={})
    assert len(re.findall(r"\n  - secrets-platform:", text)) == 3
