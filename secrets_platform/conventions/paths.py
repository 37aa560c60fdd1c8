"""Paths and file names the platform writes or reads, each built here and parsed back by its inverse.

Part of :mod:`secrets_platform.conventions` (re-exported there): Vault's KV, database and auth paths, the
files the Vault agent renders and the annotations that ask for them, a Secret Manager secret's resource path and the stack file ``Pulumi.<stack>.yaml``.
Every parser returns a small typed value or raises :class:`~secrets_platform.conventions.ConventionError`
naming the value and the form it expected.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from secrets_platform.conventions.errors import ConventionError, between, matched, refuse
from secrets_platform.conventions.forms import Form

__all__ = [
    "AGENT_INJECT_KINDS",
    "DATABASE_ENV_SUFFIX",
    "FLYTE_SECRETS_DIR",
    "STACK_FILE_GLOB",
    "PROJECT_FILE",
    "VAULT_ANNOTATION_PREFIX",
    "VAULT_SECRETS_DIR",
    "AgentAnnotation",
    "CredsPath",
    "FlyteSecretFile",
    "KvPath",
    "GcpSecretResource",
    "agent_inject_annotation",
    "vault_database_env_file",
    "flyte_secret_file",
    "key_slug",
    "vault_kv_api_path",
    "vault_kv_metadata_path",
    "parse_agent_inject_annotation",
    "parse_vault_database_env_file",
    "parse_flyte_secret_file",
    "parse_vault_kv_path",
    "parse_gcp_secret_resource_name",
    "parse_stack_file_name",
    "parse_vault_agent_file_name",
    "parse_vault_auth_mount",
    "parse_vault_creds_path",
    "parse_vault_secrets_file",
    "gcp_secret_resource_name",
    "stack_file_name",
    "vault_agent_file_name",
    "vault_auth_mount",
    "vault_creds_path",
    "vault_secrets_file",
]

# Where the Vault agent injector renders files in a pod.
VAULT_SECRETS_DIR = "/vault/secrets"
# The annotation prefix of vault-k8s: ``agent-inject-secret-<file>`` names the path, ``agent-inject-template-<file>`` the template.
VAULT_ANNOTATION_PREFIX = "vault.hashicorp.com/"
AGENT_INJECT_KINDS = ("secret", "template")
DATABASE_ENV_SUFFIX = "-database.env"
# Where Flyte's Vault secret manager renders Secret(group, key): ``/etc/flyte/secrets/<group>/<key>``.
FLYTE_SECRETS_DIR = "/etc/flyte/secrets"

_SEGMENT = r"[A-Za-z0-9][-A-Za-z0-9_.]*"
_KV = re.compile(rf"^(?P<mount>{_SEGMENT})/(?P<kind>data|metadata)/(?P<env>{_SEGMENT})/(?P<service>{_SEGMENT})\Z")
_CREDS = Form("Vault creds path", "{mount}/creds/{role}", mount=_SEGMENT, role=_SEGMENT)
_AUTH = Form("Vault auth path", "auth/{path}", path=rf"{_SEGMENT}(?:/{_SEGMENT})*")
_ANNOTATION = Form(
    "Vault agent annotation", f"{VAULT_ANNOTATION_PREFIX}agent-inject-{{kind}}-{{file}}", kind=AGENT_INJECT_KINDS, file=_SEGMENT
)
_SM_SECRET = Form("Secret Manager secret", "projects/{project}/secrets/{secret}", project=r"[^/\s]+", secret=r"[^/\s]+")
# Any stack name, as the settings have always read it (Pulumi itself allows letters, digits, "-", "_" and ".").
_STACK_FILE = Form("stack file", "Pulumi.{stack}.yaml", stack=".+")


class KvPath(NamedTuple):
    """A bundle's KV v2 API path: ``<mount>/<kind>/<env>/<service>`` with kind ``data`` or ``metadata``."""

    mount: str
    kind: str
    env: str
    service: str


def vault_kv_api_path(mount: str, env: str, service: str) -> str:
    """The KV v2 API path the agent reads: ``<mount>/data/<env>/<service>``."""
    return f"{mount}/data/{env}/{service}"


def vault_kv_metadata_path(mount: str, env: str, service: str) -> str:
    """The KV v2 metadata path of a bundle (its versions): ``<mount>/metadata/<env>/<service>``."""
    return f"{mount}/metadata/{env}/{service}"


def parse_vault_kv_path(path: str) -> KvPath:
    """The inverse of :func:`vault_kv_api_path` and :func:`vault_kv_metadata_path`."""
    m = matched(_KV, "KV v2 path", path, "'<mount>/data/<env>/<service>' or '<mount>/metadata/<env>/<service>'")
    return KvPath(m["mount"], m["kind"], m["env"], m["service"])


class CredsPath(NamedTuple):
    """Where a database role's short-lived users are read: ``<mount>/creds/<role>``."""

    mount: str
    role: str


def vault_creds_path(mount: str, role: str) -> str:
    """``<mount>/creds/<role>``: a read issues one database user of ``role``."""
    return _CREDS.build(mount=mount, role=role)


