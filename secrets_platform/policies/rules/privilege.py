"""Least-privilege rules: nobody reads more secrets than the ones they were given by name.

The floe ADR's "SHOULD NOT grant broad secret access (use resourceNames)" made
mandatory, for each way access is granted here: Kubernetes RBAC, External
Secrets stores, GCP IAM and Vault Kubernetes auth.

What this module does not do: check *which* environment access crosses into;
that is ``isolation``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from secrets_platform.policies.operator_charts import admitted_role
from secrets_platform.policies.support import (
    BINDING_TYPES,
    CLUSTER_STORE_TYPES,
    MANDATORY,
    PROJECT_IAM_TYPES,
    ROLE_TYPES,
    UNREADABLE_POLICY,
    VAULT_K8S_ROLE,
    Resource,
    at,
    entries,
    policy_bindings,
    resource_rule,
    show,
    strings,
)

# --------------------------------------------------------------------------- RBAC

_RULE_FIELDS = ("apiGroups", "resources", "verbs", "nonResourceURLs")


@resource_rule("privilege-role-no-wildcards", MANDATORY, ROLE_TYPES)
def role_no_wildcards(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """No Role or ClusterRole uses '*' in apiGroups, resources, verbs or nonResourceURLs."""
    for where, rule in entries(r.get("rules", default=[]), "rules"):
        for field in _RULE_FIELDS:
            wild = [v for v in strings(at(rule, field, where=where), f"{where}.{field}") if "*" in v]
            if wild:
                yield (
                    f"{r.describe()} uses {', '.join(show(v) for v in wild)} in {where}.{field}; a wildcard also grants "
                    "every resource and verb added later. List exactly the apiGroups, resources and verbs needed."
                )


def _touches_secrets(rule: Any, where: str) -> bool:
    groups = strings(at(rule, "apiGroups", where=where), f"{where}.apiGroups") or [""]
    resources = strings(at(rule, "resources", where=where), f"{where}.resources")
    core = any(g in ("", "*") for g in groups)
    return core and any(res == "secrets" or res.startswith("secrets/") or res == "*" for res in resources)


@resource_rule("privilege-role-secret-get-by-name", MANDATORY, ROLE_TYPES)
def role_secret_get_by_name(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """Access to Secrets is 'get' with resourceNames in a namespaced Role: never list or watch, never a ClusterRole (a pinned operator chart's own roles are proven by privilege-operator-chart-admitted)."""
    cluster = r.kind == "ClusterRole"
    if cluster and admitted_role(r):
        return  # a pinned operator chart's own role: privilege-operator-chart-admitted proves it is bound to the operator only
    for where, rule in entries(r.get("rules", default=[]), "rules"):
        if not _touches_secrets(rule, where):
            continue
        if cluster:
            yield (
                f"{r.describe()} grants access to Secrets ({where}); a ClusterRole reaches every namespace, "
                "i.e. every environment. Grant 'get' on named Secrets in a namespaced Role instead."
            )
            continue
        verbs = set(strings(at(rule, "verbs", where=where), f"{where}.verbs"))
        extra = sorted(verbs - {"get"})
        if extra:
            yield (
                f"{r.describe()} allows {', '.join(show(v) for v in extra)} on Secrets ({where}.verbs); list/watch "
                "return every Secret's values in the namespace. Allow only 'get'."
            )
        names = strings(at(rule, "resourceNames", where=where), f"{where}.resourceNames")
        if not names:
            yield (
                f"{r.describe()} allows Secret access without resourceNames ({where}); name each Secret the "
                "workload reads in resourceNames."
            )


# Built-in ClusterRoles that grant Secret access beyond 'get by name': cluster-admin
# everything everywhere; admin and edit read, list and watch every Secret of a namespace.
ADMIN_ROLES = ("cluster-admin", "admin", "edit")


@resource_rule("privilege-binding-no-admin-roles", MANDATORY, BINDING_TYPES)
def binding_no_admin_roles(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """No RoleBinding or ClusterRoleBinding grants the built-in cluster-admin, admin or edit ClusterRoles."""
    kind, name = r.get("roleRef", "kind"), r.get("roleRef", "name")
    if kind == "ClusterRole" and name in ADMIN_ROLES:
        yield (
            f"{r.describe()} binds the built-in ClusterRole {show(name)}, which reads every Secret it can reach. "
            "Bind a Role that allows 'get' on the named Secrets only."
        )


# --------------------------------------------------------------------------- External Secrets Operator


@resource_rule("privilege-clustersecretstore-conditions-required", MANDATORY, CLUSTER_STORE_TYPES)
def clustersecretstore_conditions(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """Every ClusterSecretStore restricts the namespaces that may use it with spec.conditions."""
    conditions = r.get("spec", "conditions", default=[])
    if not conditions:
        yield (
            f"{r.describe()} has no spec.conditions, so an ExternalSecret in any namespace can read through it. "
            "Add conditions listing the namespaces (or an environment-label selector) allowed to use it."
        )
        return
    for where, condition in entries(conditions, "spec.conditions"):
        scopes = [at(condition, k, where=where) for k in ("namespaces", "namespaceSelector", "namespaceRegexes")]
        if not any(scopes):
            yield f"{r.describe()} has an empty condition ({where}), which restricts nothing; give it namespaces or a namespaceSelector."


# --------------------------------------------------------------------------- GCP IAM

# Roles that can read every secret's payload in their scope.
SECRET_READ_ROLES = ("roles/secretmanager.secretAccessor", "roles/secretmanager.admin")


def _granted_roles(r: Resource) -> Iterator[tuple[str, str]]:
    role = r.get("role")
    if isinstance(role, str):
        yield "role", role
    for index, binding in policy_bindings(r):
        if index < 0:
            yield "policyData", UNREADABLE_POLICY
        else:
            yield f"policyData.bindings[{index}].role", str(binding.get("role", ""))


@resource_rule("privilege-gcp-no-project-secret-access", MANDATORY, PROJECT_IAM_TYPES)
def gcp_no_project_secret_access(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """No project-, folder- or organization-wide grant of Secret Manager read access (secretAccessor or admin)."""
    scope = r.type.split(":")[1].split("/")[0]
    for where, role in _granted_roles(r):
        if role in SECRET_READ_ROLES or role == UNREADABLE_POLICY:
            shown = show(role) if role in SECRET_READ_ROLES else "a role it could not read"
            yield (
                f"{r.type.rsplit(':', 1)[-1]} {show(r.name)} grants {shown} on the whole {scope} ({where}), i.e. every "
                "secret of every environment in it. Grant roles/secretmanager.secretAccessor on each secret with "
                "gcp.secretmanager.SecretIamMember instead."
            )


# --------------------------------------------------------------------------- Vault


@resource_rule("privilege-vault-role-bounded", MANDATORY, frozenset({VAULT_K8S_ROLE}))
def vault_role_bounded(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """A Vault Kubernetes-auth role lists its service accounts and namespaces without '*' and sets an audience."""
    subject = f"Vault role {show(r.get('roleName') or r.name)}"
    for field in ("boundServiceAccountNames", "boundServiceAccountNamespaces"):
        values = strings(r.get(field), field)
        wild = [v for v in values if "*" in v]
        if not values:
            yield f"{subject} sets no {field}; list the exact {field[len('boundServiceAccount') :].lower()} allowed to log in."
        elif wild:
            yield (
                f"{subject} uses {', '.join(show(v) for v in wild)} in {field}, letting any matching service account "
                "log in. List them exactly (the job-runner of each namespace)."
            )
    audience = r.get("audience")
    if not audience:
        yield (
            f"{subject} sets no audience, so any token of the bound accounts, whatever it was issued for, logs in. "
            "Set audience (e.g. 'vault') and request projected tokens with that audience."
        )


POLICIES = [
    role_no_wildcards,
    role_secret_get_by_name,
    binding_no_admin_roles,
    clustersecretstore_conditions,
    gcp_no_project_secret_access,
    vault_role_bounded,
]
