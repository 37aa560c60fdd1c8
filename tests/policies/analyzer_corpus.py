"""Requests for tests/policies/test_analyzer.py: what the engine sends the pack, made to make every rule report.

- ``program_requests(stack)``: every registration of the real program for a stack
  (components included) as an ``AnalyzeRequest``, plus each custom resource again
  under another environment's URN, with every string unknown (preview), and with a
  provider;
- ``fixture_requests()``: resources of the kinds the program does not register
  (Vault, GCP, Helm, PushSecret, ...) from the policy tests' builders, compliant
  and with one violation each, under their own stack and under another one, so
  that every resource rule of the pack reports at least once;
- ``stack_requests()``: ``AnalyzeStackRequest``\\ s of the program's stacks, of a
  mix of stacks, and of the fixtures, so that every stack rule reports.
"""

from __future__ import annotations

import copy
from typing import Any

from google.protobuf import json_format, struct_pb2
from policy_fixtures import (
    CANARY,
    cluster_secret_store,
    configmap,
    eso_chart,
    labels,
    meta,
    project_iam_member,
    role_binding,
    secret,
    stack_reference,
    urn_of,
    vault_release,
    vault_role,
)
from pulumi.runtime import proto
from pulumi_policy.deserialize import SPECIAL_SIG_KEY
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from secrets_platform import conventions

SIGNATURE = SPECIAL_SIG_KEY  # the wire form's special-value key
STACKS = ("local", "dev", "stg", "prd")
OTHER = {"local": "prd", "dev": "prd", "stg": "dev", "prd": "dev"}
K8S_PROVIDER = {"renderYamlToDirectory": "rendered/local", "enableServerSideApply": "true"}


