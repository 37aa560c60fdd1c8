"""The type tokens the rules judge: Kubernetes kinds, External Secrets, RBAC, Vault and GCP IAM."""

from __future__ import annotations

from functools import lru_cache

from secrets_platform.policies import kube

# --------------------------------------------------------------------------- kubernetes types

# Tokens are for the type filters (what the engine's request says before anything is
# decoded); rules compare ``Resource.type``, the applied object's token (secrets_platform/policies/kube.py).


@lru_cache(maxsize=1024)
def k8s_kind(resource_type: str) -> str | None:
    """``Secret`` for ``kubernetes:core/v1:Secret``; None for non-object types (Helm, yaml, Lists)."""
    if not kube.is_object_token(resource_type):
        return None
    return resource_type.split(":")[2]


def is_k8s_object(resource_type: str) -> bool:
    """Any Kubernetes object token the program registers, patches included."""
    return k8s_kind(resource_type) is not None


def is_created_k8s_object(resource_type: str) -> bool:
    """A Kubernetes object token other than a ``...Patch`` (which amends an object someone else owns, or upserts it)."""
    kind = k8s_kind(resource_type)
    return kind is not None and not kind.endswith("Patch")


def k8s_types(kind: str, *group_versions: str) -> frozenset[str]:
    return frozenset(f"kubernetes:{gv}:{kind}" for gv in group_versions)


ESO_VERSIONS = ("external-secrets.io/v1", "external-secrets.io/v1beta1")
SECRET = "kubernetes:core/v1:Secret"
NAMESPACE = "kubernetes:core/v1:Namespace"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
RBAC = "rbac.authorization.k8s.io/v1"
ROLE_TYPES = k8s_types("Role", RBAC) | k8s_types("ClusterRole", RBAC)
BINDING_TYPES = k8s_types("RoleBinding", RBAC) | k8s_types("ClusterRoleBinding", RBAC)
EXTERNAL_SECRET_TYPES = k8s_types("ExternalSecret", *ESO_VERSIONS)
CLUSTER_STORE_TYPES = k8s_types("ClusterSecretStore", *ESO_VERSIONS)
STORE_TYPES = CLUSTER_STORE_TYPES | k8s_types("SecretStore", *ESO_VERSIONS)
PUSH_SECRET_TYPES = k8s_types("PushSecret", "external-secrets.io/v1alpha1", *ESO_VERSIONS)
CLUSTER_EXTERNAL_SECRET_TYPES = k8s_types("ClusterExternalSecret", *ESO_VERSIONS)
VAULT_POLICY = "vault:index/policy:Policy"
PROJECT_IAM_TYPES = frozenset(
    f"gcp:{scope}/iAM{kind}:IAM{kind}" for scope in ("projects", "folder", "organizations") for kind in ("Member", "Binding", "Policy")
)
HELM_TYPES = frozenset({"kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"})
VAULT_K8S_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"
VAULT_DB_CONNECTION = "vault:database/secretBackendConnection:SecretBackendConnection"
VAULT_DB_ROLE = "vault:database/secretBackendRole:SecretBackendRole"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
SECRET_IAM_TYPES = frozenset(
    f"gcp:secretmanager/{m}:{t}"
    for m, t in (
        ("secretIamMember", "SecretIamMember"),
        ("secretIamBinding", "SecretIamBinding"),
        ("secretIamPolicy", "SecretIamPolicy"),
        ("regionalSecretIamMember", "RegionalSecretIamMember"),
        ("regionalSecretIamBinding", "RegionalSecretIamBinding"),
        ("regionalSecretIamPolicy", "RegionalSecretIamPolicy"),
    )
)
SERVICE_ACCOUNT_IAM_TYPES = frozenset(
    {"gcp:serviceaccount/iAMMember:IAMMember", "gcp:serviceaccount/iAMBinding:IAMBinding", "gcp:serviceaccount/iAMPolicy:IAMPolicy"}
)