def parse_vault_creds_path(path: str) -> CredsPath:
    """The inverse of :func:`vault_creds_path`."""
    return CredsPath(**_CREDS.parse(path))


def vault_auth_mount(auth_path: str) -> str:
    """The API path of an auth method, as the injector's ``auth-path`` annotation spells it: ``auth/<path>``."""
    return _AUTH.build(path=auth_path)


def parse_vault_auth_mount(path: str) -> str:
    """The inverse of :func:`vault_auth_mount`: ``auth/kubernetes-prd`` -> ``kubernetes-prd``."""
    return _AUTH.parse(path)["path"]


def key_slug(key: str) -> str:
    """An environment-variable-style key as a name part: ``SNOWFLAKE_PASSWORD`` -> ``snowflake-password``."""
    return key.lower().replace("_", "-")


def vault_agent_file_name(service: str, key: str) -> str:
    """The file the agent renders one key of a bundle to: ``<service>-<key slug>`` (``snowflake-snowflake-password``)."""
    return f"{service}-{key_slug(key)}"


def parse_vault_agent_file_name(name: str, service: str) -> str:
    """The inverse of :func:`vault_agent_file_name` given the service: the key's slug (``snowflake-password``)."""
    return between(name, f"Vault agent file of {service}", f"'{service}-<key slug>'", prefix=f"{service}-")


def vault_database_env_file(service: str) -> str:
    """The file the agent renders a vault-database bundle's user into: ``<service>-database.env``."""
    return f"{service}{DATABASE_ENV_SUFFIX}"


def parse_vault_database_env_file(name: str) -> str:
    """The inverse of :func:`vault_database_env_file`: the service."""
    return between(name, "database env file", f"'<service>{DATABASE_ENV_SUFFIX}'", suffix=DATABASE_ENV_SUFFIX)


def vault_secrets_file(name: str) -> str:
    """Where the agent writes file ``name`` in the pod: ``/vault/secrets/<name>``."""
    return f"{VAULT_SECRETS_DIR}/{name}"


def parse_vault_secrets_file(path: str) -> str:
    """The inverse of :func:`vault_secrets_file`: the file's name."""
    prefix = VAULT_SECRETS_DIR + "/"
    name = path.removeprefix(prefix)
    if name == path or not name or "/" in name:
        raise refuse("Vault agent file path", path, f"'{prefix}<file>'")
    return name


class FlyteSecretFile(NamedTuple):
    group: str
    key: str


def flyte_secret_file(group: str, key: str) -> str:
    """The file a Flyte task reads ``Secret(group, key)`` from: ``/etc/flyte/secrets/<group>/<key>`` (the group may hold '/')."""
    return f"{FLYTE_SECRETS_DIR}/{group}/{key}"


def parse_flyte_secret_file(path: str) -> FlyteSecretFile:
    """The inverse of :func:`flyte_secret_file` (the key is the last segment)."""
    rest = path.removeprefix(FLYTE_SECRETS_DIR + "/")
    group, sep, key = rest.rpartition("/")
    if rest == path or not sep or not group or not key:
        raise refuse("Flyte secret file", path, f"'{FLYTE_SECRETS_DIR}/<group>/<key>'")
    return FlyteSecretFile(group, key)


class AgentAnnotation(NamedTuple):
    """An injector annotation asking for one file: ``kind`` is ``secret`` (the path) or ``template``."""

    kind: str
    file: str


def agent_inject_annotation(kind: str, file: str) -> str:
    """``vault.hashicorp.com/agent-inject-<secret|template>-<file>``."""
    if kind not in AGENT_INJECT_KINDS:
        raise ConventionError(f"agent annotation kind {kind!r} is not one of {', '.join(AGENT_INJECT_KINDS)}")
    return _ANNOTATION.build(kind=kind, file=file)


def parse_agent_inject_annotation(key: str) -> AgentAnnotation:
    """The inverse of :func:`agent_inject_annotation`."""
    return AgentAnnotation(**_ANNOTATION.parse(key))


class GcpSecretResource(NamedTuple):
    project: str
    secret: str


def gcp_secret_resource_name(project: str, secret: str) -> str:
    """A Secret Manager secret's resource path: ``projects/<project>/secrets/<secret>``."""
    return _SM_SECRET.build(project=project, secret=secret)


def parse_gcp_secret_resource_name(path: str) -> GcpSecretResource:
    """The inverse of :func:`gcp_secret_resource_name`."""
    return GcpSecretResource(**_SM_SECRET.parse(path))


def stack_file_name(stack: str) -> str:
    """The stack's config file: ``Pulumi.<stack>.yaml``."""
    return _STACK_FILE.build(stack=stack)


# The project file beside the stack files.
PROJECT_FILE = "Pulumi.yaml"
# Every stack file of a project folder, for a glob.
STACK_FILE_GLOB = stack_file_name("*")


def parse_stack_file_name(name: str) -> str:
    """The inverse of :func:`stack_file_name`: the stack (``Pulumi.prd.yaml`` -> ``prd``); refuses any other file name."""
    return _STACK_FILE.parse(name)["stack"]
