"""The local cluster's Vault agent injector: vault-k8s's admission handler, served on 127.0.0.1.

On dev/stg/prd the Vault chart runs the injector as pods behind a Service, and the API server
calls it through that Service. Here nothing may leave loopback, so the admission handler of the
pinned vault-k8s module (package ``agent-inject``, toolchain/versions.txt) is served by a small
main of ours (``toolchain/kube/vault-injector``) as one more process of the cluster
(:data:`secrets_platform.localcluster.COMPONENTS`, started after External Secrets, stopped before it):

- it listens on ``127.0.0.1`` at the cluster's ``vault_injector`` port, with a serving
  certificate of the local CA (:data:`secrets_platform.localcluster.pki.VAULT_INJECTOR`, SAN 127.0.0.1 only);
- at every start the MutatingWebhookConfiguration
  :data:`conventions.VAULT_INJECTOR_WEBHOOK_CONFIGURATION` is applied with ``clientConfig.url``
  ``https://127.0.0.1:PORT/mutate`` and the CA as ``caBundle`` (a URL webhook: local only;
  a real cluster names a Service), ``sideEffects: None`` (so server-side dry runs are mutated too);
- injected agents are told the local OpenBao's address and, when a pod names no auth path,
  the local environment's Kubernetes auth method.

Scope: pods (CREATE) in namespaces labelled as the platform's (``app.kubernetes.io/part-of:
secrets-platform``) that carry the ``vault.hashicorp.com/agent-inject`` annotation (a match
condition, so no other pod ever waits on the webhook). ``failurePolicy: Fail``, where the
upstream chart defaults to ``Ignore``: the chart's injector runs as pods of the cluster it
mutates (a bootstrap loop ``Fail`` could deadlock), while this one is a host process started
before anything is applied; and for a job ``Ignore`` would mean a pod that asked for Vault
credentials starting without them (a run that fails later, far from the cause) instead of
one clear refusal naming the webhook.

What it cannot do: a pod here has only its own loopback (:mod:`secrets_platform.localcluster.node`), so an
injected agent inside a pod cannot reach Vault. :func:`agent_config` and :func:`on_host` let
the agent configuration the injector wrote run on the host with OpenBao's own agent instead
(tests/e2e/test_vault_injector_e2e.py).
"""

from __future__ import annotations

import base64
import copy
import json
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secrets_platform import conventions
from secrets_platform.localcluster import pki

if TYPE_CHECKING:
    from secrets_platform.localcluster import Cluster

COMPONENT = "vault-injector"
MUTATE_PATH = "/mutate"
READY_PATH = "/health/ready"
INJECT_ANNOTATION = "vault.hashicorp.com/agent-inject"
INIT_CONTAINER = "vault-agent-init"
SIDECAR_CONTAINER = "vault-agent"
FAILURE_POLICY = "Fail"
TIMEOUT_SECONDS = 10
# The local cluster serves the local stack: pods that name no auth path use its environment's method.
LOCAL_ENVIRONMENT = "local"


