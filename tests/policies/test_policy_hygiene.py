"""Hygiene rules: credential-looking keys, Vault dev mode, pinned Helm charts."""

from __future__ import annotations

import pytest
from policy_fixtures import CANARY, fx  # noqa: F401  (the fixture this module's tests take)
from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs
from pulumi_policy.proxy import unknown_checking_proxy

from secrets_platform import conventions
from secrets_platform.policies.rules import hygiene

CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SECRET = "kubernetes:core/v1:Secret"
RELEASE = "kubernetes:helm.sh/v3:Release"
CHART = "kubernetes:helm.sh/v4:Chart"


# --------------------------------------------------------------------------- the detector


@pytest.mark.parametrize(
    "key",
    [
        "SNOWFLAKE_PASSWORD",
        "password",
        "DAGSTER_SECRET_SLACK_BOT_OAUTH_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "snowflakePrivateKey",
        "api-key",
        "GITHUB_TOKEN",
        "client_secret",
        "credentials",
        "JWT_SIGNING_KEY",
    ],
)
def test_credential_keys_detected(key):
    assert hygiene.is_credential_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "SNOWFLAKE_ACCOUNT",
        "DBT_PROFILES_DIR",
        "PARTITION_KEY",
        "sort-key",
        "SNOWFLAKE_PASSWORD_FILE",
        "TOKEN_TTL",
        "SECRET_NAME",
        "MAX_TOKENS",
        "match",
        "environment",
        "gcp-service-account",
        "keyboard",
        "monkey",
        "tokenizer",
    ],
)
def test_references_and_look_alikes_not_detected(key):
    """Words, not substrings: PARTITION_KEY, monkey and a *_FILE path are not credentials."""
    assert not hygiene.is_credential_key(key)


# --------------------------------------------------------------------------- hygiene-configmap-no-credential-keys


def test_configmap_without_credentials_passes(fx):
    assert fx.run(hygiene.configmap_no_credential_keys, CONFIG_MAP, fx.configmap()) == []


@pytest.mark.parametrize("field,key", [("data", "SNOWFLAKE_PASSWORD"), ("binaryData", "ssh_private_key")])
def test_configmap_with_credential_key_fails(fx, field, key):
    props = fx.configmap()
    props[field] = {key: fx.CANARY}
    [message] = fx.run(hygiene.configmap_no_credential_keys, CONFIG_MAP, props)
    assert f"'{key}'" in message and fx.CANARY not in message


def test_configmap_allowed_key_passes(fx):
    """A reviewed false positive is allowed through config, not a code change."""
    props = fx.configmap()
    props["data"]["OAUTH_TOKEN_ENDPOINT_STYLE"] = fx.CANARY
    assert fx.run(hygiene.configmap_no_credential_keys, CONFIG_MAP, props)
    config = {"allowedKeys": ["OAUTH_TOKEN_ENDPOINT_STYLE"]}
    assert fx.run(hygiene.configmap_no_credential_keys, CONFIG_MAP, props, config=config) == []


# --------------------------------------------------------------------------- hygiene-metadata-no-credential-keys


def test_platform_metadata_passes(fx):
    """Our own labels (secrets-platform.io/environment) and Reloader's annotation are fine."""
    assert fx.run(hygiene.metadata_no_credential_keys, SECRET, fx.secret()) == []


@pytest.mark.parametrize(
    "key",
    [
        "reloader.stakater.com/match",
        "secret.reloader.stakater.com/reload",
        "iam.gke.io/gcp-service-account",
        "vault.hashicorp.com/agent-inject-secret-snowflake",
        "vault.hashicorp.com/agent-inject-token",
        "kubernetes.io/service-account.name",
        "external-secrets.io/secret-store",
    ],
)
def test_controller_annotations_pass(fx, key):
    props = fx.secret()
    props["metadata"]["annotations"][key] = fx.CANARY
    assert fx.run(hygiene.metadata_no_credential_keys, SECRET, props) == []


@pytest.mark.parametrize(
    "field,key", [("annotations", "example.com/db-password"), ("annotations", "api_token"), ("labels", "acme.io/access-key")]
)
def test_credential_metadata_key_fails(fx, field, key):
    props = fx.secret()
    props["metadata"][field][key] = fx.CANARY
    [message] = fx.run(hygiene.metadata_no_credential_keys, SECRET, props)
    assert f"'{key}'" in message and field in message and fx.CANARY not in message


# --------------------------------------------------------------------------- hygiene-vault-chart-no-dev-mode


@pytest.mark.parametrize("resource_type", [RELEASE, CHART])
def test_vault_chart_without_dev_mode_passes(fx, resource_type):
    assert fx.run(hygiene.vault_chart_no_dev_mode, resource_type, fx.vault_release()) == []


