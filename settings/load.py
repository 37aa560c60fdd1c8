"""Read a stack's config once, validate it whole, and return one :class:`Settings`.

Three entry points share one validator:

- :func:`from_pulumi` inside a Pulumi program (reads the engine's config and the
  set of keys stored with ``--secret``);
- :func:`from_stack_file` for tools that read ``Pulumi.<env>.yaml`` without the
  engine (the cross-stack check, the CLI); encrypted values stay encrypted;
- :func:`from_mapping`, the pure function both call, which tests use directly.

Nothing here registers a resource: a bad config fails before anything is created.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Mapping

import yaml
from pydantic import SecretStr, ValidationError

import conventions
from settings import safe_yaml, vault_database
from settings.errors import NAMESPACE, ConfigError, Problem, full_key
from settings.model import PREVIOUS_SUFFIX, SECRET_KEYS, StackConfig

_FIX_BY_TYPE = {
    "extra_forbidden": "remove the key or correct its spelling; README.md lists every key",
    "missing": "add the key; README.md lists every key with its default",
    "string_type": "give a string (quote it in YAML)",
    "int_type": "give a whole number without quotes",
    "bool_type": "give true or false without quotes",
    "list_type": "give a YAML list",
    "dict_type": "give a YAML mapping",
    "model_type": "give a YAML mapping",
    "model_attributes_type": "give a YAML mapping",
    "literal_error": "use one of local, dev, stg, prd",
    "too_short": "give at least one entry",
    "greater_than_equal": "raise the number",
    "less_than_equal": "lower the number",
}
_LITERAL_FIX_BY_KEY = {"backend": "use one of kubernetes, gcp-secret-manager, vault, vault-database (docs/backends.md)",
                       "plugin": "use postgresql (the one database plugin the platform configures)",
                       "rotationStrategy": "use single or dual (README.md, Rotation)"}
# The local stack's kubeconfig, relative to the project (written by `make up`, localcluster/).
LOCAL_KUBECONFIG = ".cluster/kubeconfig"
_IMPORT_SUFFIX = re.compile(r"^[A-Z0-9]+(_[A-Z0-9]+)*$")
# PEM armor of the two keys a kubernetes.io/tls Secret requires (tls.crt, tls.key).
_PEM_CERTIFICATE = "-----BEGIN " + "CERTIFICATE-----"
_PEM_PRIVATE_KEY = re.compile(r"-----BEGIN ([A-Z]+ )?" + "PRIVATE" + r" KEY-----")


@dataclass(frozen=True)
class ImportedSecret:
    """A deploy-environment variable that becomes a Secret of its own."""

    variable: str
    name: str
    namespace: str
    value: SecretStr = field(repr=False)


@dataclass(frozen=True)
class Settings:
    """The validated config of one stack; the only thing components read."""

    stack: str
    environment: str
    config: StackConfig
    imported: tuple[ImportedSecret, ...] = ()

    @property
    def traits(self) -> conventions.EnvironmentTraits:
        """What the environment implies (conventions.TRAITS): protection, HA, install defaults."""
        return conventions.traits(self.environment)

    @property
    def protect(self) -> bool:
        """prd keeps its namespaces and Secrets through any `up` or `destroy` (CONVENTIONS)."""
        return self.traits.protected

    @property
    def render_dir(self) -> str | None:
        return self.config.kubernetes.render_dir

    @property
    def kubeconfig(self) -> str | None:
        """The kubeconfig the provider reads: local's own cluster unless rendering; elsewhere as configured."""
        if self.render_dir:
            return None
        return self.config.kubernetes.kubeconfig or (LOCAL_KUBECONFIG if self.environment == "local" else None)

    @property
    def eso_install(self) -> bool:
        """Install the External Secrets chart: when asked, by default everywhere but local."""
        eso = self.config.external_secrets
        return eso.enabled and default_install(eso.install, self.environment)

    @property
    def eso_chart_path(self) -> str | None:
        """externalSecrets.chartPath as an absolute path (None: the chart comes from chartRepository)."""
        path = chart_path(self.config.external_secrets.chart_path)
        return str(path) if path else None

    @property
    def vault_chart_path(self) -> str | None:
        path = chart_path(self.config.vault.chart_path)
        return str(path) if path else None

    @property
    def vault_install(self) -> bool:
        vault = self.config.vault
        return vault.enabled and default_install(vault.install, self.environment)

    @property
    def vault_ha(self) -> bool:
        """HA with raft: required in stg and prd, off by default elsewhere."""
        return default_vault_ha(self.config.vault.ha, self.environment)

    @property
    def vault_auth_path(self) -> str:
        return self.config.vault.auth_path or conventions.vault_auth_path(self.environment)

    def namespace(self, workload: str) -> str:
        return conventions.namespace_name(workload, self.environment)

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(self.namespace(w) for w in self.config.namespaces)


def default_install(install: bool | None, env: str) -> bool:
    """An operator's chart is installed when the stack says so, else by the environment's traits (not in local)."""
    return install if install is not None else conventions.traits(env).installs_charts


