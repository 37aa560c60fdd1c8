"""Every name, path and file name conventions builds is parsed back by its inverse (hypothesis round trips over
generated services, workloads and environments), and every parser refuses what it cannot read with a
ConventionError naming the value and the form it expected."""

from __future__ import annotations

import importlib
import re
import types
from typing import Callable

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from secrets_platform import conventions as c

PROPERTY = hsettings(max_examples=120, deadline=None, database=None)

# Words a generated name part may not be: the environment tokens and Flyte domains, so a name part never
# reads as an environment (the settings refuse such workloads and services: test_hostile_input).
_RESERVED = set(c.ENVIRONMENTS) | set(c.FLYTE_DOMAINS.values())
_WORD = st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True).filter(lambda w: w not in _RESERVED)
# A DNS-label part of a name: one to three words joined by '-' (snowflake, floe-jobs, snowflake-db-ro).
LABEL = st.lists(_WORD, min_size=1, max_size=3).map("-".join)
# Any label, env tokens included as words (a bundle name's env is read from its fixed place, so these round-trip too).
ANY_LABEL = st.lists(st.one_of(_WORD, st.sampled_from(sorted(_RESERVED))), min_size=1, max_size=3).map("-".join)
ENV = st.sampled_from(c.ENVIRONMENTS)
KEY = st.from_regex(r"[A-Z][A-Z0-9]{0,5}(_[A-Z0-9]{1,5}){0,2}", fullmatch=True)
MOUNT = st.from_regex(r"[a-z0-9][-a-z0-9_]{0,8}", fullmatch=True)
SEGMENT = st.from_regex(r"[A-Za-z0-9][-A-Za-z0-9_.]{0,8}", fullmatch=True)
STACK = st.from_regex(r"[A-Za-z0-9_.-]{1,12}", fullmatch=True)
GCP_PROJECT = st.from_regex(r"[a-z][a-z0-9-]{4,20}[a-z0-9]", fullmatch=True)


@PROPERTY
@given(service=ANY_LABEL, env=ENV)
def test_credentials_name_and_its_regex_are_one_spelling(service: str, env: str) -> None:
    name = c.credentials_name(service, env, checked=False)
    assert c.parse_credentials_name(name) == c.ServiceEnv(service, env)
    assert c.CREDENTIALS_NAME.match(name) and c.env_token_of_name(name) == env


@PROPERTY
@given(service=LABEL, env=ENV, purpose=LABEL)
def test_secret_names(service: str, env: str, purpose: str) -> None:
    assert c.parse_secret_name(c.secret_name(service, env, purpose)) == c.SecretName(service, env, purpose)
    pull = c.parse_secret_name(c.pull_secret_name(service, env))
    assert (pull.service, pull.env, pull.purpose) == (service, env, "pull")
    assert c.parse_pull_secret_name(c.pull_secret_name(service, env)) == c.ServiceEnv(service, env)


@PROPERTY
@given(service=LABEL, env=ENV, purpose=LABEL)
def test_an_imported_secret_name_gives_back_its_variable(service: str, env: str, purpose: str) -> None:
    prefix = "DAGSTER_SECRET_"
    variable = c.import_variable(purpose, prefix)
    parsed = c.parse_secret_name(c.import_secret_name(variable, prefix, service, env))
    assert (parsed.service, parsed.env) == (service, env)
    assert c.import_variable(parsed.purpose, prefix) == variable


@PROPERTY
@given(workload=ANY_LABEL, env=ENV, flyte=st.booleans())
def test_namespaces(workload: str, env: str, flyte: bool) -> None:
    name = c.namespace_name(workload, env, flyte=flyte, checked=False)
    parsed = c.parse_namespace_name(name)
    # local's Flyte domain is its token: <project>-local is one name for both, read as the plain namespace
    assert parsed == c.NamespaceName(workload, env, flyte and env != "local")
    assert c.namespace_name(parsed.workload, parsed.env, flyte=parsed.flyte, checked=False) == name and c.namespace_env(name) == env


@PROPERTY
@given(mount=MOUNT, env=ENV, service=MOUNT)
def test_vault_kv_paths(mount: str, env: str, service: str) -> None:
    assert c.parse_vault_path(c.vault_path(mount, env, service)) == c.VaultPath(mount, env, service)
    assert c.parse_vault_kv_path(c.vault_kv_api_path(mount, env, service)) == c.KvPath(mount, "data", env, service)
    assert c.parse_vault_kv_path(c.vault_kv_metadata_path(mount, env, service)) == c.KvPath(mount, "metadata", env, service)