@pytest.mark.parametrize("enabled", [True, "true"])
@pytest.mark.parametrize("resource_type", [RELEASE, CHART])
@pytest.mark.parametrize("stack", ["dev", "stg", "prd"])
def test_vault_dev_mode_outside_local_fails(fx, resource_type, stack, enabled):
    """Dev mode: in-memory storage, unsealed, a root token: never for real data."""
    props = fx.vault_release(stack)
    props["values"]["server"]["dev"]["enabled"] = enabled
    [message] = fx.run(hygiene.vault_chart_no_dev_mode, resource_type, props, stack=stack)
    assert "server.dev.enabled" in message and fx.CANARY not in message


@pytest.mark.parametrize("chart", ["hashicorp/vault", "oci://registry.example.com/charts/vault"])
def test_vault_chart_recognised_by_any_source(fx, chart):
    props = fx.vault_release()
    props["chart"] = chart
    props["values"]["server"]["dev"]["enabled"] = True
    assert fx.run(hygiene.vault_chart_no_dev_mode, RELEASE, props)


def test_vault_dev_mode_in_local_passes(fx):
    props = fx.vault_release("local")
    props["values"]["server"]["dev"]["enabled"] = True
    assert fx.run(hygiene.vault_chart_no_dev_mode, RELEASE, props, stack="local") == []


def test_vault_values_from_files_fail_closed_in_prd(fx):
    """The pack cannot read value files: in prd that is not proof of safety."""
    props = fx.vault_release()
    props["valueYamlFiles"] = ["values-prd.yaml"]
    [message] = fx.run(hygiene.vault_chart_no_dev_mode, CHART, props)
    assert "cannot be inspected" in message
    assert fx.run(hygiene.vault_chart_no_dev_mode, CHART, {**fx.vault_release("dev"), "valueYamlFiles": ["v.yaml"]}, stack="dev") == []


# --------------------------------------------------------------------------- hygiene-helm-chart-version-pinned


@pytest.mark.parametrize("resource_type", [RELEASE, CHART])
def test_pinned_chart_passes(fx, resource_type):
    assert fx.run(hygiene.helm_chart_version_pinned, resource_type, fx.eso_chart()) == []
    assert fx.run(hygiene.helm_chart_version_pinned, resource_type, fx.vault_release()) == []


@pytest.mark.parametrize(
    "chart",
    ["./charts/vault", "../vendor/vault", "oci://r.example.com/vault@sha256:" + "a" * 64, "https://example.com/charts/vault-0.28.1.tgz"],
)
def test_local_digest_and_versioned_tarball_pass(fx, chart):
    props = fx.eso_chart()
    props["chart"] = chart
    del props["version"]
    assert fx.run(hygiene.helm_chart_version_pinned, CHART, props) == []


@pytest.mark.parametrize("version", [None, "", "^0.10.0", "~0.10", "0.10.x", ">=0.10.0", "*", "latest"])
@pytest.mark.parametrize("resource_type", [RELEASE, CHART])
def test_unpinned_chart_fails(fx, resource_type, version):
    props = fx.eso_chart()
    if version is None:
        del props["version"]
    else:
        props["version"] = version
    [message] = fx.run(hygiene.helm_chart_version_pinned, resource_type, props)
    assert "'external-secrets'" in message and "exact release" in message


# --------------------------------------------------------------------------- dev mode as the vault chart renders it

STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
VAULT_CHART_CHILD = "secrets-platform:vault:Server$kubernetes:helm.sh/v4:Chart$kubernetes:apps/v1:StatefulSet"


# The server container's script as the vault chart 0.34.1 renders it (hashicorp/vault-helm, templates/_helpers.tpl,
# "vault.args"; server.extraArgs at the end of the server's line), per mode. The error messages' prose is shortened,
# their quoting kept.
_CHART_PREAMBLE = "cp /vault/config/extraconfig-from-values.hcl /tmp/storageconfig.hcl;\n" + "".join(
    f'[ -n "${{{v}}}" ] && sed -Ei "s|{v}|${{{v}?}}|g" /tmp/storageconfig.hcl;\n'
    for v in ("HOST_IP", "POD_IP", "HOSTNAME", "API_ADDR", "TRANSIT_ADDR", "RAFT_ADDR")
)
_CHART_RAFT = r"""if grep -vE '^[[:space:]]*(#|//)' /tmp/storageconfig.hcl | grep -qE '\"?autopilot_redundancy_zone\"?[[:space:]]*[=:][[:space:]]*\"VAULT_REDUNDANCY_ZONE\"'; then
  echo "ERROR: a redundancy zone placeholder, but redundancy zones are off." >&2;
  exit 1;
fi;
"""
_CHART_ZONES = r"""if [ -n "${VAULT_REDUNDANCY_ZONE}" ]; then
  sed -Ei 's|(\"?autopilot_redundancy_zone\"?[[:space:]]*[=:][[:space:]]*)\"VAULT_REDUNDANCY_ZONE\"|\1\"'"${VAULT_REDUNDANCY_ZONE}"'\"|g' /tmp/storageconfig.hcl;
else
  echo "ERROR: no zone label on the pod (see kubectl get pod \${HOSTNAME} -o jsonpath='{.metadata.labels}')" >&2;
  exit 1;
fi;
"""
CHART_MODES = {
    "standalone": _CHART_PREAMBLE,
    "ha-raft": _CHART_PREAMBLE + _CHART_RAFT,
    "ha-raft-zones": _CHART_PREAMBLE + _CHART_ZONES,
}


