"""Isolation rules: two environments never share a secret, key, store, namespace or account.

CONVENTIONS, "The environment of a resource": every environment fact of a
resource (its stack, namespace, label, own name, and everything it binds, admits
or reads) names the same environment. The stack is the reference: its name is
the environment token, so a fact naming any other environment is a violation.

Two strengths, on purpose:
- what a resource *admits or reads* (a store's namespaces, a Vault role's
  namespaces, an ExternalSecret's remote keys) must carry the stack's token
  itself: a reference with no token cannot be shown to belong to this
  environment, and these are exactly the paths by which a prd value would leak;
- what a resource *grants to* (RoleBinding subjects, IAM members) and stack
  references only must not name another environment: a subject without a token
  (a controller's own namespace, a human group) is a least-privilege question,
  not an isolation one.

What this module does not do: judge breadth of access (``privilege``) or names
(``naming``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from secrets_platform import conventions
from secrets_platform.parsers import ParseError, conninfo, vault_policy
from secrets_platform.policies.support import (
    PROJECT_IAM_TYPES,
    BINDING_TYPES,
    CLUSTER_EXTERNAL_SECRET_TYPES,
    CLUSTER_STORE_TYPES,
    EXTERNAL_SECRET_TYPES,
    PUSH_SECRET_TYPES,
    VAULT_POLICY,
    MANDATORY,
    STACK_REFERENCE,
    STORE_TYPES,
    UNREADABLE_POLICY,
    VAULT_DB_CONNECTION,
    VAULT_DB_ROLE,
    VAULT_K8S_ROLE,
    Resource,
    at,
    engine_stack,
    entries,
    is_k8s_object,
    known,
    policy_bindings,
    resource_policy,
    show,
    stack_policy,
    strings,
)

_ENVS = ", ".join(conventions.ENVIRONMENTS)


def _own_env(r: Resource) -> str | None:
    """The environment a resource belongs to: its stack's, else what its metadata says."""
    if r.env:
        return r.env
    if not is_k8s_object(r.type):
        return None
    namespace = r.k8s_namespace()
    label = r.get("metadata", "labels", conventions.LABEL_ENVIRONMENT)
    return (conventions.env_token_of_name(namespace) if namespace else None) or (label if label in conventions.ENVIRONMENTS else None)


def _fmt(tokens: set[str]) -> str:
    return ", ".join(sorted(tokens))


# --------------------------------------------------------------------------- metadata

# A pure function of the name; a stack's objects share a handful of namespaces.
_env_token_of_namespace = lru_cache(maxsize=1024)(conventions.env_token_of_name)