@PROPERTY
@given(mount=SEGMENT, service=LABEL, env=ENV)
def test_vault_database_names(mount: str, service: str, env: str) -> None:
    role = c.vault_database_role(service, env)
    assert c.parse_vault_database_role(role) == c.ServiceEnv(service, env)
    creds = c.parse_vault_creds_path(c.vault_database_creds_path(mount, service, env))
    assert creds == c.CredsPath(mount, role)
    assert c.parse_vault_database_creds_path(c.vault_database_creds_path(mount, service, env)) == c.DatabaseCredsPath(mount, service, env)
    assert c.parse_vault_database_env_file(c.vault_database_env_file(service)) == service


@PROPERTY
@given(env=ENV, mount=LABEL, workload=LABEL)
def test_vault_access_names(env: str, mount: str, workload: str) -> None:
    namespace = c.namespace_name(workload, env)
    auth = c.vault_auth_path(env)
    assert c.parse_vault_auth_path(auth) == env
    assert c.parse_vault_auth_mount(c.vault_auth_mount(auth)) == auth
    assert c.parse_vault_policy_name(c.vault_policy_name(mount, namespace), mount) == namespace
    assert c.parse_vault_role_name(c.vault_role_name(namespace)) == namespace


@PROPERTY
@given(service=LABEL, key=KEY, kind=st.sampled_from(("secret", "template")))
def test_vault_agent_files_and_annotations(service: str, key: str, kind: str) -> None:
    file = c.vault_agent_file_name(service, key)
    assert c.parse_vault_agent_file_name(file, service) == c.key_slug(key)
    assert c.parse_vault_secrets_file(c.vault_secrets_file(file)) == file
    assert c.parse_agent_inject_annotation(c.agent_inject_annotation(kind, file)) == c.AgentAnnotation(kind, file)


@PROPERTY
@given(group=st.lists(MOUNT, min_size=1, max_size=3).map("/".join), key=st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True))
def test_flyte_secret_files(group: str, key: str) -> None:
    assert c.parse_flyte_secret_file(c.flyte_secret_file(group, key)) == c.FlyteSecretFile(group, key)


@PROPERTY
@given(env=ENV, kind=st.sampled_from(("kubernetes", "gcp", "vault")), component=st.from_regex(r"[a-z][a-z0-9]{3,10}", fullmatch=True))
def test_operator_and_provider_names(env: str, kind: str, component: str) -> None:
    assert c.parse_store_name(c.store_name(env)) == env
    assert c.parse_provider_name(c.provider_name(kind, env)) == (kind, env)
    assert c.parse_gcp_service_account_id(c.gcp_service_account_id(component, env)) == (component, env)
    assert c.parse_vault_delegator_binding_name(c.vault_delegator_binding_name(env)) == env
    assert c.parse_vault_audit_resource_name(c.vault_audit_resource_name(env)) == env


@PROPERTY
@given(service=LABEL, domain=st.lists(_WORD, min_size=1, max_size=2).map(".".join), env=ENV)
def test_data_access_log_names(service: str, domain: str, env: str) -> None:
    """The resource carries the service's first DNS label (``secretmanager.googleapis.com`` -> ``secretmanager``)."""
    name = c.data_access_log_resource_name(f"{service}.{domain}", env)
    assert c.parse_data_access_log_resource_name(name) == (service, env)


@PROPERTY
@given(workload=LABEL, env=ENV, name=LABEL, kind=st.sampled_from(("Deployment", "StatefulSet", "Job")))
def test_object_keys(workload: str, env: str, name: str, kind: str) -> None:
    namespace = c.namespace_name(workload, env)
    assert c.parse_object_key(c.object_key(namespace, name)) == c.ObjectKey(namespace, name)
    assert c.parse_kind_ref(c.kind_ref(kind, name)) == c.KindRef(kind, name)


@PROPERTY
@given(parent=LABEL, parts=st.lists(LABEL, min_size=1, max_size=3), key=KEY, slot=st.sampled_from(("a", "b")))
def test_resource_names(parent: str, parts: list[str], key: str, slot: str) -> None:
    assert c.parse_child_resource_name(c.child_resource_name(parent, *parts), parent) == "-".join(parts)
    base = c.password_resource_name(parent, key)
    assert c.parse_password_resource_name(base, parent) == c.key_slug(key)
    assert c.parse_slot_resource_name(c.slot_resource_name(base, slot)) == (base, slot)
    assert c.parse_stand_in_resource_name(c.stand_in_resource_name(parent, key), parent) == c.key_slug(key)
    assert c.parse_tls_component_name(c.tls_component_name(parent, parts[0]), parent) == parts[0]
    assert c.parse_key_prefix(c.key_prefix(parent)) == parent
    assert c.parse_previous_key(c.previous_key(key)) == key


