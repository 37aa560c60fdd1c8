"""Naming rules: Secret names and keys, namespace names, the three labels."""

from __future__ import annotations

import pytest
from policy_fixtures import fx  # noqa: F401  (the fixture this module's tests take)

from secrets_platform import conventions
from secrets_platform.policies.rules import naming

SECRET = "kubernetes:core/v1:Secret"
NAMESPACE = "kubernetes:core/v1:Namespace"
ES_V1 = "kubernetes:external-secrets.io/v1:ExternalSecret"
ES_V1BETA1 = "kubernetes:external-secrets.io/v1beta1:ExternalSecret"


# --------------------------------------------------------------------------- naming-secret-name-form


@pytest.mark.parametrize("name", ["snowflake-prd-credentials", "ghcr-prd-pull-secret", "dagster-prd-slack-bot-oauth-token-secret"])
def test_secret_name_forms_pass(fx, name):
    """Both CONVENTIONS forms, including imported repository secrets, are accepted."""
    props = fx.secret()
    props["metadata"]["name"] = name
    assert fx.run(naming.secret_name_form, SECRET, props) == []


@pytest.mark.parametrize(
    "name",
    [
        "snowflake-credentials",  # the ADR's form: no environment
        "snowflake-production-credentials",  # not an environment token
        "dagster-secret-slack-bot-oauth-token",  # the dagster ADR's form
        "Snowflake-prd-credentials",  # not lower case
        "x" * 60 + "-prd-credentials",  # longer than 63
    ],
)
def test_secret_name_off_contract_fails(fx, name):
    """A Secret name without an environment token cannot be told apart from another env's copy."""
    props = fx.secret()
    props["metadata"]["name"] = name
    [message] = fx.run(naming.secret_name_form, SECRET, props)
    assert "Rename it" in message


def test_secret_without_name_fails(fx):
    """An auto-generated name carries no environment."""
    props = fx.secret()
    del props["metadata"]["name"]
    [message] = fx.run(naming.secret_name_form, SECRET, props)
    assert "sets no metadata.name" in message


@pytest.mark.parametrize("resource_type", [ES_V1, ES_V1BETA1])
def test_external_secret_target_name_checked(fx, resource_type):
    """The Secret an ExternalSecret writes obeys the same naming as one we create."""
    props = fx.external_secret(version=resource_type.split("/")[1].split(":")[0])
    assert fx.run(naming.secret_name_form, resource_type, props) == []
    props["spec"]["target"]["name"] = "snowflake-credentials"
    [message] = fx.run(naming.secret_name_form, resource_type, props)
    assert "spec.target.name" in message and "'snowflake-credentials'" in message


# --------------------------------------------------------------------------- naming-secret-keys-env-vars


def test_env_var_keys_pass(fx):
    assert fx.run(naming.secret_keys_env_vars, SECRET, fx.secret()) == []


@pytest.mark.parametrize("field", ["stringData", "data"])
def test_non_env_var_key_fails(fx, field):
    """envFrom silently drops keys that are not env-var names, so code would miss them."""
    props = fx.secret()
    props[field] = {"snowflake-password": fx.CANARY}
    [message] = fx.run(naming.secret_keys_env_vars, SECRET, props)
    assert "'snowflake-password'" in message and fx.CANARY not in message


@pytest.mark.parametrize(
    "secret_type,keys",
    [
        ("kubernetes.io/dockerconfigjson", [".dockerconfigjson"]),
        ("kubernetes.io/tls", ["tls.crt", "tls.key"]),
    ],
)
def test_type_mandated_keys_pass(fx, secret_type, keys):
    """Typed Secrets must use the keys Kubernetes prescribes."""
    props = fx.secret()
    props["type"] = secret_type
    props["stringData"] = {k: fx.CANARY for k in keys}
    assert fx.run(naming.secret_keys_env_vars, SECRET, props) == []


def test_mandated_key_of_another_type_fails(fx):
    """'tls.crt' is only allowed in a kubernetes.io/tls Secret."""
    props = fx.secret()
    props["stringData"] = {"tls.crt": fx.CANARY}
    [message] = fx.run(naming.secret_keys_env_vars, SECRET, props)
    assert "'tls.crt'" in message


def test_external_secret_keys_checked(fx):
    props = fx.external_secret()
    assert fx.run(naming.secret_keys_env_vars, ES_V1, props) == []
    props["spec"]["data"][0]["secretKey"] = "snowflake.password"
    [message] = fx.run(naming.secret_keys_env_vars, ES_V1, props)
    assert "'snowflake.password'" in message


# --------------------------------------------------------------------------- naming-namespace-env-suffix


def test_namespace_name_passes(fx):
    assert fx.run(naming.namespace_env_suffix, NAMESPACE, fx.namespace()) == []


@pytest.mark.parametrize("name", ["dagster", "dagster-prod", "dagster-producti", "prd-dagster", "Dagster-prd"])
def test_namespace_without_env_suffix_fails(fx, name):
    """Namespaces carry their environment at the end: '<workload>-<env>'."""
    props = fx.namespace()
    props["metadata"]["name"] = name
    [message] = fx.run(naming.namespace_env_suffix, NAMESPACE, props)
    assert "does not end in '-<env>'" in message


