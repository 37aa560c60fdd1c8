"""External Secrets as the model resolves it: the chart's values, the store's provider and conditions, each ExternalSecret's body.

Pure (no Pulumi SDK): :mod:`secrets_platform.components.external_secrets` registers these.
"""

from __future__ import annotations

from typing import Mapping

from secrets_platform import conventions
from secrets_platform.model.descriptors import OPAQUE
from secrets_platform.model.specs import EnvironmentStoreSpec

BACKEND = conventions.STORE_BACKEND
SERVICE_ACCOUNT = conventions.ESO_SERVICE_ACCOUNT


def chart_values(service_account: str, local: bool = False) -> dict:
    """Values of the external-secrets chart.

    CRDs come with the chart. ClusterSecretStores are processed because ours
    restricts namespaces with ``conditions``; ClusterExternalSecret and
    ClusterPushSecret, which write into namespaces chosen at run time, are neither
    installed nor processed. The service account is ours (annotated for Workload
    Identity, labelled), so the chart does not create one.

    In ``local`` (a local chart, ``chartPath``) nothing may call outside loopback and
    the local ESO controller installs its own CRDs: no webhook, no cert controller
    (nor their Secret-reading roles), no CRDs from the chart.
    """
    local_values: dict = {"installCRDs": False, "webhook": {"create": False}, "certController": {"create": False}} if local else {}
    return {
        "installCRDs": True,
        "crds": {"createClusterSecretStore": True, "createClusterExternalSecret": False, "createClusterPushSecret": False},
        "processClusterStore": True,
        "processClusterExternalSecret": False,
        "processClusterPushSecret": False,
        "serviceAccount": {"create": False, "name": service_account},
        **local_values,
    }


def store_conditions(namespaces: tuple[str, ...]) -> list[dict]:
    """Admit exactly these namespaces, by name (no selector or regex that could widen later)."""
    return [{"namespaces": sorted(set(namespaces))}]


def gcpsm_provider(args: EnvironmentStoreSpec) -> dict:
    workload_identity: dict = {"serviceAccountRef": {"name": SERVICE_ACCOUNT, "namespace": args.operator_namespace}}
    if args.cluster_name:
        workload_identity.update(clusterLocation=args.region, clusterName=args.cluster_name, clusterProjectID=args.project)
    return {"gcpsm": {"projectID": args.project, "auth": {"workloadIdentity": workload_identity}}}


def replication(locations: tuple[str, ...]) -> dict:
    if locations:
        return {"user_managed": {"replicas": [{"location": loc} for loc in locations]}}
    return {"auto": {}}


def external_secret_spec(name: str, store: str, properties: dict[str, str], refresh_interval: str, labels: Mapping[str, str]) -> dict:
    """The ExternalSecret: remote properties of ``name`` -> keys of the Secret ``name``, owned by ESO."""
    return {
        "refreshInterval": refresh_interval,
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": store},
        "target": {
            "name": name,
            "creationPolicy": "Owner",
            "deletionPolicy": "Retain",
            "template": {
                "type": OPAQUE,
                "engineVersion": "v2",
                "metadata": {
                    "labels": dict(labels),
                    "annotations": {conventions.RELOADER_SECRET_ANNOTATION: "true"},
                },
            },
        },
        "data": [{"secretKey": key, "remoteRef": {"key": name, "property": prop}} for key, prop in sorted(properties.items())],
    }
