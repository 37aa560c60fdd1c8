"""The hand-written floor: the same resources as ours, written flat, with no settings layer and no components.

For a catalog of kubernetes-backend credential bundles (bench/catalog.py) this
registers exactly the custom resources ``components.platform.build`` registers,
with the same names, inputs and options (provider, protect, retain_on_delete,
depends_on, additional secret outputs, secret string data), in the same order:
the namespaces and their ``default`` ServiceAccountPatch, per bundle the
RandomPasswords and one Secret per namespace, per namespace the job-runner
ServiceAccount, Role and RoleBinding. tests/bench checks it registers what ours
does. It reads the config as given, validates nothing, builds names inline and
exports only the names. On the engine it runs with the program's garbage-collector
settings (secrets_platform/collector.py), a process setting rather than a layer. So ours / flat is
what the settings layer, the components and the outputs cost.

With ``components=True`` it is the *fair floor*: the same custom resources under
the same component resources as ours (a ``PlatformNamespace`` per namespace, a
``GeneratedCredential`` per bundle, a ``JobRunnerAccess`` per namespace: same
types, names, parents, provider maps and registered outputs), still written by
hand with no settings, resolve or spec layers. The mission requires component
resources, so the flat floor is not a fair comparison for ours; ours / fair is
what our own layers cost. tests/bench checks it registers every resource ours
does, components included, with the same parents.

Used in two places: under Pulumi's mocks (``bench/programs.py``'s ``baseline``
and ``fair``) and as a real Pulumi program on the engine (``bench/engine.py`` runs
projects whose ``__main__.py`` calls :func:`main` or :func:`main_fair`).
"""

from __future__ import annotations

from typing import Any, Callable

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

PROJECT = "secrets-platform"
FORCE_APPLY = {"pulumi.com/patchForce": "true"}
POD_SECURITY = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}
ROLE = "job-runner-secrets"
NAMESPACE_TYPE = "secrets-platform:namespaces:PlatformNamespace"
CREDENTIAL_TYPE = "secrets-platform:credentials:GeneratedCredential"
ACCESS_TYPE = "secrets-platform:access:JobRunnerAccess"


Component = Callable[..., "pulumi.ComponentResource | None"]
"""``component(type, name, depends_on=None)``: with ``components``, a bare component of ours' type and name, else None."""


def program(config: dict[str, Any], components: bool = False) -> None:
    """Every resource, section by section as ours registers them: namespaces, credential bundles, job-runner access.

    One function per section, each called once: still no layer between the config and the resources (the loops
    over namespaces and bundles are the sections' own), so the floor costs what it did as one function.
    """
    env = config["environment"]
    protect = env == "prd"
    safety = {"protect": protect, "retain_on_delete": protect}
    labels = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": PROJECT, "secrets-platform.io/environment": env}
    provider = _provider(config, env)

    def component(type_: str, name: str, depends_on: list[pulumi.Resource] | None = None) -> pulumi.ComponentResource | None:
        """With ``components``, a bare component of ours' type and name (children get it as parent), else None."""
        if not components:
            return None
        return pulumi.ComponentResource(type_, name, None, pulumi.ResourceOptions(providers=[provider], depends_on=depends_on))

    namespaces = _namespaces(config, env, labels, safety, provider, component)
    secret_names = _credentials(config, env, labels, safety, provider, namespaces, component)
    _access(config, env, labels, provider, namespaces, secret_names, component)
    pulumi.export("environment", env)
    pulumi.export("secrets", sorted(f"{ns}/{n}" for ns, names in secret_names.items() for n in names))


def _provider(config: dict[str, Any], env: str) -> k8s.Provider:
    render_dir = (config.get("kubernetes") or {}).get("renderDir")
    if render_dir:
        return k8s.Provider(f"kubernetes-{env}", render_yaml_to_directory=render_dir, enable_secret_mutable=True)
    return k8s.Provider(
        f"kubernetes-{env}",
        kubeconfig=(config.get("kubernetes") or {}).get("kubeconfig"),
        context=(config.get("kubernetes") or {}).get("context"),
        enable_server_side_apply=True,
        enable_secret_mutable=True,
    )


def _namespaces(
    config: dict[str, Any], env: str, labels: dict[str, str], safety: dict[str, Any], provider: k8s.Provider, component: Component
) -> dict[str, k8s.core.v1.Namespace]:
    namespaces: dict[str, k8s.core.v1.Namespace] = {}
    for workload in sorted(config["namespaces"]):
        ns = f"{workload}-{env}"
        parent = component(NAMESPACE_TYPE, workload)
        namespaces[workload] = k8s.core.v1.Namespace(
            ns,
            metadata={"name": ns, "labels": {**labels, **POD_SECURITY}, "annotations": FORCE_APPLY},
            opts=pulumi.ResourceOptions(provider=provider, parent=parent, **safety),
        )
        k8s.core.v1.ServiceAccountPatch(
            f"{ns}/default",
            metadata={"name": "default", "namespace": ns, "labels": labels, "annotations": FORCE_APPLY},
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions(provider=provider, parent=parent, depends_on=[namespaces[workload]]),
        )
        if parent is not None:
            parent.register_outputs({"name": ns})
    return namespaces


