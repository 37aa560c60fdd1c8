"""Every environment fact the pack can see is checked (CONVENTIONS, "The environment of a resource").

For each kind: a compliant prd fixture passes, then one change per way it can carry
another environment (or, where the fact is what the resource reads or admits, no
environment at all) fails with a message naming the field; unknown facts fail closed
in prd and pass in dev, where `pulumi up` checks again.
"""

from __future__ import annotations

import json

import pytest
from policy_fixtures import CANARY, UNKNOWN, fx, run  # noqa: F401

from secrets_platform import conventions
from secrets_platform.policies.environment import other_envs
from secrets_platform.policies.rules import isolation

ES = "kubernetes:external-secrets.io/v1:ExternalSecret"
PUSH = "kubernetes:external-secrets.io/v1alpha1:PushSecret"
CES = "kubernetes:external-secrets.io/v1:ClusterExternalSecret"
STORE = "kubernetes:external-secrets.io/v1:SecretStore"
CSS = "kubernetes:external-secrets.io/v1:ClusterSecretStore"
VAULT_POLICY = "vault:index/policy:Policy"
VAULT_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"
CRB = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
RB = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
SECRET_IAM = "gcp:secretmanager/secretIamMember:SecretIamMember"
SECRET_IAM_BINDING = "gcp:secretmanager/secretIamBinding:SecretIamBinding"
SA_IAM = "gcp:serviceaccount/iAMMember:IAMMember"
PROJECT_IAM = "gcp:projects/iAMMember:IAMMember"
PROJECT_POLICY = "gcp:projects/iAMPolicy:IAMPolicy"


def labels(env="prd"):
    return dict(conventions.labels(env))


# --------------------------------------------------------------------------- ExternalSecret


def external_secret(env="prd"):
    return {
        "metadata": {"name": f"snowflake-{env}-credentials", "namespace": f"dagster-{env}", "labels": labels(env)},
        "spec": {
            "secretStoreRef": {"kind": "ClusterSecretStore", "name": f"gcp-secret-manager-{env}"},
            "target": {"name": f"snowflake-{env}-credentials", "template": {"metadata": {"labels": labels(env)}}},
            "data": [{"secretKey": "SNOWFLAKE_PASSWORD", "remoteRef": {"key": f"snowflake-{env}-credentials", "property": "password"}}],
            "dataFrom": [
                {
                    "extract": {"key": f"floe/{env}/snowflake"},
                    "sourceRef": {"storeRef": {"name": f"vault-{env}", "kind": "ClusterSecretStore"}},
                }
            ],
        },
    }


def test_external_secret_compliant():
    assert run(isolation.externalsecret_remote_key_env, ES, external_secret()) == []


@pytest.mark.parametrize(
    "change, needle",
    [
        (lambda p: p["spec"]["target"].update(name="snowflake-dev-credentials"), "spec.target.name"),
        (
            lambda p: p["spec"]["target"]["template"]["metadata"]["labels"].update({conventions.LABEL_ENVIRONMENT: "dev"}),
            "spec.target.template.metadata.labels",
        ),
        (lambda p: p["spec"]["data"][0]["remoteRef"].update(key="snowflake-dev-credentials"), "spec.data[0].remoteRef.key"),
        (lambda p: p["spec"]["data"][0]["remoteRef"].update(key="snowflake-credentials"), "names no environment"),
        (lambda p: p["spec"]["dataFrom"][0]["extract"].update(key="floe/stg/snowflake"), "spec.dataFrom[0].extract.key"),
        (lambda p: p["spec"]["dataFrom"][0]["sourceRef"]["storeRef"].update(name="vault-dev"), "spec.dataFrom[0].sourceRef.storeRef.name"),
        (
            lambda p: p["spec"]["dataFrom"].append({"sourceRef": {"generatorRef": {"name": "password-dev"}}}),
            "spec.dataFrom[1].sourceRef.generatorRef.name",
        ),
        (lambda p: p["spec"]["secretStoreRef"].update(name="gcp-secret-manager-stg"), "spec.secretStoreRef.name"),
        (
            lambda p: p["spec"]["target"]["template"].update(templateFrom=[{"secret": {"name": "snowflake-dev-credentials"}}]),
            "templateFrom[0].secret.name",
        ),
    ],
)
def test_external_secret_each_fact(change, needle):
    props = external_secret()
    change(props)
    [message] = run(isolation.externalsecret_remote_key_env, ES, props)
    assert needle in message


# --------------------------------------------------------------------------- PushSecret


