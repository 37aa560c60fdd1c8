"""Which keys hold a credential, and which variables belong to the deploy toolchain.

Part of :mod:`secrets_platform.conventions` (re-exported there): the settings, the CLI and the
policy pack share this one detector.
"""

from __future__ import annotations

import re

__all__ = [
    "CREDENTIAL_KEY_QUALIFIERS",
    "CREDENTIAL_KEY_WORDS",
    "CREDENTIAL_REFERENCE_SUFFIXES",
    "TOOLCHAIN_VARIABLE_PREFIXES",
    "TOOLCHAIN_VARIABLES",
    "credential_key_words",
    "has_url_userinfo",
    "is_toolchain_variable",
    "looks_like_credential_key",
    "toolchain_prefix_conflict",
]

# --------------------------------------------------------------------------- credential-looking keys
# The one detector of keys that hold a credential, shared by the settings (a plain
# `values` entry may not be one), the CLI and the policy pack (ConfigMaps, labels,
# annotations). It works on *words* of the key, not substrings, and tells a
# credential (SNOWFLAKE_PASSWORD, DB_PWD, CUBE_JWT) from a reference to one
# (SNOWFLAKE_PASSWORD_FILE, TOKEN_TTL, SECRET_NAME), so it neither lets a password
# through nor cries wolf on a setting.

# Words that on their own name a credential. Plurals are left out on purpose where
# they name kinds or counts ("secrets", "tokens": external-secrets.io, MAX_TOKENS),
# but "credentials" is a credential file's usual name (AWS_CREDENTIALS, GOOGLE_CREDENTIALS).
CREDENTIAL_KEY_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pw",
        "pass",
        "passphrase",
        "passcode",
        "secret",
        "token",
        "credential",
        "credentials",
        "apikey",
        "privatekey",
        "accesskey",
        "secretkey",
        "clientsecret",
        "jwt",
        "bearer",
        "dsn",
        "cookie",
    }
)
# "key" is a credential only after one of these (ACCESS_KEY, PRIVATE_KEY); a bare
# PARTITION_KEY or sort-key is not.
CREDENTIAL_KEY_QUALIFIERS = frozenset(
    {
        "private",
        "access",
        "api",
        "secret",
        "signing",
        "encryption",
        "ssh",
        "master",
        "client",
        "account",
        "sa",
        "hmac",
        "session",
        "auth",
        "webhook",
        "license",
        "shared",
        "service",
    }
)
# A key ending in one of these refers to a credential instead of holding one.
CREDENTIAL_REFERENCE_SUFFIXES = frozenset(
    {
        "name",
        "names",
        "ref",
        "path",
        "file",
        "dir",
        "id",
        "arn",
        "mount",
        "namespace",
        "store",
        "version",
        "ttl",
        "expiry",
        "expires",
        "rotation",
        "length",
        "enabled",
        "url",
        "header",
        "audience",
        "issuer",
        "type",
        "kind",
        "count",
        "size",
        "timeout",
        "interval",
        "policy",
        "prefix",
        "hint",
    }
)
_KEY_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def credential_key_words(key: str) -> list[str]:
    """``SNOWFLAKE_PRIVATE_KEY`` / ``snowflakePrivateKey`` -> ``['snowflake', 'private', 'key']``."""
    return [w.lower() for w in _KEY_WORD.findall(key)]


def looks_like_credential_key(key: str) -> bool:
    """True when a key (env var, config field, label or annotation key) looks like it holds a credential.

    ``DB_PWD``, ``GPG_PASSPHRASE``, ``OPENAI_APIKEY``, ``AWS_CREDENTIALS``, ``CUBE_JWT``,
    ``Password`` are credentials; ``TOKEN_TTL``, ``SECRET_NAME``, ``PASSWORD_FILE`` refer to one.
    """
    words = credential_key_words(key)
    if words[-2:] == ["key", "id"]:
        words = words[:-1]  # AWS_ACCESS_KEY_ID: half of a key pair, kept with its secret half
    if not words or words[-1] in CREDENTIAL_REFERENCE_SUFFIXES:
        return False
    if any(w in CREDENTIAL_KEY_WORDS for w in words):
        return True
    return any(a in CREDENTIAL_KEY_QUALIFIERS and b == "key" for a, b in zip(words, words[1:]))


# scheme://user[:password]@host: credentials written into a URL (a DSN with its password).
_URL_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@]+@")


def has_url_userinfo(value: str) -> bool:
    """True when ``value`` holds a URL with user-info (``postgres://user:pw@host/db``, ``https://token@host``)."""
    return bool(_URL_USERINFO.search(value))


# --------------------------------------------------------------------------- the deploy toolchain's variables
# Variables of the deploy runner and its tools: what GitHub Actions, the runner, Pulumi,
# gcloud, Vault, the cloud SDKs, kubectl/Helm and the shell put in the environment.
# Nothing the platform imports may be one of them (CONVENTIONS, least privilege): a
# prefix that could reach one is refused, and such a variable is never imported.
TOOLCHAIN_VARIABLE_PREFIXES: tuple[str, ...] = (
    "GITHUB_",
    "ACTIONS_",
    "RUNNER_",
    "INPUT_",
    "STATE_",
    "GH_",
    "PULUMI_",
    "GOOGLE_",
    "CLOUDSDK_",
    "GCLOUD_",
    "GCE_",
    "GCP_",
    "GKE_",
    "GCS_",
    "VAULT_",
    "AWS_",
    "AZURE_",
    "ARM_",
    "KUBE",
    "HELM_",
    "DOCKER_",
    "CONTAINERS_",
    "REGISTRY_",
    "SSH_",
    "GIT_",
    "GPG_",
    "GNUPG",
    "NPM_",
    "NODE_",
    "PIP_",
    "PYTHON",
    "VIRTUAL_ENV",
    "GO",
    "CI_",
    "XDG_",
    "LD_",
    "DYLD_",
    "SECRETS_PLATFORM_",
    "SECRETS_",
    "DAGSTER_CLOUD_",
    "OTEL_",
    "HTTP_",
    "HTTPS_",
    "NO_PROXY",
    "REQUESTS_",
    "SSL_",
    "CURL_",
)
TOOLCHAIN_VARIABLES = frozenset(
    {
        "CI",
        "HOME",
        "PATH",
        "USER",
        "SHELL",
        "PWD",
        "TMPDIR",
        "KUBECONFIG",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "ALL_PROXY",
        "TOKEN",
        "ACCESS_TOKEN",
        "ID_TOKEN",
        "DAGSTER_HOME",
    }
)


def is_toolchain_variable(name: str) -> bool:
    """True when ``name`` is (or could be) a variable of the deploy toolchain."""
    upper = name.upper()
    return upper in {v.upper() for v in TOOLCHAIN_VARIABLES} or upper.startswith(TOOLCHAIN_VARIABLE_PREFIXES)


def toolchain_prefix_conflict(prefix: str) -> str | None:
    """The toolchain prefix or variable an import ``prefix`` could reach, or None when it reaches none.

    ``GITHUB_`` and ``PULUMI_CONFIG_`` reach the toolchain's own variables; so does a
    shorter prefix that one of them starts with (``DAGSTER_`` reaches ``DAGSTER_CLOUD_*``).
    """
    upper = prefix.upper()
    for known in TOOLCHAIN_VARIABLE_PREFIXES:
        if upper.startswith(known) or known.startswith(upper):
            return known
    for known in sorted(TOOLCHAIN_VARIABLES):
        if known.upper().startswith(upper):
            return known
    return None
