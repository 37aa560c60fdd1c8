"""Names of the objects the operators and the stack itself own, each built here and parsed back by its inverse.

Part of :mod:`secrets_platform.conventions` (re-exported there): External Secrets' account and its one
ClusterSecretStore per environment, Vault's auth method, policies, roles, token reviewer binding and audit
device, the job runner's account and Role, the stack's explicit providers and its GCP Data Access audit configs.
A resource name is part of its URN: changing a spelling here replaces resources.
"""

from __future__ import annotations

from secrets_platform.conventions.dns import check_dns_label
from secrets_platform.conventions.environments import split_env_suffix
from secrets_platform.conventions.errors import between, refuse

__all__ = [
    "ESO_GCP_COMPONENT",
    "ESO_SERVICE_ACCOUNT",
    "JOB_RUNNER",
    "JOB_RUNNER_ROLE",
    "STORE_BACKEND",
    "VAULT_AUTH_SERVICE_ACCOUNT",
    "VAULT_INJECTOR_WEBHOOK",
    "VAULT_INJECTOR_WEBHOOK_CONFIGURATION",
    "data_access_log_resource_name",
    "parse_data_access_log_resource_name",
    "parse_provider_name",
    "parse_store_name",
    "parse_vault_audit_resource_name",
    "parse_vault_auth_path",
    "parse_vault_delegator_binding_name",
    "parse_vault_policy_name",
    "parse_vault_role_name",
    "provider_name",
    "store_name",
    "vault_audit_resource_name",
    "vault_auth_path",
    "vault_delegator_binding_name",
    "vault_policy_name",
    "vault_role_name",
]

JOB_RUNNER = "job-runner"
# The Role (and its RoleBinding) that lets a namespace's job runner read that namespace's platform Secrets.
JOB_RUNNER_ROLE = "job-runner-secrets"

# External Secrets: its service account in its namespace, the GCP service account's component,
# and one ClusterSecretStore per environment.
ESO_SERVICE_ACCOUNT = "external-secrets"
ESO_GCP_COMPONENT = "eso"
STORE_BACKEND = "gcp-secret-manager"
# Vault: the service account whose token Vault uses to review job runners' tokens.
VAULT_AUTH_SERVICE_ACCOUNT = "vault-auth"
# The local cluster's Vault agent injector (localcluster/injector.py): its MutatingWebhookConfiguration
# and the webhook in it (upstream's webhook name, so the API server's errors read as they do elsewhere).
VAULT_INJECTOR_WEBHOOK_CONFIGURATION = "secrets-platform-vault-agent-injector"
VAULT_INJECTOR_WEBHOOK = "vault.hashicorp.com"

_AUTH_METHOD = "kubernetes"
_DELEGATOR = f"{VAULT_AUTH_SERVICE_ACCOUNT}-delegator"
_VAULT_AUDIT = "vault-audit"
_DATA_ACCESS_LOGS = "data-access-logs"


def _env_after(name: str, head: str, what: str) -> str:
    """The environment of ``<head>-<env>``, or the error naming ``what`` and that form."""
    found, env = split_env_suffix(name, what, f"'{head}-<env>'")
    if found != head:
        raise refuse(what, name, f"'{head}-<env>'")
    return env


def store_name(env: str) -> str:
    """The environment's ClusterSecretStore: ``gcp-secret-manager-<env>``."""
    return check_dns_label(f"{STORE_BACKEND}-{env}", "store name")


def parse_store_name(name: str) -> str:
    """The inverse of :func:`store_name`: the environment."""
    return _env_after(name, STORE_BACKEND, "store name")


def vault_auth_path(env: str) -> str:
    """The default path of the environment's Kubernetes auth method in Vault: ``kubernetes-<env>``."""
    return f"{_AUTH_METHOD}-{env}"


def parse_vault_auth_path(path: str) -> str:
    """The inverse of :func:`vault_auth_path`: the environment."""
    return _env_after(path, _AUTH_METHOD, "Vault auth path")


def vault_policy_name(mount: str, namespace: str) -> str:
    """The read-only policy of one namespace's job runner: ``<mount>-<namespace>-read``."""
    return check_dns_label(f"{mount}-{namespace}-read", "Vault policy name")


def parse_vault_policy_name(name: str, mount: str) -> str:
    """The inverse of :func:`vault_policy_name` given the mount (a mount may hold '-'): the namespace."""
    return between(name, "Vault policy name", f"'{mount}-<namespace>-read'", prefix=f"{mount}-", suffix="-read")


def vault_role_name(namespace: str) -> str:
    """The Kubernetes-auth role of one namespace's job runner: ``job-runner-<namespace>``."""
    return check_dns_label(f"{JOB_RUNNER}-{namespace}", "Vault role name")


def parse_vault_role_name(name: str) -> str:
    """The inverse of :func:`vault_role_name`: the namespace."""
    return between(name, "Vault role name", f"'{JOB_RUNNER}-<namespace>'", prefix=f"{JOB_RUNNER}-")


def provider_name(kind: str, env: str) -> str:
    """The stack's explicit provider of ``kind`` (``kubernetes``, ``gcp``): ``<kind>-<env>``."""
    return f"{kind}-{env}"


def parse_provider_name(name: str) -> tuple[str, str]:
    """The inverse of :func:`provider_name`: (kind, env)."""
    return split_env_suffix(name, "provider name", "'<kind>-<env>'")


def vault_delegator_binding_name(env: str) -> str:
    """The ClusterRoleBinding of Vault's token reviewer to ``system:auth-delegator``: ``vault-auth-delegator-<env>``."""
    return f"{_DELEGATOR}-{env}"


def parse_vault_delegator_binding_name(name: str) -> str:
    """The inverse of :func:`vault_delegator_binding_name`: the environment."""
    return _env_after(name, _DELEGATOR, "Vault token reviewer binding")


def data_access_log_resource_name(service: str, env: str) -> str:
    """The IAMAuditConfig of one audited GCP service: ``data-access-logs-<first label of the service>-<env>``."""
    return f"{_DATA_ACCESS_LOGS}-{service.split('.')[0]}-{env}"


def parse_data_access_log_resource_name(name: str) -> tuple[str, str]:
    """The inverse of :func:`data_access_log_resource_name`: (the service's first label, env)."""
    what, form = "Data Access log resource", f"'{_DATA_ACCESS_LOGS}-<service>-<env>'"
    head, env = split_env_suffix(name, what, form)
    service = head.removeprefix(f"{_DATA_ACCESS_LOGS}-")
    if service == head or not service:
        raise refuse(what, name, form)
    return service, env


def vault_audit_resource_name(env: str) -> str:
    """The stack's Vault audit device resource: ``vault-audit-<env>``."""
    return f"{_VAULT_AUDIT}-{env}"


def parse_vault_audit_resource_name(name: str) -> str:
    """The inverse of :func:`vault_audit_resource_name`: the environment."""
    return _env_after(name, _VAULT_AUDIT, "Vault audit device resource")
