"""Isolation rules: no resource mixes environments (CONVENTIONS, "The environment of a resource")."""

from __future__ import annotations

import json

import pytest
from policy_fixtures import fx  # noqa: F401  (the fixture this module's tests take)

from secrets_platform.policies.rules import isolation

SECRET = "kubernetes:core/v1:Secret"
NAMESPACE = "kubernetes:core/v1:Namespace"
SA_PATCH = "kubernetes:core/v1:ServiceAccountPatch"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
ESO_VERSIONS = ["v1", "v1beta1"]
VAULT_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"
SECRET_IAM = "gcp:secretmanager/secretIamMember:SecretIamMember"
SECRET_IAM_BINDING = "gcp:secretmanager/secretIamBinding:SecretIamBinding"
SECRET_IAM_POLICY = "gcp:secretmanager/secretIamPolicy:SecretIamPolicy"
SA_IAM = "gcp:serviceaccount/iAMMember:IAMMember"
STACK_REF = "pulumi:pulumi:StackReference"


def es_type(version: str) -> str:
    return f"kubernetes:external-secrets.io/{version}:ExternalSecret"


def store_type(version: str, kind: str = "ClusterSecretStore") -> str:
    return f"kubernetes:external-secrets.io/{version}:{kind}"


# --------------------------------------------------------------------------- isolation-object-env-agree


@pytest.mark.parametrize("env", ["local", "dev", "stg", "prd"])
def test_objects_of_their_own_stack_pass(fx, env):
    assert fx.run(isolation.object_env_agree, SECRET, fx.secret(env), stack=env) == []
    assert fx.run(isolation.object_env_agree, NAMESPACE, fx.namespace(env), stack=env) == []
    assert fx.run(isolation.object_env_agree, SA_PATCH, fx.service_account_patch(env), stack=env) == []


def test_secret_in_another_envs_namespace_fails(fx):
    """The prd credentials in the dev namespace would hand prd values to dev workloads."""
    props = fx.secret()
    props["metadata"]["namespace"] = "dagster-dev"
    [message] = fx.run(isolation.object_env_agree, SECRET, props)
    assert "its namespace 'dagster-dev' says dev" in message and "the stack 'prd' says prd" in message


def test_secret_label_disagreeing_fails(fx):
    props = fx.secret()
    props["metadata"]["labels"]["secrets-platform.io/environment"] = "stg"
    [message] = fx.run(isolation.object_env_agree, SECRET, props)
    assert "its label secrets-platform.io/environment says stg" in message


def test_secret_name_token_disagreeing_fails(fx):
    props = fx.secret()
    props["metadata"]["name"] = "snowflake-dev-credentials"
    [message] = fx.run(isolation.object_env_agree, SECRET, props)
    assert "its name 'snowflake-dev-credentials' says dev" in message


def test_object_of_another_stack_fails(fx):
    """All resources of one stack share the stack's environment."""
    [message] = fx.run(isolation.object_env_agree, SECRET, fx.secret("dev"), stack="prd")
    assert "the stack 'prd' says prd" in message


def test_patch_in_another_envs_namespace_fails(fx):
    props = fx.service_account_patch("dev")
    [message] = fx.run(isolation.object_env_agree, SA_PATCH, props, stack="prd")
    assert "'dagster-dev' says dev" in message


# --------------------------------------------------------------------------- isolation-binding-subject-env


def test_binding_of_own_job_runner_passes(fx):
    assert fx.run(isolation.binding_subject_env, ROLE_BINDING, fx.role_binding()) == []


def test_subject_without_namespace_uses_the_bindings(fx):
    props = fx.role_binding()
    del props["subjects"][0]["namespace"]
    assert fx.run(isolation.binding_subject_env, ROLE_BINDING, props) == []


def test_binding_another_envs_service_account_fails(fx):
    """A prd RoleBinding to the dev job-runner lets dev pods read prd Secrets."""
    props = fx.role_binding()
    props["subjects"].append({"kind": "ServiceAccount", "name": "job-runner", "namespace": "dagster-dev"})
    [message] = fx.run(isolation.binding_subject_env, ROLE_BINDING, props)
    assert "'dagster-dev/job-runner' of dev (subjects[1])" in message


