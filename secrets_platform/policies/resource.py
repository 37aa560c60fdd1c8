"""The resource view every rule reads (``Resource``), and the stack and environment it belongs to."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs

from secrets_platform import conventions
from secrets_platform.policies import kube
from secrets_platform.policies.resource_types import k8s_kind
from secrets_platform.policies.values import UnknownAtPreview, at, plain, show

# --------------------------------------------------------------------------- stacks and environments

# Only these stacks may let an unknown value pass at preview: `pulumi up` analyses
# again with every input known, and none of them holds production data. prd, and any
# stack whose name is not an environment token, fail closed.
FAIL_OPEN_ENVS = frozenset(env for env, traits in conventions.TRAITS.items() if not traits.fail_closed)


def read_urn(urn: object) -> conventions.Urn | None:
    """``urn``'s parts as the engine reads them (:func:`conventions.parse_urn`), None when it is no URN."""
    try:
        return conventions.parse_urn(urn)  # type: ignore[arg-type]
    except conventions.ConventionError:
        return None


def stack_of_urn(urn: str) -> str | None:
    """The stack name in a URN: ``urn:pulumi:<stack>::<project>::<type>::<name>``.

    Every resource the engine sends carries its URN, so this works the same at
    preview, on update and in tests. The engine also exports PULUMI_STACK to the
    pack's process (pulumi_policy then configures ``pulumi.get_stack()``); the stack
    policy checks that the two agree.
    """
    parts = read_urn(urn)
    return parts.stack or None if parts else None


def engine_stack() -> str | None:
    """The stack the engine says it is running, when it said so (PULUMI_STACK)."""
    if not os.environ.get("PULUMI_STACK"):
        return None
    import pulumi  # imported late: only the engine's process has the runtime configured

    return pulumi.get_stack()


def fails_closed(env: str | None) -> bool:
    return env not in FAIL_OPEN_ENVS


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


UNREADABLE_POLICY = "(unreadable policyData)"


def policy_bindings(r: Resource) -> Iterator[tuple[int, Mapping[str, Any]]]:
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