@pytest.mark.parametrize("name", ["flytesnacks-production", "flytesnacks-development", "flytesnacks-staging"])
def test_flyte_project_namespace_passes(fx, name):
    """A Flyte project's namespace '<project>-<domain>' carries its environment as the domain (conventions.FLYTE_DOMAINS)."""
    props = fx.namespace()
    props["metadata"]["name"] = name
    assert fx.run(naming.namespace_env_suffix, NAMESPACE, props) == []


def test_namespace_without_name_fails(fx):
    props = fx.namespace()
    del props["metadata"]["name"]
    [message] = fx.run(naming.namespace_env_suffix, NAMESPACE, props)
    assert "sets no metadata.name" in message


# --------------------------------------------------------------------------- naming-object-labels-required


def test_labelled_objects_pass(fx):
    assert fx.run(naming.object_labels_required, SECRET, fx.secret()) == []
    assert fx.run(naming.object_labels_required, NAMESPACE, fx.namespace()) == []


def test_patch_is_not_a_created_object(fx):
    """The namespace's `default` SA is patched, not created: it keeps the labels it has."""
    props = fx.service_account_patch()
    assert fx.run(naming.object_labels_required, "kubernetes:core/v1:ServiceAccountPatch", props) == []


@pytest.mark.parametrize("key", ["app.kubernetes.io/managed-by", "app.kubernetes.io/part-of", "secrets-platform.io/environment"])
def test_missing_label_fails(fx, key):
    props = fx.secret()
    del props["metadata"]["labels"][key]
    [message] = fx.run(naming.object_labels_required, SECRET, props)
    assert f"'{key}' is missing" in message


@pytest.mark.parametrize(
    "key,value",
    [("app.kubernetes.io/managed-by", "helm"), ("app.kubernetes.io/part-of", "other"), ("secrets-platform.io/environment", "production")],
)
def test_wrong_label_value_fails(fx, key, value):
    props = fx.secret()
    props["metadata"]["labels"][key] = value
    [message] = fx.run(naming.object_labels_required, SECRET, props)
    assert f"'{key}' is not" in message and value not in message


def test_no_labels_at_all_fails(fx):
    props = fx.secret()
    del props["metadata"]["labels"]
    [message] = fx.run(naming.object_labels_required, SECRET, props)
    assert message.count("is missing") == 3


def test_non_kubernetes_resources_are_ignored(fx):
    """RandomPassword and component resources carry no labels and need none."""
    assert fx.run(naming.object_labels_required, "random:index/randomPassword:RandomPassword", {"length": 40}) == []
    assert fx.run(naming.object_labels_required, "secrets-platform:k8s:GeneratedCredential", {}) == []
    assert fx.run(naming.object_labels_required, "kubernetes:helm.sh/v3:Release", fx.vault_release()) == []


# --------------------------------------------------------------------------- keys declared for preview

KEYS = conventions.SECRET_KEYS_ANNOTATION


def declared(fx, keys: str, data):
    props = fx.secret()
    props["metadata"]["annotations"][KEYS] = keys
    del props["stringData"]
    props["data"] = data
    return props


def test_unknown_data_in_prd_passes_on_the_declared_keys(fx):
    """The first prd preview: passwords don't exist yet, the key names do."""
    assert fx.run(naming.secret_keys_env_vars, SECRET, declared(fx, "SNOWFLAKE_PASSWORD,SNOWFLAKE_USER", fx.UNKNOWN)) == []


def test_unknown_data_without_declared_keys_fails_closed_in_prd(fx):
    props = fx.secret()
    props["stringData"] = fx.UNKNOWN
    [message] = fx.run(naming.secret_keys_env_vars, SECRET, props)
    assert "unknown" in message.lower() and "stringData" in message


def test_a_declared_key_that_is_no_env_var_fails(fx):
    [message] = fx.run(naming.secret_keys_env_vars, SECRET, declared(fx, "SNOWFLAKE_PASSWORD,snowflake-user", fx.UNKNOWN))
    assert "'snowflake-user'" in message


def test_data_that_differs_from_the_declared_keys_fails(fx):
    props = declared(fx, "SNOWFLAKE_PASSWORD", {"SNOWFLAKE_PASSWORD": fx.CANARY, "EXTRA_TOKEN": fx.CANARY})
    [message] = fx.run(naming.secret_keys_env_vars, SECRET, props)
    assert "'EXTRA_TOKEN'" in message and KEYS in message and fx.CANARY not in message


def test_data_that_matches_the_declared_keys_passes(fx):
    props = declared(fx, "SNOWFLAKE_PASSWORD,SNOWFLAKE_USER", {"SNOWFLAKE_PASSWORD": fx.CANARY, "SNOWFLAKE_USER": fx.CANARY})
    assert fx.run(naming.secret_keys_env_vars, SECRET, props) == []
