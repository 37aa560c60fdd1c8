"""What pulumi-kubernetes will apply for a registration: the object every rule judges.

The pack receives a registration (a type token and its inputs); the cluster
receives what the provider makes of them. The two differ in three ways, each
read from the provider's own source (pulumi-kubernetes ``provider/v4`` at
f47bc2d6f199, the commit toolchain/kubernetes/go.mod pins):

- **Group, version and kind come from the inputs.** ``Create`` applies
  ``c.Inputs`` through ``ResourceClientForObject(obj)``, which maps
  ``obj.GroupVersionKind()`` (the inputs' ``apiVersion``/``kind``), not the token
  (provider/pkg/await/await.go, ``Creation``; provider/pkg/clients/clients.go,
  ``ResourceClientForObject``). A token that says ``Secret`` with inputs saying
  ``ClusterRole`` creates a ClusterRole. The token is used only for deprecation
  warnings and the namespace-scope lookup in ``Check`` (``gvkFromURN``).
- **A ``...Patch`` type creates the object.** ``IsPatchResource(urn, kind)`` is
  ``kind + "Patch" == <token's name>`` (provider/pkg/kinds/util.go); a Patch needs
  server-side apply, and with server-side apply ``Create`` always sends an apply
  PATCH: "we always send a PATCH request during creates with SSA enabled. This
  means that we currently always upsert the object" (await.go). So a
  ``ClusterRoleBindingPatch`` whose target does not exist creates that binding,
  and one whose target exists widens it: both are judged as the object.
- **A namespaced object without ``metadata.namespace`` takes the provider's.**
  ``Check`` sets ``k.defaultNamespace`` on a namespaced object whose inputs have
  none (provider.go, "If a default namespace is set on the provider"), and
  ``Configure`` takes that default from the ``namespace`` config, else from the
  kubeconfig context's namespace (provider.go, ``kubeconfig.Namespace()``);
  without either the client uses ``default`` (clients.go, ``NamespaceOrDefault``).
  The engine sends a policy pack the provider's inputs with every resource
  (pulumi pkg/resource/deploy/step_generator.go, ``getProviderResource``), so the
  ``namespace`` input is visible; a kubeconfig's context namespace is not, so an
  object that relies on it cannot be placed and is refused
  (``coverage-k8s-object-applied``).

:func:`normalise` turns one registration into a :class:`KubeObject`, once per
resource view (``support.Resource.of``); the rules compare ``Resource.type`` (the
applied object's canonical token) with their type sets, so a Patch, or any token
whose inputs say ``ClusterRole``, meets exactly the rules a ClusterRole meets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

PREFIX = "kubernetes:"
PATCH = "Patch"

# Tokens of the kubernetes package that are not one object: components whose
# children the engine registers (and so sends to the pack) one by one.
COMPONENTS = frozenset({"kubernetes:helm.sh/v4:Chart", "kubernetes:yaml/v2:ConfigFile", "kubernetes:yaml/v2:ConfigGroup"})
# Custom resources of the kubernetes package that install objects inside the
# provider: the engine never registers what they create, so no rule can see it.
OPAQUE = {
    "kubernetes:helm.sh/v3:Release": (
        "installs a Helm release inside the provider (helm install/upgrade); the objects the chart renders are never "
        "registered, so no rule of the pack sees them. Install charts with kubernetes:helm.sh/v4:Chart "
        "(secrets_platform/components/helm.py), whose rendered objects the pack judges one by one"
    ),
}


@lru_cache(maxsize=1024)  # pure functions of a token; a stack has a few dozen types
def split_token(token: str) -> tuple[str, str, str] | None:
    """``(group, version, kind)`` of ``kubernetes:<group>/<version>:<Kind>``; ``core`` is the empty group."""
    if not token.startswith(PREFIX):
        return None
    parts = token.split(":")
    if len(parts) != 3 or parts[1].count("/") != 1 or not parts[2]:
        return None
    group, version = parts[1].split("/")
    return ("" if group == "core" else group), version, parts[2]


@lru_cache(maxsize=1024)
def token_of(group: str, version: str, kind: str) -> str:
    """The canonical token of an applied object (``kubernetes:core/v1:Secret``)."""
    return f"{PREFIX}{group or 'core'}/{version}:{kind}"


@lru_cache(maxsize=1024)
def split_api_version(api_version: str) -> tuple[str, str]:
    """``(group, version)`` as the provider reads ``apiVersion`` (gvkFromUnstructured: ``v1`` is the core group)."""
    if "/" not in api_version:
        return "", api_version
    group, version = api_version.split("/", 1)
    return ("" if group == "core" else group), version


@lru_cache(maxsize=1024)
def is_object_token(token: str) -> bool:
    """A kubernetes token the provider applies as one object (not a component, a Release or a List)."""
    if token in COMPONENTS or token in OPAQUE or token.startswith((f"{PREFIX}helm.sh/", f"{PREFIX}yaml", f"{PREFIX}kustomize")):
        return False
    parsed = split_token(token)
    return parsed is not None and not parsed[2].endswith("List")


# --------------------------------------------------------------------------- the kinds the pack knows

# (group, kind) -> namespaced, for every kind the pack knows how to judge (policies/README.md,
# "Types the pack judges"). Scopes as the API server serves them (kubectl api-resources).
SCOPES: Mapping[tuple[str, str], bool] = {
    ("", "Namespace"): False,
    ("", "Secret"): True,
    ("", "ConfigMap"): True,
    ("", "ServiceAccount"): True,
    ("", "Service"): True,
    ("apps", "Deployment"): True,
    ("apps", "StatefulSet"): True,
    ("policy", "PodDisruptionBudget"): True,
    ("rbac.authorization.k8s.io", "Role"): True,
    ("rbac.authorization.k8s.io", "RoleBinding"): True,
    ("rbac.authorization.k8s.io", "ClusterRole"): False,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): False,
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): False,
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): False,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): False,
    ("external-secrets.io", "ExternalSecret"): True,
    ("external-secrets.io", "SecretStore"): True,
    ("external-secrets.io", "PushSecret"): True,
    ("external-secrets.io", "ClusterSecretStore"): False,
    ("external-secrets.io", "ClusterExternalSecret"): False,
}

# (group, version, kind) the pack judges: the versions the rules are written for.
KNOWN: frozenset[tuple[str, str, str]] = frozenset(
    {
        ("", "v1", "Namespace"),
        ("", "v1", "Secret"),
        ("", "v1", "ConfigMap"),
        ("", "v1", "ServiceAccount"),
        ("", "v1", "Service"),
        ("apps", "v1", "Deployment"),
        ("apps", "v1", "StatefulSet"),
        ("policy", "v1", "PodDisruptionBudget"),
        *(("rbac.authorization.k8s.io", "v1", k) for k in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")),
        ("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration"),
        ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
        *(
            ("external-secrets.io", v, k)
            for v in ("v1", "v1beta1")
            for k in ("ExternalSecret", "SecretStore", "ClusterSecretStore", "ClusterExternalSecret")
        ),
        *(("external-secrets.io", v, "PushSecret") for v in ("v1alpha1", "v1")),
    }
)

KNOWN_TOKENS: frozenset[str] = frozenset(token for g, v, k in KNOWN for token in (token_of(g, v, k), token_of(g, v, k + PATCH)))
"""Every object token the pack judges: each known kind, plain and as a ``...Patch``."""


# --------------------------------------------------------------------------- one registration, normalised


@dataclass(frozen=True)
class KubeObject:
    """The object the provider applies for one registration. Values may be ``support.UNKNOWN``."""

    token: str
    """The registered type token."""
    api_version: Any
    """The inputs' ``apiVersion`` (None when absent)."""
    kind: Any
    """The inputs' ``kind`` (None when absent)."""
    patch: bool
    """A ``...Patch`` registration (``<inputs' kind>Patch`` is the token's name): an upsert of the object."""
    namespace: Any
    """The namespace it is applied in: ``metadata.namespace``, else the provider's ``namespace``; None if neither."""
    namespace_from_provider: bool

    @property
    def gvk(self) -> tuple[str, str, str] | None:
        """``(group, version, kind)`` applied, when the inputs say it in plain strings."""
        if not isinstance(self.api_version, str) or not isinstance(self.kind, str) or not self.api_version or not self.kind:
            return None
        return (*split_api_version(self.api_version), self.kind)

    @property
    def applied_token(self) -> str | None:
        gvk = self.gvk
        return token_of(*gvk) if gvk else None

    @property
    def namespaced(self) -> bool | None:
        gvk = self.gvk
        return SCOPES.get((gvk[0], gvk[2])) if gvk else None

    def token_problem(self) -> str | None:
        """Why the token and the applied object disagree (None: they agree)."""
        gvk, parsed = self.gvk, split_token(self.token)
        if gvk is None or parsed is None:
            return None
        token_kind = parsed[2][: -len(PATCH)] if self.patch else parsed[2]
        if (parsed[0], parsed[1], token_kind) == gvk:
            return None
        return "its type token names another object than its inputs' apiVersion and kind, which are what the provider applies"


def normalise(token: str, props: Mapping[str, Any], provider_props: Mapping[str, Any] | None) -> KubeObject | None:
    """The object a kubernetes registration applies; None for anything else (components, Releases, other packages)."""
    if not is_object_token(token):
        return None
    api_version, kind = props.get("apiVersion"), props.get("kind")
    parsed = split_token(token)
    patch = bool(parsed and isinstance(kind, str) and kind and parsed[2] == kind + PATCH)
    metadata = props.get("metadata")
    namespace = metadata.get("namespace") if isinstance(metadata, Mapping) else None
    from_provider = False
    if not namespace:
        namespace = None
        scoped = SCOPES.get((split_api_version(api_version)[0], kind)) if isinstance(api_version, str) and isinstance(kind, str) else None
        provider_namespace = provider_props.get("namespace") if isinstance(provider_props, Mapping) else None
        if scoped is not False and provider_namespace:  # Check: namespaced kinds, and kinds it cannot place (assumed namespaced)
            namespace, from_provider = provider_namespace, True
    return KubeObject(token, api_version, kind, patch, namespace, from_provider)
