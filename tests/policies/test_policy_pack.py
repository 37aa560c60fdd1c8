"""The pack as a whole: metadata of every rule, exemptions, unknowns at preview, no value in any message.

The wire tests drive pulumi_policy's own analyzer servicer with protobuf requests
shaped like the engine's, so they cover what a unit call of ``validate`` cannot:
that an unknown in prd comes back *mandatory* (the SDK's own handling would make
it advisory), that policy config reaches the rules, and that the config schemas
serialize.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2, struct_pb2
from policy_fixtures import fx  # noqa: F401  (the fixture this module's tests take)
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.policy import _PolicyAnalyzerServicer

from secrets_platform.policies.rules import ALL_POLICIES

ROOT = Path(__file__).resolve().parents[2]
M = EnforcementLevel.MANDATORY

# name -> (enforcement level, description): changing a rule's contract is a visible diff here.
EXPECTED = {
    "naming-secret-name-form": (
        M,
        "Kubernetes Secrets (and the Secrets ExternalSecrets write) are named '<service>-<env>-credentials' or '<service>-<env>-<purpose>-secret'.",
    ),
    "naming-secret-keys-env-vars": (M, "Secret keys are environment-variable names, apart from the keys a typed Secret must use."),
    "naming-namespace-env-suffix": (M, "Namespace names end in '-<env>' with a known environment token."),
    "naming-object-labels-required": (
        M,
        "Every Kubernetes object the platform creates carries the managed-by, part-of and environment labels.",
    ),
    "isolation-object-env-agree": (
        M,
        "A Kubernetes object's stack, namespace, environment label and own name all name the same environment.",
    ),
    "isolation-binding-subject-env": (
        M,
        "A RoleBinding or ClusterRoleBinding binds no subject or role of another environment, and no group spanning every namespace.",
    ),
    "isolation-externalsecret-remote-key-env": (
        M,
        "An ExternalSecret reads only remote keys and stores of its own environment, and writes only its environment's Secret.",
    ),
    "isolation-pushsecret-env": (
        M,
        "A PushSecret pushes only its own environment's Secrets, through its environment's stores, to its environment's remote keys.",
    ),
    "isolation-clusterexternalsecret-env": (
        M,
        "A ClusterExternalSecret selects only its own environment's namespaces and reads only its environment's remote keys and stores.",
    ),
    "isolation-vault-policy-env": (M, "A Vault policy grants only paths of its own environment."),
    "isolation-vault-policy-no-control-paths": (
        M,
        "A Vault policy grants nothing on Vault's control paths (auth/, sys/, identity/) and no sudo, so no token can change roles or policies.",
    ),
    "isolation-secretstore-namespace-env": (
        M,
        "A ClusterSecretStore or SecretStore admits only its own environment's namespaces and uses only its environment's accounts.",
    ),
    "isolation-vault-role-env": (M, "A Vault Kubernetes-auth role is bound only to its own environment's namespaces and service accounts."),
    "isolation-vault-database-env": (
        M,
        "A Vault database connection or role serves only its own environment: its name, allowed roles and connection carry the environment, and its connection URL (read by libpq's rules) carries no credential but Vault's placeholders.",
    ),
    "isolation-gcp-iam-env": (
        M,
        "A GCP IAM grant on a project, secret or service account never gives one environment's resource to another environment's identity, or to identities spanning environments.",
    ),
    "isolation-stackreference-env": (M, "A StackReference never reads another environment's stack."),
    "isolation-stack-single-env": (
        M,
        "A stack is named after one environment token, and the engine, the resources and the stack config agree on it.",
    ),
    "privilege-role-no-wildcards": (M, "No Role or ClusterRole uses '*' in apiGroups, resources, verbs or nonResourceURLs."),
    "privilege-role-secret-get-by-name": (
        M,
        "Access to Secrets is 'get' with resourceNames in a namespaced Role: never list or watch, never a ClusterRole (a pinned operator chart's own roles are proven by privilege-operator-chart-admitted).",
    ),
    "privilege-operator-chart-admitted": (
        M,
        "A chart object that may break a resource rule (an operator's Secret-reading ClusterRole, its webhook's Secret) belongs to a pinned operator chart released in this environment, and its roles are bound only to that operator's own service accounts.",
    ),
    "privilege-binding-no-admin-roles": (
        M,
        "No RoleBinding or ClusterRoleBinding grants the built-in cluster-admin, admin or edit ClusterRoles.",
    ),
    "privilege-clustersecretstore-conditions-required": (
        M,
        "Every ClusterSecretStore restricts the namespaces that may use it with spec.conditions.",
    ),
    "privilege-gcp-no-project-secret-access": (
        M,
        "No project-, folder- or organization-wide grant of Secret Manager read access (secretAccessor or admin).",
    ),
    "privilege-vault-role-bounded": (
        M,
        "A Vault Kubernetes-auth role lists its service accounts and namespaces without '*' and sets an audience.",
    ),
    "hygiene-configmap-no-credential-keys": (
        M,
        "ConfigMaps hold no credential-looking keys (passwords, tokens, secrets, access or private keys).",
    ),
    "hygiene-metadata-no-credential-keys": (M, "No label or annotation key on a Kubernetes object looks like a credential."),
    "hygiene-vault-chart-no-dev-mode": (M, "The Vault Helm chart never runs with server.dev.enabled outside the local stack."),
    "hygiene-helm-chart-version-pinned": (M, "Every Helm chart from a repository or registry is pinned to an exact version."),
    "safety-object-prd-protected": (M, "In prd, every Secret and Namespace is registered with protect (and retain_on_delete)."),
    "coverage-type-allow-listed": (
        M,
        "Every resource is of a type the pack knows how to judge; any other type (a helm.sh/v3 Release included) is refused.",
    ),
    "coverage-k8s-object-applied": (
        M,
        "A Kubernetes registration names the object the provider applies (token and inputs agree, a known kind, a readable namespace, an explicit provider).",
    ),
    "coverage-k8s-provider-env": (
        M,
        "Outside local, a Kubernetes provider names its cluster's context, and its context, kubeconfig and default namespace are its environment's.",
    ),
    "audit-stack-prd-logs-on": (
        M,
        "A prd stack that manages GCP resources turns on Data Access audit logs (DATA_READ, nobody exempted) for Secret "
        "Manager and the Kubernetes Engine API; one that applies Vault's side enables a Vault audit device.",
    ),
    "audit-vault-device-hmac": (
        M,
        "A Vault audit device never logs values or token accessors in the clear (no log_raw, hmac_accessor kept).",
    ),
}
BY_NAME = {p.name: p for p in ALL_POLICIES}


def test_the_pack_holds_exactly_the_expected_rules():
    assert sorted(BY_NAME) == sorted(EXPECTED)
    assert len(ALL_POLICIES) == len(BY_NAME), "policy names must be unique"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_rule_name_description_and_level(name):
    """Each rule's contract: kebab-case '<area>-<kind>-<rule>', one sentence, explicit level."""
    policy = BY_NAME[name]
    level, description = EXPECTED[name]
    assert re.fullmatch(r"(naming|isolation|privilege|hygiene|safety|coverage|audit)-[a-z0-9]+(-[a-z0-9]+)+", policy.name)
    assert policy.description == description
    assert description.endswith(".") and ". " not in description[:-1]
    assert policy.enforcement_level is level


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_rule_takes_exemptions_from_config(name):
    schema = BY_NAME[name].config_schema
    assert schema is not None and schema.properties["exemptResources"]["type"] == "array"


