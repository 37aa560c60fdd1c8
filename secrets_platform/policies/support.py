"""Machinery every rule of the pack shares.

What it is for:
- reading resource properties as the engine sends them (camelCase, possibly
  unknown during preview) without ever letting an unknown value slip through:
  pulumi_policy raises ``UnknownValueError`` on access and, if a policy lets it
  escape, downgrades the result to an *advisory* "can't run during preview"
  note. That is fail-open, so we read properties through ``plain`` and turn an
  unknown that a rule needs into ``UnknownAtPreview``, which the wrappers below
  report as a violation in prd (and in any stack whose environment is not
  recognised) and ignore in local/dev/stg, where ``pulumi up`` re-runs the pack
  with every input known;
- exemptions through policy config (``exemptResources``), never code edits;
- the stack's environment, read from the resource URN (see ``stack_of_urn``);
- messages that never carry a property value: rules only ever show names
  (resource names, label/data keys, roles, namespaces), passed through ``show``.

What it deliberately does not do: decide what is compliant. That is each rule's
job in ``policies.rules``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)
from pulumi_policy.secret import Secret

from secrets_platform import conventions
from secrets_platform.policies import kube

# --------------------------------------------------------------------------- unknowns


class _Unknown:
    """Marks a property whose value the engine could not know at preview."""

    _instance: "_Unknown | None" = None

    def __new__(cls) -> "_Unknown":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown at preview>"


UNKNOWN = _Unknown()

SENTINELS = frozenset(
    {
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    }
)


class UnknownAtPreview(Exception):
    """A rule needed a value that is unknown at preview; ``where`` is its property path."""

    def __init__(self, where: str, why: str = "it is computed from another resource") -> None:
        super().__init__(where)
        self.where = where or "(the resource's properties)"
        self.why = why


def plain(value: Any) -> Any:
    """Copy engine properties into plain dicts/lists, unknowns replaced by ``UNKNOWN``.

    Works on pulumi_policy's unknown-checking proxies (which raise on access) and on
    raw sentinel strings alike, so tests may build properties either way.
    """
    if isinstance(value, Secret):
        value = value.value
    if isinstance(value, str):
        return UNKNOWN if value in SENTINELS else value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in value:
            try:
                out[key] = plain(value[key])
            except UnknownValueError:
                out[key] = UNKNOWN
        return out
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def _path(where: str, steps: Sequence[str | int]) -> str:
    for step in steps:
        if isinstance(step, int):
            where = f"{where}[{step}]"
        else:
            where = f"{where}.{step}" if where else str(step)
    return where


def at(value: Any, *path: str | int, where: str = "", default: Any = None) -> Any:
    """Walk ``path`` into ``value``; a missing step gives ``default``, an unknown one raises."""
    for depth, step in enumerate(path):
        if value is UNKNOWN:
            raise UnknownAtPreview(_path(where, path[:depth]))
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return default
        elif not isinstance(value, Mapping) or step not in value:
            return default
        value = value[step]
    if value is UNKNOWN:
        raise UnknownAtPreview(_path(where, path))
    return default if value is None else value


def has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


def known(value: Any, where: str) -> Any:
    """``value`` itself, after checking nothing inside it is unknown."""
    if has_unknown(value):
        raise UnknownAtPreview(where)
    return value


def strings(value: Any, where: str) -> list[str]:
    """A known list of strings (``None`` -> ``[]``, a single string -> ``[it]``)."""
    known(value, where)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def entries(value: Any, where: str) -> Iterator[tuple[str, Any]]:
    """``(where[i], item)`` for a list that is itself known (its items may not be)."""
    if value is UNKNOWN:
        raise UnknownAtPreview(where)
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield f"{where}[{index}]", item


def keys_of(value: Any, where: str) -> list[str]:
    """The keys of a map that is itself known; its values are never read."""
    if value is UNKNOWN:
        raise UnknownAtPreview(where)
    return list(value) if isinstance(value, Mapping) else []


# --------------------------------------------------------------------------- showing names

_SHOWABLE = re.compile(r"^[A-Za-z0-9_.:/@\[\]*^$()|+?\\ -]{1,253}\Z")


UNREADABLE_POLICY = "(unreadable policyData)"


def policy_bindings(r: "Resource") -> Iterator[tuple[int, Mapping[str, Any]]]:
    """``(index, binding)`` of a GCP IAM policy resource's ``policyData`` JSON.

    Yields ``(-1, {})`` once when the JSON can't be read, so rules fail on it
    rather than silently pass.
    """
    policy = r.get("policyData")
    if not isinstance(policy, str):
        return
    try:
        bindings = json.loads(policy).get("bindings") or []
    except (ValueError, AttributeError):
        yield -1, {}
        return
    yield from enumerate(bindings)


def show(text: Any) -> str:
    """Quote a *name* (key, namespace, role, reference) for a message.

    Rules only ever pass names here, never values. As a second fence, anything that
    does not look like a name (too long, odd characters, not a string) is not shown.
    """
    if isinstance(text, str) and _SHOWABLE.match(text) and "\n" not in text:
        return f"'{text}'"
    return "(a name not shown: it does not look like a plain name)"


# --------------------------------------------------------------------------- stacks and environments

# Only these stacks may let an unknown value pass at preview: `pulumi up` analyses
# again with every input known, and none of them holds production data. prd, and any
# stack whose name is not an environment token, fail closed.
FAIL_OPEN_ENVS = frozenset(env for env, traits in conventions.TRAITS.items() if not traits.fail_closed)


def stack_of_urn(urn: str) -> str | None:
    """The stack name in a URN: ``urn:pulumi:<stack>::<project>::<type>::<name>``.

    Every resource the engine sends carries its URN, so this works the same at
    preview, on update and in tests. The engine also exports PULUMI_STACK to the
    pack's process (pulumi_policy then configures ``pulumi.get_stack()``); the stack
    policy checks that the two agree.
    """
    prefix = "urn:pulumi:"
    if not isinstance(urn, str) or not urn.startswith(prefix):
        return None
    stack = urn[len(prefix) :].split("::", 1)[0]
    return stack or None


def engine_stack() -> str | None:
    """The stack the engine says it is running, when it said so (PULUMI_STACK)."""
    if not os.environ.get("PULUMI_STACK"):
        return None
    import pulumi  # imported late: only the engine's process has the runtime configured

    return pulumi.get_stack()


def fails_closed(env: str | None) -> bool:
    return env not in FAIL_OPEN_ENVS


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


# --------------------------------------------------------------------------- the resource view


def _parent_urn(source: Any) -> str | None:
    parent = getattr(getattr(source, "opts", None), "parent", None)
    if isinstance(parent, str) and parent:
        return parent
    resource = getattr(source, "parent", None)  # a PolicyResource in stack validation
    urn = getattr(resource, "urn", None)
    return urn if isinstance(urn, str) and urn else None


def _provider_of(source: Any) -> tuple[str | None, str | None, Mapping[str, Any] | None]:
    """``(type, name, inputs)`` of the provider the engine says the resource is registered on (None when not sent)."""
    provider = getattr(source, "provider", None)
    if provider is None:
        return None, None, None
    props = plain(provider.props)
    return provider.resource_type, provider.name, props if isinstance(props, Mapping) else {}


@dataclass(frozen=True)
class Resource:
    """What a rule sees: plain properties (``UNKNOWN`` where unknown) and a few facts.

    ``type`` is what is applied: for a Kubernetes object the canonical token of its
    inputs' apiVersion and kind (a ``...Patch``, or any token, is judged as the object
    the provider applies; secrets_platform/policies/kube.py), otherwise the registered token, which
    ``token`` always holds.
    """

    type: str
    urn: str
    name: str
    props: Mapping[str, Any]
    protect: bool
    stack: str | None
    parent: str | None = None
    """The parent's URN (``opts.parent``), when the engine gave one."""
    token: str = ""
    """The registered type token (``type`` unless a Kubernetes object's inputs say otherwise)."""
    obj: kube.KubeObject | None = None
    """The applied Kubernetes object (None for anything else)."""
    provider_type: str | None = None
    provider_name: str | None = None
    provider_props: Mapping[str, Any] | None = None
    """The inputs of the provider resource the resource is registered on, when the engine sent it."""

    @classmethod
    def of(cls, source: ResourceValidationArgs | PolicyResource) -> "Resource":
        provider_type, provider_name, provider_props = _provider_of(source)
        return cls.made(
            token=source.resource_type,
            urn=source.urn,
            name=source.name,
            props=plain(source.props),
            protect=bool(getattr(source.opts, "protect", False)),
            parent=_parent_urn(source),
            provider=(provider_type, provider_name, provider_props),
        )

    @classmethod
    def made(
        cls,
        *,
        token: str,
        urn: str,
        name: str,
        props: Any,
        protect: bool,
        parent: str | None,
        provider: tuple[str | None, str | None, Mapping[str, Any] | None] = (None, None, None),
    ) -> "Resource":
        """The view of properties already made plain (``plain``, or wire.py from the request itself)."""
        provider_type, provider_name, provider_props = provider
        obj = kube.normalise(token, props, provider_props) if isinstance(props, Mapping) else None
        applied = obj.applied_token if obj is not None else None
        return cls(
            type=applied or token,
            urn=urn,
            name=name,
            props=props,
            protect=protect,
            stack=stack_of_urn(urn) or engine_stack(),
            parent=parent,
            token=token,
            obj=obj,
            provider_type=provider_type,
            provider_name=provider_name,
            provider_props=provider_props,
        )

    @property
    def env(self) -> str | None:
        """The stack's environment: the stack name is the token (CONVENTIONS)."""
        return conventions.env_of_stack(self.stack) if self.stack else None

    @property
    def patch(self) -> bool:
        return self.obj is not None and self.obj.patch

    def get(self, *path: str | int, default: Any = None) -> Any:
        return at(self.props, *path, default=default)

    # Kubernetes metadata -------------------------------------------------------
    @property
    def kind(self) -> str:
        return k8s_kind(self.type) or self.type.rsplit(":", 1)[-1]

    def k8s_name(self) -> str | None:
        value = self.get("metadata", "name")
        return value if isinstance(value, str) else None

    def k8s_namespace(self) -> str | None:
        """The namespace the object is applied in: its own, else its provider's default (secrets_platform/policies/kube.py)."""
        if self.obj is not None and self.obj.namespace_from_provider:
            value = at(self.obj.namespace, where="the provider's namespace")
        else:
            value = self.get("metadata", "namespace")
        return value if isinstance(value, str) else None

    def describe(self) -> str:
        """``Secret 'dagster-prd/snowflake-prd-credentials'``, or the Pulumi name as fallback."""
        try:
            name, namespace = self.k8s_name(), self.k8s_namespace()
        except UnknownAtPreview:
            name, namespace = None, None
        registered = self.token.rsplit(":", 1)[-1]
        via = f" (registered as {show(registered)})" if self.token and registered != self.kind else ""
        if name:
            full = conventions.object_key(namespace, name) if namespace else name
            return f"{self.kind} {show(full)}{via}"
        return f"{self.kind} {show(self.name)}{via}"


