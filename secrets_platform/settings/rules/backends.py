"""Rules of the operators' backends: External Secrets and Vault settings, their charts (version, path), GCP."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import yaml

from secrets_platform import conventions
from secrets_platform.parsers import ParseError, addresses
from secrets_platform.settings.errors import Problem, full_key
from secrets_platform.settings.model import StackConfig
from secrets_platform.settings.rules import TOOL_DIRS, Rules
from secrets_platform.settings.vault_database import MOUNT_NAME, mount_name_problem

_GCP_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]\Z")
_DURATION = re.compile(r"^(\d+h)?(\d+m)?(\d+s)?\Z")


def default_install(install: bool | None, env: str) -> bool:
    """An operator's chart is installed when the stack says so, else by the environment's traits (not in local)."""
    return install if install is not None else conventions.traits(env).installs_charts


def default_vault_ha(ha: bool | None, env: str) -> bool:
    """Vault runs HA when the stack says so, else where the environment requires it (stg, prd)."""
    return ha if ha is not None else conventions.traits(env).vault_ha_required


# The project folder (Pulumi.yaml's; this file is secrets_platform/settings/rules/backends.py): relative chart paths
# are read from here, as the engine runs the program here.
PROJECT_ROOT = Path(__file__).resolve().parents[3]


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
                member = next(
                    (m for m in archive.getmembers() if m.isfile() and m.name.count("/") == 1 and m.name.endswith("/Chart.yaml")), None
                )
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


def _inside_repository(value: str, key: str, chart: str, add) -> bool:
    """dev, stg and prd install only a reviewed chart: a path relative to the repository, staying inside it.

    The chart's templates are what the cluster runs (and the pack admits the operator's roles by the
    labels they write), so a chart from outside the repository is an unreviewed install.
    """
    fix = f"commit the {chart} chart under the repository (e.g. charts/{chart}) and give that relative path"
    pure = PurePosixPath(value)
    if "\\" in value or value.startswith("~") or pure.is_absolute() or re.match(r"[A-Za-z]:", value) or not value.strip():
        add(Problem(key, "is not a path relative to the repository (outside local the chart must be a reviewed file of it)", fix, value))
        return False
    if ".." in pure.parts:
        add(Problem(key, "leaves the repository through '..'", fix, value))
        return False
    parts = [p for p in pure.parts if p != "."]
    if not parts or parts[0] in TOOL_DIRS:
        add(Problem(key, f"is {'the repository itself' if not parts else f'inside {parts[0]}/, a folder that tools own'}", fix, value))
        return False
    try:
        target = (PROJECT_ROOT / value).resolve()
    except (OSError, RuntimeError):
        add(Problem(key, "cannot be resolved (a symbolic link loop?)", fix, value))
        return False
    if PROJECT_ROOT.resolve() not in target.parents:
        add(Problem(key, f"resolves to {str(target)!r}, outside the repository (through a symbolic link)", fix, value))
        return False
    return True


def _check_chart_path(section: str, chart: str, value: str | None, version: str | None, add, env: str = "local") -> None:
    """A chartPath is a chart folder or .tgz of ``chart``, holding the pinned chartVersion; outside local, inside the repository."""
    if value is None:
        return
    key = full_key([section, "chartPath"])
    if env != "local" and not _inside_repository(value, key, chart, add):
        return
    path = Path(value) if (found := chart_path(value)) is None else found
    if not path.exists():
        add(
            Problem(
                key,
                f"does not exist (looked for {str(path)!r})",
                f"give the folder or .tgz of the {chart} chart, absolute or relative to the project folder",
                value,
            )
        )
        return
    meta = _chart_meta(path)
    if meta is None:
        add(
            Problem(
                key,
                "is not a Helm chart folder (with a Chart.yaml) or a chart .tgz",
                f"point it at the unpacked {chart} chart or its .tgz (`helm pull` output)",
                value,
            )
        )
        return
    if meta.get("name") != chart:
        add(Problem(key, f"holds the chart {meta.get('name')!r}, not {chart!r}", f"point it at the {chart} chart", value))
    held = str(meta.get("version", ""))
    if version is not None and held.lstrip("v") != version.lstrip("v"):
        add(
            Problem(
                full_key([section, "chartVersion"]),
                f"is not the version the chart at chartPath holds ({held!r})",
                f"set chartVersion to {held!r}, or point chartPath at the {version} chart",
                version,
            )
        )


def _check_chart(section: str, enabled: bool, install: bool, version: str | None, env: str, add, path: str | None = None) -> None:
    if not enabled:
        return
    if install and env == "local" and path is None:
        add(
            Problem(
                full_key([section, "install"]),
                "is true for local, which never talks to a cluster and cannot fetch charts offline",
                "remove it, or give a local chart with chartPath (local renders the platform's objects without the chart)",
                True,
            )
        )
    if install and version is None:
        add(
            Problem(
                full_key([section, "chartVersion"]),
                "is required when the chart is installed",
                'pin an exact version, e.g. chartVersion: "2.9.0"',
            )
        )
    elif version is not None and not conventions.is_exact_chart_version(version):
        add(
            Problem(
                full_key([section, "chartVersion"]),
                "is not an exact version (ranges and `latest` change what is installed without a diff)",
                'pin an exact version such as "2.9.0"',
                version,
            )
        )


def _check_url(path: list[str], value: str, fix: str, add) -> addresses.Address | None:
    """An http(s) URL with a host, read by ``urllib.parse`` (:func:`parsers.addresses.canonical_url`); None when it is not one."""
    if conventions.has_url_userinfo(value):
        return None  # a credential in the URL: check_transport reports it, without the value
    try:
        url = addresses.canonical_url(value)
    except ParseError:
        url = None
    if url is None or url.scheme not in ("http", "https"):
        add(Problem(full_key(path), "is not an http(s) URL with a host", fix, value))
        return None
    return url


RULES = Rules()


def check(cfg: StackConfig, env: str, add) -> None:
    """External Secrets, GCP and Vault settings, and the credentials that need them (the rules below, in order)."""
    RULES.run(cfg, env, add)


@RULES
def _credential_backends(cfg: StackConfig, env: str, add) -> None:
    """Each credential's backend is on for this stack."""
    # The backends that need an operator: the section that turns it on, and the operator's name.
    needs = {"gcp-secret-manager": ("externalSecrets", "the External Secrets Operator"), "vault": ("vault", "Vault")}
    enabled = {"externalSecrets": cfg.external_secrets.enabled, "vault": cfg.vault.enabled}
    for i, cred in enumerate(cfg.credentials):
        section, operator = needs.get(cred.backend, ("", ""))
        if section and not enabled[section]:
            where = full_key(["credentials", i, "backend"])
            add(Problem(where, f"needs {operator}, which is off for this stack", f"set {section}.enabled: true", cred.backend))