def servicer() -> _PolicyAnalyzerServicer:
    return _PolicyAnalyzerServicer("secrets-platform", "0.1.0", ALL_POLICIES, EnforcementLevel.ADVISORY)


def test_analyzer_info_serializes_every_rule():
    """What the engine reads at startup: names, levels and config schemas all go through protobuf."""
    info = servicer().GetAnalyzerInfo(None, None)
    assert {p.name for p in info.policies} == set(EXPECTED)
    assert all(p.enforcementLevel == proto.MANDATORY for p in info.policies)
    assert all("exemptResources" in p.configSchema.properties for p in info.policies)


# --------------------------------------------------------------------------- the wire


SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


def analyze(
    fx, resource_type: str, props: dict, *, stack: str = "prd", name: str = "res", protect: bool = False, config: dict | None = None
) -> list:
    s = servicer()
    if config:
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for policy_name, properties in config.items():
            entry = request.policyConfig[policy_name]
            entry.enforcementLevel = proto.MANDATORY
            entry.properties.update(properties)
        s.Configure(request, None)
    struct = struct_pb2.Struct()
    struct.update(props)
    request = proto.AnalyzeRequest(
        type=resource_type,
        properties=struct,
        urn=fx.urn_of(resource_type, name, stack),
        name=name,
        options=proto.AnalyzerResourceOptions(protect=protect),
    )
    return list(s.Analyze(request, None).diagnostics)