def default_vault_ha(ha: bool | None, env: str) -> bool:
    """Vault runs HA when the stack says so, else where the environment requires it (stg, prd)."""
    return ha if ha is not None else conventions.traits(env).vault_ha_required


def from_pulumi(environ: Mapping[str, str] | None = None) -> Settings:
    """Load the running program's stack config (call once, from ``__main__``)."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw: dict[str, Any] = {}
    raw.update(runtime_config.get_config_env())
    raw.update(runtime_config.CONFIG.get())
    prefix = f"{NAMESPACE}:"
    values: dict[str, Any] = {}
    secret: set[str] = set()
    for key, value in raw.items():
        if not key.startswith(prefix):
            continue
        short = key[len(prefix):]
        values[short] = value
        if runtime_config.is_config_secret(key):
            secret.add(short)
    loaded = from_mapping(values, secret, pulumi.get_stack(), os.environ if environ is None else environ, root=Path.cwd())
    if loaded.environment == "local" and loaded.kubeconfig:
        from settings.kubeconfig import check_local_kubeconfig

        check_local_kubeconfig(loaded.kubeconfig)
    return loaded


def read_stack_document(path: str | Path) -> dict[str, Any]:
    """The top-level mapping of a stack file, read with the bounded loader.

    Unreadable, binary, malformed, alias-bombed or too deeply nested files, and files
    whose top level (or ``config``) is not a mapping, raise one :class:`ConfigError`
    naming the file and line and saying how to fix it.
    """
    path = Path(path)

    def refuse(message: str, line: int | None = None, fix: str = "fix the file; README.md shows the layout of Pulumi.<env>.yaml") -> ConfigError:
        where = f"{path}:{line}" if line else str(path)
        return ConfigError([Problem(where, message, fix)], source=str(path))

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise refuse("is not a UTF-8 text file", fix="give a YAML text file") from None
    except OSError as err:
        raise refuse(f"cannot be read ({err.strerror or err.__class__.__name__})", fix="check the path and its permissions") from None
    try:
        document = safe_yaml.load(text)
    except safe_yaml.UnsafeYamlError as err:
        line, reason = safe_yaml.describe(err)
        raise refuse(f"is refused: it {reason}", line, "write the values out without anchors and aliases, and nest less") from None
    except Exception as err:  # noqa: BLE001 - any YAML failure (libyaml raises a few kinds) is bad input
        line, reason = safe_yaml.describe(err) if isinstance(err, yaml.YAMLError) else (None, err.__class__.__name__)
        raise refuse(f"cannot be read as YAML: {reason}", line) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise refuse(f"holds a YAML {_kind(document)} at the top level, not a mapping", 1,
                     "start the file with `config:` and the secrets-platform:* keys under it")
    config = document.get("config")
    if config is not None and not isinstance(config, dict):
        raise refuse(f"`config` is a YAML {_kind(config)}, not a mapping", None, "give `config:` a mapping of secrets-platform:<key>: <value>")
    return document


def _kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), type(value).__name__)


def from_stack_file(path: str | Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Load ``Pulumi.<stack>.yaml`` without the engine; encrypted values stay opaque."""
    path = Path(path)
    match = re.fullmatch(r"Pulumi\.(.+)\.yaml", path.name)
    if not match:
        raise ConfigError([Problem(str(path), "not a stack file", "name it Pulumi.<env>.yaml")], source=str(path))
    document = read_stack_document(path)
    config = document.get("config") or {}
    values: dict[str, Any] = {}
    secret: set[str] = set()
    prefix = f"{NAMESPACE}:"
    for key, value in config.items():
        if str(key).startswith(prefix):
            short = str(key)[len(prefix):]
            values[short], is_secret = _strip_secure(value)
            if is_secret:
                secret.add(short)
    return from_mapping(values, secret, match.group(1), environ or {}, source=str(path), root=path.resolve().parent)


def _strip_secure(value: Any) -> tuple[Any, bool]:
    """Replace ``{secure: <ciphertext>}`` leaves by a placeholder; say whether any was found."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return "[encrypted]", True
        found = False
        out = {}
        for k, v in value.items():
            out[k], s = _strip_secure(v)
            found = found or s
        return out, found
    if isinstance(value, list):
        pairs = [_strip_secure(v) for v in value]
        return [p[0] for p in pairs], any(p[1] for p in pairs)
    return value, False


def _decode(key: str, value: Any, problems: list[Problem], is_secret: bool) -> Any:
    """The engine hands structured config over as JSON text; scalars stay strings."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            problems.append(Problem(full_key([key]), "is not valid structured config", "set it as a YAML list or mapping", value, not is_secret))
    return value