@RULES
def _gcp(cfg: StackConfig, env: str, add) -> None:
    """GCP: local never talks to GCP; the other stacks need a project once ESO is on."""
    eso, gcp = cfg.external_secrets, cfg.gcp
    uses = {c.backend for c in cfg.credentials}
    project = full_key(["gcp", "project"])
    if env == "local":
        if gcp.project:
            why = "is set for local, which never talks to GCP (its store is ESO's fake provider)"
            add(Problem(project, why, "remove it", gcp.project))
    elif eso.enabled and not gcp.project:
        needs = " and the gcp-secret-manager credentials" if "gcp-secret-manager" in uses else ""
        why = f"is required: the External Secrets store{needs} live in a GCP project"
        add(Problem(project, why, "set gcp.project to the environment's project id"))
    if gcp.project and not _GCP_PROJECT.match(gcp.project):
        why = "is not a GCP project id (6-30 of a-z, 0-9, '-', starting with a letter)"
        add(Problem(project, why, "give the project id, not its name or number", gcp.project))
    if gcp.cluster_name and not gcp.region:
        add(
            Problem(
                full_key(["gcp", "region"]),
                "is required with gcp.clusterName (the cluster's location)",
                "set it to the cluster's region or zone",
                None,
            )
        )


@RULES
def _external_secrets(cfg: StackConfig, env: str, add) -> None:
    """External Secrets Operator: its chart, and a positive refresh interval."""
    eso = cfg.external_secrets
    eso_install = default_install(eso.install, env)
    _check_chart("externalSecrets", eso.enabled, eso_install, eso.chart_version, env, add, eso.chart_path)
    if eso.enabled:
        _check_chart_path("externalSecrets", "external-secrets", eso.chart_path, eso.chart_version, add, env)
    if not _DURATION.match(eso.refresh_interval) or eso.refresh_interval in ("", "0s"):
        add(
            Problem(
                full_key(["externalSecrets", "refreshInterval"]),
                "is not a positive duration",
                "use a Go duration such as 1h, 30m or 1h30m",
                eso.refresh_interval,
            )
        )