def wire_secret(fx, env: str = "prd") -> dict:
    """A Secret as the engine sends it: stringData is a Pulumi secret."""
    props = fx.secret(env)
    props["stringData"] = {**SECRET_SIG, "value": props["stringData"]}
    return props


def test_compliant_secret_on_the_wire_has_no_diagnostics(fx):
    assert analyze(fx, "kubernetes:core/v1:Secret", wire_secret(fx), protect=True) == []


def test_unknown_in_prd_fails_closed_as_mandatory(fx):
    """Preview of prd with a namespace computed from another resource: blocked, not waved through."""
    props = wire_secret(fx)
    props["metadata"]["namespace"] = fx.UNKNOWN
    diagnostics = analyze(fx, "kubernetes:core/v1:Secret", props, protect=True)
    assert diagnostics, "an unknown in prd must be reported"
    assert {d.policyName for d in diagnostics} == {"isolation-object-env-agree"}
    [d] = diagnostics
    assert d.enforcementLevel == proto.MANDATORY
    assert "metadata.namespace is unknown at preview" in d.message and "fails closed" in d.message
    assert fx.CANARY not in d.message


def test_unknown_secret_values_do_not_matter(fx):
    """stringData values computed by RandomPassword are unknown at preview; no rule reads them."""
    props = fx.secret()
    props["stringData"]["SNOWFLAKE_PASSWORD"] = fx.UNKNOWN
    assert analyze(fx, "kubernetes:core/v1:Secret", props, protect=True) == []


def test_unknown_key_set_in_prd_fails_closed(fx):
    """If the whole stringData is unknown, its keys cannot be checked: prd blocks."""
    props = fx.secret()
    props["stringData"] = fx.UNKNOWN
    [d] = analyze(fx, "kubernetes:core/v1:Secret", props, protect=True)
    assert d.policyName == "naming-secret-keys-env-vars" and "stringData is unknown" in d.message


@pytest.mark.parametrize("stack", ["local", "dev", "stg"])
def test_unknown_outside_prd_waits_for_up(fx, stack):
    """Outside prd an unknown is let through at preview: `up` re-runs the pack with known values."""
    props = fx.secret(stack)
    props["metadata"]["namespace"] = fx.UNKNOWN
    assert analyze(fx, "kubernetes:core/v1:Secret", props, stack=stack) == []


def test_unknown_in_unrecognised_stack_fails_closed(fx):
    props = fx.secret()
    props["metadata"]["namespace"] = fx.UNKNOWN
    diagnostics = analyze(fx, "kubernetes:core/v1:Secret", props, stack="production", protect=True)
    assert any("unknown at preview" in d.message for d in diagnostics)


def test_exemption_by_urn_through_policy_config(fx):
    """Exemptions are config, not code: the engine's Configure call carries them."""
    props = wire_secret(fx)
    props["metadata"]["annotations"]["example.com/db-password"] = "x"
    urn = fx.urn_of("kubernetes:core/v1:Secret", "legacy", "prd")
    [d] = analyze(fx, "kubernetes:core/v1:Secret", props, name="legacy", protect=True)
    assert d.policyName == "hygiene-metadata-no-credential-keys"
    config = {"hygiene-metadata-no-credential-keys": {"exemptResources": [urn]}}
    assert analyze(fx, "kubernetes:core/v1:Secret", props, name="legacy", protect=True, config=config) == []


def test_exemption_does_not_leak_to_other_policies_or_resources(fx):
    props = wire_secret(fx)
    props["metadata"]["annotations"]["example.com/db-password"] = "x"
    other = fx.urn_of("kubernetes:core/v1:Secret", "other", "prd")
    config = {
        "hygiene-metadata-no-credential-keys": {"exemptResources": [other]},
        "naming-secret-name-form": {"exemptResources": ["legacy"]},
    }
    [d] = analyze(fx, "kubernetes:core/v1:Secret", props, name="legacy", protect=True, config=config)
    assert d.policyName == "hygiene-metadata-no-credential-keys"


