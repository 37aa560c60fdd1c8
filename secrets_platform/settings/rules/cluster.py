"""Rules of how the stack reaches its cluster and services: render mode, kubeconfig and context, TLS-only transport."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path, PurePosixPath

from secrets_platform import conventions
from secrets_platform.settings.errors import Problem, full_key
from secrets_platform.settings.model import StackConfig
from secrets_platform.settings.rules import TOOL_DIRS


def check(cfg: StackConfig, env: str, root: Path | None, add) -> None:
    """kubernetes.renderDir, .context and .kubeconfig for the environment (transport: :func:`check_transport`)."""
    if cfg.kubernetes.render_dir and env != "local":
        add(
            Problem(
                full_key(["kubernetes", "renderDir"]),
                f"is set for {env}, but rendered manifests hold plain-text secrets",
                "remove it: only the local stack renders manifests",
                cfg.kubernetes.render_dir,
            )
        )
    if env == "local" and cfg.kubernetes.context:
        add(
            Problem(
                full_key(["kubernetes", "context"]),
                "is set for local, which only ever talks to the local cluster on loopback",
                "remove it (make up starts the local cluster; kubernetes.kubeconfig may name another local cluster's kubeconfig)",
                cfg.kubernetes.context,
            )
        )
    context = cfg.kubernetes.context
    if context is not None and context.strip() and (context != context.strip() or not context.isprintable()):
        add(
            Problem(
                full_key(["kubernetes", "context"]),
                "has surrounding blanks or control characters (a newline?), so it names no context of the kubeconfig",
                "give the context's name exactly as `kubectl config get-contexts -o name` prints it",
                context,
            )
        )
    if env != "local" and not (cfg.kubernetes.context or "").strip():
        add(
            Problem(
                full_key(["kubernetes", "context"]),
                f"is required for {env}: without it the provider applies to whatever cluster the ambient kubeconfig's current context names",
                f"set it to the kubeconfig context of {env}'s cluster, e.g. gke_<project>_<location>_<cluster>",
            )
        )
    if cfg.kubernetes.render_dir and cfg.kubernetes.kubeconfig:
        add(
            Problem(
                full_key(["kubernetes", "kubeconfig"]),
                "is set together with kubernetes.renderDir, but render mode reaches no cluster",
                "remove one of the two",
            )
        )
    if cfg.kubernetes.render_dir and env == "local":
        _check_render_dir(cfg.kubernetes.render_dir, root, add)


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
    if parts[0] in TOOL_DIRS:
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
        add(
            Problem(
                key,
                "is not a git-ignored folder (or git tracks files in it), so rendered plain-text secrets could be committed",
                f"add {parts[0]}/ to .gitignore and use a folder under it, such as rendered/local",
                value,
            )
        )


def _git_ignored_folder(root: Path, relative: str) -> bool | None:
    """True when git ignores ``relative`` (a folder) and tracks nothing under it; None outside a work tree."""

    # git gets none of Pulumi's variables: under the engine they hold the decrypted stack config,
    # which git has no use for and which, for a large stack, is over the 128 KiB a single
    # environment string may have at exec time (git would not start and the check would be skipped).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}

    def git(*args: str) -> subprocess.CompletedProcess | None:
        try:
            return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=20, check=False, env=env)
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


def check_transport(cfg: StackConfig, env: str, add) -> None:
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
            add(
                Problem(
                    full_key(path),
                    "carries user-info (user:password@) in the URL, a credential in the stack file",
                    "remove it from the URL; the platform authenticates by other means",
                    show_value=False,
                )
            )
            continue
        if env == "local":
            continue
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme == "http":
            add(
                Problem(
                    full_key(path),
                    f"uses plain http in {env}, which sends tokens and charts unencrypted",
                    f"use {' or '.join(s + '://' for s in schemes)}",
                    url,
                )
            )


# An exact chart version: "2.9.0" or "0.34.1-rc.1"; no ranges, no "latest".
