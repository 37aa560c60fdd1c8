"""The pack's analyzer: pulumi_policy's own, minus the work that cannot change a result.

Why: in a real preview the engine sends every resource (components included) to
the pack twice, ``Remediate`` then ``Analyze``. pulumi_policy's servicer answers
``Analyze`` by converting the resource's properties from protobuf, deserialising
them and wrapping them in an unknown-checking proxy once **per policy**, before
each policy decides whether the resource's type concerns it; it answers
``Remediate`` by decoding the resource once even when no policy remediates; and
both re-parse the whole stack config (``PULUMI_CONFIG``, which grows with the
stack) on every call. Measured on the engine, that is what the pack costs
(docs/PERFORMANCE.md, "Where the time goes").

What this changes, and why no result can differ:

- ``Analyze`` runs pulumi_policy's own ``Analyze`` with only the resource
  policies whose type filter (``resource_policy(resource_types=...)``) admits the
  resource's type. A policy left out would have returned at its first line
  without reporting anything; policies without a filter always run. A resource
  no policy applies to (components, random passwords) gets the empty response
  pulumi_policy would have built.
- ``Remediate`` returns the empty response at once when no policy's enforcement
  level is ``remediate`` (then pulumi_policy's loop has nothing to run); otherwise
  it is pulumi_policy's.
- The runtime settings (config, project, stack) are re-read only when the
  variables they come from change.

It relies on three names inside pulumi_policy 1.21.0 (the pinned version): the
servicer class ``_PolicyAnalyzerServicer``, its policy list and its
``_configure_runtime_settings``. ``install`` checks them and, for any other
version or shape, leaves pulumi_policy as it is (correct, only slower) and says
so on stderr. tests/policies/test_analyzer.py compares every response with
pulumi_policy's own on the requests of real stacks.
"""

from __future__ import annotations

import copy
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

import pulumi_policy.policy as upstream
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

WRITTEN_FOR = "1.21.0"
"""The pulumi_policy version whose internals this module was written and tested against."""

_POLICIES = "_PolicyAnalyzerServicer__policies"
_SETTINGS_VARIABLES = ("PULUMI_CONFIG", "PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN", "PULUMI_ORGANIZATION")


def type_filter(policy: object) -> Callable[[str], bool] | None:
    """The resource-type test a policy declared (``resource_policy`` sets ``applies``), or None."""
    applies = getattr(policy, "applies", None)
    return applies if callable(applies) else None


def _unsupported() -> str | None:
    """Why the filtered servicer can't be used with the installed pulumi_policy, or None."""
    version = getattr(upstream, "VERSION", None)
    if version != WRITTEN_FOR:
        return f"pulumi_policy {version} is installed, this analyzer was written for {WRITTEN_FOR}"
    servicer = getattr(upstream, "_PolicyAnalyzerServicer", None)
    if not isinstance(servicer, type):
        return "pulumi_policy.policy has no _PolicyAnalyzerServicer class"
    for name in ("Analyze", "Remediate", "_configure_runtime_settings", "_get_enforcement_level"):
        if not callable(getattr(servicer, name, None)):
            return f"pulumi_policy's servicer has no {name}"
    return None


def filtered_servicer_class() -> type:
    """A subclass of pulumi_policy's servicer with the changes above (call only when supported)."""
    base: Any = upstream._PolicyAnalyzerServicer

    class FilteredAnalyzerServicer(base):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            policies = getattr(self, _POLICIES)
            if not isinstance(policies, list):
                raise TypeError("pulumi_policy's servicer keeps no policy list")
            self._resource_policies = [p for p in policies if isinstance(p, ResourceValidationPolicy)]
            self._by_type: dict[str, list[Any]] = {}
            self._by_type_lock = threading.Lock()
            # Shared with the per-request views (shallow copies) that Analyze makes.
            self._settings_lock = threading.Lock()
            self._settings_from: list[tuple[str | None, ...]] = []

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

        def Analyze(self, request: Any, context: Any) -> Any:  # noqa: N802 (the gRPC method's name)
            policies = self._policies_for(request.type)
            if not policies:
                return upstream.proto.AnalyzeResponse()
            view = copy.copy(self)
            setattr(view, _POLICIES, policies)
            return base.Analyze(view, request, context)

        def Remediate(self, request: Any, context: Any) -> Any:  # noqa: N802
            remediating = any(self._get_enforcement_level(p) == EnforcementLevel.REMEDIATE for p in self._resource_policies)
            if not remediating:
                return upstream.proto.RemediateResponse()
            return super().Remediate(request, context)

    return FilteredAnalyzerServicer


def install() -> bool:
    """Make ``PolicyPack`` serve with the filtered servicer; False (and a note on stderr) when unsupported."""
    why = _unsupported()
    if why:
        print(f"secrets-platform pack: using pulumi_policy's analyzer unchanged ({why})", file=sys.stderr)
        return False
    upstream._PolicyAnalyzerServicer = filtered_servicer_class()  # type: ignore[misc, assignment]
    return True