@PROPERTY
@given(project=GCP_PROJECT, component=st.from_regex(r"[a-z][a-z0-9]{3,10}", fullmatch=True), env=ENV, workload=LABEL, secret=LABEL)
def test_gcp_names(project: str, component: str, env: str, workload: str, secret: str) -> None:
    email = c.gcp_service_account_email(component, env, project)
    assert c.parse_gcp_service_account_email(email) == c.GcpServiceAccount(component, env, project)
    assert c.parse_gcp_service_account_resource_name(c.gcp_service_account_resource_name(project, email)) == (project, email)
    assert c.parse_gcp_service_account_member(c.gcp_service_account_member(email)) == email
    namespace = c.namespace_name(workload, env)
    member = c.workload_identity_member(project, namespace, c.ESO_SERVICE_ACCOUNT)
    assert c.parse_workload_identity_member(member) == c.WorkloadIdentityMember(project, namespace, c.ESO_SERVICE_ACCOUNT)
    assert c.parse_gcp_secret_resource_name(c.gcp_secret_resource_name(project, secret)) == c.GcpSecretResource(project, secret)


@PROPERTY
@given(stack=STACK)
def test_stack_files(stack: str) -> None:
    name = c.stack_file_name(stack)
    assert c.parse_stack_file_name(name) == stack
    assert re.fullmatch(c.STACK_FILE_GLOB.replace(".", r"\.").replace("*", ".+"), name)


# A URN's name is any string, '::' included (the engine reads it as everything after the third '::').
URN_NAME = st.text(st.sampled_from("ab-:/$."), min_size=0, max_size=12)
TYPE_TOKEN = st.from_regex(r"[a-z]{1,5}:[a-z/0-9]{1,6}:[A-Z][A-Za-z]{0,6}", fullmatch=True)


@PROPERTY
@given(stack=STACK, types=st.lists(TYPE_TOKEN, min_size=1, max_size=3), name=URN_NAME)
def test_urns_read_as_the_engine_reads_them(stack: str, types: list[str], name: str) -> None:
    qualified = "$".join(types)
    parsed = c.parse_urn(c.urn(stack, c.PROJECT, qualified, name))
    assert parsed == c.Urn(stack, c.PROJECT, qualified, name)
    assert parsed.type == types[-1]
    assert parsed.parent_type == (types[-2] if len(types) > 1 else None)


@PROPERTY
@given(number=st.from_regex(r"[1-9][0-9]{5,12}", fullmatch=True), project=GCP_PROJECT, namespace=LABEL)
def test_a_namespace_principal_set_round_trips(number: str, project: str, namespace: str) -> None:
    member = c.workload_identity_namespace_set(number, project, namespace)
    assert c.parse_workload_identity_namespace_set(member) == namespace
    for longer in (member + "/more", member.replace("/namespace/", "/attribute.team/namespace/")):
        with pytest.raises(c.ConventionError):
            c.parse_workload_identity_namespace_set(longer)


def test_a_urn_name_holding_double_colons_is_the_whole_rest_not_its_last_segment() -> None:
    """The engine's URN.Name(): everything after the third '::' (pulumi sdk/v3 go/common/resource/urn)."""
    parsed = c.parse_urn("urn:pulumi:prd::secrets-platform::secrets-platform:x:Y$kubernetes:core/v1:Secret::evil::trusted")
    assert parsed.name == "evil::trusted"
    assert (parsed.type, parsed.parent_type) == ("kubernetes:core/v1:Secret", "secrets-platform:x:Y")


def test_only_a_urn_name_may_hold_double_colons() -> None:
    with pytest.raises(c.ConventionError, match="'a::b'"):
        c.urn("prd", c.PROJECT, "a::b", "n")


@PROPERTY
@given(workload=ANY_LABEL, env=ENV)
def test_env_suffix(workload: str, env: str) -> None:
    assert c.env_suffix(c.namespace_name(workload, env, checked=False)) == env
    assert c.namespace_name(workload, env, checked=False).endswith(c.env_name_suffix(env))
    assert c.env_suffix(c.env_name_suffix(env)) == env


def test_a_secret_name_that_reads_two_ways_is_refused() -> None:
    name = c.secret_name("floe", "prd", "dev-copy")  # purpose holding an env token: floe/prd/dev-copy or floe-prd/dev/copy
    with pytest.raises(c.ConventionError, match="reads more than one way"):
        c.parse_secret_name(name)


