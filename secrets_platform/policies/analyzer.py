"""The pack's analyzer: pulumi_policy's protocol and answers, each request decoded once.

Why: in a real preview the engine sends every registration (components included)
to the pack twice, ``Remediate`` then ``Analyze``, and the whole stack once at the
end (``AnalyzeStack``). pulumi_policy's servicer answers ``Analyze`` by converting
the request's properties from protobuf, deserialising them and wrapping them in an
unknown-checking proxy once **per policy**, before each policy decides whether the
resource's type concerns it, and each of our rules then copied the proxy into its
own plain view (``support.Resource.of``); ``AnalyzeStack`` does the same for every
resource once per stack policy; ``Remediate`` decodes the resource although no
policy remediates; and every call re-parses the whole stack config
(``PULUMI_CONFIG``, which grows with the stack). Measured inside real previews,
that was most of the pack's process (docs/PERFORMANCE.md, "Where the time goes").

What this servicer does instead, and why no answer can differ:

- ``Analyze`` runs only the resource policies whose type filter
  (``resource_policy(resource_types=...)``) admits the resource's type; a policy
  left out would have returned at its first line without reporting anything, and
  policies without a filter always run. A resource no policy applies to
  (components, random passwords) gets the empty response pulumi_policy would build.
- A rule of the pack (``support.resource_policy``, which gives it ``judge``) gets the
  request's view decoded once for all rules, straight from protobuf to plain values
  (wire.py, equal to pulumi_policy's decoding made plain), in the same
  order, with the same enforcement level, config and report callback as
  pulumi_policy gives it. The view has no proxy and a rule of ours never sees
  ``args``, so neither of the two exceptions pulumi_policy turns into answers
  (``UnknownValueError``, ``not_applicable``) can come from one. Any other policy
  is answered by pulumi_policy's own ``Analyze`` for that policy alone, its
  diagnostics appended in turn.
- ``AnalyzeStack``: the same, with every resource of the request decoded once for
  all stack rules.
- ``Remediate`` returns the empty response at once when no policy's enforcement
  level is ``remediate`` (then pulumi_policy's loop has nothing to run); otherwise
  it is pulumi_policy's.
- The runtime settings (config, project, stack) are re-read only when the
  variables they come from change.

``GetAnalyzerInfo``, ``Configure``, ``ConfigureStack`` and ``GetPluginInfo`` are
pulumi_policy's, and so is the gRPC server (``PolicyPack``). This relies on names
inside pulumi_policy 1.21.0 (the pinned version): the servicer class
``_PolicyAnalyzerServicer``, its private policy list, pack name, version and stack
tags, and its ``_``-prefixed helpers. ``install`` checks them and, for any other
version or shape, leaves pulumi_policy as it is (correct, only slower) and says so
on stderr. tests/policies/test_analyzer.py compares every response with
pulumi_policy's own on the requests of real stacks and on requests that make every
rule report.
"""

from __future__ import annotations

import copy
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

import pulumi_policy.policy as upstream
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from secrets_platform.policies import wire
from secrets_platform.policies.support import Resource, StackEntry

WRITTEN_FOR = "1.21.0"
"""The pulumi_policy version whose internals this module was written and tested against."""

_POLICIES = "_PolicyAnalyzerServicer__policies"
_SETTINGS_VARIABLES = ("PULUMI_CONFIG", "PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN", "PULUMI_ORGANIZATION")
_HELPERS = (
    "Analyze",
    "AnalyzeStack",
    "Remediate",
    "_configure_runtime_settings",
    "_get_enforcement_level",
    "_create_report_violation",
    "_get_policy_config",
)


def type_filter(policy: object) -> Callable[[str], bool] | None:
    """The resource-type test a policy declared (``resource_policy`` sets ``applies``), or None."""
    applies = getattr(policy, "applies", None)
    return applies if callable(applies) else None