def webhook_configuration(port: int, ca_pem: bytes) -> dict[str, Any]:
    """The MutatingWebhookConfiguration that sends the platform's annotated pods to the injector on 127.0.0.1:``port``."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {
            "name": conventions.VAULT_INJECTOR_WEBHOOK_CONFIGURATION,
            "labels": {conventions.LABEL_PART_OF: conventions.PROJECT, conventions.LABEL_MANAGED_BY: "localcluster"},
        },
        "webhooks": [
            {
                "name": conventions.VAULT_INJECTOR_WEBHOOK,
                "clientConfig": {"url": f"https://127.0.0.1:{port}{MUTATE_PATH}", "caBundle": base64.b64encode(ca_pem).decode()},
                "rules": [
                    {"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "scope": "Namespaced"}
                ],
                "namespaceSelector": {"matchLabels": {conventions.LABEL_PART_OF: conventions.PROJECT}},
                # Only pods that ask for the agent reach the webhook; the handler decides on the annotation's value.
                "matchConditions": [
                    {
                        "name": "asks-for-the-vault-agent",
                        "expression": f"has(object.metadata.annotations) && '{INJECT_ANNOTATION}' in object.metadata.annotations",
                    }
                ],
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                "failurePolicy": FAILURE_POLICY,
                "matchPolicy": "Exact",
                "reinvocationPolicy": "Never",
                "timeoutSeconds": TIMEOUT_SECONDS,
            }
        ],
    }


def args(cluster: Cluster) -> list[str]:
    """The injector's command line: loopback listener, the local CA's certificate, the local Vault."""
    from secrets_platform.localcluster.vault import OpenBao

    crt, key = cluster.pki / f"{pki.VAULT_INJECTOR}.crt", cluster.pki / f"{pki.VAULT_INJECTOR}.key"
    return [
        f"-listen=127.0.0.1:{cluster.ports.vault_injector}",
        f"-tls-cert-file={crt}",
        f"-tls-key-file={key}",
        f"-vault-address={OpenBao(cluster).address}",
        f"-vault-auth-path=auth/{conventions.vault_auth_path(LOCAL_ENVIRONMENT)}",
        "-log-level=info",
    ]


def prepare(cluster: Cluster) -> None:
    """The serving certificate, made once (data folders created before the injector lack it)."""
    if not (cluster.pki / f"{pki.VAULT_INJECTOR}.crt").exists():
        pki.vault_injector_serving(cluster.pki)


def healthy(cluster: Cluster) -> bool:
    """/health/ready answers 204 over TLS that verifies against the local CA (as the API server will)."""
    ctx = ssl.create_default_context(cafile=str(cluster.pki / "ca.crt"))
    try:
        with urllib.request.urlopen(f"https://127.0.0.1:{cluster.ports.vault_injector}{READY_PATH}", timeout=2, context=ctx) as resp:
            return bool(resp.status == 204)
    except (urllib.error.URLError, OSError, ssl.SSLError):
        return False


def register(cluster: Cluster, timeout: float) -> None:
    """Apply the webhook configuration (server-side, idempotent) with this cluster's port and CA."""
    doc = webhook_configuration(cluster.ports.vault_injector, (cluster.pki / "ca.crt").read_bytes())
    cluster.kubectl(
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=secrets-platform-local",
        "-f",
        "-",
        input=json.dumps(doc),
        timeout=timeout,
    )


# --------------------------------------------------------------------------- the agent configuration it injects


class InjectionError(ValueError):
    """A pod the injector did not mutate as expected: the message says what is missing."""


def agent_config(pod: dict[str, Any]) -> dict[str, Any]:
    """The agent configuration the injector put into a pod: its init container's ``VAULT_CONFIG`` (base64 JSON)."""
    inits = {c.get("name"): c for c in (pod.get("spec") or {}).get("initContainers") or []}
    init = inits.get(INIT_CONTAINER)
    if init is None:
        raise InjectionError(f"the pod has no {INIT_CONTAINER} init container (was it mutated by the injector?)")
    env = {e.get("name"): e.get("value") for e in init.get("env") or []}
    if not env.get("VAULT_CONFIG"):
        raise InjectionError(f"the {INIT_CONTAINER} init container has no VAULT_CONFIG")
    config = json.loads(base64.b64decode(env["VAULT_CONFIG"]))
    if not isinstance(config, dict):
        raise InjectionError("VAULT_CONFIG is not a JSON object")
    return config


def _rooted(root: Path, path: str) -> str:
    return str(root / path.lstrip("/"))


def on_host(config: dict[str, Any], root: Path) -> dict[str, Any]:
    """The same agent configuration with the container's paths moved under ``root`` (a copy).

    Only where files live changes: the pid file, the token sink, the service-account token the
    method reads, and each template's destination. Vault's address, the auth method and its
    mount path, the role and every template's contents stay exactly as injected.
    """
    out = copy.deepcopy(config)
    if out.get("pid_file"):
        out["pid_file"] = _rooted(root, out["pid_file"])
    auto_auth = out.get("auto_auth") or {}
    method_config = (auto_auth.get("method") or {}).get("config") or {}
    if method_config.get("token_path"):
        method_config["token_path"] = _rooted(root, method_config["token_path"])
    for sink in auto_auth.get("sink") or []:
        sink_config = sink.get("config") or {}
        if sink_config.get("path"):
            sink_config["path"] = _rooted(root, sink_config["path"])
    for template in out.get("template") or []:
        template["destination"] = _rooted(root, template["destination"])
    return out


def wait_until(check, timeout: float, interval: float = 0.2) -> bool:
    """Poll ``check`` until it is true or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return bool(check())