def chart_script(mode: str, extra_args: str = "") -> str:
    """The script the chart renders for ``mode`` ('dev', 'standalone', 'ha-raft', 'ha-raft-zones')."""
    if mode == "dev":
        return f"/usr/local/bin/docker-entrypoint.sh vault server -dev {extra_args}\n"
    return CHART_MODES[mode] + f"/usr/local/bin/docker-entrypoint.sh vault server -config=/tmp/storageconfig.hcl {extra_args}\n"


def vault_statefulset(env: str, dev: bool, chart: str = "vault-0.34.1", container: dict | None = None) -> dict:
    """The server StatefulSet of the vault chart 0.34.1 (hashicorp/vault-helm), container command/args/env as rendered."""
    env_vars = [{"name": "VAULT_ADDR", "value": "http://127.0.0.1:8200"}]
    if dev:
        env_vars += [{"name": "VAULT_DEV_ROOT_TOKEN_ID", "value": CANARY}, {"name": "VAULT_DEV_LISTEN_ADDRESS", "value": "[::]:8200"}]
    rendered = {"name": "vault", "command": ["/bin/sh", "-ec"], "args": [chart_script("dev" if dev else "standalone")], "env": env_vars}
    return {
        "metadata": {"name": "vault", "namespace": f"vault-{env}", "labels": {"helm.sh/chart": chart, **conventions.labels(env)}},
        "spec": {"template": {"spec": {"containers": [container if container is not None else rendered]}}},
    }


def server_container(command: list[str] | None, args: list[str] | None = None, image: str = "hashicorp/vault:1.17.2") -> dict:
    """A container without the dev root token variable: whatever it runs is read from its command alone."""
    container: dict = {"name": "vault", "image": image, "env": [{"name": "VAULT_ADDR", "value": "http://127.0.0.1:8200"}]}
    if command is not None:
        container["command"] = command
    if args is not None:
        container["args"] = args
    return container


def in_shell(script: str) -> dict:
    return server_container(["/bin/sh", "-ec"], [script])


def _run_child(props, stack):
    args = ResourceValidationArgs(
        STATEFUL_SET,
        unknown_checking_proxy(props),
        f"urn:pulumi:{stack}::secrets-platform::{VAULT_CHART_CHILD}::vault-chart:vault-{stack}/vault",
        "vault-chart:vault",
        PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None),
        None,
        {},
    )
    found: list[str] = []
    hygiene.vault_chart_no_dev_mode.validate(args, lambda m, u: found.append(m))
    return found


@pytest.mark.parametrize("stack", ["dev", "stg", "prd"])
def test_rendered_vault_server_not_in_dev_mode_passes(stack):
    assert _run_child(vault_statefulset(stack, dev=False), stack) == []


@pytest.mark.parametrize("stack", ["dev", "prd"])
def test_rendered_vault_server_in_dev_mode_fails_without_showing_the_token(stack):
    [message] = _run_child(vault_statefulset(stack, dev=True), stack)
    assert "dev mode" in message and CANARY not in message


def test_rendered_dev_mode_is_fine_in_local_only():
    assert _run_child(vault_statefulset("local", dev=True), "local") == []
    # whatever rendered it (the vault chart's StatefulSet carries no helm.sh/chart label)
    [message] = _run_child(vault_statefulset("stg", dev=True, chart="other-1.0.0"), "stg")
    assert "dev mode" in message


@pytest.mark.parametrize("version", ["2.9.0", "v0.34.1", "1.0.0-rc.1", "2.9.0+build.5", "2.9", "~2.9.0", "latest", ">=2.9.0", "2.9.0 "])
def test_settings_and_pack_agree_on_an_exact_chart_version(fx, version):
    """One pattern (conventions): a chartVersion the settings accept is one the pack admits, and the reverse."""
    from support import load

    from secrets_platform import settings

    props = fx.eso_chart()
    props["version"] = version
    admitted = fx.run(hygiene.helm_chart_version_pinned, CHART, props) == []
    try:
        load("dev", gcp={"project": "example-data-platform"}, externalSecrets={"enabled": True, "chartVersion": version})
        accepted = True
    except settings.ConfigError as err:
        assert "externalSecrets.chartVersion" in str(err)
        accepted = False
    assert accepted == admitted, (
        f"settings {'accept' if accepted else 'refuse'} {version!r}, the pack {'admits' if admitted else 'refuses'} it"
    )