def push_secret(env="prd"):
    return {
        "metadata": {"name": f"cube-{env}-push", "namespace": f"dagster-{env}", "labels": labels(env)},
        "spec": {
            "secretStoreRefs": [{"name": f"gcp-secret-manager-{env}", "kind": "ClusterSecretStore"}],
            "selector": {"secret": {"name": f"cube-{env}-credentials"}},
            "data": [{"match": {"secretKey": "CUBE_API_SECRET", "remoteRef": {"remoteKey": f"cube-{env}-credentials", "property": "api"}}}],
        },
    }


def test_push_secret_compliant():
    assert run(isolation.pushsecret_env, PUSH, push_secret()) == []


@pytest.mark.parametrize(
    "change, needle",
    [
        (lambda p: p["spec"]["secretStoreRefs"][0].update(name="gcp-secret-manager-dev"), "spec.secretStoreRefs[0].name"),
        (lambda p: p["spec"]["selector"]["secret"].update(name="cube-dev-credentials"), "spec.selector.secret.name"),
        (
            lambda p: p["spec"]["data"][0]["match"]["remoteRef"].update(remoteKey="cube-dev-credentials"),
            "spec.data[0].match.remoteRef.remoteKey",
        ),
        (lambda p: p["spec"]["data"][0]["match"]["remoteRef"].update(remoteKey="cube-shared"), "names no environment"),
    ],
)
def test_push_secret_each_fact(change, needle):
    props = push_secret()
    change(props)
    [message] = run(isolation.pushsecret_env, PUSH, props)
    assert needle in message


def test_push_secret_unknown_remote_key_fails_closed_in_prd_only():
    props = push_secret()
    props["spec"]["data"][0]["match"]["remoteRef"]["remoteKey"] = UNKNOWN
    [message] = run(isolation.pushsecret_env, PUSH, props)
    assert "unknown at preview" in message
    dev = push_secret("dev")
    dev["spec"]["data"][0]["match"]["remoteRef"]["remoteKey"] = UNKNOWN
    assert run(isolation.pushsecret_env, PUSH, dev, stack="dev") == []


# --------------------------------------------------------------------------- ClusterExternalSecret


def cluster_external_secret(env="prd"):
    spec = external_secret(env)["spec"]
    return {
        "metadata": {"name": f"snowflake-{env}-fanout", "labels": labels(env)},
        "spec": {
            "externalSecretName": f"snowflake-{env}-credentials",
            "namespaceSelectors": [{"matchLabels": {conventions.LABEL_ENVIRONMENT: env, "team": "data"}}],
            "externalSecretSpec": spec,
        },
    }


def test_cluster_external_secret_compliant():
    assert run(isolation.clusterexternalsecret_env, CES, cluster_external_secret()) == []


@pytest.mark.parametrize(
    "change, needle",
    [
        (lambda p: p["spec"]["namespaceSelectors"][0]["matchLabels"].pop(conventions.LABEL_ENVIRONMENT), "admits every environment"),
        (lambda p: p["spec"]["namespaceSelectors"][0]["matchLabels"].update({conventions.LABEL_ENVIRONMENT: "dev"}), "admits dev"),
        (lambda p: p["spec"].update(namespaceSelector={"matchLabels": {"team": "data"}}), "spec.namespaceSelector"),
        (lambda p: p["spec"].update(namespaces=["dagster-dev"]), "spec.namespaces"),
        (lambda p: p["spec"].update(namespaces=["dagster"]), "does not end in '-prd'"),
        (lambda p: p["spec"].pop("namespaceSelectors"), "selects no namespace"),
        (lambda p: p["spec"].update(externalSecretName="snowflake-dev-credentials"), "spec.externalSecretName"),
        (
            lambda p: p["spec"]["externalSecretSpec"]["data"][0]["remoteRef"].update(key="snowflake-dev-credentials"),
            "spec.externalSecretSpec.data[0].remoteRef.key",
        ),
        (
            lambda p: p["spec"]["externalSecretSpec"]["secretStoreRef"].update(name="gcp-secret-manager-dev"),
            "spec.externalSecretSpec.secretStoreRef.name",
        ),
    ],
)
def test_cluster_external_secret_each_fact(change, needle):
    props = cluster_external_secret()
    change(props)
    [message] = run(isolation.clusterexternalsecret_env, CES, props)
    assert needle in message


# --------------------------------------------------------------------------- stores of every provider


