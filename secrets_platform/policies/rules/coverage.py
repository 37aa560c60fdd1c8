"""Coverage rules: the pack judges only what it can read, and refuses the rest.

- ``coverage-type-allow-listed``: every registration is of a type listed in
  :data:`ALLOWED` (what judges it is the value; policies/README.md has the same
  table). Anything else is refused in every environment: a type no rule knows is
  a type no rule checks. A ``kubernetes:helm.sh/v3:Release`` is refused with its
  reason: it installs objects the engine never registers.
- ``coverage-k8s-object-applied``: a Kubernetes registration is judged as what the
  provider applies (secrets_platform/policies/kube.py): its inputs name the object (apiVersion and
  kind), its token names the same one (plain or ``...Patch``), the object is of a
  kind the pack knows, a namespaced object is placed in a namespace the pack can
  read (its own or its provider's), and outside local it goes through an explicit
  provider, not the engine's default one.
- ``coverage-k8s-provider-env``: outside local a Kubernetes provider names its
  cluster explicitly (a kubeconfig context), and its context, kubeconfig and
  default namespace belong to the stack's environment.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from secrets_platform import conventions
from secrets_platform.policies import kube
from secrets_platform.policies.support import (
    MANDATORY,
    PROJECT_IAM_TYPES,
    SECRET_IAM_TYPES,
    SERVICE_ACCOUNT_IAM_TYPES,
    STACK_REFERENCE,
    UNKNOWN,
    VAULT_DB_CONNECTION,
    VAULT_DB_ROLE,
    VAULT_K8S_ROLE,
    VAULT_POLICY,
    Resource,
    UnknownAtPreview,
    is_k8s_object,
    resource_rule,
    show,
)

K8S_PROVIDER = "pulumi:providers:kubernetes"

_COMPONENT = "a component of this program: registers nothing itself; each child is judged by its own type"

ALLOWED: Mapping[str, str] = {
    # The stack, and the program's own components (their children are sent to the pack one by one).
    "pulumi:pulumi:Stack": "the stack: isolation-stack-single-env",
    **{
        t: _COMPONENT
        for t in (
            "secrets-platform:access:JobRunnerAccess",
            "secrets-platform:credentials:GeneratedCredential",
            "secrets-platform:external-secrets:Operator",
            "secrets-platform:external-secrets:EnvironmentStore",
            "secrets-platform:external-secrets:ExternalCredential",
            "secrets-platform:imports:ImportedSecrets",
            "secrets-platform:namespaces:PlatformNamespace",
            "secrets-platform:registry:RegistryPullSecret",
            "secrets-platform:tls:PlatformTlsSecret",
            "secrets-platform:vault:Server",
            "secrets-platform:vault:Access",
            "secrets-platform:gcp:WorkloadIdentity",
            "secrets-platform:audit:Logs",
        )
    },
    "kubernetes:helm.sh/v4:Chart": (
        "a component: every object the chart renders is registered as its child and judged by its own type "
        "(the engine sends no inputs of the chart itself); privilege-operator-chart-admitted"
    ),
    # Providers.
    K8S_PROVIDER: "coverage-k8s-provider-env; the objects registered on it, coverage-k8s-object-applied",
    "pulumi:providers:gcp": "not judged by the pack (GCP projects and clusters are compared across stacks by secrets_platform/policies/cross_stack.py)",
    "pulumi:providers:vault": "not judged by the pack (Vault addresses are compared across stacks by secrets_platform/policies/cross_stack.py)",
    "pulumi:providers:random": "nothing: random generates values in the state, it reaches no system",
    # Values.
    "random:index/randomPassword:RandomPassword": "nothing: a generated value in the state (encrypted); never read by a rule",
    # GCP.
    "gcp:secretmanager/secret:Secret": "nothing of its own: an empty secret container; who may read it is its IAM (isolation-gcp-iam-env)",
    "gcp:secretmanager/secretVersion:SecretVersion": "nothing: a value (never read by a rule) in a secret judged by its IAM",
    "gcp:serviceaccount/account:Account": "nothing of its own: an identity with no grant; its grants are IAM resources",
    **{t: "isolation-gcp-iam-env" for t in SECRET_IAM_TYPES | SERVICE_ACCOUNT_IAM_TYPES},
    **{t: "isolation-gcp-iam-env, privilege-gcp-no-project-secret-access" for t in PROJECT_IAM_TYPES},
    "gcp:projects/iAMAuditConfig:IAMAuditConfig": "audit-stack-prd-logs-on (turns on Data Access logs; grants nothing)",
    # Vault.
    VAULT_POLICY: "isolation-vault-policy-env",
    VAULT_K8S_ROLE: "isolation-vault-role-env, privilege-vault-role-bounded",
    VAULT_DB_CONNECTION: "isolation-vault-database-env",
    VAULT_DB_ROLE: "isolation-vault-database-env",
    "vault:index/authBackend:AuthBackend": "nothing of its own: an auth method grants nothing without roles (judged)",
    "vault:kubernetes/authBackendConfig:AuthBackendConfig": "not judged by the pack: the API server Vault trusts comes from the settings (vault.kubernetesHost)",
    "vault:index/mount:Mount": "nothing of its own: a mount grants nothing without policies (judged)",
    "vault:index/audit:Audit": "audit-vault-device-hmac, audit-stack-prd-logs-on",
    STACK_REFERENCE: "isolation-stackreference-env",
    # Kubernetes objects, each kind plain and as a ...Patch (judged as the object it upserts).
    **{t: "coverage-k8s-object-applied and every rule of its kind (policies/README.md)" for t in kube.KNOWN_TOKENS},
}
"""Every type the pack knows how to judge -> what judges it. Anything else is refused."""


def _how_to_add() -> str:
    return (
        "To use it, add the type to ALLOWED in secrets_platform/policies/rules/coverage.py with the rules that judge it (and, for a "
        "Kubernetes kind, to KNOWN and SCOPES in secrets_platform/policies/kube.py), with tests and a row in policies/README.md, "
        "in a reviewed change to the pack."
    )


@resource_rule("coverage-type-allow-listed", MANDATORY, lambda token: token not in ALLOWED)
def type_allow_listed(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """Every resource is of a type the pack knows how to judge; any other type (a helm.sh/v3 Release included) is refused.

    Only listed types; anything else is refused in every environment.
    """
    if r.token in ALLOWED:
        return
    opaque = kube.OPAQUE.get(r.token)
    if opaque:
        yield f"{show(r.token)} ({show(r.name)}) {opaque}. The pack refuses what it cannot see."
        return
    yield (
        f"{show(r.token)} ({show(r.name)}) is a resource type the policy pack does not know how to judge, so nothing "
        f"shows it is safe, and the pack refuses what it cannot read. {_how_to_add()}"
    )


def _default_provider(name: str | None) -> bool:
    """The engine's default provider: named ``default`` or ``default_<version>`` (pkg/resource/deploy/providers)."""
    return isinstance(name, str) and (name == "default" or name.startswith("default_"))


