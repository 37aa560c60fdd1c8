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
    try:
        conventions.check_dns_label(imp.namespace, "workload")
        conventions.namespace_name(imp.namespace, env)
    except conventions.ConventionError as err:
        problems.append(Problem(full_key(["imports", "namespace"]), str(err), "give a declared workload, such as dagster", imp.namespace))
        return ()
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*_", imp.prefix):
        problems.append(
            Problem(
                full_key(["imports", "prefix"]),
                "is not an upper-case variable prefix ending in '_'",
                "use something like DAGSTER_SECRET_",
                imp.prefix,
            )
        )
        return ()
    conflict = conventions.toolchain_prefix_conflict(imp.prefix)
    if conflict:
        problems.append(
            Problem(
                full_key(["imports", "prefix"]),
                f"could import the deploy toolchain's own variables ({conflict}*: GitHub, the runner, Pulumi, gcloud, Vault, cloud SDKs...)",
                "use a prefix of your own that no tool uses, such as DAGSTER_SECRET_ (README: imports.prefix)",
                imp.prefix,
            )
        )
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
        suffix = variable[len(imp.prefix) :]
        where = f"deploy environment variable {variable}"
        if conventions.is_toolchain_variable(variable):
            problems.append(
                Problem(
                    where,
                    "is a variable of the deploy toolchain and is never imported",
                    "rename the repository secret with a prefix of your own",
                )
            )
            continue
        if not _IMPORT_SUFFIX.match(suffix):
            problems.append(
                Problem(
                    where, "cannot become a Secret name", f"rename it to {imp.prefix}<WORDS> with A-Z, 0-9 and single '_' between words"
                )
            )
            continue
        try:
            name = conventions.import_secret_name(variable, imp.prefix, imp.namespace, env)
        except conventions.ConventionError as err:
            problems.append(Problem(where, f"cannot become a Secret name: {err}", "shorten the variable name"))
            continue
        if (imp.namespace, name) in taken:
            problems.append(
                Problem(where, f"would become Secret {name!r}, which {taken[(imp.namespace, name)]} creates too", "rename the variable")
            )
            continue
        value = environ[variable]
        if not value:
            problems.append(Problem(where, "is empty", "give it a value or unset it"))
            continue
        out.append(ImportedSecret(variable=variable, name=name, namespace=namespace, value=SecretStr(value)))
    return tuple(out)
