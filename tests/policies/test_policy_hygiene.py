"""Hygiene rules: credential-looking keys, Vault dev mode, pinned Helm charts."""

from __future__ import annotations

import pytest
from policy_fixtures import CANARY, fx  # noqa: F401  (the fixture this module's tests take)
from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs
from pulumi_policy.proxy import unknown_checking_proxy

from secrets_platform import conventions
from secrets_platform.policies.rules import hygiene
from secrets_platform.policies.support import artifact_name

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


def _run_child(props, stack, kind: str = STATEFUL_SET):
    args = ResourceValidationArgs(
        kind,
        unknown_checking_proxy(props),
        f"urn:pulumi:{stack}::secrets-platform::{VAULT_CHART_CHILD.replace(STATEFUL_SET, kind)}::vault-chart:vault-{stack}/vault",
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


DEPLOYMENT = "kubernetes:apps/v1:Deployment"


@pytest.mark.parametrize("stack", ["dev", "prd"])
@pytest.mark.parametrize("program", [["bao", "server", "-dev"], ["vault", "server", "--dev=true"]], ids=["bao", "vault"])
def test_a_deployment_that_starts_a_dev_server_fails_outside_local(stack, program):
    """Not only the chart's StatefulSet: a Deployment (the other pod-running kind the pack admits) is read the same way."""
    deployment = vault_statefulset(stack, dev=False, container=server_container(program))
    [message] = _run_child(deployment, stack, DEPLOYMENT)
    assert "runs Vault in dev mode" in message and "spec.template.spec.containers[0]" in message
    assert _run_child(vault_statefulset("local", dev=False, container=server_container(program)), "local", DEPLOYMENT) == []


@pytest.mark.parametrize("kind", [STATEFUL_SET, DEPLOYMENT])
def test_a_dev_server_in_an_init_container_fails(kind):
    """A native sidecar (an init container with restartPolicy Always) runs for the pod's whole life."""
    sidecar = {**server_container(["vault", "server", "-dev"]), "restartPolicy": "Always"}
    props = vault_statefulset("prd", dev=False)
    props["spec"]["template"]["spec"]["initContainers"] = [sidecar]
    [message] = _run_child(props, "prd", kind)
    assert "runs Vault in dev mode (spec.template.spec.initContainers[0]" in message


def test_deployments_that_start_no_vault_server_pass():
    """What the charts render beside Vault (the injector, ESO, Reloader) runs other programs, some from args alone."""
    for container in (
        server_container(None, ["agent-inject", "2>&1"], image="hashicorp/vault-k8s:1.7.6"),
        server_container(None, ["--concurrent=1", "--metrics-addr=:8080"], image="ghcr.io/external-secrets/external-secrets:v0.16.2"),
        server_container(["/bin/sh", "-ec"], ["exec vault agent -config=/etc/agent.hcl"]),
        server_container(None, ["agent", "-config=/etc/agent.hcl"], image="hashicorp/vault:1.17.2"),
    ):
        assert _run_child(vault_statefulset("prd", dev=False, container=container), "prd", DEPLOYMENT) == [], container


@pytest.mark.parametrize("variable", ["VAULT_DEV_ROOT_TOKEN_ID", "BAO_DEV_ROOT_TOKEN_ID"])
def test_a_dev_root_token_variable_is_dev_mode_under_either_servers_name(variable):
    """OpenBao reads its dev root token from BAO_DEV_ROOT_TOKEN_ID (``bao server -h``), Vault from VAULT_DEV_ROOT_TOKEN_ID."""
    container = server_container(["/bin/sh", "-ec"], ["exec bao server -config=/openbao/config"])
    container["env"].append({"name": variable, "value": CANARY})
    [message] = _run_child(vault_statefulset("prd", dev=False, container=container), "prd")
    assert "dev mode" in message and CANARY not in message


def test_rendered_dev_mode_is_fine_in_local_only():
    assert _run_child(vault_statefulset("local", dev=True), "local") == []
    # whatever rendered it (the vault chart's StatefulSet carries no helm.sh/chart label)
    [message] = _run_child(vault_statefulset("stg", dev=True, chart="other-1.0.0"), "stg")
    assert "dev mode" in message


# The server's flags are read by Go's rules (Vault and OpenBao parse them with the flag package): each of these
# starts dev mode, and each passed the old reading (a regex for ' -dev' after 'vault server' on one line).
DEV_FLAGS = (
    ["--dev", "-dev=true", "-dev=1", "-dev=t", "-dev=T", "-dev=TRUE", "-dev=True", "--dev=true"]
    + [f"-{flag}" for flag in ("dev-tls", "dev-ha", "dev-transactional", "dev-three-node", "dev-four-cluster", "dev-leased-kv")]
    + [f"-{flag}" for flag in ("dev-auto-seal", "dev-kv-v1", "dev-no-kv", "dev-consul")]
)


@pytest.mark.parametrize("flag", DEV_FLAGS)
def test_every_way_go_reads_a_dev_flag_is_dev_mode(flag):
    script = chart_script("standalone", flag)
    [message] = _run_child(vault_statefulset("prd", dev=False, container=in_shell(script)), "prd")
    assert "runs Vault in dev mode" in message and "spec.template.spec.containers[0]" in message


@pytest.mark.parametrize(
    "container",
    [
        in_shell("bao server -dev"),
        in_shell("/bin/vault server -dev"),
        in_shell("exec /usr/bin/bao server -dev-tls"),
        in_shell('vault server "-dev"'),
        in_shell("vault server \\\n  -dev"),
        in_shell("vault server -config=/vault/config 2>&1 -dev"),
        in_shell("vault server -config=/x#y -dev"),
        in_shell("env VAULT_LOG_LEVEL=debug vault server -log-level debug -dev"),
        in_shell("sh -c 'vault server -dev'"),
        in_shell('nohup bash -lc "exec bao server --dev=true"'),
        in_shell("eval vault server -dev-ha"),
        in_shell("if true; then\n  vault server -dev-ha\nfi"),
        in_shell("echo starting; docker-entrypoint.sh server -dev"),
        server_container(["vault", "server"], ["-dev-ha"]),
        server_container(["/bin/sh", "-c", "vault server -dev", "sh"]),
        server_container(None, None),  # the image's own command: 'server -dev'
        server_container(None, ["server", "-dev-tls"], image="quay.io/openbao/openbao:2.6.2"),
    ],
    ids=lambda c: repr(c.get("args") or c.get("command") or c["image"])[:60],
)
def test_dev_mode_however_the_container_starts_the_server(container):
    [message] = _run_child(vault_statefulset("stg", dev=False, container=container), "stg")
    assert "runs Vault in dev mode" in message


@pytest.mark.parametrize("mode", ["standalone", "ha-raft", "ha-raft-zones"])
@pytest.mark.parametrize("extra_args", ["", "-log-level=debug", "-dev=false", "-config /vault/userconfig/extra.hcl -dev-ha=false"])
def test_the_charts_own_renderings_without_dev_mode_pass(mode, extra_args):
    """The chart's scripts hold expansions (sed "s|HOST_IP|${HOST_IP?}|g"), but none in the server's command."""
    container = in_shell(chart_script(mode, extra_args))
    assert _run_child(vault_statefulset("prd", dev=False, container=container), "prd") == []


def test_the_charts_dev_rendering_fails():
    [message] = _run_child(vault_statefulset("prd", dev=False, container=in_shell(chart_script("dev"))), "prd")
    assert "runs Vault in dev mode" in message


@pytest.mark.parametrize(
    "script",
    [
        "vault server -config=/x -- -dev",  # after '--', an argument
        "vault server -config=/x extra -dev",  # after the first argument, no flag is read
        "vault server -config=/x - -dev",
        "vault server -dev -dev=false",  # the last value counts
        "vault server -dev-root-token-id -dev -config=/x",  # -dev is the token's value
        "vault server -dev-no-store-token -dev-skip-init -config=/x",  # dev-* flags that are no dev mode
        'echo "Starting vault $VERSION"; vault server -config=/x',  # an expansion outside the server's command
        "vault server -config=/x # -dev",
        "vault status -address=$VAULT_ADDR; vault server -config=/x",
    ],
)
def test_what_go_does_not_read_as_dev_mode_passes(script):
    assert _run_child(vault_statefulset("prd", dev=False, container=in_shell(script)), "prd") == []


@pytest.mark.parametrize(
    ("container", "field", "shown", "problem"),
    [
        (in_shell(chart_script("standalone", "${EXTRA}")), "args[0]", "'${EXTRA}'", "the shell may expand this word"),
        (in_shell("vault server -config=/x $(cat /flags)"), "args[0]", "'$'", "the shell may expand this word"),
        (in_shell("vault server -config=/x `cat /flags`"), "args[0]", "'`cat'", "the shell may expand this word"),
        (in_shell("vault server -config=/vault/*.hcl"), "args[0]", "'-config=/vault/*.hcl'", "the shell may expand this word"),
        (in_shell("VAULT_ADDR=$ADDR vault server -config=/x"), "args[0]", "'VAULT_ADDR=$ADDR'", "the shell may expand this word"),
        (in_shell('exec "$@"'), "args[0]", "'$@'", "program is an expansion"),
        (in_shell('sh -c "$SERVER_COMMAND"'), "args[0]", "'$SERVER_COMMAND'", "program is an expansion"),
        (in_shell("vault server -config='/x"), "args[0]", "the script", "cannot be read"),
        (in_shell("vault server -dev=maybe"), "args[0]", "'-dev=maybe'", "invalid boolean value 'maybe' for -dev"),
        (in_shell("vault server -dev=yes"), "args[0]", "'-dev=yes'", "invalid boolean value"),
        (server_container(["vault", "server"], ["$(EXTRA_ARGS)"]), "args[0]", "'$(EXTRA_ARGS)'", "Kubernetes replaces $(VAR)"),
    ],
)
def test_what_the_pack_cannot_read_is_refused(container, field, shown, problem):
    [message] = _run_child(vault_statefulset("prd", dev=False, container=container), "prd")
    assert f"(spec.template.spec.containers[0].{field}: {shown}): " in message, message
    assert problem in message and "To fix: " in message and "cannot read" in message


@pytest.mark.parametrize("flags", [f"-dev-root-token-id={CANARY}$X", f"-dev-root-token-id {CANARY}$X", f"--dev-root-token-id '{CANARY}'*"])
def test_a_refusal_shows_no_credential_value(flags):
    """A credential flag's value is hidden whether it is written with '=' or as the next word."""
    container = in_shell(f"vault server {flags}")
    [message] = _run_child(vault_statefulset("prd", dev=False, container=container), "prd")
    assert CANARY not in message and "-dev-root-token-id=...'" in message, message


def test_expansions_outside_vault_containers_pass():
    """Another StatefulSet's scripts (a database's, with its own expansions) are not the rule's business."""
    container = {
        "name": "pg",
        "image": "postgres:16",
        "command": ["sh", "-c", 'exec docker-entrypoint.sh postgres -c "max_connections=$MAX"'],
    }
    assert _run_child(vault_statefulset("prd", dev=False, container=container), "prd") == []
    assert _run_child(vault_statefulset("prd", dev=False, container={"name": "pg", "image": "postgres:16"}), "prd") == []


@pytest.mark.parametrize("extra_args", ["-dev-ha", "--dev", "-log-level=debug -dev-tls"])
def test_vault_release_extra_args_starting_dev_mode_fail(fx, extra_args):
    """server.extraArgs is written after the server's flags in the chart's script: a dev flag there is dev mode."""
    props = fx.vault_release()
    props["values"]["server"]["extraArgs"] = extra_args
    [message] = fx.run(hygiene.vault_chart_no_dev_mode, RELEASE, props)
    assert "values.server.extraArgs" in message and "dev mode" in message and fx.CANARY not in message


@pytest.mark.parametrize(("extra_args", "problem"), [("${EXTRA}", "the shell may expand"), (["-dev"], "not a string")])
def test_vault_release_extra_args_the_pack_cannot_read_fail(fx, extra_args, problem):
    props = fx.vault_release()
    props["values"]["server"]["extraArgs"] = extra_args
    [message] = fx.run(hygiene.vault_chart_no_dev_mode, RELEASE, props)
    assert "values.server.extraArgs" in message and problem in message


@pytest.mark.parametrize("extra_args", ["", "-log-level=debug", "-dev=false -config=/vault/userconfig/x.hcl"])
def test_vault_release_plain_extra_args_pass(fx, extra_args):
    props = fx.vault_release()
    props["values"]["server"]["extraArgs"] = extra_args
    assert fx.run(hygiene.vault_chart_no_dev_mode, RELEASE, props) == []


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


@pytest.mark.parametrize(
    ("reference", "name"),
    [
        ("vault", "vault"),
        ("hashicorp/vault", "vault"),
        ("oci://registry.example/charts/vault/", "vault"),
        ("hashicorp/vault:1.17.2", "vault"),
        ("localhost:5000/openbao/openbao:2.1@sha256:" + "0" * 64, "openbao"),
        ("quay.io/openbao/openbao-ubi@sha256:" + "1" * 64, "openbao-ubi"),
    ],
)
def test_a_chart_or_image_reference_is_named_without_registry_path_tag_or_digest(reference, name):
    assert artifact_name(reference) == name
