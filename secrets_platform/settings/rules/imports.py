"""Rules of imported repository secrets: ``<prefix>*`` variables of the deploy environment become Secrets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from pydantic import SecretStr

from secrets_platform import conventions
from secrets_platform.settings.errors import Problem, full_key
from secrets_platform.settings.model import StackConfig

_IMPORT_SUFFIX = re.compile(r"^[A-Z0-9]+(_[A-Z0-9]+)*\Z")


@dataclass(frozen=True)
class ImportedSecret:
    """A deploy-environment variable that becomes a Secret of its own."""

    variable: str
    name: str
    namespace: str
    value: SecretStr = field(repr=False)


def check(
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
    refused = _settings_problem(imp.namespace, imp.prefix, env)
    if refused:
        problems.append(refused)
        return ()
    variables = sorted(v for v in environ if v.startswith(imp.prefix))
    if not variables:
        return ()
    if imp.namespace not in cfg.namespaces:
        problems.append(
            Problem(
                full_key(["imports", "namespace"]),
                f"is not a declared namespace, but {len(variables)} {imp.prefix}* variables are set",
                f"add it to {full_key(['namespaces'])}, or set imports.enabled to false",
                imp.namespace,
            )
        )
        return ()
    namespace = conventions.namespace_name(imp.namespace, env, flyte=imp.namespace in cfg.flyte.projects)
    out = []
    for variable in variables:
        got = _imported(variable, environ[variable], imp.prefix, imp.namespace, env, taken)
        if isinstance(got, Problem):
            problems.append(got)
        else:
            out.append(ImportedSecret(variable=variable, name=got, namespace=namespace, value=SecretStr(environ[variable])))
    return tuple(out)


def _settings_problem(workload: str, prefix: str, env: str) -> Problem | None:
    """What is wrong with imports.namespace or imports.prefix, if anything (the first thing only)."""
    try:
        conventions.check_dns_label(workload, "workload")
        conventions.namespace_name(workload, env)
    except conventions.ConventionError as err:
        return Problem(full_key(["imports", "namespace"]), str(err), "give a declared workload, such as dagster", workload)
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*_", prefix):
        return Problem(
            full_key(["imports", "prefix"]),
            "is not an upper-case variable prefix ending in '_'",
            "use something like DAGSTER_SECRET_",
            prefix,
        )
    conflict = conventions.toolchain_prefix_conflict(prefix)
    if conflict:
        return Problem(
            full_key(["imports", "prefix"]),
            f"could import the deploy toolchain's own variables ({conflict}*: GitHub, the runner, Pulumi, gcloud, Vault, cloud SDKs...)",
            "use a prefix of your own that no tool uses, such as DAGSTER_SECRET_ (README: imports.prefix)",
            prefix,
        )
    return None


def _imported(variable: str, value: str, prefix: str, workload: str, env: str, taken: dict[tuple[str, str], str]) -> str | Problem:
    """The Secret name one ``<prefix>*`` variable becomes, or the Problem that keeps it out."""
    suffix = variable[len(prefix) :]
    where = f"deploy environment variable {variable}"
    if conventions.is_toolchain_variable(variable):
        return Problem(
            where, "is a variable of the deploy toolchain and is never imported", "rename the repository secret with a prefix of your own"
        )
    if not _IMPORT_SUFFIX.match(suffix):
        return Problem(where, "cannot become a Secret name", f"rename it to {prefix}<WORDS> with A-Z, 0-9 and single '_' between words")
    try:
        name = conventions.import_secret_name(variable, prefix, workload, env)
    except conventions.ConventionError as err:
        return Problem(where, f"cannot become a Secret name: {err}", "shorten the variable name")
    if (workload, name) in taken:
        return Problem(where, f"would become Secret {name!r}, which {taken[(workload, name)]} creates too", "rename the variable")
    if not value:
        return Problem(where, "is empty", "give it a value or unset it")
    return name