@RULES
def _operator_namespaces(cfg: StackConfig, env: str, add) -> None:
    """The operators' namespaces: valid, and none of them a consumer namespace."""
    eso, vault = cfg.external_secrets, cfg.vault
    for section, workload in (("externalSecrets", eso.namespace), ("vault", vault.namespace)):
        try:
            conventions.namespace_name(workload, env)
        except conventions.ConventionError as err:
            add(Problem(full_key([section, "namespace"]), str(err), "use a short lower-case workload name", workload))
        if workload in cfg.namespaces:
            add(
                Problem(
                    full_key([section, "namespace"]), "is also a consumer namespace", "give the operator a namespace of its own", workload
                )
            )


@RULES
def _vault_install(cfg: StackConfig, env: str, add) -> None:
    """Vault's chart, dev mode only in local, HA with a raft quorum where required."""
    vault = cfg.vault
    if not vault.enabled:
        return
    vault_install = default_install(vault.install, env)
    _check_chart("vault", True, vault_install, vault.chart_version, env, add, vault.chart_path)
    _check_chart_path("vault", "vault", vault.chart_path, vault.chart_version, add, env)
    if vault.dev_mode and env != "local":
        add(
            Problem(
                full_key(["vault", "devMode"]),
                f"is true for {env}: dev mode keeps everything in memory, unsealed, behind a root token",
                "remove it; only local may run Vault in dev mode",
                True,
            )
        )
    ha = default_vault_ha(vault.ha, env)
    if conventions.traits(env).vault_ha_required and not ha:
        add(
            Problem(
                full_key(["vault", "ha"]),
                f"is false for {env}, which needs HA with integrated storage (raft)",
                "remove it or set it to true",
                vault.ha,
            )
        )
    if ha and (vault.replicas < 3 or vault.replicas % 2 == 0):
        add(Problem(full_key(["vault", "replicas"]), "must be an odd number of at least 3 for a raft quorum", "use 3 or 5", vault.replicas))


@RULES
def _vault_addresses(cfg: StackConfig, env: str, add) -> None:
    """Vault's API address (none for local) and the Kubernetes API server it verifies tokens with, of this environment."""
    vault = cfg.vault
    if not vault.enabled:
        return
    if vault.address is not None:
        if env == "local":
            add(
                Problem(
                    full_key(["vault", "address"]),
                    "is set for local, which never talks to Vault",
                    "remove it; local exports the policy and role for reading instead",
                    vault.address,
                )
            )
        else:
            _check_url(["vault", "address"], vault.address, "give Vault's API address, e.g. https://vault.example.internal:8200", add)
    api = _check_url(
        ["vault", "kubernetesHost"], vault.kubernetes_host, "give the cluster's API server, e.g. https://kubernetes.default.svc", add
    )
    if api is not None and not addresses.is_in_cluster(api) and conventions.env_tokens_in(api.host) - {env}:
        add(
            Problem(
                full_key(["vault", "kubernetesHost"]),
                f"names the API server of {', '.join(sorted(conventions.env_tokens_in(api.host) - {env}))}: {env}'s Vault would verify job-runner tokens with another environment's cluster",
                f"give {env}'s own API server, or https://kubernetes.default.svc for the cluster Vault runs in",
                vault.kubernetes_host,
            )
        )


@RULES
def _vault_auth(cfg: StackConfig, env: str, add) -> None:
    """Vault's KV mount, auth mount, audience and token lifetimes."""
    vault = cfg.vault
    if not vault.enabled:
        return
    bad_mount = mount_name_problem(["vault", "mount"], vault.mount, "KV mount name", "floe")
    if bad_mount:
        add(bad_mount)
    if vault.auth_path is not None and (not MOUNT_NAME.match(vault.auth_path) or conventions.env_tokens_in(vault.auth_path) - {env}):
        add(
            Problem(
                full_key(["vault", "authPath"]),
                "is not a plain auth mount name of this environment",
                f"use e.g. kubernetes-{env}",
                vault.auth_path,
            )
        )
    if not vault.audience or "*" in vault.audience:
        add(Problem(full_key(["vault", "audience"]), "must be one exact audience", "use e.g. vault", vault.audience))
    if vault.token_ttl > vault.token_max_ttl:
        add(
            Problem(
                full_key(["vault", "tokenTtl"]),
                f"is longer than vault.tokenMaxTtl ({vault.token_max_ttl})",
                "lower it or raise tokenMaxTtl",
                vault.token_ttl,
            )
        )
