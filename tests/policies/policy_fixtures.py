"""Fixture builders for the policy pack's tests (imported by each test module).

Not a ``conftest.py`` on purpose: without ``__init__.py`` files pytest imports every
conftest as the top-level module ``conftest``, and a second one here would replace
``tests/conftest.py`` (the e2e fixtures).

Every builder returns the properties of one *compliant* resource as the engine
sends them (camelCase, for the given environment); a test changes one field and
asserts the exact violation. ``run`` validates through the policy object itself
(``ResourceValidationArgs`` / ``StackValidationArgs`` built directly), with the
properties wrapped in pulumi_policy's unknown-checking proxy like the engine does.

``CANARY`` sits in every value that could be secret (stringData, data, ConfigMap
values, annotation values, Helm values); no message may ever contain it.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any, Mapping

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from secrets_platform import conventions

CANARY = "canary-9f1c-never-print-me"
UNKNOWN = UNKNOWN_STRING_VALUE
PROJECT = "secrets-platform"


def urn_of(resource_type: str, name: str, stack: str) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{resource_type}::{name}"


def options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def resource_args(
    resource_type: str,
    props: Mapping[str, Any],
    *,
    stack: str = "prd",
    name: str = "res",
    protect: bool = False,
    config: Mapping[str, Any] | None = None,
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        resource_type,
        unknown_checking_proxy(copy.deepcopy(dict(props))),
        urn_of(resource_type, name, stack),
        name,
        options(protect),
        None,
        config,
    )


def run(policy, resource_type: str, props: Mapping[str, Any], **kwargs: Any) -> list[str]:
    """Validate one resource; return the violation messages."""
    messages: list[str] = []
    policy.validate(resource_args(resource_type, props, **kwargs), lambda message, urn=None: messages.append(message))
    return messages


def policy_resource(resource_type: str, props: Mapping[str, Any], *, stack: str = "prd", name: str = "res") -> PolicyResource:
    return PolicyResource(
        resource_type,
        unknown_checking_proxy(copy.deepcopy(dict(props))),
        urn_of(resource_type, name, stack),
        name,
        options(),
        None,
        None,
        [],
        {},
    )


def run_stack(policy, resources: list[PolicyResource], config: Mapping[str, Any] | None = None) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    policy.validate(StackValidationArgs(resources, config), lambda message, urn=None: found.append((message, urn)))
    return found


# --------------------------------------------------------------------------- compliant resources


def labels(env: str) -> dict[str, str]:
    return dict(conventions.labels(env))


def meta(name: str, env: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "labels": labels(env)}
    if namespace:
        out["namespace"] = namespace
    out.update(extra)
    return out


def namespace(env: str = "prd") -> dict[str, Any]:
    m = meta(f"dagster-{env}", env)
    m["labels"]["pod-security.kubernetes.io/enforce"] = "restricted"
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": m}


def secret(env: str = "prd") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta(
            f"snowflake-{env}-credentials", env, f"dagster-{env}", annotations={conventions.RELOADER_SECRET_ANNOTATION: "true"}
        ),
        "type": "Opaque",
        "stringData": {"SNOWFLAKE_USER": CANARY, "SNOWFLAKE_PASSWORD": CANARY},
    }


def configmap(env: str = "prd") -> dict[str, Any]:
    return {
        "metadata": meta(f"dbt-profiles-{env}", env, f"dagster-{env}", annotations={"note": CANARY}),
        "data": {"SNOWFLAKE_ACCOUNT": CANARY, "DBT_PROFILES_DIR": CANARY, "SNOWFLAKE_PASSWORD_FILE": CANARY, "PARTITION_KEY": CANARY},
    }


def service_account_patch(env: str = "prd") -> dict[str, Any]:
    return {"metadata": {"name": "default", "namespace": f"dagster-{env}"}, "automountServiceAccountToken": False}


def role(env: str = "prd") -> dict[str, Any]:
    return {
        "metadata": meta("job-runner-secrets", env, f"dagster-{env}"),
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": [f"snowflake-{env}-credentials"]}],
    }


def role_binding(env: str = "prd") -> dict[str, Any]:
    return {
        "metadata": meta("job-runner-secrets", env, f"dagster-{env}"),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "job-runner-secrets"},
        "subjects": [{"kind": "ServiceAccount", "name": conventions.JOB_RUNNER, "namespace": f"dagster-{env}"}],
    }


def external_secret(env: str = "prd", version: str = "v1") -> dict[str, Any]:
    return {
        "apiVersion": f"external-secrets.io/{version}",
        "kind": "ExternalSecret",
        "metadata": meta(f"snowflake-{env}-credentials", env, f"dagster-{env}"),
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"name": f"gcp-secret-manager-{env}", "kind": "ClusterSecretStore"},
            "target": {"name": f"snowflake-{env}-credentials", "creationPolicy": "Owner"},
            "data": [
                {"secretKey": "SNOWFLAKE_PASSWORD", "remoteRef": {"key": f"snowflake-{env}-credentials", "property": "SNOWFLAKE_PASSWORD"}},
                {"secretKey": "SNOWFLAKE_USER", "remoteRef": {"key": f"floe/{env}/snowflake", "property": "user"}},
            ],
        },
    }


def cluster_secret_store(env: str = "prd", version: str = "v1") -> dict[str, Any]:
    return {
        "apiVersion": f"external-secrets.io/{version}",
        "kind": "ClusterSecretStore",
        "metadata": meta(f"gcp-secret-manager-{env}", env),
        "spec": {
            "provider": {
                "gcpsm": {
                    "projectID": "example-data-platform",
                    "auth": {
                        "workloadIdentity": {
                            "clusterLocation": "europe-west1",
                            "clusterName": f"data-{env}",
                            "serviceAccountRef": {"name": "external-secrets", "namespace": "external-secrets"},
                        }
                    },
                }
            },
            "conditions": [
                {"namespaces": [f"dagster-{env}", f"floe-jobs-{env}"]},
                {"namespaceSelector": {"matchLabels": {conventions.LABEL_ENVIRONMENT: env}}},
                {"namespaceRegexes": [f"^flyte-[a-z]+-{env}$"]},
            ],
        },
    }


def vault_role(env: str = "prd") -> dict[str, Any]:
    return {
        "backend": "kubernetes",
        "roleName": f"floe-{env}",
        "boundServiceAccountNames": [conventions.JOB_RUNNER],
        "boundServiceAccountNamespaces": [f"floe-jobs-{env}"],
        "audience": "vault",
        "tokenPolicies": [f"floe-{env}-read"],
        "tokenTtl": 3600,
    }


def secret_iam_member(env: str = "prd") -> dict[str, Any]:
    return {
        "secretId": f"projects/example-data-platform/secrets/snowflake-{env}-credentials",
        "role": "roles/secretmanager.secretAccessor",
        "member": f"serviceAccount:eso-{env}@example-data-platform.iam.gserviceaccount.com",
    }


def workload_identity_member(env: str = "prd") -> dict[str, Any]:
    return {
        "serviceAccountId": f"projects/example-data-platform/serviceAccounts/eso-{env}@example-data-platform.iam.gserviceaccount.com",
        "role": "roles/iam.workloadIdentityUser",
        "member": f"serviceAccount:example-data-platform.svc.id.goog[external-secrets-{env}/external-secrets]",
    }


def project_iam_member(env: str = "prd") -> dict[str, Any]:
    return {
        "project": "example-data-platform",
        "role": "roles/logging.logWriter",
        "member": f"serviceAccount:eso-{env}@example-data-platform.iam.gserviceaccount.com",
    }


def vault_release(env: str = "prd") -> dict[str, Any]:
    return {
        "name": "vault",
        "namespace": f"vault-{env}",
        "chart": "vault",
        "version": "0.28.1",
        "repositoryOpts": {"repo": "https://helm.releases.hashicorp.com"},
        "values": {"server": {"dev": {"enabled": False, "devRootToken": CANARY}}, "injector": {"enabled": True}},
    }


def eso_chart(env: str = "prd") -> dict[str, Any]:
    return {
        "chart": "external-secrets",
        "version": "0.10.4",
        "namespace": f"external-secrets-{env}",
        "repositoryOpts": {"repo": "https://charts.external-secrets.io"},
        "values": {"installCRDs": True},
    }


def stack_reference(env: str = "prd") -> dict[str, Any]:
    return {"name": f"acme/gke-cluster/{env}"}


@pytest.fixture
def fx() -> SimpleNamespace:
    """The builders above, plus ``run``/``run_stack`` and the canary, in one handle."""
    return SimpleNamespace(
        CANARY=CANARY,
        UNKNOWN=UNKNOWN,
        run=run,
        run_stack=run_stack,
        resource_args=resource_args,
        policy_resource=policy_resource,
        urn_of=urn_of,
        labels=labels,
        meta=meta,
        namespace=namespace,
        secret=secret,
        configmap=configmap,
        service_account_patch=service_account_patch,
        role=role,
        role_binding=role_binding,
        external_secret=external_secret,
        cluster_secret_store=cluster_secret_store,
        vault_role=vault_role,
        secret_iam_member=secret_iam_member,
        workload_identity_member=workload_identity_member,
        project_iam_member=project_iam_member,
        vault_release=vault_release,
        eso_chart=eso_chart,
        stack_reference=stack_reference,
    )