def from_mapping(
    values: Mapping[str, Any],
    secret_keys: set[str] | frozenset[str],
    stack: str,
    environ: Mapping[str, str],
    source: str = "stack config",
    root: Path | None = None,
) -> Settings:
    """Validate ``secrets-platform:*`` values (keys without the namespace) for ``stack``.

    ``root`` is the repository the stack file lives in; when given, a local
    ``kubernetes.renderDir`` must also be a git-ignored folder inside it.
    """
    problems: list[Problem] = []
    decoded = {k: _decode(k, v, problems, k in secret_keys) for k, v in values.items()}

    if stack not in conventions.ENVIRONMENTS:
        problems.append(Problem("stack", "is not an environment token", "name the stack one of local, dev, stg, prd", stack))

    for key, field_name in SECRET_KEYS.items():
        if decoded.get(key) and key not in secret_keys:
            problems.append(
                Problem(
                    full_key([key]),
                    f"holds {field_name} values but is stored in plain text",
                    f"remove it from the stack file, rotate the exposed value, and set each one with "
                    f"`pulumi config set --secret --path '{key}{'.<service>' if key == 'databaseConnections' else '[0]'}.{field_name}' -s {stack}`",
                    show_value=False,
                )
            )

    if problems:
        raise ConfigError(problems, source)

    try:
        cfg = StackConfig.model_validate(decoded)
    except ValidationError as err:
        raise ConfigError(_translate(err, secret_keys), source) from None

    found, taken = _check(cfg, stack, frozenset(secret_keys), root)
    problems.extend(found)
    imported = _imports(cfg, environ, taken, problems)
    if problems:
        raise ConfigError(problems, source)
    return Settings(stack=stack, environment=cfg.environment, config=cfg, imported=imported)


def _translate(err: ValidationError, secret_keys: set[str] | frozenset[str]) -> list[Problem]:
    problems = []
    for e in err.errors():
        loc = list(e["loc"])
        kind = e["type"]
        if kind == "extra_forbidden":
            message = "is not a known key"
        elif kind == "missing":
            message = "is required"
        elif kind == "value_error":
            message = str(e["msg"]).removeprefix("Value error, ")
        else:
            message = e["msg"][:1].lower() + e["msg"][1:]
        hidden = bool(loc) and loc[0] in secret_keys
        problems.append(
            Problem(
                full_key(loc),
                message,
                _LITERAL_FIX_BY_KEY.get(str(loc[-1]), _FIX_BY_TYPE["literal_error"]) if kind == "literal_error" and loc
                else _FIX_BY_TYPE.get(kind, "see the config reference in README.md"),
                None if kind == "missing" else e.get("input"),
                not hidden,
            )
        )
    return problems


