"""Machinery every rule of the pack shares.

What it is for:
- reading resource properties as the engine sends them (camelCase, possibly
  unknown during preview) without ever letting an unknown value slip through:
  pulumi_policy raises ``UnknownValueError`` on access and, if a policy lets it
  escape, downgrades the result to an *advisory* "can't run during preview"
  note. That is fail-open, so we read properties through ``plain`` and turn an
  unknown that a rule needs into ``UnknownAtPreview``, which the wrappers (``policies.declare``)
  report as a violation in prd (and in any stack whose environment is not
  recognised) and ignore in local/dev/stg, where ``pulumi up`` re-runs the pack
  with every input known;
- exemptions through policy config (``exemptResources``), never code edits;
- the stack's environment, read from the resource URN (see ``stack_of_urn``);
- messages that never carry a property value: rules only ever show names
  (resource names, label/data keys, roles, namespaces), passed through ``show``.

What it deliberately does not do: decide what is compliant. That is each rule's
job in ``policies.rules``.

Where each piece lives (this module re-exports them all, so rules import from one place):
``policies.values`` (unknowns, reading properties, ``show``), ``policies.resource_types``
(type tokens), ``policies.resource`` (the resource view, stacks and environments),
``policies.declare`` (exemptions, the ``resource_policy``/``stack_policy`` wrappers and their decorators
``resource_rule``/``stack_rule``).
"""

from __future__ import annotations

from secrets_platform.policies.declare import (
    ADVISORY,
    EXEMPT_CHILDREN_OF,
    EXEMPT_RESOURCES,
    MANDATORY,
    Check,
    Judge,
    StackCheck,
    StackEntry,
    StackJudge,
    admits,
    config_list,
    config_schema,
    is_exempt,
    resource_policy,
    resource_rule,
    rule_description,
    stack_policy,
    stack_rule,
    unknown_message,
)
from secrets_platform.policies.resource import (
    FAIL_OPEN_ENVS,
    UNREADABLE_POLICY,
    Resource,
    engine_stack,
    fails_closed,
    policy_bindings,
    stack_of_urn,
)
from secrets_platform.policies.resource_types import (
    BINDING_TYPES,
    CLUSTER_EXTERNAL_SECRET_TYPES,
    CLUSTER_STORE_TYPES,
    CONFIG_MAP,
    ESO_VERSIONS,
    EXTERNAL_SECRET_TYPES,
    HELM_TYPES,
    NAMESPACE,
    PROJECT_IAM_TYPES,
    PUSH_SECRET_TYPES,
    RBAC,
    ROLE_TYPES,
    SECRET,
    SECRET_IAM_TYPES,
    SERVICE_ACCOUNT_IAM_TYPES,
    STACK_REFERENCE,
    STORE_TYPES,
    VAULT_DB_CONNECTION,
    VAULT_DB_ROLE,
    VAULT_K8S_ROLE,
    VAULT_POLICY,
    is_created_k8s_object,
    is_k8s_object,
    k8s_kind,
    k8s_types,
)
from secrets_platform.policies.values import (
    SENTINELS,
    UNKNOWN,
    UnknownAtPreview,
    artifact_name,
    at,
    entries,
    has_unknown,
    keys_of,
    known,
    plain,
    show,
    strings,
)

__all__ = [
    "ADVISORY",
    "BINDING_TYPES",
    "CLUSTER_EXTERNAL_SECRET_TYPES",
    "CLUSTER_STORE_TYPES",
    "CONFIG_MAP",
    "Check",
    "ESO_VERSIONS",
    "EXEMPT_CHILDREN_OF",
    "EXEMPT_RESOURCES",
    "EXTERNAL_SECRET_TYPES",
    "FAIL_OPEN_ENVS",
    "HELM_TYPES",
    "Judge",
    "MANDATORY",
    "NAMESPACE",
    "PROJECT_IAM_TYPES",
    "PUSH_SECRET_TYPES",
    "RBAC",
    "ROLE_TYPES",
    "Resource",
    "SECRET",
    "SECRET_IAM_TYPES",
    "SENTINELS",
    "SERVICE_ACCOUNT_IAM_TYPES",
    "STACK_REFERENCE",
    "STORE_TYPES",
    "StackCheck",
    "StackEntry",
    "StackJudge",
    "UNKNOWN",
    "UNREADABLE_POLICY",
    "UnknownAtPreview",
    "VAULT_DB_CONNECTION",
    "VAULT_DB_ROLE",
    "VAULT_K8S_ROLE",
    "VAULT_POLICY",
    "admits",
    "artifact_name",
    "at",
    "config_list",
    "config_schema",
    "engine_stack",
    "entries",
    "fails_closed",
    "has_unknown",
    "is_created_k8s_object",
    "is_exempt",
    "is_k8s_object",
    "k8s_kind",
    "k8s_types",
    "keys_of",
    "known",
    "plain",
    "policy_bindings",
    "resource_policy",
    "resource_rule",
    "rule_description",
    "show",
    "stack_of_urn",
    "stack_policy",
    "stack_rule",
    "strings",
    "unknown_message",
]
