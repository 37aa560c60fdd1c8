"""Declaring a rule: exemptions through policy config, the fail-closed message, and the policy wrappers.

``resource_policy`` and ``stack_policy`` wrap a rule's ``check`` into pulumi_policy's
policies; each also carries ``judge``, the same decision on a ready-made view,
which secrets_platform/policies/analyzer.py calls. A rule module declares its rules with the
decorators ``resource_rule`` and ``stack_rule``: the name and level on the decorator, the
description once, as the first paragraph of the check's docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache, partial
from inspect import getdoc
from typing import Any, TypeVar

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from secrets_platform.policies import kube
from secrets_platform.policies.resource import Resource, fails_closed, read_urn
from secrets_platform.policies.values import UnknownAtPreview

# --------------------------------------------------------------------------- config and wrappers

EXEMPT_RESOURCES = "exemptResources"

_EXEMPT_DESCRIPTION = (
    "URNs or Pulumi resource names exempt from this policy. Prefer URNs: they carry "
    "the stack, so an exemption made for dev cannot silently apply to prd."
)

EXEMPT_CHILDREN_OF = "exemptChildrenOf"

_EXEMPT_CHILDREN_DESCRIPTION = (
    "URNs or Pulumi names of components (e.g. a third-party helm.sh/v4 Chart) whose direct children "
    "are exempt from this policy: objects a vendor chart renders do not follow our conventions."
)


def _names_schema(description: str) -> dict[str, Any]:
    """A knob holding a list of URNs or Pulumi names, empty by default."""
    return {"type": "array", "items": {"type": "string"}, "default": [], "description": description}


def config_schema(**extra: dict[str, Any]) -> PolicyConfigSchema:
    """Every policy takes ``exemptResources`` and ``exemptChildrenOf``; some add their own knobs."""
    return PolicyConfigSchema(
        properties={
            EXEMPT_RESOURCES: _names_schema(_EXEMPT_DESCRIPTION),
            EXEMPT_CHILDREN_OF: _names_schema(_EXEMPT_CHILDREN_DESCRIPTION),
            **extra,
        }
    )


def _urn_name(urn: str) -> str | None:
    """The name the engine reads in ``urn`` (everything after the third ``::``), None when it is no URN."""
    parts = read_urn(urn)
    return parts.name if parts else None


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


_P = TypeVar("_P", ResourceValidationPolicy, StackValidationPolicy)


def _declared(
    cls: type[_P],
    name: str,
    description: str,
    enforcement_level: EnforcementLevel,
    extra_config: dict[str, dict[str, Any]] | None,
    validate: Callable[..., None],
    check: Callable[..., Any],
    judge: Callable[..., None],
) -> _P:
    """pulumi_policy's policy object around ``validate``, carrying the rule's plain ``check`` (for readers and
    tests) and its ``judge`` (for secrets_platform/policies/analyzer.py)."""
    policy = cls(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement_level,
        config_schema=config_schema(**(extra_config or {})),
    )
    policy.check = check  # type: ignore[attr-defined]
    policy.judge = judge  # type: ignore[attr-defined]
    return policy


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

    policy = _declared(ResourceValidationPolicy, name, description, enforcement_level, extra_config, validate, check, judge)
    policy.applies = applies  # type: ignore[attr-defined]  # the type filter, for secrets_platform/policies/analyzer.py
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

    return _declared(StackValidationPolicy, name, description, enforcement_level, extra_config, validate, check, judge)


def rule_description(check: Callable[..., Any]) -> str:
    """A rule's description: the first paragraph of its check's docstring (one sentence, on one line)."""
    summary = (getdoc(check) or "").split("\n\n", 1)[0]
    if not summary or "\n" in summary:
        raise ValueError(f"rule {check.__name__} needs a docstring whose first paragraph is one line: its description")
    return summary


def resource_rule(
    name: str,
    enforcement_level: EnforcementLevel,
    resource_types: frozenset[str] | Callable[[str], bool],
    *,
    extra_config: dict[str, dict[str, Any]] | None = None,
) -> Callable[[Check], ResourceValidationPolicy]:
    """Declare the decorated check as the resource policy ``name`` (:func:`resource_policy`), described by its docstring."""

    def declare(check: Check) -> ResourceValidationPolicy:
        return resource_policy(
            name=name,
            description=rule_description(check),
            enforcement_level=enforcement_level,
            resource_types=resource_types,
            check=check,
            extra_config=extra_config,
        )

    return declare


def stack_rule(
    name: str,
    enforcement_level: EnforcementLevel,
    *,
    extra_config: dict[str, dict[str, Any]] | None = None,
) -> Callable[[StackCheck], StackValidationPolicy]:
    """Declare the decorated check as the stack policy ``name`` (:func:`stack_policy`), described by its docstring."""

    def declare(check: StackCheck) -> StackValidationPolicy:
        return stack_policy(
            name=name, description=rule_description(check), enforcement_level=enforcement_level, check=check, extra_config=extra_config
        )

    return declare


MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