@pytest.mark.parametrize(
    ("parse", "bad"),
    [
        (c.parse_credentials_name, "snowflake-credentials"),
        (c.parse_credentials_name, "snowflake-qa-credentials"),
        (c.parse_secret_name, "snowflake-prd-credentials"),
        (c.parse_namespace_name, "dagster"),
        (c.parse_vault_path, "floe/qa/snowflake"),
        (c.parse_vault_kv_path, "floe/prd/snowflake"),
        (c.parse_vault_creds_path, "database/roles/warehouse-prd"),
        (c.parse_vault_auth_mount, "kubernetes-prd"),
        (c.parse_vault_database_env_file, "warehouse.env"),
        (c.parse_vault_secrets_file, "/etc/secrets/x"),
        (c.parse_agent_inject_annotation, "vault.hashicorp.com/role"),
        (c.parse_flyte_secret_file, "/etc/flyte/secrets/key-only"),
        (c.parse_object_key, "no-namespace"),
        (c.parse_kind_ref, "Deployment"),
        (c.parse_gcp_secret_resource_name, "projects/p/topics/t"),
        (c.parse_gcp_service_account_email, "eso-prd@example.com"),
        (c.parse_gcp_service_account_resource_name, "projects/p/roles/r"),
        (c.parse_workload_identity_member, "user:someone@example.com"),
        (c.parse_stack_file_name, "Pulumi.yaml"),
        (c.parse_vault_database_role, "warehouse"),
        (c.parse_store_name, "vault-prd"),
        (c.parse_vault_auth_path, "userpass-prd"),
        (c.parse_vault_role_name, "dagster-prd"),
        (c.parse_provider_name, "kubernetes"),
        (c.parse_gcp_service_account_id, "eso"),
        (c.parse_slot_resource_name, "snowflake-password"),
        (c.parse_pull_secret_name, "registry-prd-tls-secret"),
        (c.parse_vault_database_creds_path, "database/creds/warehouse"),
        (c.parse_vault_delegator_binding_name, "vault-auth-prd"),
        (c.parse_vault_audit_resource_name, "vault-prd"),
        (c.parse_data_access_log_resource_name, "data-access-logs-prd"),
        (c.parse_key_prefix, "SNOWFLAKE"),
        (c.parse_previous_key, "SNOWFLAKE_PASSWORD"),
        (c.parse_gcp_service_account_member, "serviceAccount:p.svc.id.goog[ns/eso]"),
        (c.parse_urn, "urn:pulumi:local::secrets-platform::kubernetes:core/v1:Secret"),
        (
            c.parse_workload_identity_namespace_set,
            "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p.svc.id.goog/attribute.x/namespace/a-prd",
        ),
        (c.parse_urn, "pulumi:local::secrets-platform::kubernetes:core/v1:Secret::x"),
    ],
)
def test_each_parser_refuses_what_it_cannot_read_naming_the_value_and_the_form(parse: Callable[[str], object], bad: str) -> None:
    with pytest.raises(c.ConventionError) as err:
        parse(bad)
    assert repr(bad) in str(err.value) and "form" in str(err.value)


@pytest.mark.parametrize(
    ("parse", "bad", "given"),
    [
        (c.parse_vault_policy_name, "other-dagster-prd-read", "floe"),
        (c.parse_vault_agent_file_name, "other-password", "snowflake"),
        (c.parse_child_resource_name, "vault-dev-auth", "vault-prd"),
        (c.parse_password_resource_name, "other-password", "snowflake"),
        (c.parse_stand_in_resource_name, "snowflake-password", "snowflake"),
        (c.parse_tls_component_name, "other-ingress", "registry"),
    ],
)
def test_parsers_given_a_part_refuse_names_without_it(parse: Callable[[str, str], object], bad: str, given: str) -> None:
    with pytest.raises(c.ConventionError, match=re.escape(repr(bad))):
        parse(bad, given)


@pytest.mark.parametrize(
    "module", ["dns", "environments", "errors", "forms", "keys", "operators", "paths", "principals", "resources", "urns"]
)
def test_conventions_re_exports_every_public_name_of_its_modules(module: str) -> None:
    """``from secrets_platform import conventions`` is the one door: nothing public hides in a submodule."""
    mod = importlib.import_module(f"secrets_platform.conventions.{module}")
    public = [
        n
        for n, v in vars(mod).items()
        if not n.startswith("_")
        and n != "annotations"
        and not isinstance(v, types.ModuleType)
        and getattr(v, "__module__", mod.__name__) == mod.__name__
    ]
    missing = [n for n in public if getattr(c, n, None) is not getattr(mod, n)]
    assert not missing, f"add to secrets_platform/conventions/__init__.py's imports: {missing}"


