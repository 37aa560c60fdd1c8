"""The local Vault agent injector's pure parts: its webhook, its command line, the injected agent config on the host."""

from __future__ import annotations

import base64
import ipaddress
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from secrets_platform import conventions
from secrets_platform.localcluster import Cluster, ClusterError, Ports, injector
from secrets_platform.localcluster.vault import OpenBao

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
CA = b"-----BEGIN CERTIFICATE-----\nlocal\n-----END CERTIFICATE-----\n"


def test_the_webhook_calls_the_injector_on_loopback_with_the_local_ca():
    doc = injector.webhook_configuration(20008, CA)
    assert doc["kind"] == "MutatingWebhookConfiguration"
    assert doc["metadata"]["name"] == conventions.VAULT_INJECTOR_WEBHOOK_CONFIGURATION
    (hook,) = doc["webhooks"]
    assert hook["clientConfig"] == {"url": "https://127.0.0.1:20008/mutate", "caBundle": base64.b64encode(CA).decode()}
    assert "service" not in hook["clientConfig"]


def test_the_webhook_has_no_side_effects_so_dry_runs_are_mutated():
    (hook,) = injector.webhook_configuration(1, CA)["webhooks"]
    assert hook["sideEffects"] == "None"
    assert hook["admissionReviewVersions"] == ["v1"]