@pytest.mark.parametrize(
    "provider",
    [
        {
            "kubernetes": {
                "remoteNamespace": "dagster-prd",
                "server": {"url": "https://kubernetes.default.svc"},
                "auth": {"serviceAccount": {"name": "eso-reader", "namespace": "external-secrets-prd"}},
            }
        },
        {
            "vault": {
                "server": "https://vault.prd.example.internal:8200",
                "path": "floe",
                "version": "v2",
                "namespace": "floe-prd",
                "auth": {
                    "kubernetes": {
                        "mountPath": "kubernetes-prd",
                        "role": "eso-prd",
                        "serviceAccountRef": {"name": "external-secrets", "namespace": "external-secrets-prd"},
                    }
                },
            }
        },
        {
            "gcpsm": {
                "projectID": "example-data-platform",
                "auth": {"workloadIdentity": {"clusterName": "data-prd", "clusterProjectID": "example-data-platform"}},
            }
        },
        {"aws": {"service": "SecretsManager", "region": "eu-west-1", "role": "arn:aws:iam::123:role/eso-prd"}},
        {"azurekv": {"vaultUrl": "https://kv-prd.vault.azure.net"}},
    ],
)
@pytest.mark.parametrize("kind", [STORE, CSS])
def test_store_provider_compliant(kind, provider):
    props = {
        "metadata": {"name": "reader-prd", "labels": labels(), **({"namespace": "dagster-prd"} if kind == STORE else {})},
        "spec": {"provider": provider, **({"conditions": [{"namespaces": ["dagster-prd"]}]} if kind == CSS else {})},
    }
    assert run(isolation.secretstore_namespace_env, kind, props) == []


@pytest.mark.parametrize(
    "provider, needle",
    [
        ({"kubernetes": {"remoteNamespace": "dagster-dev"}}, "reads Secrets of namespace 'dagster-dev', which belongs to dev"),
        ({"kubernetes": {"remoteNamespace": "kube-system"}}, "does not end in '-prd'"),
        (
            {"kubernetes": {"remoteNamespace": "dagster-prd", "auth": {"serviceAccount": {"name": "reader-dev"}}}},
            "spec.provider.kubernetes.auth.serviceAccount.name",
        ),
        ({"vault": {"server": "https://vault.dev.example.internal:8200", "path": "floe"}}, "spec.provider.vault.server"),
        (
            {"vault": {"server": "https://vault.example.internal:8200", "path": "floe", "namespace": "floe-stg"}},
            "spec.provider.vault.namespace",
        ),
        (
            {
                "vault": {
                    "server": "https://vault.example.internal:8200",
                    "path": "floe",
                    "auth": {"kubernetes": {"mountPath": "kubernetes-dev", "role": "eso"}},
                }
            },
            "mountPath",
        ),
        (
            {
                "vault": {
                    "server": "https://vault.example.internal:8200",
                    "path": "floe",
                    "auth": {"kubernetes": {"mountPath": "kubernetes", "role": "eso-dev"}},
                }
            },
            "auth.kubernetes.role",
        ),
        ({"gcpsm": {"projectID": "data-dev"}}, "spec.provider.gcpsm.projectID"),
        ({"gcpsm": {"projectID": "p", "auth": {"workloadIdentity": {"clusterProjectID": "data-dev"}}}}, "clusterProjectID"),
        ({"azurekv": {"vaultUrl": "https://kv-dev.vault.azure.net"}}, "vaultUrl"),
    ],
)
def test_store_provider_each_fact(provider, needle):
    props = {"metadata": {"name": "reader-prd", "namespace": "dagster-prd", "labels": labels()}, "spec": {"provider": provider}}
    [message] = run(isolation.secretstore_namespace_env, STORE, props)
    assert needle in message


def test_store_unknown_provider_fails_closed_in_prd():
    props = {
        "metadata": {"name": "reader-prd", "namespace": "dagster-prd", "labels": labels()},
        "spec": {"provider": {"kubernetes": {"remoteNamespace": UNKNOWN}}},
    }
    [message] = run(isolation.secretstore_namespace_env, STORE, props)
    assert "unknown at preview" in message


# --------------------------------------------------------------------------- Vault policies and roles


def vault_policy(env="prd"):
    return {
        "name": f"floe-floe-jobs-{env}-read",
        "policy": f'path "floe/data/{env}/salesforce" {{\n  capabilities = ["read"]\n}}\n\npath "floe/metadata/{env}/salesforce" {{\n  capabilities = ["read"]\n}}\n',
    }


def test_vault_policy_compliant():
    assert run(isolation.vault_policy_env, VAULT_POLICY, vault_policy()) == []