def _check(
    cfg: StackConfig, stack: str, secret_keys: frozenset[str] = frozenset(), root: Path | None = None
) -> tuple[list[Problem], dict[tuple[str, str], str]]:
    """Rules pydantic can't express: the environment, names, references, duplicates.

    Also returns which config entry claims each (workload, Secret name), so imports
    can be checked against them. Entries of keys stored as secrets (``registries``,
    ``tlsSecrets``) are reported without their values: not even a service or purpose
    set with ``--secret`` is echoed.
    """
    env = cfg.environment
    problems: list[Problem] = []
    add = problems.append

    if env != stack:
        add(Problem(full_key(["environment"]), f"differs from the stack name {stack!r}", f"set it to {stack!r} or run against stack {env!r}", env))

    workloads: set[str] = set()
    for i, workload in enumerate(cfg.namespaces):
        key = full_key(["namespaces", i])
        if workload in workloads:
            add(Problem(key, "is listed twice", "remove the duplicate", workload))
            continue
        workloads.add(workload)
        if workload.endswith(tuple(f"-{e}" for e in conventions.ENVIRONMENTS)):
            add(Problem(key, "already ends in an environment token", f"list the workload only (the platform appends -{env})", workload))
        elif conventions.env_tokens_in(workload):
            add(Problem(key, _ENV_WORD, _ENV_WORD_FIX, workload))
        try:
            conventions.check_dns_label(workload, "workload")
            conventions.namespace_name(workload, env)
        except conventions.ConventionError as err:
            add(Problem(key, str(err), "use a shorter lower-case name of a-z, 0-9 and '-'", workload))

    taken: dict[tuple[str, str], str] = {}

    def claim(namespace_key: str, workloads_list: list[str], name: str, owner: str, hide: bool = False) -> None:
        seen: set[str] = set()
        for j, workload in enumerate(workloads_list):
            key = f"{namespace_key}[{j}]"
            if workload not in workloads:
                add(Problem(key, "is not a declared namespace", f"add it to {full_key(['namespaces'])} or remove it here", workload, not hide))
                continue
            if workload in seen:
                add(Problem(key, "is listed twice", "remove the duplicate", workload, not hide))
                continue
            seen.add(workload)
            slot = (workload, name)
            if slot in taken:
                if hide:
                    add(Problem(owner, f"creates the same Secret in the same namespace as {taken[slot]}", "give one of them another service or purpose", show_value=False))
                else:
                    add(Problem(owner, f"creates Secret {name!r} in namespace {workload}-{env}, which {taken[slot]} creates too", "give one of them another service or purpose", name))
            taken[slot] = owner

    def named(key: str, build, *parts: str, hide: bool = False) -> str | None:
        for part_key, part in zip((key, key.rsplit(".", 1)[0] + ".purpose"), (parts[0], parts[2] if len(parts) > 2 else "")):
            if conventions.env_tokens_in(part):
                add(Problem(part_key, _ENV_WORD, _ENV_WORD_FIX, part, not hide))
                return None
        try:
            return build(*parts)
        except conventions.ConventionError as err:
            if hide:
                add(Problem(key, "does not make a valid Secret name (lower-case RFC 1123 label, at most 63 characters in all)",
                            "use a shorter lower-case service (and purpose) of a-z, 0-9 and '-'", show_value=False))
            else:
                add(Problem(key, str(err), "use a shorter lower-case name of a-z, 0-9 and '-'", parts[0]))
            return None

    services: set[str] = set()
    for i, cred in enumerate(cfg.credentials):
        base = ["credentials", i]
        if cred.service in services:
            add(Problem(full_key(base + ["service"]), "is declared twice", "merge the two entries into one bundle", cred.service))
        services.add(cred.service)
        name = named(full_key(base + ["service"]), conventions.credentials_name, cred.service, env)
        keys: set[str] = set()
        for k, value in cred.values.items():
            kk = full_key(base + ["values", k])
            if not conventions.ENV_KEY.match(k):
                add(Problem(kk, "is not a valid environment variable name", "use A-Z, 0-9 and '_', not starting with a digit", k))
            if conventions.looks_like_credential_key(k):
                add(Problem(kk, "looks like a credential but is a plain value in the stack file", "move it to `generated` (or import it from the deploy environment)", show_value=False))
            elif conventions.has_url_userinfo(value):
                add(Problem(kk, "holds a URL with user-info (user:password@), a credential in plain text in the stack file",
                            "drop the user-info from the URL and give user and password as keys of their own (the password under `generated`)", show_value=False))
            keys.add(k)
        for j, gen in enumerate(cred.generated):
            kk = full_key(base + ["generated", j, "key"])
            if not conventions.ENV_KEY.match(gen.key):
                add(Problem(kk, "is not a valid environment variable name", "use A-Z, 0-9 and '_', not starting with a digit", gen.key))
            if gen.key in keys:
                add(Problem(kk, "is a duplicate key of this bundle", "give every key of a bundle one source: `values` or `generated`", gen.key))
            if not (gen.upper or gen.lower or gen.numeric or gen.special):
                add(Problem(full_key(base + ["generated", j]), "turns off every character class", "keep at least one of upper, lower, numeric, special", gen.key))
            keys.add(gen.key)
        _check_backend(cred, base, keys, add)
        _check_rotation_strategy(cred, base, keys, add)
        keys |= set(cred.properties)
        if not keys:
            add(Problem(full_key(base), "has no keys", "add `values` or `generated` entries", cred.service))
        if name:
            claim(full_key(base + ["namespaces"]), cred.namespaces, name, full_key(base))

    hide_registries = "registries" in secret_keys
    for i, reg in enumerate(cfg.registries):
        base = ["registries", i]
        name = named(full_key(base + ["service"]), conventions.secret_name, reg.service, env, "pull", hide=hide_registries)
        if not reg.password.get_secret_value():
            add(Problem(full_key(base + ["password"]), "is empty", f"set it with `pulumi config set --secret --path 'registries[{i}].password'`"))
        if name:
            claim(full_key(base + ["namespaces"]), reg.namespaces, name, full_key(base), hide_registries)

    hide_tls = "tlsSecrets" in secret_keys
    for i, tls in enumerate(cfg.tls_secrets):
        base = ["tlsSecrets", i]
        name = named(full_key(base + ["service"]), conventions.secret_name, tls.service, env, tls.purpose, hide=hide_tls)
        if _PEM_CERTIFICATE not in tls.certificate and tls.certificate != "[encrypted]":
            add(Problem(full_key(base + ["certificate"]), "is not a PEM certificate (the Secret's required key tls.crt)", "give the PEM-encoded certificate chain (BEGIN CERTIFICATE armor)", show_value=False))
        key_text = tls.private_key.get_secret_value()
        if key_text != "[encrypted]" and not _PEM_PRIVATE_KEY.search(key_text):
            add(Problem(full_key(base + ["privateKey"]), "is not a PEM private key (the Secret's required key tls.key)", "give the PEM-encoded private key (BEGIN PRIVATE KEY armor, or BEGIN RSA/EC PRIVATE KEY)", show_value=False))
        if name:
            claim(full_key(base + ["namespaces"]), tls.namespaces, name, full_key(base), hide_tls)

    if cfg.kubernetes.render_dir and env != "local":
        add(Problem(full_key(["kubernetes", "renderDir"]), f"is set for {env}, but rendered manifests hold plain-text secrets", "remove it: only the local stack renders manifests", cfg.kubernetes.render_dir))
    if env == "local" and cfg.kubernetes.context:
        add(Problem(full_key(["kubernetes", "context"]), "is set for local, which only ever talks to the local cluster on loopback", "remove it (make up starts the local cluster; kubernetes.kubeconfig may name another local cluster's kubeconfig)", cfg.kubernetes.context))
    if cfg.kubernetes.render_dir and cfg.kubernetes.kubeconfig:
        add(Problem(full_key(["kubernetes", "kubeconfig"]), "is set together with kubernetes.renderDir, but render mode reaches no cluster", "remove one of the two"))
    if cfg.kubernetes.render_dir and env == "local":
        _check_render_dir(cfg.kubernetes.render_dir, root, add)

    _check_backends(cfg, env, add)
    vault_database.check(cfg, env, secret_keys, add)
    _check_transport(cfg, env, add)
    return problems, taken