# --------------------------------------------------------------------------- config and wrappers

EXEMPT_RESOURCES = "exemptResources"

_EXEMPT_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string"},
    "default": [],
    "description": (
        "URNs or Pulumi resource names exempt from this policy. Prefer URNs: they carry "
        "the stack, so an exemption made for dev cannot silently apply to prd."
    ),
}


EXEMPT_CHILDREN_OF = "exemptChildrenOf"

_EXEMPT_CHILDREN_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string"},
    "default": [],
    "description": (
        "URNs or Pulumi names of components (e.g. a third-party helm.sh/v4 Chart) whose direct children "
        "are exempt from this policy: objects a vendor chart renders do not follow our conventions."
    ),
}


def config_schema(**extra: dict[str, Any]) -> PolicyConfigSchema:
    """Every policy takes ``exemptResources`` and ``exemptChildrenOf``; some add their own knobs."""
    return PolicyConfigSchema(
        properties={EXEMPT_RESOURCES: dict(_EXEMPT_SCHEMA), EXEMPT_CHILDREN_OF: dict(_EXEMPT_CHILDREN_SCHEMA), **extra}
    )


def _urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def is_exempt(config: Mapping[str, Any], urn: str, name: str, parent: str | None = None) -> bool:
    exempt = config.get(EXEMPT_RESOURCES) or []
    if urn in exempt or name in exempt:
        return True
    parents = config.get(EXEMPT_CHILDREN_OF) or []
    return parent is not None and parent != "" and (parent in parents or _urn_name(parent) in parents)