@pytest.mark.parametrize(
    "change, needle",
    [
        (lambda p: p.update(name="floe-floe-jobs-dev-read"), "is named for dev"),
        (
            lambda p: p.update(policy=p["policy"] + 'path "floe/data/dev/salesforce" { capabilities = ["read"] }\n'),
            "'floe/data/dev/salesforce', which belongs to dev",
        ),
        (lambda p: p.update(policy='path "floe/data/*" { capabilities = ["read"] }\n'), "names no environment"),
        (lambda p: p.update(policy='  path "secret/+/prd-and-dev" { capabilities = ["read"] }\n'), "belongs to dev"),
    ],
)
def test_vault_policy_each_fact(change, needle):
    props = vault_policy()
    change(props)
    [message] = run(isolation.vault_policy_env, VAULT_POLICY, props)
    assert needle in message


def test_vault_policy_unknown_text_fails_closed_in_prd():
    [message] = run(isolation.vault_policy_env, VAULT_POLICY, {"name": "floe-floe-jobs-prd-read", "policy": UNKNOWN})
    assert "unknown at preview" in message


def test_vault_role_on_another_environments_auth_mount_fails():
    props = {
        "backend": "kubernetes-dev",
        "roleName": "job-runner-floe-jobs-prd",
        "boundServiceAccountNames": ["job-runner"],
        "boundServiceAccountNamespaces": ["floe-jobs-prd"],
        "audience": "vault",
        "tokenPolicies": ["floe-floe-jobs-prd-read"],
    }
    [message] = run(isolation.vault_role_env, VAULT_ROLE, props)
    assert "backend names 'kubernetes-dev'" in message


# --------------------------------------------------------------------------- RBAC subjects of every kind


def binding(*subjects):
    return {
        "metadata": {"name": "readers-prd", "labels": labels()},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": list(subjects),
    }


def test_binding_subjects_of_every_kind_compliant():
    props = binding(
        {"kind": "ServiceAccount", "name": "job-runner", "namespace": "dagster-prd"},
        {"kind": "User", "name": "system:serviceaccount:floe-jobs-prd:job-runner"},
        {"kind": "Group", "name": "system:serviceaccounts:dagster-prd"},
        {"kind": "Group", "name": "data-oncall@example.com"},
    )
    assert run(isolation.binding_subject_env, CRB, props) == []


@pytest.mark.parametrize(
    "subject, needle",
    [
        ({"kind": "ServiceAccount", "name": "job-runner", "namespace": "dagster-dev"}, "dagster-dev/job-runner"),
        ({"kind": "User", "name": "system:serviceaccount:dagster-stg:job-runner"}, "of stg"),
        ({"kind": "User", "name": "alice-dev@example.com"}, "of dev"),
        ({"kind": "Group", "name": "system:serviceaccounts:floe-jobs-dev"}, "of dev"),
        ({"kind": "Group", "name": "system:serviceaccounts"}, "every namespace"),
        ({"kind": "Group", "name": "system:authenticated"}, "every namespace"),
        ({"kind": "Group", "name": "system:unauthenticated"}, "every namespace"),
    ],
)
def test_binding_each_subject_kind(subject, needle):
    [message] = run(isolation.binding_subject_env, CRB, binding(subject))
    assert needle in message


def test_role_binding_service_account_defaults_to_its_namespace():
    props = binding({"kind": "ServiceAccount", "name": "job-runner"})
    props["metadata"]["namespace"] = "dagster-dev"
    assert run(isolation.binding_subject_env, RB, props, stack="dev") == []  # dev binding in dev: fine
    [message] = run(isolation.binding_subject_env, RB, props)
    assert "dagster-dev/job-runner" in message


# --------------------------------------------------------------------------- GCP IAM at project, secret and account level


@pytest.mark.parametrize(
    "resource_type, props",
    [
        (
            PROJECT_IAM,
            {
                "project": "example-data-platform",
                "role": "roles/logging.logWriter",
                "member": "serviceAccount:eso-prd@p.iam.gserviceaccount.com",
            },
        ),
        (
            SECRET_IAM,
            {
                "secretId": "projects/p/secrets/snowflake-prd-credentials",
                "role": "roles/secretmanager.secretAccessor",
                "member": "serviceAccount:eso-prd@p.iam.gserviceaccount.com",
                "condition": {"title": "prd only", "expression": 'request.time < timestamp("2027-01-01T00:00:00Z")'},
            },
        ),
        (
            SA_IAM,
            {
                "serviceAccountId": "projects/p/serviceAccounts/eso-prd@p.iam.gserviceaccount.com",
                "role": "roles/iam.workloadIdentityUser",
                "member": "serviceAccount:p.svc.id.goog[external-secrets-prd/external-secrets]",
            },
        ),
        (
            SECRET_IAM_BINDING,
            {
                "secretId": "projects/p/secrets/snowflake-prd-credentials",
                "role": "roles/secretmanager.secretAccessor",
                "members": [
                    "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p.svc.id.goog/namespace/dagster-prd"
                ],
            },
        ),
    ],
)
def test_gcp_iam_compliant(resource_type, props):
    assert run(isolation.gcp_iam_env, resource_type, props) == []