@resource_rule("coverage-k8s-object-applied", MANDATORY, is_k8s_object)
def k8s_object_applied(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """A Kubernetes registration names the object the provider applies (token and inputs agree, a known kind, a readable namespace, an explicit provider).

    The Kubernetes object the provider applies is one the pack knows, under its own token, in a namespace it can read.
    """
    obj = r.obj
    if obj is None:
        return
    subject = f"{show(r.token)} {show(r.name)}"
    if obj.api_version is UNKNOWN or obj.kind is UNKNOWN:
        raise UnknownAtPreview("apiVersion/kind", "it is computed, and the provider applies the object its inputs name")
    gvk = obj.gvk
    if gvk is None:
        yield (
            f"{subject} sets no apiVersion and kind in its inputs, so what the provider would apply cannot be read. "
            "Register Kubernetes objects with the pulumi_kubernetes SDK's typed classes, which set both."
        )
        return
    problem = obj.token_problem()
    if problem:
        yield (
            f"{subject} {problem} ({show(obj.api_version)}, {show(obj.kind)}): the rules of the token's kind would judge "
            "another object than the one created. Register the object under its own type "
            f"(e.g. {show(kube.token_of(*gvk))})."
        )
    if gvk not in kube.KNOWN:
        yield (
            f"{subject} applies a {show(obj.kind)} of {show(obj.api_version)}, a kind the policy pack does not know how to "
            f"judge, so nothing shows it is safe. {_how_to_add()}"
        )
    if obj.namespaced is not False and obj.namespace is None:
        yield (
            f"{r.describe()} sets no metadata.namespace and its provider sets no default namespace, so the provider "
            "applies it in its kubeconfig context's namespace (or 'default'), which the pack cannot read. "
            "Set metadata.namespace (conventions.namespace_name)."
        )
    if r.env != "local" and _default_provider(r.provider_name):
        yield (
            f"{r.describe()} is registered on the engine's default Kubernetes provider, which applies to whatever "
            f"cluster the ambient kubeconfig selects. Register it with the stack's explicit provider "
            "(secrets_platform/components/provider.py, opts=ResourceOptions(provider=...))."
        )


def _kubeconfig_contexts(value: str) -> tuple[list[str], str | None] | None:
    """``(context and cluster names, current-context)`` of inline kubeconfig contents; None for a path."""
    if "\n" not in value and not value.lstrip().startswith("{"):
        return None
    try:
        doc = yaml.safe_load(value)
    except yaml.YAMLError:
        return [], None
    if not isinstance(doc, Mapping):
        return [], None
    names: list[str] = []
    for field in ("contexts", "clusters"):
        for item in doc.get(field) or []:
            if isinstance(item, Mapping) and isinstance(item.get("name"), str):
                names.append(item["name"])
    current = doc.get("current-context")
    return names, current if isinstance(current, str) and current else None


@resource_rule("coverage-k8s-provider-env", MANDATORY, frozenset({K8S_PROVIDER}))
def k8s_provider_env(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """Outside local, a Kubernetes provider names its cluster's context, and its context, kubeconfig and default namespace are its environment's."""
    env = r.env
    if env == "local":
        return
    subject = f"Kubernetes provider {show(r.name)} in {env or 'a stack not named after an environment'}"
    if r.get("renderYamlToDirectory"):
        return  # renders manifests to files: applies nothing
    context = r.get("context")
    kubeconfig = r.get("kubeconfig")
    namespace = r.get("namespace")
    inline = _kubeconfig_contexts(kubeconfig) if isinstance(kubeconfig, str) else None
    if inline is not None:
        names, current = inline
        context = context or current
        others = {t for n in names for t in conventions.env_tokens_in(n)} - ({env} if env else set())
        if others:
            yield f"{subject}: its kubeconfig holds contexts or clusters of {', '.join(sorted(others))}; give each environment's provider its own kubeconfig."
    elif isinstance(kubeconfig, str) and kubeconfig:
        others = conventions.env_tokens_in(kubeconfig) - ({env} if env else set())
        if others:
            yield f"{subject} reads the kubeconfig {show(kubeconfig)} of {', '.join(sorted(others))}; use this environment's."
    if not isinstance(context, str) or not context:
        yield (
            f"{subject} names no kubeconfig context, so it applies to whatever cluster the ambient kubeconfig's current "
            f"context selects. Set kubernetes.context in {conventions.stack_file_name(env or '<stack>')} to this environment's cluster context."
        )
    else:
        tokens = conventions.env_tokens_in(context)
        if tokens != {env}:
            belongs = f"names {', '.join(sorted(tokens - {env}))}" if tokens - ({env} if env else set()) else "names no environment"
            yield (
                f"{subject} uses the kubeconfig context {show(context)}, which {belongs}; a cluster belongs to one "
                f"environment, and its context name says which (e.g. '..._data-{env}')."
            )
    cluster = r.get("cluster")
    if isinstance(cluster, str) and cluster and conventions.env_tokens_in(cluster) - ({env} if env else set()):
        others = conventions.env_tokens_in(cluster) - ({env} if env else set())
        yield f"{subject} selects the kubeconfig cluster {show(cluster)} of {', '.join(sorted(others))}; select this environment's."
    if isinstance(namespace, str) and namespace:
        tokens = conventions.reference_env_tokens(namespace)
        if tokens != {env}:
            yield (
                f"{subject} sets the default namespace {show(namespace)}, which is not a namespace of {env}: every object "
                f"without its own namespace would land there. Set a '<workload>-{env}' namespace, or none."
            )


POLICIES = [type_allow_listed, k8s_object_applied, k8s_provider_env]