def config_list(config: Mapping[str, Any], key: str) -> list[str]:
    value = config.get(key) or []
    return [v for v in value if isinstance(v, str)]


def unknown_message(policy: str, subject: str, env: str | None, unknown: UnknownAtPreview) -> str:
    stack = f"the {env} stack" if env else "a stack whose name is not an environment token"
    return (
        f"{subject}: {unknown.where} is unknown at preview ({unknown.why}), "
        f"so it could not be proven safe, and in {stack} this policy fails closed. "
        "Make the value known at preview (a literal or stack config, not another resource's output), "
        f"or, after review, add this resource's URN to {policy}.{EXEMPT_RESOURCES}."
    )


def admits(types: frozenset[str]) -> Callable[[str], bool]:
    """The type filter of a rule judging ``types``: every token that may apply one of them.

    A Kubernetes type is admitted plain, as its ``...Patch`` (an upsert of the same
    object), and any Kubernetes object token the pack does not know, whose inputs may
    say anything (secrets_platform/policies/kube.py). A known token whose inputs say another kind is
    refused by ``coverage-k8s-object-applied`` whatever the other rules say. The rule
    then runs only if the applied object's type is one of ``types``.
    """
    patches = frozenset(t + kube.PATCH for t in types if t.startswith(kube.PREFIX))
    judges_k8s = bool(patches)

    @lru_cache(maxsize=1024)
    def applies(token: str) -> bool:
        if token in types or token in patches:
            return True
        return judges_k8s and token not in kube.KNOWN_TOKENS and kube.is_object_token(token)

    return applies