_ENV_WORD = "carries an environment token as a word, so names built from it would name two environments"
_ENV_WORD_FIX = "drop the token (local, dev, stg, prd): the platform adds the stack's environment to every name"

# Folders of the checkout that tools own: rendered plain-text Secrets never go there.
_TOOL_DIRS = frozenset({".git", ".github", ".venv", ".state", ".pulumi-home", "bin", "build", "node_modules"})


def _check_render_dir(value: str, root: Path | None, add) -> None:
    """The local render folder holds plain-text Secrets: a git-ignored folder inside the repository, nothing else.

    Always: a relative path without '..', not the repository itself nor a tool's folder.
    With ``root`` (the repository of the stack file): it must resolve inside ``root``
    (no symbolic link out), and git must ignore it and track nothing in it (git's
    own `check-ignore` and `ls-files`); outside a git work tree only the first checks apply.
    """
    key = full_key(["kubernetes", "renderDir"])
    fix = "use a git-ignored folder inside the repository, such as rendered/local"
    path = PurePosixPath(value)
    if "\\" in value or value.startswith("~") or path.is_absolute() or re.match(r"^[A-Za-z]:", value):
        add(Problem(key, "is not a path relative to the repository (rendered manifests hold plain-text secrets)", fix, value))
        return
    parts = [p for p in path.parts if p != "."]
    if not parts or ".." in parts:
        add(Problem(key, "leaves the repository or is the repository itself (rendered manifests hold plain-text secrets)", fix, value))
        return
    if parts[0] in _TOOL_DIRS:
        add(Problem(key, f"is inside {parts[0]}/, a folder that tools own", fix, value))
        return
    if root is None:
        return
    try:
        base = root.resolve()
        target = (base / value).resolve()
    except (OSError, RuntimeError):
        add(Problem(key, "cannot be resolved (a symbolic link loop?)", fix, value))
        return
    if target == base or base not in target.parents:
        add(Problem(key, f"resolves to {target}, outside the repository (through a symbolic link)", fix, value))
        return
    ignored = _git_ignored_folder(base, "/".join(parts))
    if ignored is False:
        add(Problem(key, "is not a git-ignored folder (or git tracks files in it), so rendered plain-text secrets could be committed",
                    f"add {parts[0]}/ to .gitignore and use a folder under it, such as rendered/local", value))


def _git_ignored_folder(root: Path, relative: str) -> bool | None:
    """True when git ignores ``relative`` (a folder) and tracks nothing under it; None outside a work tree."""
    def git(*args: str) -> subprocess.CompletedProcess | None:
        try:
            return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=20, check=False)
        except (OSError, subprocess.SubprocessError):
            return None

    inside = git("rev-parse", "--is-inside-work-tree")
    if inside is None or inside.returncode != 0 or inside.stdout.strip() != "true":
        return None
    ignored = git("check-ignore", "-q", "--", relative + "/")
    if ignored is None or ignored.returncode != 0:
        return False
    tracked = git("ls-files", "--", relative)
    return tracked is not None and tracked.returncode == 0 and not tracked.stdout.strip()


def _check_transport(cfg: StackConfig, env: str, add) -> None:
    """dev, stg and prd reach Vault, the cluster API and chart repositories over TLS only.

    Plain http would carry VAULT_TOKEN, the job runners' tokens and the charts we
    install in clear text. User-info in any of these URLs is a credential in the file.
    """
    eso, vault = cfg.external_secrets, cfg.vault
    urls: list[tuple[list[str], str | None, tuple[str, ...]]] = []
    if eso.enabled:
        urls.append((["externalSecrets", "chartRepository"], eso.chart_repository, ("https", "oci")))
    if vault.enabled:
        urls.append((["vault", "chartRepository"], vault.chart_repository, ("https", "oci")))
        urls.append((["vault", "address"], vault.address, ("https",)))
        urls.append((["vault", "kubernetesHost"], vault.kubernetes_host, ("https",)))
    for path, url, schemes in urls:
        if not url:
            continue
        if conventions.has_url_userinfo(url):
            add(Problem(full_key(path), "carries user-info (user:password@) in the URL, a credential in the stack file",
                        "remove it from the URL; the platform authenticates by other means", show_value=False))
            continue
        if env == "local":
            continue
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme == "http":
            add(Problem(full_key(path), f"uses plain http in {env}, which sends tokens and charts unencrypted",
                        f"use {' or '.join(s + '://' for s in schemes)}", url))