def check_object_env(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """A Kubernetes object's stack, namespace, environment label and own name agree."""
    env = r.env
    namespace = r.k8s_namespace()
    namespace_env = _env_token_of_namespace(namespace) if namespace else None
    label = r.get("metadata", "labels", conventions.LABEL_ENVIRONMENT)  # raises if unknown: an env fact
    label_env = label if isinstance(label, str) and label in conventions.ENVIRONMENTS else None
    name = r.k8s_name()
    name_env = conventions.env_token_of_name(name) if name else None
    if len({e for e in (env, namespace_env, label_env, name_env) if e}) < 2:
        return  # every fact that names an environment names the same one: nothing to say, nothing to format
    facts: list[tuple[str, str | None]] = [(f"the stack {show(r.stack)}", env)]
    if namespace:
        facts.append((f"its namespace {show(namespace)}", namespace_env))
    if label_env:
        facts.append((f"its label {conventions.LABEL_ENVIRONMENT}", label_env))
    if name:
        facts.append((f"its name {show(name)}", name_env))
    disagree = conventions.disagreeing(facts)
    if disagree:
        said = "; ".join(f"{fact} says {env}" for fact, env in disagree.items())
        yield (
            f"{r.describe()} mixes environments: {said}. An object belongs to exactly one environment: "
            "create it in that environment's stack, in that environment's namespace, with names and labels "
            "built by conventions for that environment."
        )


# --------------------------------------------------------------------------- RBAC

# Groups Kubernetes fills with identities of every namespace (and so of every environment).
SPANNING_GROUPS = frozenset({"system:serviceaccounts", "system:authenticated", "system:unauthenticated"})


def check_binding_subjects(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """A (Cluster)RoleBinding binds no subject and no role of another environment."""
    env = _own_env(r)
    if not env:
        return
    binding_namespace = r.k8s_namespace()
    for where, subject in entries(r.get("subjects", default=[]), "subjects"):
        kind = at(subject, "kind", where=f"{where}.kind")
        name = at(subject, "name", where=f"{where}.name", default="")
        if kind == "Group" and name in SPANNING_GROUPS:
            yield (
                f"{r.describe()} in {env} binds the Group {show(name)} ({where}), which holds the accounts of every namespace, "
                f"i.e. of every environment. Bind each {env} ServiceAccount (or 'system:serviceaccounts:<namespace>-{env}')."
            )
            continue
        tokens = conventions.reference_env_tokens(name) if isinstance(name, str) else set()
        if kind == "ServiceAccount":
            namespace = at(subject, "namespace", where=f"{where}.namespace") or binding_namespace
            if isinstance(namespace, str):
                tokens |= conventions.reference_env_tokens(namespace)
                name = conventions.object_key(namespace, name)
        others = tokens - {env}
        if others:
            yield (
                f"{r.describe()} in {env} binds {kind} {show(name)} of {_fmt(others)} ({where}). "
                f"Bind only {env} subjects: each environment has its own job-runner in its own namespace."
            )
    role = r.get("roleRef", "name")
    if isinstance(role, str):
        others = conventions.reference_env_tokens(role) - {env}
        if others:
            yield f"{r.describe()} in {env} refers to the role {show(role)} of {_fmt(others)}; refer to the {env} role."


# --------------------------------------------------------------------------- External Secrets Operator


def _remote_refs(spec: Any, base: str) -> Iterator[tuple[str, str]]:
    """``(where, reference)`` for every remote key an ExternalSecret spec reads."""
    for where, item in entries(at(spec, "data", where=base, default=[]), f"{base}.data"):
        key = at(item, "remoteRef", "key", where=where)
        if isinstance(key, str):
            yield f"{where}.remoteRef.key", key
    for where, item in entries(at(spec, "dataFrom", where=base, default=[]), f"{base}.dataFrom"):
        key = at(item, "extract", "key", where=where)
        if isinstance(key, str):
            yield f"{where}.extract.key", key
        find = at(item, "find", where=where)
        if isinstance(find, Mapping):
            scope = " ".join(
                s
                for s in (at(find, "path", where=f"{where}.find.path"), at(find, "name", "regexp", where=f"{where}.find.name.regexp"))
                if isinstance(s, str)
            )
            yield f"{where}.find", scope


def _remote_key_problem(reference: str, env: str) -> str | None:
    tokens = conventions.reference_env_tokens(reference) if reference else set()
    if tokens == {env}:
        return None
    if not tokens:
        return "names no environment, so nothing shows it is not shared with another one"
    return f"belongs to {_fmt(tokens - {env}) or _fmt(tokens)}"


def _store_refs(spec: Any, base: str) -> Iterator[tuple[str, Any]]:
    """``(where, name)`` of every store and generator an ExternalSecret spec reads through."""
    yield f"{base}.secretStoreRef.name", at(spec, "secretStoreRef", "name", where=base)
    for field in ("data", "dataFrom"):
        for where, item in entries(at(spec, field, where=base, default=[]), f"{base}.{field}"):
            yield f"{where}.sourceRef.storeRef.name", at(item, "sourceRef", "storeRef", "name", where=where)
            yield f"{where}.sourceRef.generatorRef.name", at(item, "sourceRef", "generatorRef", "name", where=where)


def _external_secret_spec(subject: str, spec: Any, base: str, env: str) -> Iterator[str]:
    """What an ExternalSecret spec reads (remote keys, stores) and writes (its target) belongs to ``env``."""
    for where, reference in _remote_refs(spec, base):
        problem = _remote_key_problem(reference, env)
        if problem:
            yield (
                f"{subject} in {env} reads the remote key {show(reference)} ({where}), which {problem}. "
                f"Read the {env} copy: Secret Manager ids are the Secret's name (e.g. 'snowflake-{env}-credentials'), "
                f"Vault paths are '<mount>/{env}/<service>'."
            )
    for where, store in _store_refs(spec, base):
        if isinstance(store, str) and conventions.reference_env_tokens(store) - {env}:
            yield f"{subject} in {env} uses the store {show(store)} of another environment ({where}); use the {env} store."
    target = at(spec, "target", "name", where=base)
    if isinstance(target, str) and conventions.reference_env_tokens(target) - {env}:
        yield (
            f"{subject} in {env} writes the Secret {show(target)} of {_fmt(conventions.reference_env_tokens(target) - {env})} "
            f"({base}.target.name); write the {env} Secret ('<service>-{env}-credentials')."
        )
    for where, item in entries(
        at(spec, "target", "template", "templateFrom", where=base, default=[]), f"{base}.target.template.templateFrom"
    ):
        for source in ("secret", "configMap"):
            name = at(item, source, "name", where=where)
            if isinstance(name, str) and conventions.reference_env_tokens(name) - {env}:
                yield f"{subject} in {env} templates from the {source} {show(name)} of another environment ({where}.{source}.name); use the {env} one."
    label = at(spec, "target", "template", "metadata", "labels", conventions.LABEL_ENVIRONMENT, where=base)
    if label is not None and label != env:
        yield (
            f"{subject} in {env} labels the Secret it writes {conventions.LABEL_ENVIRONMENT}={show(label)} "
            f"({base}.target.template.metadata.labels); label it {env}."
        )


def check_external_secret_keys(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """An ExternalSecret reads only remote keys of its own environment, through its environment's store, into its Secret."""
    env = _own_env(r)
    if not env:
        return
    yield from _external_secret_spec(r.describe(), r.get("spec", default={}), "spec", env)


def check_push_secret(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """A PushSecret pushes a Secret of its environment, through its stores, to remote keys of its environment."""
    env = _own_env(r)
    if not env:
        return
    subject = f"{r.describe()} in {env}"
    for where, ref in entries(r.get("spec", "secretStoreRefs", default=[]), "spec.secretStoreRefs"):
        store = at(ref, "name", where=where)
        if isinstance(store, str) and conventions.reference_env_tokens(store) - {env}:
            yield f"{subject} pushes through the store {show(store)} of another environment ({where}.name); use the {env} store."
    for where in ("spec.selector.secret.name", "spec.selector.generatorRef.name"):
        name = r.get(*where.split("."))
        if isinstance(name, str) and conventions.reference_env_tokens(name) - {env}:
            yield f"{subject} pushes {show(name)} of another environment ({where}); push only {env} Secrets."
    for where, item in entries(r.get("spec", "data", default=[]), "spec.data"):
        key = at(item, "match", "remoteRef", "remoteKey", where=where)
        if isinstance(key, str):
            problem = _remote_key_problem(key, env)
            if problem:
                yield (
                    f"{subject} writes the remote key {show(key)} ({where}.match.remoteRef.remoteKey), which {problem}. "
                    f"Push to the {env} key (e.g. 'snowflake-{env}-credentials')."
                )


def check_cluster_external_secret(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """A ClusterExternalSecret selects only its environment's namespaces and reads only its environment's keys."""
    env = _own_env(r)
    if not env:
        return
    subject = f"{r.describe()} in {env}"
    selected = False
    for namespace in strings(r.get("spec", "namespaces"), "spec.namespaces"):
        selected = True
        tokens = conventions.reference_env_tokens(namespace)
        if tokens != {env}:
            belongs = f"belongs to {_fmt(tokens - {env})}" if tokens - {env} else f"does not end in '-{env}'"
            yield f"{subject} writes into namespace {show(namespace)}, which {belongs} (spec.namespaces); list only '<workload>-{env}' namespaces."
    selectors = [("spec.namespaceSelector", r.get("spec", "namespaceSelector"))]
    selectors += list(entries(r.get("spec", "namespaceSelectors", default=[]), "spec.namespaceSelectors"))
    for where, selector in selectors:
        if selector is None:
            continue
        selected = True
        problem = _selector_pins(selector, env, where)
        if problem:
            yield f"{subject}: the selector {where} {problem}; add matchLabels {{{conventions.LABEL_ENVIRONMENT}: {env}}}."
    if not selected:
        yield f"{subject} selects no namespace (spec.namespaces, spec.namespaceSelectors); list the {env} namespaces it writes into."
    name = r.get("spec", "externalSecretName")
    if isinstance(name, str) and conventions.reference_env_tokens(name) - {env}:
        yield f"{subject} names its ExternalSecrets {show(name)} of another environment (spec.externalSecretName)."
    yield from _external_secret_spec(
        subject.rsplit(" in ", 1)[0], r.get("spec", "externalSecretSpec", default={}), "spec.externalSecretSpec", env
    )


def _regex_confined(pattern: str, env: str) -> bool:
    """True when a namespace regex can only match '<something>-<env>' namespaces.

    Deliberately strict rather than clever: anchored at the end on '-<env>', no
    top-level alternation that could add another branch, and no other environment
    mentioned. Anything else is reported; rewrite it as a plain list of namespaces.
    """
    if not pattern.endswith(f"-{env}$") or conventions.env_tokens_in(pattern) - {env}:
        return False
    depth = 0
    for i, char in enumerate(pattern):
        if char == "\\":
            continue
        if i and pattern[i - 1] == "\\":
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "|" and depth == 0:
            return False
    try:
        compiled = re.compile(pattern)
    except re.error:
        return False
    probes = [
        conventions.namespace_name(w, other, checked=False)
        for w in ("a", "dagster", "floe-jobs")
        for other in conventions.ENVIRONMENTS
        if other != env
    ]
    return not any(compiled.search(p) for p in probes)


def _selector_pins(selector: Any, env: str, where: str) -> str | None:
    """None when a label selector admits only ``env`` namespaces, else what is wrong."""
    selector = known(selector, where)
    if not isinstance(selector, Mapping):
        return "is not a label selector"
    match_labels = selector.get("matchLabels") or {}
    pinned = set()
    label = match_labels.get(conventions.LABEL_ENVIRONMENT)
    if isinstance(label, str):
        pinned.add(label)
    name = match_labels.get("kubernetes.io/metadata.name")
    if isinstance(name, str):
        pinned |= conventions.reference_env_tokens(name) or {"(none)"}
    for expression in selector.get("matchExpressions") or []:
        if not isinstance(expression, Mapping) or expression.get("operator") != "In":
            continue
        if expression.get("key") == conventions.LABEL_ENVIRONMENT:
            values = set(expression.get("values") or [])
            pinned |= values if values else {"(none)"}
    if not pinned:
        return f"does not pin {conventions.LABEL_ENVIRONMENT}: {env}, so it admits every environment's namespaces"
    if pinned != {env}:
        return f"admits {_fmt(pinned - {env})} namespaces"
    return None


# Provider fields that name an account, project, cluster, namespace, path or server: none may name another
# environment. Namespaces a provider *reads from* (the kubernetes provider's remoteNamespace) must name this one.
_PROVIDER_REF_KEYS = frozenset(
    {
        "namespace",
        "projectID",
        "clusterProjectID",
        "clusterName",
        "path",
        "mountPath",
        "role",
        "name",
        "server",
        "url",
        "vaultUrl",
        "remoteNamespace",
        "serviceAccount",
    }
)
_PROVIDER_READS_NAMESPACE = frozenset({"remoteNamespace"})


def _provider_refs(value: Any, where: str) -> Iterator[tuple[str, str]]:
    value = known(value, where)
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in _PROVIDER_REF_KEYS and isinstance(item, str):
                yield f"{where}.{key}", item
            else:
                yield from _provider_refs(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _provider_refs(item, f"{where}[{index}]")


def check_store_namespaces(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """A (Cluster)SecretStore admits only its environment's namespaces and uses its environment's accounts."""
    env = _own_env(r)
    if not env:
        return
    subject = f"{r.describe()} in {env}"
    if r.type in CLUSTER_STORE_TYPES:
        for where, condition in entries(r.get("spec", "conditions", default=[]), "spec.conditions"):
            for namespace in strings(at(condition, "namespaces", where=where), f"{where}.namespaces"):
                tokens = conventions.reference_env_tokens(namespace)
                if tokens != {env}:
                    belongs = f"belongs to {_fmt(tokens - {env})}" if tokens - {env} else f"does not end in '-{env}'"
                    yield f"{subject} admits namespace {show(namespace)}, which {belongs} ({where}.namespaces); admit only '<workload>-{env}' namespaces."
            for pattern in strings(at(condition, "namespaceRegexes", where=where), f"{where}.namespaceRegexes"):
                if not _regex_confined(pattern, env):
                    yield (
                        f"{subject} admits namespaces by the regex {show(pattern)} ({where}.namespaceRegexes), which is not "
                        f"confined to '-{env}$' namespaces; list the namespaces instead, or use one anchored '^<workload>-{env}$' "
                        "pattern without alternation."
                    )
            selector = at(condition, "namespaceSelector", where=where)
            if selector is not None:
                problem = _selector_pins(selector, env, f"{where}.namespaceSelector")
                if problem:
                    yield (
                        f"{subject}: the namespaceSelector in {where} {problem}; add matchLabels "
                        f"{{{conventions.LABEL_ENVIRONMENT}: {env}}}."
                    )
    for where, reference in _provider_refs(r.get("spec", "provider", default={}), "spec.provider"):
        tokens = conventions.reference_env_tokens(reference)
        others = tokens - {env}
        if where.rsplit(".", 1)[-1] in _PROVIDER_READS_NAMESPACE and tokens != {env}:
            belongs = f"belongs to {_fmt(others)}" if others else f"does not end in '-{env}'"
            yield f"{subject} reads Secrets of namespace {show(reference)}, which {belongs} ({where}); read only a '<workload>-{env}' namespace."
        elif others:
            yield f"{subject} points at {show(reference)} of {_fmt(others)} ({where}); use the {env} account, project or namespace."


# --------------------------------------------------------------------------- Vault


def check_vault_role(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """A Vault Kubernetes-auth role binds only its environment's namespaces and accounts."""
    env = r.env
    if not env:
        return
    subject = f"Vault role {show(r.get('roleName') or r.name)} in {env}"
    for namespace in strings(r.get("boundServiceAccountNamespaces"), "boundServiceAccountNamespaces"):
        tokens = conventions.reference_env_tokens(namespace)
        if tokens != {env}:
            belongs = f"belongs to {_fmt(tokens - {env})}" if tokens - {env} else f"does not end in '-{env}'"
            yield (
                f"{subject} is bound to namespace {show(namespace)}, which {belongs} (boundServiceAccountNamespaces); "
                f"bind only '<workload>-{env}' namespaces."
            )
    for field in ("boundServiceAccountNames", "roleName", "audience", "tokenPolicies", "backend", "policies"):
        for value in strings(r.get(field), field):
            others = conventions.reference_env_tokens(value) - {env}
            if others:
                yield f"{subject}: {field} names {show(value)} of {_fmt(others)}; use the {env} one."
    selector = r.get("boundServiceAccountNamespaceSelector")
    if selector:
        try:
            parsed = json.loads(selector) if isinstance(selector, str) else selector
        except ValueError:
            parsed = None
        problem = _selector_pins(parsed, env, "boundServiceAccountNamespaceSelector") if parsed is not None else "is not JSON"
        if problem:
            yield f"{subject}: boundServiceAccountNamespaceSelector {problem}; pin {conventions.LABEL_ENVIRONMENT}: {env}."


def _vault_grants(r: Resource, subject: str) -> tuple[tuple[vault_policy.Grant, ...], str | None]:
    """The policy's grants as Vault parses them (:mod:`parsers.vault_policy`), or the message refusing it."""
    text = r.get("policy")
    if not isinstance(text, str):
        return (), None
    try:
        return vault_policy.grants(text), None
    except ParseError as err:
        return (), (
            f'{subject}: the policy {err}, so what it grants cannot be judged; write plain `path "<path>" '
            "{ capabilities = [...] }` blocks (HCL or the same in JSON) with known keys and capabilities."
        )


def check_vault_policy(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """A Vault policy grants only paths of its environment, and its name names no other one.

    The policy is read by Vault's own grammar (HCL v1 or JSON, through pyhcl): a path written
    as JSON, as ``path"x"`` without a space, under a quoted ``"path"`` key or beside another
    block on one line is the same grant. A policy that does not parse is refused.
    """
    env = r.env
    if not env:
        return
    name = r.get("name")
    subject = f"Vault policy {show(name if isinstance(name, str) else r.name)} in {env}"
    if isinstance(name, str) and conventions.reference_env_tokens(name) - {env}:
        yield f"{subject} is named for {_fmt(conventions.reference_env_tokens(name) - {env})}; name it for {env}."
    grants, refused = _vault_grants(r, subject)
    if refused:
        yield refused
        return
    for grant in grants:
        if not grant.allows:
            continue  # deny grants nothing
        tokens = conventions.env_tokens_in(grant.path)
        if tokens != {env}:
            problem = (
                f"belongs to {_fmt(tokens - {env})}"
                if tokens - {env}
                else "names no environment, so it may reach every environment's paths"
            )
            yield (
                f"{subject} grants the path {show(grant.path)}, which {problem}; grant only '<mount>/data/{env}/<service>' "
                "and '<mount>/metadata/{env}/<service>' paths of the credentials declared for the namespace.".replace("{env}", env)
            )


def check_vault_policy_control(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """No grant on Vault's control paths (auth/, sys/, identity/) and no sudo: a token may not change who may do what.

    ``update`` on ``auth/kubernetes-<env>/role/<role>`` re-points a role (any namespace, any
    policy), ``sys/policies/acl/<name>`` rewrites a policy, ``identity/`` attaches policies to
    entities and groups: on a shared Vault a job runner could give itself another environment's
    paths. Every environment, whatever the capability (``deny`` aside).
    """
    name = r.get("name")
    subject = f"Vault policy {show(name if isinstance(name, str) else r.name)}"
    grants, refused = _vault_grants(r, subject)
    if refused:
        yield refused
        return
    for grant in grants:
        if not grant.allows:
            continue
        mount = vault_policy.control_mount(grant.path)
        if mount:
            yield (
                f"{subject} grants {', '.join(sorted(grant.allows))} on {show(grant.path)}, which reaches Vault's {mount} "
                "(auth methods and their roles, policies, tokens, entities): a token holding it could change what it or "
                "others may read; remove the path (the platform applies roles and policies itself)."
            )
        elif "sudo" in grant.allows:
            yield f"{subject} grants sudo on {show(grant.path)}; remove it (job runners only read their credentials)."


def check_vault_database(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """A database-engine connection or role of one environment names only that environment (``<service>-<env>``)."""
    env = r.env
    if not env:
        return
    kind = "connection" if r.type == VAULT_DB_CONNECTION else "role"
    subject = f"Vault database {kind} {show(r.get('name') or r.name)} in {env}"
    fields = ("name", "allowedRoles") if kind == "connection" else ("name", "dbName")
    for field in fields:
        for value in strings(r.get(field), field):
            tokens = conventions.env_tokens_in(value)
            if tokens != {env}:
                problem = (
                    f"names {_fmt(tokens - {env})}"
                    if tokens - {env}
                    else "names no environment, so every environment's users could share it"
                )
                yield f"{subject}: {field} {show(value)} {problem}; use '<service>-{env}'."
    if kind == "connection":
        yield from _connection_url_problems(r, subject)


# The placeholders Vault fills in with its connection user; anything else in the URL's user-info is a credential.
_VAULT_URL_TEMPLATES = {"user": "{{username}}", "password": "{{password}}"}


def _connection_url_problems(r: Resource, subject: str) -> Iterator[str]:
    """postgresql.connectionUrl read by libpq's rules: it parses, and carries no credential but Vault's placeholders."""
    url = r.get("postgresql", "connectionUrl")
    if not isinstance(url, str):
        return
    try:
        params = conninfo.parse(url)
    except ParseError as err:
        yield f"{subject}: postgresql.connectionUrl {err}; give postgresql://{{{{username}}}}:{{{{password}}}}@host:5432/dbname?sslmode=verify-full."
        return
    found = sorted(k for k in params if (k in conninfo.SECRET_KEYWORDS or k == "user") and params[k] != _VAULT_URL_TEMPLATES.get(k))
    if found:
        yield (
            f"{subject}: postgresql.connectionUrl carries {', '.join(found)} (as libpq reads it), a credential in the URL; "
            "keep only Vault's {{username}}:{{password}} placeholders and give the connection user in postgresql.username/password."
        )


# --------------------------------------------------------------------------- GCP IAM

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


def iam_members(r: Resource) -> Iterator[tuple[str, str]]:
    """``(where, member)`` for the members an IAM member/binding/policy resource grants to."""
    for where in ("member",):
        member = r.get(where)
        if isinstance(member, str):
            yield where, member
    for member in strings(r.get("members"), "members"):
        yield "members", member
    for index, binding in policy_bindings(r):
        if index < 0:
            yield "policyData", UNREADABLE_POLICY
        for member in binding.get("members") or []:
            yield f"policyData.bindings[{index}]", member


# Members that are every identity there is: no environment can be shown.
_EVERYONE = frozenset({"allUsers", "allAuthenticatedUsers"})
_WORKLOAD_IDENTITY = re.compile(r"\.svc\.id\.goog\[(?P<namespace>[^/\]]*)/[^\]]*\]\Z")
_PRINCIPAL_NAMESPACE = re.compile(r"/namespace/(?P<namespace>[^/]+)")


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text) if w in conventions.ENVIRONMENTS}


def _conditions(r: Resource) -> Iterator[tuple[str, Any]]:
    yield "condition", r.get("condition")
    for index, binding in policy_bindings(r):
        if index >= 0:
            yield f"policyData.bindings[{index}].condition", binding.get("condition")


def _member_problem(member: str, env: str) -> str | None:
    """Why an IAM member cannot be shown to be of ``env`` (None: it can, or it names no environment)."""
    if member in _EVERYONE:
        return "is every identity, of every environment"
    workload = _WORKLOAD_IDENTITY.search(member)
    if workload:  # all clusters of a project share its workload pool: only the namespace tells environments apart
        tokens = conventions.reference_env_tokens(workload.group("namespace"))
        if tokens != {env}:
            return f"is the Kubernetes account of namespace {show(workload.group('namespace'))}, " + (
                f"of {_fmt(tokens - {env})}" if tokens - {env} else f"which does not end in '-{env}'"
            )
        return None
    if member.startswith("principalSet://"):
        namespace = _PRINCIPAL_NAMESPACE.search(member)
        if not namespace or conventions.reference_env_tokens(namespace.group("namespace")) != {env}:
            return f"is a set of principals not confined to one '<workload>-{env}' namespace"
        return None
    others = conventions.reference_env_tokens(member) - {env}
    return f"is of {_fmt(others)}" if others else None


def check_gcp_iam(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """An IAM grant on a project, secret or service account never crosses environments."""
    kind = r.type.rsplit(":", 1)[-1]
    target_field = "secretId" if r.type in SECRET_IAM_TYPES else "serviceAccountId" if r.type in SERVICE_ACCOUNT_IAM_TYPES else None
    target = r.get(target_field) if target_field else None
    target_tokens = conventions.reference_env_tokens(target) if isinstance(target, str) else set()
    env = r.env or (next(iter(target_tokens)) if len(target_tokens) == 1 else None)
    if not env:
        return
    if target_tokens - {env}:
        yield (
            f"{kind} {show(r.name)} in {env} grants on {show(target)} of "
            f"{_fmt(target_tokens - {env})} ({target_field}); grant only on {env} secrets and accounts."
        )
    elif r.type in SECRET_IAM_TYPES and isinstance(target, str) and not target_tokens:
        yield (
            f"{kind} {show(r.name)} in {env} grants on the secret {show(target)} (secretId), which names no environment, "
            f"so nothing shows it is not another environment's; grant only on '<service>-{env}-...' secrets."
        )
    for where, condition in _conditions(r):
        if isinstance(condition, Mapping):
            text = " ".join(str(condition.get(k) or "") for k in ("title", "expression"))
            others = _words(text) - {env}
            if others:
                yield f"{kind} {show(r.name)} in {env} has a condition naming {_fmt(others)} ({where}); condition only on {env} resources."
    for where, member in iam_members(r):
        if member == UNREADABLE_POLICY:
            yield (
                f"{r.type.rsplit(':', 1)[-1]} {show(r.name)} in {env} has a policyData that is not valid JSON, so its members "
                "can't be shown to belong to this environment; fix the policy document."
            )
            continue
        problem = _member_problem(member, env) if isinstance(member, str) else None
        if problem:
            on = show(target) if isinstance(target, str) else "the project"
            yield (
                f"{kind} {show(r.name)} grants {on} ({env}) to {show(member)}, which {problem} ({where}); "
                "each environment's accounts get only that environment's secrets."
            )


# --------------------------------------------------------------------------- stacks


def check_stack_reference(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """A StackReference never reads another environment's stack."""
    env = r.env
    name = r.get("name")
    if not env or not isinstance(name, str):
        return
    last = name.rsplit("/", 1)[-1]
    target = conventions.env_of_stack(name)
    tokens = {target} if target else conventions.env_tokens_in(last)
    if tokens - {env}:
        yield (
            f"StackReference {show(r.name)} in {env} reads the stack {show(name)} of {_fmt(tokens - {env})}; "
            f"read the {env} stack, so no output of another environment flows into this one."
        )


ENVIRONMENT_CONFIG_KEY = "environmentConfigKey"


def check_stack_env(resources: list[Resource], config: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
    """The stack name is an environment token, and the engine, the URNs and the stack config agree on it."""
    stacks = sorted({r.stack for r in resources if r.stack})
    if not stacks:
        return
    if len(stacks) > 1:
        yield (
            f"Resources of more than one stack were analysed together ({', '.join(show(s) for s in stacks)}); a stack provisions one environment.",
            None,
        )
        return
    stack = stacks[0]
    if conventions.env_of_stack(stack) is None:
        yield (
            (
                f"The stack {show(stack)} is not named after an environment ({_ENVS}); the stack name is the environment "
                f"token (`pulumi up -s prd`), and without it no environment check can hold. Rename or re-create the stack."
            ),
            None,
        )
        return
    engine = engine_stack()
    if engine and engine != stack:
        yield (
            f"The engine runs stack {show(engine)} but the resources belong to {show(stack)}; run the pack on the stack it analyses.",
            None,
        )
    key = config.get(ENVIRONMENT_CONFIG_KEY) or f"{conventions.PROJECT}:environment"
    try:
        import pulumi.runtime

        configured = pulumi.runtime.get_config(key)
    except Exception:  # noqa: BLE001 - no runtime config outside the engine
        configured = None
    if configured is not None and configured != stack:
        yield (
            (
                f"The stack {show(stack)} is configured for environment {show(configured)} ({show(key)}); a stack provisions "
                f"exactly the environment it is named after. Set {show(key)} to {show(stack)} or use the right stack."
            ),
            None,
        )


object_env_agree = resource_policy(
    name="isolation-object-env-agree",
    description="A Kubernetes object's stack, namespace, environment label and own name all name the same environment.",
    enforcement_level=MANDATORY,
    resource_types=is_k8s_object,
    check=check_object_env,
)

binding_subject_env = resource_policy(
    name="isolation-binding-subject-env",
    description="A RoleBinding or ClusterRoleBinding binds no subject or role of another environment, and no group spanning every namespace.",
    enforcement_level=MANDATORY,
    resource_types=BINDING_TYPES,
    check=check_binding_subjects,
)

externalsecret_remote_key_env = resource_policy(
    name="isolation-externalsecret-remote-key-env",
    description="An ExternalSecret reads only remote keys and stores of its own environment, and writes only its environment's Secret.",
    enforcement_level=MANDATORY,
    resource_types=EXTERNAL_SECRET_TYPES,
    check=check_external_secret_keys,
)

secretstore_namespace_env = resource_policy(
    name="isolation-secretstore-namespace-env",
    description="A ClusterSecretStore or SecretStore admits only its own environment's namespaces and uses only its environment's accounts.",
    enforcement_level=MANDATORY,
    resource_types=STORE_TYPES,
    check=check_store_namespaces,
)

pushsecret_env = resource_policy(
    name="isolation-pushsecret-env",
    description="A PushSecret pushes only its own environment's Secrets, through its environment's stores, to its environment's remote keys.",
    enforcement_level=MANDATORY,
    resource_types=PUSH_SECRET_TYPES,
    check=check_push_secret,
)

clusterexternalsecret_env = resource_policy(
    name="isolation-clusterexternalsecret-env",
    description="A ClusterExternalSecret selects only its own environment's namespaces and reads only its environment's remote keys and stores.",
    enforcement_level=MANDATORY,
    resource_types=CLUSTER_EXTERNAL_SECRET_TYPES,
    check=check_cluster_external_secret,
)

vault_policy_env = resource_policy(
    name="isolation-vault-policy-env",
    description="A Vault policy grants only paths of its own environment.",
    enforcement_level=MANDATORY,
    resource_types=frozenset({VAULT_POLICY}),
    check=check_vault_policy,
)

vault_policy_control = resource_policy(
    name="isolation-vault-policy-no-control-paths",
    description="A Vault policy grants nothing on Vault's control paths (auth/, sys/, identity/) and no sudo, so no token can change roles or policies.",
    enforcement_level=MANDATORY,
    resource_types=frozenset({VAULT_POLICY}),
    check=check_vault_policy_control,
)

vault_role_env = resource_policy(
    name="isolation-vault-role-env",
    description="A Vault Kubernetes-auth role is bound only to its own environment's namespaces and service accounts.",
    enforcement_level=MANDATORY,
    resource_types=frozenset({VAULT_K8S_ROLE}),
    check=check_vault_role,
)

vault_database_env = resource_policy(
    name="isolation-vault-database-env",
    description="A Vault database connection or role serves only its own environment: its name, allowed roles and connection carry the environment, and its connection URL (read by libpq's rules) carries no credential but Vault's placeholders.",
    enforcement_level=MANDATORY,
    resource_types=frozenset({VAULT_DB_CONNECTION, VAULT_DB_ROLE}),
    check=check_vault_database,
)

gcp_iam_env = resource_policy(
    name="isolation-gcp-iam-env",
    description="A GCP IAM grant on a project, secret or service account never gives one environment's resource to another environment's identity, or to identities spanning environments.",
    enforcement_level=MANDATORY,
    resource_types=SECRET_IAM_TYPES | SERVICE_ACCOUNT_IAM_TYPES | PROJECT_IAM_TYPES,
    check=check_gcp_iam,
)

stackreference_env = resource_policy(
    name="isolation-stackreference-env",
    description="A StackReference never reads another environment's stack.",
    enforcement_level=MANDATORY,
    resource_types=frozenset({STACK_REFERENCE}),
    check=check_stack_reference,
)

stack_single_env = stack_policy(
    name="isolation-stack-single-env",
    description="A stack is named after one environment token, and the engine, the resources and the stack config agree on it.",
    enforcement_level=MANDATORY,
    check=check_stack_env,
    extra_config={
        ENVIRONMENT_CONFIG_KEY: {
            "type": "string",
            "default": f"{conventions.PROJECT}:environment",
            "description": "The stack config key naming the environment; when set in the stack it must equal the stack name.",
        }
    },
)

POLICIES = [
    object_env_agree,
    binding_subject_env,
    externalsecret_remote_key_env,
    pushsecret_env,
    clusterexternalsecret_env,
    secretstore_namespace_env,
    vault_policy_env,
    vault_policy_control,
    vault_role_env,
    vault_database_env,
    gcp_iam_env,
    stackreference_env,
    stack_single_env,
]
