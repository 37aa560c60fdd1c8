"""Each component on its own, under mocks: what it registers and how."""

from __future__ import annotations

import base64
import json

from support import is_secret, load, pem, run_program, stack_settings

from secrets_platform import conventions
from secrets_platform.components.access import JobRunnerAccess, secret_rules
from secrets_platform.components.common import FORCE_APPLY, data_safety
from secrets_platform.components.credentials import GeneratedCredential
from secrets_platform.components.namespace import PlatformNamespace
from secrets_platform.components.registry_secret import RegistryPullSecret
from secrets_platform.components.tls_secret import PlatformTlsSecret
from secrets_platform.model.consumers import DOCKER_CONFIG_JSON, TLS
from secrets_platform.model.plan import generated_credential_spec, registry_spec, tls_spec
from secrets_platform.model.stack import job_runner_spec, namespace_spec

SECRET = "kubernetes:core/v1:Secret"

CERT = pem("CERTIFICATE")
KEY = pem("PRIVATE KEY")


def test_data_safety_protects_and_retains_only_when_asked():
    assert data_safety(True) == {"protect": True, "retain_on_delete": True}
    assert data_safety(False) == {"protect": False, "retain_on_delete": False}


def test_namespace_is_restricted_and_default_account_gets_no_token():
    s = load("dev")
    run = run_program(s, lambda s: PlatformNamespace("dagster", namespace_spec("dagster", "dev", False)))
    (ns,) = run.of_type("kubernetes:core/v1:Namespace")
    labels = ns.inputs["metadata"]["labels"]
    assert ns.inputs["metadata"]["name"] == "dagster-dev"
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    (patch,) = run.of_type("kubernetes:core/v1:ServiceAccountPatch")
    assert patch.inputs["metadata"]["name"] == "default"
    assert patch.inputs["metadata"]["namespace"] == "dagster-dev"
    assert patch.inputs["automountServiceAccountToken"] is False


def test_generated_credential_passwords_and_secret():
    s = load("dev")
    cred = s.config.credentials[0]
    run = run_program(
        s, lambda s: GeneratedCredential("snowflake", generated_credential_spec(cred, "dev", ("dagster-dev", "floe-jobs-dev"), False))
    )
    (pw,) = run.of_type("random:index/randomPassword:RandomPassword")
    assert pw.inputs["length"] == 40
    assert pw.inputs["keepers"] == {"rotation": "1"}
    secrets = run.of_type(SECRET)
    assert sorted(r.inputs["metadata"]["namespace"] for r in secrets) == ["dagster-dev", "floe-jobs-dev"]
    for r in secrets:
        assert r.inputs["metadata"]["name"] == "snowflake-dev-credentials"
        assert r.inputs["type"] == "Opaque"
        assert r.inputs["metadata"]["annotations"] == {
            **FORCE_APPLY,
            conventions.RELOADER_SECRET_ANNOTATION: "true",
            conventions.SECRET_KEYS_ANNOTATION: "SNOWFLAKE_PASSWORD,SNOWFLAKE_USER",  # names only: the pack's preview check
        }
        data = r.plain()["stringData"]
        assert data["SNOWFLAKE_USER"] == "svc"
        assert data["SNOWFLAKE_PASSWORD"] == "generated-snowflake-snowflake-password"


def test_default_password_is_at_least_32_characters():
    s = load("dev", credentials=[{"service": "api", "namespaces": ["dagster"], "generated": [{"key": "API_TOKEN"}]}])
    run = run_program(s)
    (pw,) = run.of_type("random:index/randomPassword:RandomPassword")
    assert pw.inputs["length"] >= 32
    assert pw.inputs["special"] is True and pw.inputs["numeric"] is True


def test_registry_pull_secret_has_a_valid_docker_config():
    s = load(
        "dev",
        secret_keys={"registries"},
        registries=[{"service": "ghcr", "server": "ghcr.io", "username": "bot", "password": "pw", "namespaces": ["dagster"]}],
    )
    run = run_program(s, lambda s: RegistryPullSecret("ghcr", registry_spec(s.config.registries[0], "dev", ("dagster-dev",), False)))
    (secret,) = run.of_type(SECRET)
    assert secret.inputs["metadata"]["name"] == "ghcr-dev-pull-secret"
    assert secret.inputs["type"] == DOCKER_CONFIG_JSON
    assert is_secret(secret.inputs["stringData"])
    config = json.loads(secret.plain()["stringData"][".dockerconfigjson"])
    auth = config["auths"]["ghcr.io"]
    assert base64.b64decode(auth["auth"]).decode() == "bot:pw"


def test_tls_secret_has_the_required_keys():
    s = load(
        "dev",
        secret_keys={"tlsSecrets"},
        tlsSecrets=[{"service": "dagster-web", "certificate": CERT, "privateKey": KEY, "namespaces": ["dagster"]}],
    )
    run = run_program(s, lambda s: PlatformTlsSecret("dagster-web-tls", tls_spec(s.config.tls_secrets[0], "dev", ("dagster-dev",), False)))
    (secret,) = run.of_type(SECRET)
    assert secret.inputs["metadata"]["name"] == "dagster-web-dev-tls-secret"
    assert secret.inputs["type"] == TLS
    assert sorted(secret.plain()["stringData"]) == ["tls.crt", "tls.key"]


def test_no_secrets_means_no_rule_rather_than_all_secrets():
    """An empty resourceNames would grant every Secret of the namespace."""
    assert secret_rules(()) == []
    assert secret_rules(("b", "a", "a")) == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["a", "b"]}]


def test_job_runner_access_objects():
    s = load("dev")
    run = run_program(s, lambda s: JobRunnerAccess("dagster", job_runner_spec("dagster-dev", "dev", ())))
    (sa,) = run.of_type("kubernetes:core/v1:ServiceAccount")
    assert sa.inputs["metadata"] == {
        "name": "job-runner",
        "namespace": "dagster-dev",
        "labels": conventions.labels("dev"),
        "annotations": FORCE_APPLY,
    }
    (role,) = run.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role")
    assert role.inputs.get("rules", []) == []


def test_provider_updates_secrets_in_place_and_renders_only_in_local():
    """Without enableSecretMutable a rotation would delete and recreate the Secret (a window without it)."""
    for env in ("local", "prd"):
        run = run_program(load(env))
        (provider,) = run.of_type("pulumi:providers:kubernetes")
        assert provider.inputs["enableSecretMutable"] in (True, "true"), provider.urn
        assert ("renderYamlToDirectory" in provider.inputs) == (env == "local"), provider.urn


def test_every_platform_object_takes_its_fields_back_on_the_next_up():
    """Server-side apply forces the platform's fields over an out-of-band edit (the drift repair of `up`)."""
    run = run_program(stack_settings("dev"))
    objects = [
        r for r in run.resources if r.type.startswith("kubernetes:") and "metadata" in r.inputs and not r.type.startswith("kubernetes:helm")
    ]
    assert objects
    for r in objects:
        annotations = r.plain()["metadata"].get("annotations") or {}
        assert annotations.get("pulumi.com/patchForce") == "true", r.name