def _judge(policy: object) -> Callable[..., None] | None:
    """The decision of a rule made by support.py on a decoded view, or None for any other policy."""
    judge = getattr(policy, "judge", None)
    return judge if callable(judge) else None


def _unsupported() -> str | None:
    """Why this servicer can't be used with the installed pulumi_policy, or None."""
    version = getattr(upstream, "VERSION", None)
    if version != WRITTEN_FOR:
        return f"pulumi_policy {version} is installed, this analyzer was written for {WRITTEN_FOR}"
    servicer = getattr(upstream, "_PolicyAnalyzerServicer", None)
    if not isinstance(servicer, type):
        return "pulumi_policy.policy has no _PolicyAnalyzerServicer class"
    for name in _HELPERS:
        if not callable(getattr(servicer, name, None)):
            return f"pulumi_policy's servicer has no {name}"
    return None


class _Request:
    """One ``AnalyzeRequest`` (or a stack's resource), decoded at most once and shared by every rule."""

    __slots__ = ("request", "parent", "_view")

    def __init__(self, request: Any, parent: str | None) -> None:
        self.request = request
        self.parent = parent
        """The parent URN as ``Resource.of`` reads it from pulumi_policy's objects."""
        self._view: Resource | None = None

    def view(self) -> Resource:
        if self._view is None:
            r = self.request
            provider: tuple[str | None, str | None, Any] = (None, None, None)
            if r.HasField("provider"):
                p = r.provider
                provider = (p.type, p.name, wire.plain_struct(p.properties))
            self._view = Resource.made(
                token=r.type,
                urn=r.urn,
                name=r.name,
                props=wire.plain_struct(r.properties),
                protect=r.options.protect,
                parent=self.parent,
                provider=provider,
            )
        return self._view


def _stack_entries(request: Any) -> list[StackEntry]:
    """Every resource of an ``AnalyzeStack`` request, each decoded once (where pulumi_policy decodes them all)."""
    urns = {r.urn for r in request.resources}
    out: list[StackEntry] = []
    for r in request.resources:
        option = r.options.parent or None
        # pulumi_policy's PolicyResource: the parent option, else the parent object when it is in the request.
        shared = _Request(r, option or (r.parent if r.parent and r.parent in urns else None))
        shared.view()
        out.append((r.urn, r.name, option, shared.view))
    return out


# What SharedViewAnalyzerServicer derives from, for the type checker: pulumi_policy's servicer, known only at run time.
_ServicerBase: Any = object