# An exact chart version: "2.9.0" or "0.34.1-rc.1"; no ranges, no "latest".
_PROPERTY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_GCP_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_DURATION = re.compile(r"^(\d+h)?(\d+m)?(\d+s)?$")
_VAULT_MOUNT = re.compile(r"^[a-z0-9][-a-z0-9_]*$")


def _check_rotation_strategy(cred, base: list, keys: set[str], add) -> None:
    """dual: generated keys on the kubernetes backend, and no <KEY>_PREVIOUS of its own."""
    key = lambda *more: full_key(base + list(more))  # noqa: E731
    if cred.rotation_strategy == "single":
        if cred.generation != 1:
            add(Problem(key("generation"), "only applies to rotationStrategy: dual", "remove it (single bundles rotate with `rotation`)", cred.generation))
        return
    if cred.backend != "kubernetes":
        add(Problem(key("rotationStrategy"), f"dual needs the kubernetes backend, not {cred.backend}", "use rotationStrategy: single, or backend: kubernetes", "dual"))
    if not cred.generated:
        add(Problem(key("rotationStrategy"), "dual keeps two generated values per key, but the bundle has no `generated` keys", "add `generated` keys or remove rotationStrategy", "dual"))
    for gen in cred.generated:
        previous = gen.key + PREVIOUS_SUFFIX
        if previous in keys - {gen.key}:
            add(Problem(key("rotationStrategy"), f"dual adds the key {previous}, which the bundle already has", f"rename {previous}", "dual"))


def _check_backend(cred, base: list, keys: set[str], add) -> None:
    """Per-credential rules of the three backends (docs/backends.md)."""
    key = lambda *more: full_key(base + list(more))  # noqa: E731
    for k, prop in cred.properties.items():
        if not conventions.ENV_KEY.match(k):
            add(Problem(key("properties", k), "is not a valid environment variable name", "use A-Z, 0-9 and '_', not starting with a digit", k))
        if k in keys:
            add(Problem(key("properties", k), "is also a `values` or `generated` key of this bundle", "give every key one source", k))
        if not _PROPERTY.match(prop):
            add(Problem(key("properties", k), "is not a property name of the remote JSON document", "use letters, digits, '_', '-' and '.'", prop))
    if cred.backend == "kubernetes":
        if cred.properties:
            add(Problem(key("properties"), "only applies to the gcp-secret-manager, vault and vault-database backends", "remove it, or set backend", sorted(cred.properties)))
        if cred.push:
            add(Problem(key("push"), "only applies to the gcp-secret-manager backend", "remove it, or set backend: gcp-secret-manager", cred.push))
        return
    if cred.backend == "gcp-secret-manager" and not cred.push and (cred.values or cred.generated):
        add(Problem(
            key("push"),
            "is false, but the bundle has `values`/`generated` keys that would never reach Secret Manager",
            "set push: true to store them as a Secret Manager version, or add them to the secret yourself and list them under `properties`",
            cred.push,
        ))
    if cred.backend == "vault":
        if cred.values or cred.generated or cred.push:
            add(Problem(key("backend"), "vault credentials are written to Vault by their owner; the platform pushes nothing there", "remove `values`, `generated` and `push`, and list the KV keys under `properties`", cred.backend))
        if not cred.properties:
            add(Problem(key("properties"), "is empty, so consumers would get no file", "list each KV key: `ENV_NAME: kv-key`"))


# The project folder (Pulumi.yaml's): relative chart paths are read from here, as the engine runs the program here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def chart_path(value: str | None) -> Path | None:
    """A configured ``chartPath`` as an absolute path (relative ones from the project folder)."""
    if value is None:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def _chart_meta(path: Path) -> dict | None:
    """Chart.yaml of a chart folder or .tgz, or None when ``path`` is neither."""
    try:
        if path.is_dir():
            text = (path / "Chart.yaml").read_text(encoding="utf-8")
        elif path.is_file() and path.name.endswith((".tgz", ".tar.gz")):
            import tarfile

            with tarfile.open(path, "r:gz") as archive:
                member = next((m for m in archive.getmembers() if m.isfile() and m.name.count("/") == 1 and m.name.endswith("/Chart.yaml")), None)
                handle = archive.extractfile(member) if member else None
                if handle is None:
                    return None
                text = handle.read().decode("utf-8")
        else:
            return None
        meta = yaml.safe_load(text)
    except (OSError, EOFError, UnicodeDecodeError, yaml.YAMLError, ValueError):  # unreadable file or Chart.yaml
        return None
    except Exception:  # noqa: BLE001 - tarfile.ReadError/CompressionError: not a chart archive
        return None
    return meta if isinstance(meta, dict) else None


