"""Read a stack's config once, validate it whole, and return one :class:`Settings`.

Three entry points share one validator:

- :func:`from_pulumi` inside a Pulumi program (reads the engine's config and the
  set of keys stored with ``--secret``);
- :func:`from_stack_file` for tools that read ``Pulumi.<env>.yaml`` without the
  engine (the cross-stack check, the CLI); encrypted values stay encrypted;
- :func:`from_mapping`, the pure function both call, which tests use directly.

Reading the sources is :mod:`settings.sources`, translating pydantic's errors
:mod:`settings.decode`, and the cross-field rules live in :mod:`settings.rules`, one
module per area (secrets, cluster, backends, imports; Vault's database engine in
:mod:`settings.vault_database`).

Nothing here registers a resource: a bad config fails before anything is created.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from pydantic import ValidationError

from secrets_platform import conventions
from secrets_platform.settings import vault_database
from secrets_platform.settings.decode import decode_value, problems_of
from secrets_platform.settings.errors import ConfigError, Problem, full_key
from secrets_platform.settings.model import SECRET_KEYS, StackConfig
from secrets_platform.settings.rules import backends, cluster, flyte, imports, secrets
from secrets_platform.settings.rules.backends import PROJECT_ROOT, chart_path, default_install, default_vault_ha  # noqa: F401  (PROJECT_ROOT: where chart paths are read from)
from secrets_platform.settings.rules.imports import ImportedSecret

# The local stack's kubeconfig, relative to the project (written by `make up`, secrets_platform/localcluster/).
LOCAL_KUBECONFIG = ".cluster/kubeconfig"


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
        """``<workload>-<env>``; a Flyte project's (flyte.projects) ``<project>-<domain>`` (conventions.FLYTE_DOMAINS)."""
        return conventions.namespace_name(workload, self.environment, flyte=workload in self.config.flyte.projects)

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(self.namespace(w) for w in self.config.namespaces)


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
    decoded = {k: decode_value(k, v, problems, k in secret_keys) for k, v in values.items()}

    if stack not in conventions.ENVIRONMENTS:
        problems.append(Problem("stack", "is not an environment token", f"name the stack one of {conventions.ENVIRONMENT_LIST}", stack))

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
        raise ConfigError(problems_of(err, secret_keys), source) from None

    found, taken = _check(cfg, stack, frozenset(secret_keys), root)
    problems.extend(found)
    imported = imports.check(cfg, environ, taken, problems)
    if problems:
        raise ConfigError(problems, source)
    return Settings(stack=stack, environment=cfg.environment, config=cfg, imported=imported)


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
        add(
            Problem(
                full_key(["environment"]),
                f"differs from the stack name {stack!r}",
                f"set it to {stack!r} or run against stack {env!r}",
                env,
            )
        )

    taken = secrets.check(cfg, env, secret_keys, add)
    cluster.check(cfg, env, root, add)
    backends.check(cfg, env, add)
    vault_database.check(cfg, env, secret_keys, add)
    flyte.check(cfg, env, add)
    cluster.check_transport(cfg, env, add)
    return problems, taken