def struct(value: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(value)
    return s


def unknown_strings(value: Any) -> Any:
    if isinstance(value, dict) and SIGNATURE in value:  # a secret or asset: unknown as a whole
        return UNKNOWN_STRING_VALUE
    if isinstance(value, dict):
        return {k: unknown_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unknown_strings(v) for v in value]
    return UNKNOWN_STRING_VALUE if isinstance(value, str) else value


def _provider(stack: str) -> Any:
    return proto.AnalyzerProviderResource(
        type="pulumi:providers:kubernetes",
        urn=f"urn:pulumi:{stack}::secrets-platform::pulumi:providers:kubernetes::kubernetes-{stack}",
        name=f"kubernetes-{stack}",
        properties=struct(K8S_PROVIDER),
    )


def _variants(type_: str, properties: struct_pb2.Struct, urn: str, name: str, options: Any, stack: str) -> list[Any]:
    """A custom resource as registered, under another environment's URN, with every string unknown, with a provider."""
    wrong = urn.replace(f"urn:pulumi:{stack}::", f"urn:pulumi:{OTHER[stack]}::", 1)
    unknown = struct(unknown_strings(json_format.MessageToDict(properties)))
    return [
        proto.AnalyzeRequest(type=type_, properties=properties, urn=urn, name=name, options=options),
        proto.AnalyzeRequest(type=type_, properties=properties, urn=wrong, name=name, options=options),
        proto.AnalyzeRequest(type=type_, properties=unknown, urn=urn, name=name, options=options),
        proto.AnalyzeRequest(type=type_, properties=properties, urn=urn, name=name, options=options, provider=_provider(stack)),
    ]


def program_registrations(stack: str) -> list[Any]:
    """The mock monitor's registrations of the real program for ``stack``."""
    import mocks  # tests/mocks.py
    import support  # tests/support.py

    from secrets_platform.components.platform import build

    settings = support.stack_settings(stack)
    return mocks.evaluate(lambda: build(settings).outputs(), settings.stack).registered


def program_requests(stack: str) -> list[Any]:
    out = []
    for r in program_registrations(stack):
        options = proto.AnalyzerResourceOptions(protect=r.protect, parent=r.parent)
        if r.custom:
            out += _variants(r.type, r.object, r.urn, r.name, options, stack)
        else:
            out.append(proto.AnalyzeRequest(type=r.type, properties=r.object, urn=r.urn, name=r.name, options=options))
    return out


# --------------------------------------------------------------------------- resources the program does not register


def _violations() -> list[tuple[str, dict[str, Any]]]:
    """``(type, prd properties)`` each breaking one rule the program's resources never break."""
    leaky_configmap = configmap()
    leaky_configmap["data"]["SNOWFLAKE_PASSWORD"] = CANARY
    leaky_secret = secret()
    leaky_secret["metadata"]["annotations"]["example.com/db-password"] = CANARY
    dev_vault = vault_release()
    dev_vault["values"]["server"]["dev"]["enabled"] = True
    floating = eso_chart()
    floating["version"] = "^0.10.0"
    open_store = cluster_secret_store()
    del open_store["spec"]["conditions"]
    unbounded = vault_role()
    unbounded["boundServiceAccountNames"] = ["*"]
    return [
        ("kubernetes:core/v1:ConfigMap", leaky_configmap),
        ("kubernetes:core/v1:Secret", leaky_secret),
        ("kubernetes:helm.sh/v3:Release", dev_vault),
        ("kubernetes:helm.sh/v4:Chart", floating),
        ("kubernetes:external-secrets.io/v1:ClusterSecretStore", open_store),
        ("vault:kubernetes/authBackendRole:AuthBackendRole", unbounded),
        ("vault:index/policy:Policy", {"name": "floe-prd-admin", "policy": 'path "sys/*" {\n  capabilities = ["sudo", "update"]\n}\n'}),
        ("vault:index/audit:Audit", {"type": "file", "options": {"file_path": "stdout", "log_raw": "true"}}),
        ("gcp:projects/iAMMember:IAMMember", {**project_iam_member(), "role": "roles/secretmanager.secretAccessor"}),
        ("gcp:storage/bucket:Bucket", {"name": "not-judged-by-the-pack"}),
        ("kubernetes:core/v1:Secret", {**secret(), "metadata": {"name": "snowflake-prd-credentials", "namespace": "dagster-prd"}}),
    ]


def _compliant() -> list[tuple[str, dict[str, Any]]]:
    """``(type, prd properties)`` that pass in prd and break an isolation rule under another stack."""
    remote_user = {"key": "snowflake-prd-credentials", "property": "user"}
    es = {
        "secretStoreRef": {"name": "gcp-secret-manager-prd", "kind": "ClusterSecretStore"},
        "target": {"name": "snowflake-prd-credentials"},
        "data": [{"secretKey": "SNOWFLAKE_USER", "remoteRef": remote_user}],  # pragma: allowlist secret (a name)
    }
    vault_policy = 'path "floe/data/prd/salesforce" {\n  capabilities = ["read"]\n}\n'
    remote = {"remoteKey": "cube-prd-credentials", "property": "api"}
    return [
        ("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", role_binding()),
        ("kubernetes:external-secrets.io/v1:ClusterSecretStore", cluster_secret_store()),
        ("vault:kubernetes/authBackendRole:AuthBackendRole", vault_role()),
        ("vault:index/policy:Policy", {"name": "floe-floe-jobs-prd-read", "policy": vault_policy}),
        ("vault:database/secretBackendConnection:SecretBackendConnection", {"name": "warehouse-prd", "allowedRoles": ["warehouse-prd"]}),
        ("vault:database/secretBackendRole:SecretBackendRole", {"name": "warehouse-prd", "dbName": "warehouse-prd"}),
        ("pulumi:pulumi:StackReference", stack_reference()),
        (
            "kubernetes:external-secrets.io/v1alpha1:PushSecret",
            {
                "metadata": meta("cube-prd-push", "prd", "dagster-prd"),
                "spec": {
                    "secretStoreRefs": [{"name": "gcp-secret-manager-prd", "kind": "ClusterSecretStore"}],
                    "selector": {"secret": {"name": "cube-prd-credentials"}},
                    "data": [{"match": {"secretKey": "CUBE_API_SECRET", "remoteRef": remote}}],  # pragma: allowlist secret (a name)
                },
            },
        ),
        (
            "kubernetes:external-secrets.io/v1:ClusterExternalSecret",
            {
                "metadata": {"name": "snowflake-prd-fanout", "labels": labels("prd")},
                "spec": {
                    "externalSecretName": "snowflake-prd-credentials",  # pragma: allowlist secret (a name)
                    "namespaceSelectors": [{"matchLabels": {conventions.LABEL_ENVIRONMENT: "prd"}}],
                    "externalSecretSpec": es,
                },
            },
        ),
    ]


def chart_requests() -> list[Any]:
    """The External Secrets chart's objects (tests/policies/test_policy_operators.py) as an unreviewed release renders them."""
    from test_policy_operators import Objects

    out = []
    for item in Objects("dev", version="2.10.0").items:
        options = proto.AnalyzerResourceOptions(parent=item["parent"] or "")
        out.append(
            proto.AnalyzeRequest(type=item["type"], properties=struct(item["props"]), urn=item["urn"], name=item["name"], options=options)
        )
    return out


def fixture_requests() -> list[Any]:
    out = chart_requests()
    for index, (type_, props) in enumerate(_violations() + _compliant()):
        name = f"fixture-{index}"
        for protect in (False, True):
            options = proto.AnalyzerResourceOptions(protect=protect)
            out += _variants(type_, struct(copy.deepcopy(props)), urn_of(type_, name, "prd"), name, options, "prd")
    return out


# --------------------------------------------------------------------------- whole stacks


def _stack_resource(request: Any) -> Any:
    return proto.AnalyzerResource(
        type=request.type,
        properties=request.properties,
        urn=request.urn,
        name=request.name,
        options=request.options,
        provider=request.provider if request.HasField("provider") else None,
        parent=request.options.parent,
    )


def stack_requests(program: dict[str, list[Any]], fixtures: list[Any]) -> list[Any]:
    """Each stack's own registrations; all stacks at once; the fixtures; a stack not named after an environment."""
    own = {stack: [r for r in requests if r.urn.startswith(f"urn:pulumi:{stack}::")] for stack, requests in program.items()}
    renamed = [r for r in own["dev"] if r.type != "pulumi:pulumi:Stack"][:50]
    odd = [
        proto.AnalyzeRequest(type=r.type, properties=r.properties, urn=r.urn.replace("urn:pulumi:dev::", "urn:pulumi:main::"), name=r.name)
        for r in renamed
    ]
    groups = [*own.values(), [r for requests in own.values() for r in requests], fixtures, chart_requests(), odd]
    return [proto.AnalyzeStackRequest(resources=[_stack_resource(r) for r in group]) for group in groups]