def test_exemption_by_pulumi_name(fx):
    props = fx.secret()
    props["metadata"]["name"] = "legacy-name"
    assert fx.run(BY_NAME["naming-secret-name-form"], "kubernetes:core/v1:Secret", props, name="legacy")
    config = {"exemptResources": ["legacy"]}
    assert fx.run(BY_NAME["naming-secret-name-form"], "kubernetes:core/v1:Secret", props, name="legacy", config=config) == []


def test_stack_policy_exemption(fx):
    resources = [fx.policy_resource("kubernetes:core/v1:Secret", fx.secret(), stack="main", name="s")]
    assert fx.run_stack(BY_NAME["isolation-stack-single-env"], resources)
    config = {"exemptResources": [resources[0].urn]}
    assert fx.run_stack(BY_NAME["isolation-stack-single-env"], resources, config) == []


# --------------------------------------------------------------------------- no value in any message


def _violating_fixtures(fx) -> list[tuple[str, dict]]:
    """One resource per type that breaks as many rules as it can, with the canary in every value.

    Names and keys are shown in messages by design (they are how a reader finds the
    problem); values never are, so the canary goes in every value position.
    """
    c = fx.CANARY
    secret = fx.secret()
    secret["metadata"].update(name="bad-name", namespace="dagster-dev")
    secret["metadata"]["labels"] = {"secrets-platform.io/environment": "stg", "password": c}
    secret["metadata"]["annotations"] = {"example.com/db-password": c, "token": c}
    secret["stringData"] = {"bad key": c, "PASSWORD": c, "tls.crt": c}
    secret["data"] = {"ANOTHER": c}
    configmap = fx.configmap()
    configmap["data"] = {"SNOWFLAKE_PASSWORD": c, "API_TOKEN": c}
    role = fx.role()
    role["rules"] = [{"apiGroups": ["*"], "resources": ["secrets"], "verbs": ["list", "*"]}]
    release = fx.vault_release()
    release["values"]["server"]["dev"] = {"enabled": True, "devRootToken": c}
    release["version"] = ""
    external = fx.external_secret()
    external["spec"]["data"][0]["remoteRef"] = {"key": "floe/dev/snowflake", "property": c}
    vault = fx.vault_role()
    vault.update(boundServiceAccountNames=["*"], boundServiceAccountNamespaces=["floe-jobs-dev"], audience="")
    return [
        ("kubernetes:core/v1:Secret", secret),
        ("kubernetes:core/v1:ConfigMap", configmap),
        ("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", role),
        ("kubernetes:helm.sh/v3:Release", release),
        ("kubernetes:external-secrets.io/v1:ExternalSecret", external),
        ("vault:kubernetes/authBackendRole:AuthBackendRole", vault),
    ]


def test_no_message_ever_contains_a_value(fx):
    """The canary sits in every value that could be secret; many rules fire; none may echo it."""
    messages = []
    for resource_type, props in _violating_fixtures(fx):
        for policy in ALL_POLICIES:
            if isinstance(policy, StackValidationPolicy):
                continue
            messages += fx.run(policy, resource_type, props)
    assert len(messages) >= 15, "the fixtures must actually trip the rules"
    leaked = [m for m in messages if fx.CANARY in m]
    assert leaked == []


def test_no_diagnostic_on_the_wire_contains_a_value(fx):
    for resource_type, props in _violating_fixtures(fx):
        wire = json.loads(json.dumps(props))
        for d in analyze(fx, resource_type, wire):
            assert fx.CANARY not in d.message


# --------------------------------------------------------------------------- packaging


