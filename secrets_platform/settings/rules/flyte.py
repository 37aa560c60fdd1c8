"""Rules of ``flyte.projects``: workloads whose namespace follows Flyte's ``<project>-<domain>``.

Flyte runs project P of domain D in namespace ``P-D`` (flyteadmin's default namespace_mapping); the
environment's domain is conventions.FLYTE_DOMAINS (prd: production). A project must be a declared
workload (credentials and the other entries keep naming it by its workload name), listed once, and
its namespace must stay a Kubernetes name.
"""

from __future__ import annotations

from secrets_platform import conventions
from secrets_platform.settings.errors import Problem, full_key
from secrets_platform.settings.model import StackConfig


def check(cfg: StackConfig, env: str, add) -> None:
    seen: set[str] = set()
    for i, project in enumerate(cfg.flyte.projects):
        key = full_key(["flyte", "projects", i])
        if project in seen:
            add(Problem(key, "is listed twice", "remove the duplicate", project))
            continue
        seen.add(project)
        if project not in cfg.namespaces:
            add(
                Problem(
                    key,
                    "is not a declared namespace",
                    f"add it to {full_key(['namespaces'])} too (credentials name it by its workload name), or remove it here",
                    project,
                )
            )
            continue
        if env not in conventions.FLYTE_DOMAINS:
            continue  # the stack's environment is reported on its own
        try:
            conventions.namespace_name(project, env, flyte=True)
        except conventions.ConventionError as err:
            add(
                Problem(
                    key,
                    f"{err} (a Flyte project's namespace is <project>-{conventions.flyte_domain(env)})",
                    "use a shorter project name",
                    project,
                )
            )
