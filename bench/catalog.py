"""Generated stack configs: N credential bundles spread over a few namespaces.

Every bundle has one fixed value and one generated key and goes to two of the
namespaces, the common shape of the real stacks (Pulumi.<env>.yaml). The config
is what the engine hands ``settings.from_mapping`` (keys without the
``secrets-platform:`` prefix), so the settings layer is part of what is measured.
"""

from __future__ import annotations

from typing import Any

WORKLOADS = 4
"""Namespaces of a generated catalog (``team-00-<env>`` ... ``team-03-<env>``)."""
NAMESPACES_PER_BUNDLE = 2


def workloads(count: int = WORKLOADS) -> list[str]:
    return [f"team-{i:02d}" for i in range(count)]


def catalog(credentials: int, env: str = "prd", namespaces: int = WORKLOADS) -> dict[str, Any]:
    """A valid config of ``credentials`` kubernetes-backend bundles for ``env``."""
    names = workloads(namespaces)
    creds = []
    for i in range(credentials):
        creds.append(
            {
                "service": f"svc-{i:05d}",
                "namespaces": [names[(i + j) % namespaces] for j in range(min(NAMESPACES_PER_BUNDLE, namespaces))],
                "rotation": "1",
                "values": {"SERVICE_USER": f"user-{i:05d}"},
                "generated": [{"key": "SERVICE_PASSWORD", "length": 32}],
            }
        )
    cfg: dict[str, Any] = {"environment": env, "namespaces": names, "credentials": creds}
    if env == "local":
        cfg["kubernetes"] = {"renderDir": "rendered/local"}
    else:  # dev, stg and prd name their cluster's context (settings refuse the ambient kubeconfig, the pack an ambient provider)
        cfg["kubernetes"] = {"context": f"gke_example-data-platform_europe-west1_data-{env}"}
    return cfg


def custom_resource_count(credentials: int, namespaces: int = WORKLOADS) -> int:
    """Custom resources the program registers for a catalog (what every variant registers).

    The provider; per namespace a Namespace, the `default` ServiceAccountPatch, the
    job-runner ServiceAccount, Role and RoleBinding; per bundle one RandomPassword and
    one Secret per namespace it goes to.
    """
    per_bundle = 1 + min(NAMESPACES_PER_BUNDLE, namespaces)
    return 1 + 5 * namespaces + per_bundle * credentials


def component_count(credentials: int, namespaces: int = WORKLOADS) -> int:
    """Component resources only our program adds (a GeneratedCredential per bundle, two per namespace)."""
    return credentials + 2 * namespaces
