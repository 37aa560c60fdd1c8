"""Wire one stack: namespaces, then the Secrets of every kind, then job-runner access.

``__main__`` calls :func:`build` with the validated settings; tests call it under mocks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

import pulumi
import pulumi_kubernetes as k8s

import conventions
from components.access import JobRunnerAccess, JobRunnerAccessArgs
from components.common import SecretDescriptor
from components.consumers import describe
from components.credentials import GeneratedCredential, GeneratedCredentialArgs, describe_credential
from components.imported_secrets import ImportedSecrets, ImportedSecretsArgs, describe_imported
from components.namespace import PlatformNamespace, PlatformNamespaceArgs
from components.provider import kubernetes_provider
from components.registry_secret import RegistryPullSecret, RegistryPullSecretArgs, describe_registry
from components.tls_secret import PlatformTlsSecret, TlsSecretArgs, describe_tls
from settings import Settings


@dataclass
class Platform:
    settings: Settings
    namespaces: dict[str, PlatformNamespace] = field(default_factory=dict)
    secret_components: list[pulumi.ComponentResource] = field(default_factory=list)
    access: dict[str, JobRunnerAccess] = field(default_factory=dict)

    @property
    def descriptors(self) -> list[SecretDescriptor]:
        out = [d for c in self.secret_components for d in c.descriptors]  # type: ignore[attr-defined]
        return sorted(out, key=lambda d: (d.namespace, d.name))

    def outputs(self) -> dict[str, Any]:
        """Stack outputs: names, keys and consumer snippets; never a value."""
        s = self.settings
        out: dict[str, Any] = {
            "environment": s.environment,
            "namespaces": sorted(ns.name for ns in self.namespaces.values()),
            "jobRunners": sorted(f"{ns}/{conventions.JOB_RUNNER}" for ns in self.access),
            "secrets": [describe(d) for d in self.descriptors],
            "reloader": {
                "secretAnnotation": {conventions.RELOADER_SECRET_ANNOTATION: "true"},
                "workloadAnnotation": {conventions.RELOADER_CONSUMER_ANNOTATION: "true"},
            },
        }
        if s.render_dir:
            out["renderDir"] = s.render_dir
        return out


@dataclass(frozen=True)
class PlannedSecrets:
    """One secret component the stack will create: its class, name and args, and how to describe it."""

    component: Callable[..., pulumi.ComponentResource]
    name: str
    args: Any
    workloads: tuple[str, ...]
    """Workloads whose namespaces must exist first."""
    describe: Callable[[Any], list[SecretDescriptor]]


def secret_plan(settings: Settings) -> list[PlannedSecrets]:
    """The secret components of a stack, in creation order; :func:`build` creates exactly these.

    Pure (registers nothing), so tools that only read a stack file (the CLI) see
    the same Secrets the program would create.
    """
    env, cfg, protect = settings.environment, settings.config, settings.protect

    def full(workloads: list[str]) -> tuple[str, ...]:
        return tuple(settings.namespace(w) for w in workloads)

    plan: list[PlannedSecrets] = []
    for cred in sorted(cfg.credentials, key=lambda c: c.service):
        args = GeneratedCredentialArgs(cred, env, full(cred.namespaces), protect)
        plan.append(PlannedSecrets(GeneratedCredential, cred.service, args, tuple(cred.namespaces), describe_credential))
    for reg in sorted(cfg.registries, key=lambda r: r.service):
        args = RegistryPullSecretArgs(reg, env, full(reg.namespaces), protect)
        plan.append(PlannedSecrets(RegistryPullSecret, reg.service, args, tuple(reg.namespaces), describe_registry))
    for tls in sorted(cfg.tls_secrets, key=lambda t: (t.service, t.purpose)):
        args = TlsSecretArgs(tls, env, full(tls.namespaces), protect)
        plan.append(PlannedSecrets(PlatformTlsSecret, f"{tls.service}-{tls.purpose}", args, tuple(tls.namespaces), describe_tls))
    if settings.imported:
        workload = cfg.imports.namespace
        args = ImportedSecretsArgs(settings.imported, env, workload, protect)
        plan.append(PlannedSecrets(ImportedSecrets, "repository", args, (workload,), describe_imported))
    return plan


def planned_descriptors(settings: Settings) -> list[SecretDescriptor]:
    """Every Secret the stack creates, described without creating anything (same order as outputs)."""
    out = [d for item in secret_plan(settings) for d in item.describe(item.args)]
    return sorted(out, key=lambda d: (d.namespace, d.name))


def build(settings: Settings, provider: k8s.Provider | None = None) -> Platform:
    env, cfg, protect = settings.environment, settings.config, settings.protect
    provider = provider or kubernetes_provider(settings)
    base = pulumi.ResourceOptions(providers=[provider])
    platform = Platform(settings)

    for workload in sorted(cfg.namespaces):
        platform.namespaces[workload] = PlatformNamespace(workload, PlatformNamespaceArgs(workload, env, protect), base)

    def after(workloads: list[str]) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=[platform.namespaces[w].namespace for w in sorted(set(workloads))]))

    for item in secret_plan(settings):
        platform.secret_components.append(item.component(item.name, item.args, after(list(item.workloads))))

    names: dict[str, set[str]] = defaultdict(set)
    for d in platform.descriptors:
        names[d.namespace].add(d.name)
    for workload in sorted(cfg.namespaces):
        ns = settings.namespace(workload)
        platform.access[ns] = JobRunnerAccess(workload, JobRunnerAccessArgs(ns, env, tuple(sorted(names[ns]))), after([workload]))
    return platform