def _check_chart_path(section: str, chart: str, value: str | None, version: str | None, add) -> None:
    """A chartPath is a chart folder or .tgz of ``chart``, holding the pinned chartVersion."""
    if value is None:
        return
    key = full_key([section, "chartPath"])
    path = Path(value) if (found := chart_path(value)) is None else found
    if not path.exists():
        add(Problem(key, f"does not exist (looked for {str(path)!r})", f"give the folder or .tgz of the {chart} chart, absolute or relative to the project folder", value))
        return
    meta = _chart_meta(path)
    if meta is None:
        add(Problem(key, "is not a Helm chart folder (with a Chart.yaml) or a chart .tgz", f"point it at the unpacked {chart} chart or its .tgz (`helm pull` output)", value))
        return
    if meta.get("name") != chart:
        add(Problem(key, f"holds the chart {meta.get('name')!r}, not {chart!r}", f"point it at the {chart} chart", value))
    held = str(meta.get("version", ""))
    if version is not None and held.lstrip("v") != version.lstrip("v"):
        add(Problem(full_key([section, "chartVersion"]), f"is not the version the chart at chartPath holds ({held!r})", f"set chartVersion to {held!r}, or point chartPath at the {version} chart", version))


def _check_chart(section: str, enabled: bool, install: bool, version: str | None, env: str, add, path: str | None = None) -> None:
    if not enabled:
        return
    if install and env == "local" and path is None:
        add(Problem(full_key([section, "install"]), "is true for local, which never talks to a cluster and cannot fetch charts offline", "remove it, or give a local chart with chartPath (local renders the platform's objects without the chart)", True))
    if install and version is None:
        add(Problem(full_key([section, "chartVersion"]), "is required when the chart is installed", "pin an exact version, e.g. chartVersion: \"2.9.0\""))
    elif version is not None and not conventions.is_exact_chart_version(version):
        add(Problem(full_key([section, "chartVersion"]), "is not an exact version (ranges and `latest` change what is installed without a diff)", "pin an exact version such as \"2.9.0\"", version))


def _check_backends(cfg: StackConfig, env: str, add) -> None:
    """External Secrets, GCP and Vault settings, and the credentials that need them."""
    eso, gcp, vault = cfg.external_secrets, cfg.gcp, cfg.vault
    uses = {c.backend for c in cfg.credentials}
    for i, cred in enumerate(cfg.credentials):
        if cred.backend == "gcp-secret-manager" and not eso.enabled:
            add(Problem(full_key(["credentials", i, "backend"]), "needs the External Secrets Operator, which is off for this stack", "set externalSecrets.enabled: true", cred.backend))
        if cred.backend == "vault" and not vault.enabled:
            add(Problem(full_key(["credentials", i, "backend"]), "needs Vault, which is off for this stack", "set vault.enabled: true", cred.backend))

    # GCP: local never talks to GCP; the other stacks need a project once ESO is on.
    if env == "local":
        if gcp.project:
            add(Problem(full_key(["gcp", "project"]), "is set for local, which never talks to GCP (its store is ESO's fake provider)", "remove it", gcp.project))
    elif eso.enabled and not gcp.project:
        needs = " and the gcp-secret-manager credentials" if "gcp-secret-manager" in uses else ""
        add(Problem(full_key(["gcp", "project"]), f"is required: the External Secrets store{needs} live in a GCP project", "set gcp.project to the environment's project id"))
    if gcp.project and not _GCP_PROJECT.match(gcp.project):
        add(Problem(full_key(["gcp", "project"]), "is not a GCP project id (6-30 of a-z, 0-9, '-', starting with a letter)", "give the project id, not its name or number", gcp.project))
    if gcp.cluster_name and not gcp.region:
        add(Problem(full_key(["gcp", "region"]), "is required with gcp.clusterName (the cluster's location)", "set it to the cluster's region or zone", None))

    # External Secrets Operator.
    eso_install = default_install(eso.install, env)
    _check_chart("externalSecrets", eso.enabled, eso_install, eso.chart_version, env, add, eso.chart_path)
    if eso.enabled:
        _check_chart_path("externalSecrets", "external-secrets", eso.chart_path, eso.chart_version, add)
    if not _DURATION.match(eso.refresh_interval) or eso.refresh_interval in ("", "0s"):
        add(Problem(full_key(["externalSecrets", "refreshInterval"]), "is not a positive duration", "use a Go duration such as 1h, 30m or 1h30m", eso.refresh_interval))
    for section, workload in (("externalSecrets", eso.namespace), ("vault", vault.namespace)):
        try:
            conventions.namespace_name(workload, env)
        except conventions.ConventionError as err:
            add(Problem(full_key([section, "namespace"]), str(err), "use a short lower-case workload name", workload))
        if workload in cfg.namespaces:
            add(Problem(full_key([section, "namespace"]), "is also a consumer namespace", "give the operator a namespace of its own", workload))

    # Vault.
    if not vault.enabled:
        return
    vault_install = default_install(vault.install, env)
    _check_chart("vault", True, vault_install, vault.chart_version, env, add, vault.chart_path)
    _check_chart_path("vault", "vault", vault.chart_path, vault.chart_version, add)
    if vault.dev_mode and env != "local":
        add(Problem(full_key(["vault", "devMode"]), f"is true for {env}: dev mode keeps everything in memory, unsealed, behind a root token", "remove it; only local may run Vault in dev mode", True))
    ha = default_vault_ha(vault.ha, env)
    if conventions.traits(env).vault_ha_required and not ha:
        add(Problem(full_key(["vault", "ha"]), f"is false for {env}, which needs HA with integrated storage (raft)", "remove it or set it to true", vault.ha))
    if ha and (vault.replicas < 3 or vault.replicas % 2 == 0):
        add(Problem(full_key(["vault", "replicas"]), "must be an odd number of at least 3 for a raft quorum", "use 3 or 5", vault.replicas))
    if vault.address is not None:
        if env == "local":
            add(Problem(full_key(["vault", "address"]), "is set for local, which never talks to Vault", "remove it; local exports the policy and role for reading instead", vault.address))
        elif not re.match(r"^https?://[^\s/]+", vault.address):
            add(Problem(full_key(["vault", "address"]), "is not an http(s) URL", "give Vault's API address, e.g. https://vault.example.internal:8200", vault.address))
    if not _VAULT_MOUNT.match(vault.mount):
        add(Problem(full_key(["vault", "mount"]), "is not a plain KV mount name", "use a-z, 0-9, '-' and '_' without slashes, e.g. floe", vault.mount))
    if vault.auth_path is not None and (not _VAULT_MOUNT.match(vault.auth_path) or conventions.env_tokens_in(vault.auth_path) - {env}):
        add(Problem(full_key(["vault", "authPath"]), "is not a plain auth mount name of this environment", f"use e.g. kubernetes-{env}", vault.auth_path))
    if not vault.audience or "*" in vault.audience:
        add(Problem(full_key(["vault", "audience"]), "must be one exact audience", "use e.g. vault", vault.audience))
    if vault.token_ttl > vault.token_max_ttl:
        add(Problem(full_key(["vault", "tokenTtl"]), f"is longer than vault.tokenMaxTtl ({vault.token_max_ttl})", "lower it or raise tokenMaxTtl", vault.token_ttl))