# The public functions of conventions that build no name (so have no parser), each with its reason; and the builders
# whose inverse is not called parse_<builder>. Every other public function is a builder and needs parse_<builder>.
NOT_BUILDERS = {
    "between": "a parser's helper: the part of a name between a prefix and a suffix",
    "credential_key_words": "reads a key name's words for the credential-key check",
    "disagreeing": "compares environments read from names",
    "env_of_stack": "reads the environment of a stack name (Pulumi's, not built here)",
    "env_suffix": "reads the environment a name ends in",
    "env_token_of_name": "reads the environment a name carries",
    "env_tokens_in": "reads every environment token in a name",
    "flyte_domain": "maps an environment to Flyte's domain token (a part of namespace_name, parsed by parse_namespace_name)",
    "has_url_userinfo": "a check of a URL, not a name",
    "import_variable": "the inverse of import_secret_name: the deploy-environment variable a Secret came from",
    "key_slug": "a name part, read back by the parsers of the names it is part of (parse_vault_agent_file_name, ...)",
    "labels": "the labels of an object: a mapping, not a name",
    "looks_like_credential_key": "a check of a key name",
    "matched": "a parser's helper: a regex match or the parser's error",
    "namespace_env": "reads the environment of a namespace name",
    "reference_env_tokens": "reads the environments a reference carries",
    "refuse": "the parsers' error",
    "split_env_suffix": "a parser's helper: '<head>-<env>' into its parts",
    "toolchain_prefix_conflict": "a check of a key name",
    "traits": "what an environment implies, not a name",
}
INVERSE = {
    "env_name_suffix": "env_suffix",
    "import_secret_name": "import_variable",  # pragma: allowlist secret (a function's name)
    "vault_kv_api_path": "parse_vault_kv_path",
    "vault_kv_metadata_path": "parse_vault_kv_path",
}


def _public_functions() -> set[str]:
    return {
        n for n, v in vars(c).items() if isinstance(v, types.FunctionType) and v.__module__.startswith(c.__name__) and not n.startswith("_")
    }


def test_every_builder_has_its_inverse_parser() -> None:
    """A name conventions builds without a parser is one nobody can read back: add parse_<builder> (and its round trip)."""
    functions = _public_functions()
    builders = {f for f in functions if not f.startswith(("parse_", "is_", "check_")) and f not in NOT_BUILDERS}
    missing = sorted(b for b in builders if INVERSE.get(b, f"parse_{b}") not in functions)
    assert not missing, f"builders without an inverse parser: {missing}"
    stale = sorted(set(NOT_BUILDERS) - functions)
    assert not stale, f"remove these NOT_BUILDERS entries, conventions no longer has them: {stale}"


# The names the audit reads a ServiceAccount from: the API server's user and GCP's Workload Identity principals.
PROJECT_NUMBER = st.from_regex(r"[1-9][0-9]{5,12}", fullmatch=True)


@PROPERTY
@given(namespace=LABEL, name=LABEL)
def test_a_service_account_user_round_trips(namespace: str, name: str) -> None:
    user = c.kubernetes_service_account_user(namespace, name)
    assert c.parse_kubernetes_service_account_user(user) == c.ObjectKey(namespace, name)


@PROPERTY
@given(number=PROJECT_NUMBER, project=GCP_PROJECT, namespace=LABEL, name=LABEL)
def test_both_spellings_of_a_workload_identity_principal_name_the_service_account(number, project, namespace, name) -> None:
    principal = c.workload_identity_principal(number, project, namespace, name)
    member = c.workload_identity_member(project, namespace, name)
    assert c.parse_workload_identity_principal(principal) == c.ObjectKey(namespace, name)
    assert c.parse_workload_identity_principal(member) == c.ObjectKey(namespace, name)


@pytest.mark.parametrize(
    "parse, bad",
    [
        (c.parse_kubernetes_service_account_user, "system:serviceaccount:dagster-prd"),
        (c.parse_kubernetes_service_account_user, "alice@example.com"),
        (c.parse_workload_identity_principal, "serviceAccount:eso-prd@p.iam.gserviceaccount.com"),
        (
            c.parse_workload_identity_principal,
            "principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p.svc.id.goog/subject/ns/a",
        ),
    ],
)
def test_what_names_no_service_account_is_refused_naming_the_value(parse, bad: str) -> None:
    with pytest.raises(c.ConventionError, match="is not of the form") as err:
        parse(bad)
    assert repr(bad) in str(err.value)