def test_pack_runs_from_inside_the_policies_directory(tmp_path):
    """The engine runs `runpy.run_path(<pack dir>)` with only the pack dir on sys.path."""
    probe = (
        "import runpy, sys, pulumi_policy\n"
        "built = []\n"
        "pulumi_policy.PolicyPack = lambda **kw: built.append(kw)\n"
        "sys.path[:] = [p for p in sys.path if p not in ('', %r)]\n"
        "runpy.run_path('.', run_name='__main__')\n"
        "print(len(built[0]['policies']), built[0]['name'])\n" % str(ROOT)
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT / "policies", capture_output=True, text=True, check=False, env={"PATH": "/usr/bin:/bin"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(len(EXPECTED)), "secrets-platform"]


def test_pack_project_file_and_pins():
    project = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    pins = dict(
        line.split("==")
        for line in (ROOT / "policies" / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert pins["pulumi-policy"] == importlib.metadata.version("pulumi-policy") == "1.21.0"
    assert pins["pulumi"] == importlib.metadata.version("pulumi") == "3.260.0"
    for name, version in pins.items():
        assert importlib.metadata.version(name) == version, name


def test_pack_serves_over_grpc_like_the_engine_runs_it(fx):
    """Start the pack the way the Python language host does (`python -m pulumi.policy <engine> <pack dir>`,
    from inside policies/, with PULUMI_STACK set) and analyse one resource over real gRPC."""
    env = {**os.environ, "PULUMI_PROJECT": "secrets-platform", "PULUMI_STACK": "prd", "PULUMI_DRY_RUN": "true"}
    env.pop("PYTHONPATH", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "pulumi.policy", "127.0.0.1:1", "."],
        cwd=ROOT / "policies",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert server.stdout is not None and server.stderr is not None
    try:
        port = server.stdout.readline().strip()
        assert port.isdigit(), server.stderr.read() if server.poll() is not None else port
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
            assert {p.name for p in info.policies} == set(EXPECTED)
            props = wire_secret(fx)
            props["metadata"]["namespace"] = "dagster-dev"
            struct = struct_pb2.Struct()
            struct.update(props)
            urn = fx.urn_of("kubernetes:core/v1:Secret", "s", "prd")
            response = stub.Analyze(
                proto.AnalyzeRequest(
                    type="kubernetes:core/v1:Secret",
                    properties=struct,
                    urn=urn,
                    name="s",
                    options=proto.AnalyzerResourceOptions(protect=True),
                ),
                timeout=30,
            )
            names = {d.policyName for d in response.diagnostics}
            assert names == {"isolation-object-env-agree"}
            assert all(d.enforcementLevel == proto.MANDATORY and fx.CANARY not in d.message for d in response.diagnostics)
    finally:
        server.kill()
        server.wait(timeout=10)


def test_unknown_environment_label_fails_closed_in_prd(fx):
    """The label is an environment fact: unknown at preview in prd, it cannot vouch for anything."""
    props = wire_secret(fx)
    props["metadata"]["labels"]["secrets-platform.io/environment"] = fx.UNKNOWN
    names = {d.policyName for d in analyze(fx, "kubernetes:core/v1:Secret", props, protect=True)}
    assert {"isolation-object-env-agree", "naming-object-labels-required"} <= names


def test_children_of_an_exempt_component(fx):
    """A vendor chart's ClusterRole (e.g. ESO's controller) can be exempted through its parent, per policy."""
    from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs
    from pulumi_policy.proxy import unknown_checking_proxy

    chart = fx.urn_of("kubernetes:helm.sh/v4:Chart", "external-secrets", "prd")
    props = fx.role()
    props["rules"][0]["verbs"] = ["get", "list", "watch"]
    t = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"

    def run(config, parent=chart):
        opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent)
        args = ResourceValidationArgs(
            t, unknown_checking_proxy(props), fx.urn_of(t, "eso-controller", "prd"), "eso-controller", opts, None, config
        )
        found: list[str] = []
        policy = BY_NAME["privilege-role-secret-get-by-name"]
        assert isinstance(policy, ResourceValidationPolicy)
        policy.validate(args, lambda m, u: found.append(m))
        return found

    assert run({})
    assert run({"exemptChildrenOf": [chart]}) == []
    assert run({"exemptChildrenOf": ["external-secrets"]}) == []
    assert run({"exemptChildrenOf": ["vault"]})
    # The engine reads a URN's name as everything after its third '::' (URN.Name()): a parent named
    # 'evil::external-secrets' is not 'external-secrets', so its children stay judged.
    impostor = fx.urn_of("secrets-platform:x:Wrapper", "evil::external-secrets", "prd")
    assert run({"exemptChildrenOf": ["external-secrets"]}, parent=impostor)
    assert run({"exemptChildrenOf": ["evil::external-secrets"]}, parent=impostor) == []