def _imports(
    cfg: StackConfig,
    environ: Mapping[str, str],
    taken: dict[tuple[str, str], str],
    problems: list[Problem],
) -> tuple[ImportedSecret, ...]:
    """Turn ``<prefix>*`` variables of the deploy environment into ImportedSecrets.

    The values are wrapped at once; messages name the variable, never its value.
    """
    imp = cfg.imports
    if not imp.enabled:
        return ()
    env = cfg.environment
    try:
        conventions.check_dns_label(imp.namespace, "workload")
        conventions.namespace_name(imp.namespace, env)
    except conventions.ConventionError as err:
        problems.append(Problem(full_key(["imports", "namespace"]), str(err), "give a declared workload, such as dagster", imp.namespace))
        return ()
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*_", imp.prefix):
        problems.append(Problem(full_key(["imports", "prefix"]), "is not an upper-case variable prefix ending in '_'", "use something like DAGSTER_SECRET_", imp.prefix))
        return ()
    conflict = conventions.toolchain_prefix_conflict(imp.prefix)
    if conflict:
        problems.append(Problem(
            full_key(["imports", "prefix"]),
            f"could import the deploy toolchain's own variables ({conflict}*: GitHub, the runner, Pulumi, gcloud, Vault, cloud SDKs...)",
            "use a prefix of your own that no tool uses, such as DAGSTER_SECRET_ (README: imports.prefix)",
            imp.prefix,
        ))
        return ()
    variables = sorted(v for v in environ if v.startswith(imp.prefix))
    if not variables:
        return ()
    if imp.namespace not in cfg.namespaces:
        problems.append(Problem(full_key(["imports", "namespace"]), f"is not a declared namespace, but {len(variables)} {imp.prefix}* variables are set", f"add it to {full_key(['namespaces'])}, or set imports.enabled to false", imp.namespace))
        return ()
    namespace = conventions.namespace_name(imp.namespace, env)
    out = []
    for variable in variables:
        suffix = variable[len(imp.prefix):]
        where = f"deploy environment variable {variable}"
        if conventions.is_toolchain_variable(variable):
            problems.append(Problem(where, "is a variable of the deploy toolchain and is never imported", "rename the repository secret with a prefix of your own"))
            continue
        if not _IMPORT_SUFFIX.match(suffix):
            problems.append(Problem(where, "cannot become a Secret name", f"rename it to {imp.prefix}<WORDS> with A-Z, 0-9 and single '_' between words"))
            continue
        try:
            name = conventions.import_secret_name(variable, imp.prefix, imp.namespace, env)
        except conventions.ConventionError as err:
            problems.append(Problem(where, f"cannot become a Secret name: {err}", "shorten the variable name"))
            continue
        if (imp.namespace, name) in taken:
            problems.append(Problem(where, f"would become Secret {name!r}, which {taken[(imp.namespace, name)]} creates too", "rename the variable"))
            continue
        value = environ[variable]
        if not value:
            problems.append(Problem(where, "is empty", "give it a value or unset it"))
            continue
        out.append(ImportedSecret(variable=variable, name=name, namespace=namespace, value=SecretStr(value)))
    return tuple(out)