Check = Callable[[Resource, Mapping[str, Any]], Iterable[str]]
StackCheck = Callable[[list[Resource], Mapping[str, Any]], Iterable[tuple[str, str | None]]]
StackEntry = tuple[str, str, "str | None", Callable[[], Resource]]
"""One resource of a stack rule's input: ``(urn, name, parent option, view)``."""


Judge = Callable[[str, str, str, "str | None", Mapping[str, Any], Callable[[], Resource], ReportViolation], None]
"""A resource rule's decision: ``(token, urn, name, parent option, config, view, report)``; ``view`` is called only if it applies."""
StackJudge = Callable[[Iterable[StackEntry], Mapping[str, Any], ReportViolation], None]
"""A stack rule's decision over ``(urn, name, parent option, view)`` of every resource; views only of those not exempt."""


def resource_policy(
    *,
    name: str,
    description: str,
    enforcement_level: EnforcementLevel,
    resource_types: frozenset[str] | Callable[[str], bool],
    check: Check,
    extra_config: dict[str, dict[str, Any]] | None = None,
) -> ResourceValidationPolicy:
    """A ``ResourceValidationPolicy`` around ``check``, which yields violation messages.

    Its ``validate`` (what pulumi_policy and the tests call) reads the resource from
    ``args``; its ``judge`` is the same decision on a view that analyzer.py
    decodes once per request and hands to every rule.
    """
    judged: frozenset[str] | None
    applies: Callable[[str], bool]
    if isinstance(resource_types, frozenset):
        judged, applies = resource_types, admits(resource_types)
    else:
        judged, applies = None, resource_types

    def judge(
        token: str,
        urn: str,
        resource_name: str,
        parent: str | None,
        config: Mapping[str, Any],
        view: Callable[[], Resource],
        report: ReportViolation,
    ) -> None:
        if not applies(token) or is_exempt(config, urn, resource_name, parent):
            return
        resource = view()
        if judged is not None and resource.type not in judged:
            return  # the token could have been one of these types; the applied object is not
        try:
            for message in check(resource, config):
                report(message, None)
        except UnknownAtPreview as unknown:
            if fails_closed(resource.env):
                report(unknown_message(name, resource.describe(), resource.env, unknown), None)

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        judge(args.resource_type, args.urn, args.name, args.opts.parent, args.get_config() or {}, lambda: Resource.of(args), report)

    policy = ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement_level,
        config_schema=config_schema(**(extra_config or {})),
    )
    policy.check = check  # type: ignore[attr-defined]  # the plain function, for readers and tests
    policy.applies = applies  # type: ignore[attr-defined]  # the type filter, for secrets_platform/policies/analyzer.py
    policy.judge = judge  # type: ignore[attr-defined]  # for secrets_platform/policies/analyzer.py
    return policy


def stack_policy(
    *,
    name: str,
    description: str,
    enforcement_level: EnforcementLevel,
    check: StackCheck,
    extra_config: dict[str, dict[str, Any]] | None = None,
) -> StackValidationPolicy:
    """A ``StackValidationPolicy`` around ``check``, which yields ``(message, urn)`` pairs (``judge``: as for resource rules)."""

    def judge(resources: Iterable[StackEntry], config: Mapping[str, Any], report: ReportViolation) -> None:
        views = [view() for urn, resource_name, parent, view in resources if not is_exempt(config, urn, resource_name, parent)]
        env = next((r.env for r in views if r.stack), None)
        try:
            for message, urn in check(views, config):
                report(message, urn)
        except UnknownAtPreview as unknown:
            if fails_closed(env):
                report(unknown_message(name, "the stack", env, unknown), None)

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        judge([(r.urn, r.name, r.opts.parent, partial(Resource.of, r)) for r in args.resources], args.get_config() or {}, report)

    policy = StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement_level,
        config_schema=config_schema(**(extra_config or {})),
    )
    policy.check = check  # type: ignore[attr-defined]
    policy.judge = judge  # type: ignore[attr-defined]  # for secrets_platform/policies/analyzer.py
    return policy


MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