def test_binding_another_envs_group_fails(fx):
    props = fx.role_binding()
    props["subjects"] = [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:serviceaccounts:dagster-stg"}]
    [message] = fx.run(isolation.binding_subject_env, CLUSTER_ROLE_BINDING, props)
    assert "of stg" in message


def test_binding_another_envs_role_fails(fx):
    props = fx.role_binding()
    props["roleRef"]["name"] = "secrets-reader-dev"
    [message] = fx.run(isolation.binding_subject_env, ROLE_BINDING, props)
    assert "'secrets-reader-dev' of dev" in message


# --------------------------------------------------------------------------- isolation-externalsecret-remote-key-env


@pytest.mark.parametrize("version", ESO_VERSIONS)
def test_external_secret_reading_own_keys_passes(fx, version):
    assert fx.run(isolation.externalsecret_remote_key_env, es_type(version), fx.external_secret(version=version)) == []


@pytest.mark.parametrize("version", ESO_VERSIONS)
@pytest.mark.parametrize("key", ["snowflake-dev-credentials", "floe/stg/snowflake", "projects/p/secrets/snowflake-dev-credentials"])
def test_external_secret_reading_another_envs_key_fails(fx, version, key):
    props = fx.external_secret(version=version)
    props["spec"]["data"][0]["remoteRef"]["key"] = key
    [message] = fx.run(isolation.externalsecret_remote_key_env, es_type(version), props)
    assert f"'{key}'" in message and "spec.data[0].remoteRef.key" in message and "belongs to" in message


def test_external_secret_reading_key_without_env_fails(fx):
    """The ADR's 'floe-bigquery-sa' names no environment: nothing shows it is not shared."""
    props = fx.external_secret()
    props["spec"]["data"][0]["remoteRef"]["key"] = "floe-bigquery-sa"
    [message] = fx.run(isolation.externalsecret_remote_key_env, es_type("v1"), props)
    assert "names no environment" in message


def test_external_secret_extract_of_another_env_fails(fx):
    props = fx.external_secret()
    props["spec"]["dataFrom"] = [{"extract": {"key": "floe/dev/snowflake"}}]
    [message] = fx.run(isolation.externalsecret_remote_key_env, es_type("v1"), props)
    assert "spec.dataFrom[0].extract.key" in message


def test_external_secret_find_without_env_fails(fx):
    """dataFrom.find reads every matching key: it must be scoped to the environment."""
    props = fx.external_secret()
    props["spec"]["dataFrom"] = [{"find": {"name": {"regexp": "^snowflake-.*"}}}]
    [message] = fx.run(isolation.externalsecret_remote_key_env, es_type("v1"), props)
    assert "spec.dataFrom[0].find" in message
    props["spec"]["dataFrom"] = [{"find": {"path": "floe/prd/"}}]
    assert fx.run(isolation.externalsecret_remote_key_env, es_type("v1"), props) == []


@pytest.mark.parametrize(
    "regexp",
    # Each names prd as a whole word; Go's regexp (ESO's find) matches dev keys with it (test_namespace_regex_go).
    ["-prd-|snowflake-d.v", "^(snowflake-prd-credentials|warehouse-d[e]v-credentials)$", "-prd-|-d[e]v-", "^snowflake-prd"],
)
def test_external_secret_find_regexp_not_confined_to_the_env_fails(fx, regexp):
    props = fx.external_secret()
    props["spec"]["dataFrom"] = [{"find": {"name": {"regexp": regexp}}}]
    [message] = fx.run(isolation.externalsecret_remote_key_env, es_type("v1"), props)
    assert "spec.dataFrom[0].find" in message


def test_external_secret_find_in_another_envs_path_fails_whatever_its_regexp(fx):
    props = fx.external_secret()
    props["spec"]["dataFrom"] = [{"find": {"path": "floe/dev/", "name": {"regexp": "^snowflake-prd-"}}}]
    [message] = fx.run(isolation.externalsecret_remote_key_env, es_type("v1"), props)
    assert "spec.dataFrom[0].find" in message


@pytest.mark.parametrize(
    "find",
    [
        {"name": {"regexp": "^snowflake-prd-"}},
        {"name": {"regexp": "^snowflake-prd-credentials$"}},
        {"path": "floe/prd/", "name": {"regexp": ".*"}},
    ],
)
def test_external_secret_find_confined_to_the_env_passes(fx, find):
    props = fx.external_secret()
    props["spec"]["dataFrom"] = [{"find": find}]
    assert fx.run(isolation.externalsecret_remote_key_env, es_type("v1"), props) == []


def test_external_secret_using_another_envs_store_fails(fx):
    props = fx.external_secret()
    props["spec"]["secretStoreRef"]["name"] = "gcp-secret-manager-dev"
    [message] = fx.run(isolation.externalsecret_remote_key_env, es_type("v1"), props)
    assert "'gcp-secret-manager-dev'" in message


# --------------------------------------------------------------------------- isolation-secretstore-namespace-env


@pytest.mark.parametrize("version", ESO_VERSIONS)
def test_store_admitting_own_namespaces_passes(fx, version):
    props = fx.cluster_secret_store(version=version)
    assert fx.run(isolation.secretstore_namespace_env, store_type(version), props) == []


@pytest.mark.parametrize("version", ESO_VERSIONS)
def test_store_admitting_another_envs_namespace_fails(fx, version):
    props = fx.cluster_secret_store(version=version)
    props["spec"]["conditions"][0]["namespaces"].append("dagster-dev")
    [message] = fx.run(isolation.secretstore_namespace_env, store_type(version), props)
    assert "'dagster-dev', which belongs to dev" in message


def test_store_admitting_namespace_without_env_fails(fx):
    props = fx.cluster_secret_store()
    props["spec"]["conditions"][0]["namespaces"] = ["default"]
    [message] = fx.run(isolation.secretstore_namespace_env, store_type("v1"), props)
    assert "does not end in '-prd'" in message


@pytest.mark.parametrize("selector", [{"matchLabels": {"secrets-platform.io/environment": "dev"}}, {"matchLabels": {"team": "data"}}, {}])
def test_store_selector_not_pinning_env_fails(fx, selector):
    props = fx.cluster_secret_store()
    props["spec"]["conditions"][1]["namespaceSelector"] = selector
    [message] = fx.run(isolation.secretstore_namespace_env, store_type("v1"), props)
    assert "namespaceSelector in spec.conditions[1]" in message


def test_store_selector_by_expression_passes(fx):
    props = fx.cluster_secret_store()
    props["spec"]["conditions"][1]["namespaceSelector"] = {
        "matchExpressions": [{"key": "secrets-platform.io/environment", "operator": "In", "values": ["prd"]}]
    }
    assert fx.run(isolation.secretstore_namespace_env, store_type("v1"), props) == []


@pytest.mark.parametrize(
    "pattern",
    [
        ".*",
        "^dagster-.*$",
        "^dagster-dev$",
        "^a-dev$|^b-prd$",
        ".*|-prd$",
        "-(dev|prd)$",
        # A top-level alternation hidden behind a '(' in a character class: ESO (Go's regexp.MatchString) admits
        # snowflake-dev; the parser sees the BRANCH.
        "[(]|^snowflake-dev|.*-prd$",
        "x[(]|snowflake-d[e]v|.*-prd$",
        # Syntax the two engines read differently, or only Go reads: refused.
        "^[[:alpha:]]+-prd$",
        r"^\Qdagster\E-prd$",
        # Not anchored at the end, or the anchor escaped.
        "^dagster-prd",
        r"^dagster-prd\$",
    ],
)
def test_store_regex_not_confined_fails(fx, pattern):
    props = fx.cluster_secret_store()
    props["spec"]["conditions"][2]["namespaceRegexes"] = [pattern]
    [message] = fx.run(isolation.secretstore_namespace_env, store_type("v1beta1"), props)
    assert "namespaceRegexes" in message


@pytest.mark.parametrize("pattern", ["^dagster-prd$", "^flyte-[a-z]+-prd$", ".*-prd$", "^(?:dagster|floe-jobs)-prd$"])
def test_store_regex_confined_to_the_env_passes(fx, pattern):
    props = fx.cluster_secret_store()
    props["spec"]["conditions"][2]["namespaceRegexes"] = [pattern]
    assert fx.run(isolation.secretstore_namespace_env, store_type("v1beta1"), props) == []


def test_store_provider_in_another_env_fails(fx):
    props = fx.cluster_secret_store()
    props["spec"]["provider"]["gcpsm"]["auth"]["workloadIdentity"]["clusterName"] = "data-dev"
    [message] = fx.run(isolation.secretstore_namespace_env, store_type("v1"), props)
    assert "'data-dev' of dev" in message


def test_namespaced_store_provider_checked(fx):
    props = fx.cluster_secret_store()
    del props["spec"]["conditions"]
    props["metadata"]["namespace"] = "dagster-prd"
    props["spec"]["provider"]["gcpsm"]["auth"]["workloadIdentity"]["serviceAccountRef"]["namespace"] = "external-secrets-stg"
    [message] = fx.run(isolation.secretstore_namespace_env, store_type("v1", "SecretStore"), props)
    assert "'external-secrets-stg' of stg" in message


# --------------------------------------------------------------------------- isolation-vault-database-env

DB_CONNECTION = "vault:database/secretBackendConnection:SecretBackendConnection"
DB_ROLE = "vault:database/secretBackendRole:SecretBackendRole"


def test_vault_database_connection_and_role_of_own_env_pass(fx):
    assert fx.run(isolation.vault_database_env, DB_CONNECTION, {"name": "warehouse-prd", "allowedRoles": ["warehouse-prd"]}) == []
    assert fx.run(isolation.vault_database_env, DB_ROLE, {"name": "warehouse-prd", "dbName": "warehouse-prd"}) == []


@pytest.mark.parametrize(
    "typ, props, needle",
    [
        (DB_CONNECTION, {"name": "warehouse-prd", "allowedRoles": ["warehouse-dev"]}, "allowedRoles 'warehouse-dev' names dev"),
        (DB_CONNECTION, {"name": "warehouse", "allowedRoles": ["warehouse-prd"]}, "name 'warehouse' names no environment"),
        (DB_ROLE, {"name": "warehouse-prd", "dbName": "warehouse-stg"}, "dbName 'warehouse-stg' names stg"),
    ],
)
def test_vault_database_naming_another_or_no_env_fails(fx, typ, props, needle):
    [message] = fx.run(isolation.vault_database_env, typ, props)
    assert needle in message


def test_the_programs_connection_url_template_passes(fx):
    url = "postgresql://{{username}}:{{password}}@warehouse.internal:5432/analytics?sslmode=verify-full"
    props = {"name": "warehouse-prd", "allowedRoles": ["warehouse-prd"], "postgresql": {"connectionUrl": url}}
    assert fx.run(isolation.vault_database_env, DB_CONNECTION, props) == []


@pytest.mark.parametrize(
    "url, named",
    [
        ("postgresql://{{username}}:hunter2-canary@warehouse.internal/analytics", "password"),
        ("postgresql://{{username}}:{{password}}@warehouse.internal/analytics?password=hunter2-canary", "password"),
        ("postgresql://admin:{{password}}@warehouse.internal/analytics", "user"),
        ("postgresql://warehouse.internal/analytics?sslpassword=hunter2-canary", "sslpassword"),
    ],
)
def test_a_credential_in_the_connection_url_is_refused_unseen(fx, url, named):
    props = {"name": "warehouse-prd", "allowedRoles": ["warehouse-prd"], "postgresql": {"connectionUrl": url}}
    [message] = fx.run(isolation.vault_database_env, DB_CONNECTION, props)
    assert f"carries {named} (as libpq reads it)" in message and "hunter2-canary" not in message


def test_a_connection_url_libpq_refuses_is_refused(fx):
    props = {
        "name": "warehouse-prd",
        "allowedRoles": ["warehouse-prd"],
        "postgresql": {"connectionUrl": "postgresql://h/db?x=hunter2-canary"},
    }
    [message] = fx.run(isolation.vault_database_env, DB_CONNECTION, props)
    assert "is not a connection URL libpq accepts" in message and "hunter2-canary" not in message


# --------------------------------------------------------------------------- isolation-vault-role-env


def test_vault_role_of_own_env_passes(fx):
    assert fx.run(isolation.vault_role_env, VAULT_ROLE, fx.vault_role()) == []


def test_vault_role_bound_to_another_envs_namespace_fails(fx):
    props = fx.vault_role()
    props["boundServiceAccountNamespaces"].append("floe-jobs-dev")
    [message] = fx.run(isolation.vault_role_env, VAULT_ROLE, props)
    assert "'floe-jobs-dev', which belongs to dev" in message


def test_vault_role_bound_to_namespace_without_env_fails(fx):
    """The ADR's 'floe-jobs' namespace is every environment's namespace."""
    props = fx.vault_role()
    props["boundServiceAccountNamespaces"] = ["floe-jobs"]
    [message] = fx.run(isolation.vault_role_env, VAULT_ROLE, props)
    assert "does not end in '-prd'" in message


@pytest.mark.parametrize(
    "field,value", [("boundServiceAccountNames", ["eso-dev"]), ("tokenPolicies", ["floe-dev-read"]), ("audience", "vault-stg")]
)
def test_vault_role_naming_another_env_fails(fx, field, value):
    props = fx.vault_role()
    props[field] = value
    [message] = fx.run(isolation.vault_role_env, VAULT_ROLE, props)
    assert field in message


def test_vault_role_selector_must_pin_env(fx):
    props = fx.vault_role()
    props["boundServiceAccountNamespaceSelector"] = json.dumps({"matchLabels": {"secrets-platform.io/environment": "prd"}})
    assert fx.run(isolation.vault_role_env, VAULT_ROLE, props) == []
    props["boundServiceAccountNamespaceSelector"] = json.dumps({"matchLabels": {"team": "data"}})
    [message] = fx.run(isolation.vault_role_env, VAULT_ROLE, props)
    assert "boundServiceAccountNamespaceSelector" in message


# --------------------------------------------------------------------------- isolation-gcp-iam-env


def test_iam_grants_within_env_pass(fx):
    assert fx.run(isolation.gcp_iam_env, SECRET_IAM, fx.secret_iam_member()) == []
    assert fx.run(isolation.gcp_iam_env, SA_IAM, fx.workload_identity_member()) == []


def test_iam_secret_of_another_env_fails(fx):
    props = fx.secret_iam_member()
    props["secretId"] = "projects/example-data-platform/secrets/snowflake-dev-credentials"
    [message] = fx.run(isolation.gcp_iam_env, SECRET_IAM, props)
    assert "(secretId)" in message


def test_iam_member_of_another_env_fails(fx):
    """The dev ESO account must never be able to read the prd secret."""
    props = fx.secret_iam_member()
    props["member"] = "serviceAccount:eso-dev@example-data-platform.iam.gserviceaccount.com"
    [message] = fx.run(isolation.gcp_iam_env, SECRET_IAM, props)
    assert "eso-dev@" in message and "of dev (member)" in message


def test_iam_binding_members_checked(fx):
    props = fx.secret_iam_member()
    del props["member"]
    props["members"] = ["serviceAccount:eso-prd@p.iam.gserviceaccount.com", "serviceAccount:eso-stg@p.iam.gserviceaccount.com"]
    [message] = fx.run(isolation.gcp_iam_env, SECRET_IAM_BINDING, props)
    assert "eso-stg@" in message


def test_iam_policy_members_checked(fx):
    props = {
        "secretId": "snowflake-prd-credentials",
        "policyData": json.dumps(
            {"bindings": [{"role": "roles/secretmanager.secretAccessor", "members": ["serviceAccount:eso-dev@p.iam.gserviceaccount.com"]}]}
        ),
    }
    [message] = fx.run(isolation.gcp_iam_env, SECRET_IAM_POLICY, props)
    assert "policyData.bindings[0]" in message


def test_workload_identity_of_another_envs_namespace_fails(fx):
    props = fx.workload_identity_member()
    props["member"] = "serviceAccount:example-data-platform.svc.id.goog[external-secrets-dev/external-secrets]"
    [message] = fx.run(isolation.gcp_iam_env, SA_IAM, props)
    assert "of dev" in message


# --------------------------------------------------------------------------- isolation-stackreference-env


@pytest.mark.parametrize("name", ["acme/gke-cluster/prd", "acme/network/shared", "gke-prd"])
def test_stack_reference_to_own_or_shared_stack_passes(fx, name):
    assert fx.run(isolation.stackreference_env, STACK_REF, {"name": name}) == []


@pytest.mark.parametrize("name", ["acme/gke-cluster/dev", "acme/secrets-platform/stg", "gke-dev"])
def test_stack_reference_to_another_env_fails(fx, name):
    [message] = fx.run(isolation.stackreference_env, STACK_REF, {"name": name})
    assert f"'{name}'" in message


# --------------------------------------------------------------------------- isolation-stack-single-env


def _stack(fx, stack):
    return [
        fx.policy_resource("pulumi:pulumi:Stack", {}, stack=stack, name=f"secrets-platform-{stack}"),
        fx.policy_resource(SECRET, fx.secret(stack if stack in ("local", "dev", "stg", "prd") else "prd"), stack=stack),
    ]


@pytest.mark.parametrize("stack", ["local", "dev", "stg", "prd"])
def test_stack_named_after_env_passes(fx, stack):
    assert fx.run_stack(isolation.stack_single_env, _stack(fx, stack)) == []


@pytest.mark.parametrize("stack", ["production", "prd-test", "main"])
def test_stack_not_named_after_env_fails(fx, stack):
    """Without the env in the stack name, no environment rule can hold."""
    [(message, urn)] = fx.run_stack(isolation.stack_single_env, _stack(fx, stack))
    assert f"'{stack}' is not named after an environment" in message and urn is None


def test_engine_stack_disagreeing_fails(fx, monkeypatch):
    """The engine exports PULUMI_STACK and pulumi_policy configures pulumi.get_stack() from it."""
    import pulumi

    monkeypatch.setenv("PULUMI_STACK", "dev")
    monkeypatch.setattr(pulumi, "get_stack", lambda: "dev")
    [(message, _)] = fx.run_stack(isolation.stack_single_env, _stack(fx, "prd"))
    assert "engine runs stack 'dev'" in message


def test_engine_stack_agreeing_passes(fx, monkeypatch):
    import pulumi

    monkeypatch.setenv("PULUMI_STACK", "prd")
    monkeypatch.setattr(pulumi, "get_stack", lambda: "prd")
    assert fx.run_stack(isolation.stack_single_env, _stack(fx, "prd")) == []


def test_stack_config_environment_disagreeing_fails(fx, monkeypatch):
    """Pulumi.prd.yaml must say `secrets-platform:environment: prd`."""
    import pulumi.runtime

    monkeypatch.setattr(pulumi.runtime, "get_config", lambda key: "dev" if key == "secrets-platform:environment" else None)
    [(message, _)] = fx.run_stack(isolation.stack_single_env, _stack(fx, "prd"))
    assert "configured for environment 'dev'" in message


def test_two_stacks_in_one_analysis_fail(fx):
    resources = _stack(fx, "prd") + [fx.policy_resource(SECRET, fx.secret("dev"), stack="dev", name="other")]
    [(message, _)] = fx.run_stack(isolation.stack_single_env, resources)
    assert "more than one stack" in message


def test_iam_policy_that_cannot_be_read_is_reported_not_skipped(fx):
    props = {"secretId": "snowflake-prd-credentials", "policyData": "{not json"}
    messages = fx.run(isolation.gcp_iam_env, SECRET_IAM_POLICY, props)
    assert messages, "an unreadable policy passed silently"


# --------------------------------------------------------------------------- Vault policies, read as Vault reads them

VAULT_POLICY = "vault:index/policy:Policy"
OWN = 'path "floe/data/dev/warehouse" {\n  capabilities = ["read"]\n}\n'
# The same grant of a prd path, in the spellings Vault's HCL v1 parser (and its JSON form) accepts.
PRD_GRANT_SPELLINGS = {
    "hcl": 'path "floe/data/prd/warehouse" {\n  capabilities = ["read"]\n}\n',
    "no-space": 'path"floe/data/prd/warehouse"{capabilities=["read"]}',
    "quoted-key": '"path" "floe/data/prd/warehouse" { capabilities = ["read"] }',
    "one-line": 'path "floe/data/dev/warehouse" { capabilities = ["read"] } path "floe/data/prd/warehouse" { capabilities = ["read"] }',
    "json": json.dumps({"path": {"floe/data/prd/warehouse": {"capabilities": ["read"]}}}),
    "json-list": json.dumps({"path": [{"floe/data/prd/warehouse": {"capabilities": ["read"]}}]}),
    "legacy-policy": 'path "floe/data/prd/warehouse" { policy = "read" }',
    "leading-slash": 'path "/floe/data/prd/warehouse" { capabilities = ["read"] }',
}


def vault_policy_props(text: str, env: str = "dev") -> dict:
    return {"name": f"floe-dagster-{env}-read", "policy": text}


def test_the_programs_own_policy_passes_both_vault_rules(fx):
    for policy in (isolation.vault_policy_env, isolation.vault_policy_control):
        assert fx.run(policy, VAULT_POLICY, vault_policy_props(OWN), stack="dev") == []


@pytest.mark.parametrize("form", sorted(PRD_GRANT_SPELLINGS))
def test_a_prd_grant_in_dev_is_caught_however_it_is_spelled(fx, form):
    text = OWN + "\n" + PRD_GRANT_SPELLINGS[form] if not form.startswith("json") else PRD_GRANT_SPELLINGS[form]
    [message] = fx.run(isolation.vault_policy_env, VAULT_POLICY, vault_policy_props(text), stack="dev")
    assert "'floe/data/prd/warehouse', which belongs to prd" in message


def test_a_denied_path_of_another_environment_grants_nothing(fx):
    text = OWN + 'path "floe/data/prd/*" { capabilities = ["deny"] }'
    assert fx.run(isolation.vault_policy_env, VAULT_POLICY, vault_policy_props(text), stack="dev") == []


@pytest.mark.parametrize(
    "text",
    [
        'path "floe/data/dev/warehouse" {',  # does not parse
        'path "floe/data/dev/warehouse" { capabilities = ["read", "steal"] }',  # no such capability
        'path "floe/data/dev/warehouse" { capabilities = ["read"] grants = ["all"] }',  # a key Vault does not know
        'path "floe/data/dev/warehouse" "floe/data/prd/x" { capabilities = ["read"] }',  # two keys on one block
        'path "floe/data/dev/w" { capabilities = ["read"] capabilities = ["update"] }',  # one key twice
        'policy "floe/data/prd/warehouse" { capabilities = ["read"] }',  # not a path block
        '{"path": {"floe/data/dev/w": {"capabilities": ["read"]}, "floe/data/dev/w": {"capabilities": ["update"]}}}',  # JSON duplicate
        'path "\\u0073ys/policies/acl/floe-dagster-dev-read" { capabilities = ["update"] }',  # Vault decodes it to sys/...
    ],
)
def test_a_policy_the_parser_cannot_judge_is_refused_by_both_rules(fx, text):
    for policy in (isolation.vault_policy_env, isolation.vault_policy_control):
        [message] = fx.run(policy, VAULT_POLICY, vault_policy_props(text), stack="dev")
        assert "cannot be judged" in message and "capabilities" in message


@pytest.mark.parametrize("env", ["local", "dev", "stg", "prd"])
@pytest.mark.parametrize(
    "path, caps, reaches",
    [
        ("auth/kubernetes-{env}/role/job-runner-dagster-{env}", '["update"]', "auth"),
        ("sys/policies/acl/floe-dagster-{env}-read", '["create", "update"]', "sys"),
        ("sys/policy/floe-dagster-{env}-read", '["read"]', "sys"),
        ("identity/entity/id/x-{env}", '["update"]', "identity"),
        ("+/kubernetes-{env}/role/x", '["update"]', "any mount"),
        ("s*", '["read"]', "sys"),
        ("team-{env}/sys/policies/acl/x", '["update"]', "sys"),
    ],
)
def test_grants_on_vaults_control_paths_are_refused_everywhere(fx, env, path, caps, reaches):
    text = OWN.replace("dev", env) + f'path "{path.format(env=env)}" {{ capabilities = {caps} }}'
    [message] = fx.run(isolation.vault_policy_control, VAULT_POLICY, vault_policy_props(text, env), stack=env)
    assert f"reaches Vault's {reaches}" in message and "remove the path" in message


def test_a_json_escape_is_read_as_vault_decodes_it(fx):
    text = '{"path": {"\\u0073ys/policies/acl/x-dev": {"capabilities": ["update"]}}}'
    [message] = fx.run(isolation.vault_policy_control, VAULT_POLICY, vault_policy_props(text), stack="dev")
    assert "'sys/policies/acl/x-dev', which reaches Vault's sys" in message


def test_control_paths_in_json_and_legacy_form_are_refused(fx):
    text = json.dumps({"path": {"auth/kubernetes-dev/role/x": {"policy": "write"}}})
    [message] = fx.run(isolation.vault_policy_control, VAULT_POLICY, vault_policy_props(text), stack="dev")
    assert "create, delete, list, read, update on 'auth/kubernetes-dev/role/x'" in message


def test_deny_on_control_paths_is_allowed_and_sudo_anywhere_is_refused(fx):
    denied = OWN + 'path "sys/*" { capabilities = ["deny"] }'
    assert fx.run(isolation.vault_policy_control, VAULT_POLICY, vault_policy_props(denied), stack="dev") == []
    sudo = 'path "floe/data/dev/warehouse" { capabilities = ["read", "sudo"] }'
    [message] = fx.run(isolation.vault_policy_control, VAULT_POLICY, vault_policy_props(sudo), stack="dev")
    assert "grants sudo" in message