def _credentials(
    config: dict[str, Any],
    env: str,
    labels: dict[str, str],
    safety: dict[str, Any],
    provider: k8s.Provider,
    namespaces: dict[str, k8s.core.v1.Namespace],
    component: Component,
) -> dict[str, list[str]]:
    """Each bundle's RandomPasswords and its Secret in each of its namespaces; the Secrets' names per namespace."""
    secret_names: dict[str, list[str]] = {f"{w}-{env}": [] for w in config["namespaces"]}
    for cred in sorted(config["credentials"], key=lambda c: c["service"]):
        depends_on: list[pulumi.Resource] = [namespaces[w] for w in sorted(set(cred["namespaces"]))]
        parent = component(CREDENTIAL_TYPE, cred["service"], depends_on)
        values: dict[str, Any] = dict(cred.get("values") or {})
        for gen in sorted(cred.get("generated") or [], key=lambda g: g["key"]):
            password = random.RandomPassword(
                f"{cred['service']}-{gen['key'].lower().replace('_', '-')}",
                length=gen.get("length", 32),
                upper=gen.get("upper", True),
                lower=gen.get("lower", True),
                numeric=gen.get("numeric", True),
                special=gen.get("special", True),
                override_special=gen.get("overrideSpecial"),
                keepers={"rotation": str(cred.get("rotation", "1"))},
                opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on),
            )
            values[gen["key"]] = password.result
        name = f"{cred['service']}-{env}-credentials"
        annotations = {**FORCE_APPLY, "reloader.stakater.com/match": "true", "secrets-platform.io/keys": ",".join(sorted(values))}
        for workload in sorted(cred["namespaces"]):
            ns = f"{workload}-{env}"
            secret_names[ns].append(name)
            k8s.core.v1.Secret(
                f"{ns}/{name}",
                metadata={"name": name, "namespace": ns, "labels": labels, "annotations": annotations},
                type="Opaque",
                string_data={k: pulumi.Output.secret(v) for k, v in values.items()},
                opts=pulumi.ResourceOptions(
                    provider=provider, parent=parent, depends_on=depends_on, additional_secret_outputs=["data", "stringData"], **safety
                ),
            )
        if parent is not None:
            parent.register_outputs({"secret_name": name, "keys": sorted(values)})
    return secret_names


def _access(
    config: dict[str, Any],
    env: str,
    labels: dict[str, str],
    provider: k8s.Provider,
    namespaces: dict[str, k8s.core.v1.Namespace],
    secret_names: dict[str, list[str]],
    component: Component,
) -> None:
    """Per namespace, the job runner's ServiceAccount and its Role and RoleBinding on the namespace's Secrets."""
    for workload in sorted(config["namespaces"]):
        ns = f"{workload}-{env}"
        parent = component(ACCESS_TYPE, workload, [namespaces[workload]])
        opts = pulumi.ResourceOptions(provider=provider, parent=parent, depends_on=[namespaces[workload]])
        meta = {"namespace": ns, "labels": labels, "annotations": FORCE_APPLY}
        k8s.core.v1.ServiceAccount(f"{ns}/job-runner", metadata={"name": "job-runner", **meta}, opts=opts)
        names = sorted(set(secret_names[ns]))
        rules = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": names}] if names else []
        k8s.rbac.v1.Role(f"{ns}/{ROLE}", metadata={"name": ROLE, **meta}, rules=rules, opts=opts)
        k8s.rbac.v1.RoleBinding(
            f"{ns}/{ROLE}",
            metadata={"name": ROLE, **meta},
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ROLE},
            subjects=[{"kind": "ServiceAccount", "name": "job-runner", "namespace": ns}],
            opts=opts,
        )
        if parent is not None:
            parent.register_outputs({"service_account": f"{ns}/job-runner", "role": ROLE})


def config_from_pulumi() -> dict[str, Any]:
    """The stack config as ``program`` reads it (what settings.from_pulumi reads, unvalidated)."""
    cfg = pulumi.Config(PROJECT)
    return {
        "environment": cfg.require("environment"),
        "namespaces": cfg.require_object("namespaces"),
        "credentials": cfg.get_object("credentials") or [],
        "kubernetes": cfg.get_object("kubernetes") or {},
    }


def main() -> None:
    """The engine's entry point (the flat project's ``__main__.py``), with the program's collector settings."""
    from secrets_platform import collector

    collector.tune()
    program(config_from_pulumi())


def main_fair() -> None:
    """The fair floor's entry point: :func:`main` with ours' component resources."""
    from secrets_platform import collector

    collector.tune()
    program(config_from_pulumi(), components=True)