class _SharedView(_ServicerBase):
    """The changes above, mixed in before pulumi_policy's servicer (:func:`servicer_class`): ``super()`` is its."""

    _upstream_class: Any
    """pulumi_policy's servicer class, whose own answer ``_upstream`` gives for a policy not made by support.py."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        policies = getattr(self, _POLICIES)
        if not isinstance(policies, list):
            raise TypeError("pulumi_policy's servicer keeps no policy list")
        self._resource_policies = [p for p in policies if isinstance(p, ResourceValidationPolicy)]
        self._stack_policies = [p for p in policies if isinstance(p, StackValidationPolicy)]
        self._by_type: dict[str, list[Any]] = {}
        self._by_type_lock = threading.Lock()
        # Shared with the per-policy views (shallow copies) that _upstream makes.
        self._settings_lock = threading.Lock()
        self._settings_from: list[tuple[str | None, ...]] = []
        self._remediates = self._remediating()

    def _policies_for(self, resource_type: str) -> list[Any]:
        found = self._by_type.get(resource_type)
        if found is None:
            found = []
            for policy in self._resource_policies:
                applies = type_filter(policy)
                if applies is None or applies(resource_type):
                    found.append(policy)
            with self._by_type_lock:
                self._by_type[resource_type] = found
        return found

    def _configure_runtime_settings(self) -> None:
        source = tuple(os.environ.get(name) for name in _SETTINGS_VARIABLES)
        with self._settings_lock:
            if self._settings_from == [source]:
                return
            super()._configure_runtime_settings()
            self._settings_from[:] = [source]

    def _level(self, policy: Any) -> EnforcementLevel | None:
        """The level pulumi_policy reports a policy's violations at; None when it is disabled."""
        level = self._get_enforcement_level(policy)
        if level == EnforcementLevel.DISABLED:
            return None
        # A remediated resource that still violates is reported as mandatory (pulumi_policy, both loops).
        return EnforcementLevel.MANDATORY if level == EnforcementLevel.REMEDIATE else level

    def _ours(self, method: str, policy: Any, request: Any, context: Any, response: Any) -> tuple[Callable[..., None], Any] | None:
        """A rule's ``judge`` and its report into ``response``; None when the policy is disabled or
        not made by support.py (then pulumi_policy's own answer is already in ``response``)."""
        judge = _judge(policy)
        if judge is None:
            self._upstream(method, policy, request, context, response)
            return None
        level = self._level(policy)
        if level is None:
            return None
        return judge, self._create_report_violation(response, policy.name, policy.description, level, policy.severity)

    def _upstream(self, method: str, policy: Any, request: Any, context: Any, response: Any) -> None:
        """pulumi_policy's own answer for one policy, appended to ``response``."""
        view = copy.copy(self)
        setattr(view, _POLICIES, [policy])
        part = getattr(self._upstream_class, method)(view, request, context)
        response.diagnostics.extend(part.diagnostics)
        response.not_applicable.extend(part.not_applicable)

    def Analyze(self, request: Any, context: Any) -> Any:  # noqa: N802 (the gRPC method's name)
        policies = self._policies_for(request.type)
        response = upstream.proto.AnalyzeResponse()
        if not policies:
            return response
        self._configure_runtime_settings()
        shared = _Request(request, request.options.parent or None)
        for policy in policies:
            ours = self._ours("Analyze", policy, request, context, response)
            if ours is None:
                continue
            judge, report = ours
            shared.view()  # decoded where pulumi_policy decodes: before the first policy that runs
            config = self._get_policy_config(policy.name) or {}
            judge(request.type, request.urn, request.name, shared.parent, config, shared.view, report)
        return response

    def AnalyzeStack(self, request: Any, context: Any) -> Any:  # noqa: N802
        self._configure_runtime_settings()
        response = upstream.proto.AnalyzeResponse()
        entries: list[StackEntry] | None = None
        for policy in self._stack_policies:
            ours = self._ours("AnalyzeStack", policy, request, context, response)
            if ours is None:
                continue
            judge, report = ours
            if entries is None:
                entries = _stack_entries(request)
            judge(entries, self._get_policy_config(policy.name) or {}, report)
        return response

    def _remediating(self) -> bool:
        return any(self._get_enforcement_level(p) == EnforcementLevel.REMEDIATE for p in self._resource_policies)

    def Configure(self, request: Any, context: Any) -> Any:  # noqa: N802
        answer = super().Configure(request, context)
        self._remediates = self._remediating()  # the levels change only here
        return answer

    def Remediate(self, request: Any, context: Any) -> Any:  # noqa: N802
        if not self._remediates:
            return upstream.proto.RemediateResponse()
        return super().Remediate(request, context)


def servicer_class() -> type:
    """A subclass of pulumi_policy's servicer with the changes above (call only when supported).

    Made on demand: the base is a private class of pulumi_policy that ``install`` checks first.
    """
    base: Any = upstream._PolicyAnalyzerServicer

    class SharedViewAnalyzerServicer(_SharedView, base):
        _upstream_class = base

    return SharedViewAnalyzerServicer


def install() -> bool:
    """Make ``PolicyPack`` serve with this servicer; False (and a note on stderr) when unsupported."""
    why = _unsupported()
    if why:
        print(f"secrets-platform pack: using pulumi_policy's analyzer unchanged ({why})", file=sys.stderr)
        return False
    upstream._PolicyAnalyzerServicer = servicer_class()  # type: ignore[misc, assignment]
    return True