def test_the_webhook_sees_only_annotated_pods_created_in_the_platforms_namespaces():
    (hook,) = injector.webhook_configuration(1, CA)["webhooks"]
    assert hook["rules"] == [
        {"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "scope": "Namespaced"}
    ]
    assert hook["namespaceSelector"] == {"matchLabels": {conventions.LABEL_PART_OF: conventions.PROJECT}}
    assert conventions.labels("local")[conventions.LABEL_PART_OF] == conventions.PROJECT  # what platform namespaces carry
    (condition,) = hook["matchConditions"]
    assert "'vault.hashicorp.com/agent-inject' in object.metadata.annotations" in condition["expression"]


def test_a_pod_that_asks_for_the_agent_is_refused_when_the_injector_is_down_never_started_without_it():
    (hook,) = injector.webhook_configuration(1, CA)["webhooks"]
    assert hook["failurePolicy"] == "Fail"
    assert hook["reinvocationPolicy"] == "Never" and hook["timeoutSeconds"] <= 10


def test_the_injectors_command_line_stays_on_loopback_with_the_local_ca(tmp_path):
    cluster = Cluster(tmp_path / "c", tmp_path / "bin", port_base=21000)
    args = dict(a.lstrip("-").split("=", 1) for a in injector.args(cluster))
    host, port = args["listen"].rsplit(":", 1)
    assert ipaddress.ip_address(host) in LOOPBACK and int(port) == Ports.from_base(21000).vault_injector
    assert args["tls-cert-file"] == str(cluster.pki / "vault-injector-serving.crt")
    assert args["tls-key-file"] == str(cluster.pki / "vault-injector-serving.key")
    assert args["vault-address"] == OpenBao(cluster).address
    assert ipaddress.ip_address(OpenBao(cluster).address.split("//")[1].split(":")[0]) in LOOPBACK
    assert args["vault-auth-path"] == f"auth/{conventions.vault_auth_path('local')}"


def test_the_injectors_port_is_the_clusters_own():
    ports = Ports.from_base(20000)
    assert ports.named()["Vault agent injector"] == ports.vault_injector == 20008
    assert OpenBao.PORT_OFFSET > 8  # the local Vault's two ports come after it


def test_a_missing_injector_binary_says_to_run_make_toolchain(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "external-secrets"):
        (bin_dir / name).write_text("")
    with pytest.raises(ClusterError, match=r"vault-injector is missing: run make toolchain \(it builds the Vault agent injector\)"):
        Cluster(tmp_path / "c", bin_dir).start()
    assert not (tmp_path / "c" / "pki").exists()


# --------------------------------------------------------------------------- the injected agent config


CONFIG: dict[str, Any] = {
    "auto_auth": {
        "method": {
            "type": "kubernetes",
            "mount_path": "auth/kubernetes-local",
            "config": {"role": "job-runner-floe-jobs-local", "token_path": "/var/run/secrets/vault.hashicorp.com/serviceaccount/token"},
        },
        "sink": [{"type": "file", "config": {"path": "/home/vault/.vault-token"}}],
    },
    "exit_after_auth": True,
    "pid_file": "/home/vault/.pid",
    "vault": {"address": "http://127.0.0.1:20010"},
    "template": [{"destination": "/vault/secrets/salesforce-client-id", "contents": '{{- with secret "floe/data/local/salesforce" -}}'}],
}


def pod_with(config: object) -> dict:
    env = [
        {"name": "VAULT_LOG_LEVEL", "value": "info"},
        {"name": "VAULT_CONFIG", "value": base64.b64encode(json.dumps(config).encode()).decode()},
    ]
    return {"spec": {"initContainers": [{"name": "vault-agent-init", "env": env}], "containers": [{"name": "job"}]}}


def test_the_agent_config_is_read_from_the_init_containers_vault_config():
    assert injector.agent_config(pod_with(CONFIG)) == CONFIG


@pytest.mark.parametrize(
    "pod, message",
    [
        ({"spec": {"containers": [{"name": "job"}]}}, "no vault-agent-init init container"),
        ({"spec": {"initContainers": [{"name": "vault-agent-init", "env": []}]}}, "has no VAULT_CONFIG"),
        (pod_with(["not", "an", "object"]), "not a JSON object"),
    ],
)
def test_a_pod_the_injector_did_not_mutate_says_what_is_missing(pod, message):
    with pytest.raises(injector.InjectionError, match=message):
        injector.agent_config(pod)


def test_on_the_host_only_where_files_live_changes(tmp_path):
    hosted = injector.on_host(CONFIG, tmp_path)
    assert hosted["pid_file"] == str(tmp_path / "home/vault/.pid")
    assert hosted["auto_auth"]["sink"][0]["config"]["path"] == str(tmp_path / "home/vault/.vault-token")
    assert hosted["auto_auth"]["method"]["config"]["token_path"] == str(
        tmp_path / "var/run/secrets/vault.hashicorp.com/serviceaccount/token"
    )
    assert [t["destination"] for t in hosted["template"]] == [str(tmp_path / "vault/secrets/salesforce-client-id")]
    # everything Vault judges stays as injected
    assert hosted["vault"] == CONFIG["vault"] and hosted["exit_after_auth"] is True
    assert hosted["auto_auth"]["method"]["mount_path"] == "auth/kubernetes-local"
    assert hosted["auto_auth"]["method"]["config"]["role"] == "job-runner-floe-jobs-local"
    assert [t["contents"] for t in hosted["template"]] == [t["contents"] for t in CONFIG["template"]]
    # the injected config itself is untouched
    assert CONFIG["pid_file"] == "/home/vault/.pid" and CONFIG["template"][0]["destination"] == "/vault/secrets/salesforce-client-id"


# --------------------------------------------------------------------------- the binary's own refusals (when built)

BINARY = Path(__file__).resolve().parents[2] / "build" / "cluster" / "vault-injector"


@pytest.mark.skipif(not BINARY.exists(), reason="vault-injector not built (make toolchain)")
@pytest.mark.parametrize(
    "flag, value, said",
    [
        ("-listen", "0.0.0.0:20008", '-listen "0.0.0.0:20008" is not a loopback address'),
        ("-vault-address", "http://10.0.0.1:8200", '-vault-address "http://10.0.0.1:8200" is not an http(s) URL on 127.0.0.0/8'),
        ("-tls-cert-file", "/nonexistent.crt", '-tls-cert-file "/nonexistent.crt"'),
    ],
)
def test_the_binary_refuses_what_the_local_platform_may_not_do_in_one_line(tmp_path, flag, value, said):
    (tmp_path / "a.crt").write_text("")
    (tmp_path / "a.key").write_text("")
    given = {
        "-listen": "127.0.0.1:1",
        "-vault-address": "http://127.0.0.1:2",
        "-tls-cert-file": str(tmp_path / "a.crt"),
        "-tls-key-file": str(tmp_path / "a.key"),
    }
    given[flag] = value
    done = subprocess.run([str(BINARY), *(f"{k}={v}" for k, v in given.items())], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.startswith("vault-injector: ") and said in done.stderr and done.stderr.count("\n") == 1, done.stderr