@pytest.mark.parametrize(
    "resource_type, change, needle",
    [
        (PROJECT_IAM, {"member": "serviceAccount:eso-dev@p.iam.gserviceaccount.com"}, "is of dev"),
        (PROJECT_IAM, {"member": "allAuthenticatedUsers"}, "every identity"),
        (
            PROJECT_IAM,
            {"condition": {"title": "t", "expression": 'resource.name.startsWith("projects/p/secrets/snowflake-dev")'}},
            "condition naming dev",
        ),
        (SECRET_IAM, {"secretId": "projects/p/secrets/snowflake-dev-credentials"}, "(secretId)"),
        (SECRET_IAM, {"secretId": "projects/p/secrets/shared-credentials"}, "names no environment"),
        (SECRET_IAM, {"member": "allUsers"}, "every identity"),
        (SECRET_IAM, {"member": "serviceAccount:p.svc.id.goog[external-secrets/external-secrets]"}, "does not end in '-prd'"),
        (SECRET_IAM, {"member": "serviceAccount:p.svc.id.goog[external-secrets-dev/external-secrets]"}, "of dev"),
        (
            SECRET_IAM,
            {"member": "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p.svc.id.goog"},
            "not confined",
        ),
        # Unanchored, '/namespace/<ns>' was found inside any principal set: these are not one namespace's accounts.
        (
            SECRET_IAM,
            {
                "member": "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p.svc.id.goog"
                "/kubernetes.cluster/https://container.googleapis.com/v1/projects/p/locations/l/clusters/c/namespace/dagster-prd"
            },
            "not confined",
        ),
        (
            SECRET_IAM,
            {
                "member": "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p.svc.id.goog"
                "/namespace/dagster-prd/extra"
            },
            "not confined",
        ),
        (SA_IAM, {"serviceAccountId": "projects/p/serviceAccounts/eso-stg@p.iam.gserviceaccount.com"}, "(serviceAccountId)"),
        (SA_IAM, {"member": "serviceAccount:p.svc.id.goog[external-secrets-stg/external-secrets]"}, "of stg"),
    ],
)
def test_gcp_iam_each_fact(resource_type, change, needle):
    base = {
        PROJECT_IAM: {
            "project": "example-data-platform",
            "role": "roles/logging.logWriter",
            "member": "serviceAccount:eso-prd@p.iam.gserviceaccount.com",
        },
        SECRET_IAM: {
            "secretId": "projects/p/secrets/snowflake-prd-credentials",
            "role": "roles/secretmanager.secretAccessor",
            "member": "serviceAccount:eso-prd@p.iam.gserviceaccount.com",
        },
        SA_IAM: {
            "serviceAccountId": "projects/p/serviceAccounts/eso-prd@p.iam.gserviceaccount.com",
            "role": "roles/iam.workloadIdentityUser",
            "member": "serviceAccount:p.svc.id.goog[external-secrets-prd/external-secrets]",
        },
    }[resource_type]
    [message] = run(isolation.gcp_iam_env, resource_type, {**base, **change})
    assert needle in message


def test_project_policy_members_checked():
    policy = json.dumps(
        {
            "bindings": [
                {"role": "roles/viewer", "members": ["serviceAccount:eso-prd@p.iam.gserviceaccount.com", "user:ops-dev@example.com"]}
            ]
        }
    )
    [message] = run(isolation.gcp_iam_env, PROJECT_POLICY, {"project": "p", "policyData": policy})
    assert "ops-dev@example.com" in message and "policyData.bindings[0]" in message


def test_unknown_member_fails_closed_in_prd_and_passes_in_dev():
    props = {"project": "p", "role": "roles/logging.logWriter", "member": UNKNOWN}
    [message] = run(isolation.gcp_iam_env, PROJECT_IAM, props)
    assert "unknown at preview" in message
    assert run(isolation.gcp_iam_env, PROJECT_IAM, props, stack="dev") == []


@pytest.mark.parametrize(
    ("reference", "others"),
    [
        ("snowflake-prd-credentials", set()),
        ("snowflake-dev-credentials", {"dev"}),
        ("floe/stg/snowflake", {"stg"}),
        ("prd-to-dev", {"dev"}),
        ("shared", set()),
        (None, set()),
        (["snowflake-dev"], set()),
    ],
)
def test_other_envs_names_only_the_environments_a_string_reference_carries_besides_its_own(reference, others):
    assert other_envs(reference, "prd") == others
