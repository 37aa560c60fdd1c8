"""External Secrets Operator backed by GCP Secret Manager, one environment per stack.

Three components:

- :class:`ExternalSecretsOperator`: the operator's namespace ``external-secrets-<env>``,
  its Kubernetes service account (annotated for Workload Identity), the GCP
  service account ``eso-<env>`` it acts as, and the pinned chart (CRDs included);
- :class:`ExternalCredential`: one credential bundle with backend
  ``gcp-secret-manager``: the Secret Manager secret (id = the Kubernetes Secret's
  name), ``secretAccessor`` for ``eso-<env>`` on *that secret only*, optionally a
  version pushed from pulumi-random, and an ExternalSecret per consumer namespace;
- :class:`EnvironmentStore`: the ClusterSecretStore ``gcp-secret-manager-<env>``,
  whose ``conditions`` list exactly the environment's namespaces.

In ``local`` the same store name is backed by ESO's ``fake`` provider, filled
with the bundle's pushed values or generated stand-ins, so the ExternalSecrets
are identical in every stack and local needs no cloud. It deliberately creates
no GCP resource there, and no project-wide grant anywhere.
"""

from __future__ import annotations

import json
from typing import Any, Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pulumi_random as random

from secrets_platform import conventions
from secrets_platform.components.common import SecretDescriptor, child_options, data_safety, generated_password, metadata
from secrets_platform.components.consumers import OPAQUE
from secrets_platform.components.operator import OperatorComponent, OperatorSpec
from secrets_platform.components.workload_identity import WorkloadIdentity, WorkloadIdentitySpec
from secrets_platform.settings import Credential

API_VERSION = "external-secrets.io/v1"
BACKEND = conventions.STORE_BACKEND
SERVICE_ACCOUNT = conventions.ESO_SERVICE_ACCOUNT
SECRET_ACCESSOR = "roles/secretmanager.secretAccessor"
GSA_COMPONENT = conventions.ESO_GCP_COMPONENT


# The store's name is the conventions' (kept here under its old name for callers).
store_name = conventions.store_name


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


# --------------------------------------------------------------------------- operator


@dataclass(frozen=True)
class ExternalSecretsOperatorSpec(OperatorSpec):
    """ESO's namespace, service account and chart, and its GCP identity (:func:`components.platform.external_secrets_spec`)."""

    identity: WorkloadIdentitySpec | None = None
    """None in local (no GCP project, no Workload Identity)."""


class ExternalSecretsOperator(OperatorComponent):
    """The operator of one environment and the identity it reads Secret Manager with."""

    TYPE = "secrets-platform:external-secrets:Operator"

    def __init__(self, name: str, args: ExternalSecretsOperatorSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        after_ns = self._own_namespace(args, opts)
        self.identity: WorkloadIdentity | None = None
        self.gcp_service_account: str | None = None
        annotations = None
        if args.identity is not None:
            self.identity = WorkloadIdentity(
                conventions.child_resource_name(name, "identity"),
                args.identity,
                pulumi.ResourceOptions(parent=self),
            )
            self.gcp_service_account = self.identity.email
            annotations = {"iam.gke.io/gcp-service-account": self.identity.email}
        self._own_service_account(args.service_account, args.labels, after_ns, annotations)
        self._install_chart(name, args.install, args.chart, after_ns)
        self.register_outputs({"namespace": self.namespace, "gcp_service_account": self.gcp_service_account})

    @property
    def ready(self) -> list[pulumi.Resource]:
        """What custom resources must wait for: the CRDs (the chart) when installed here."""
        return [self.chart] if self.chart else [self.service_account]


# --------------------------------------------------------------------------- store


@dataclass(frozen=True)
class EnvironmentStoreSpec:
    """The environment's ClusterSecretStore as the stack resolved it (:func:`components.platform.store_spec`)."""

    name: str
    """``gcp-secret-manager-<env>`` (:func:`conventions.store_name`)."""
    labels: Mapping[str, str]
    namespaces: tuple[str, ...]
    """Exactly the namespaces that may use the store (the environment's)."""
    project: str | None
    """GCP project of the gcpsm provider; None selects the fake provider (local)."""
    operator_namespace: str
    region: str | None = None
    cluster_name: str | None = None
    fake_data: pulumi.Input[list] | None = None
    """local: ``[{key, value}]`` entries of the fake provider (values are Pulumi secrets)."""


def store_conditions(namespaces: tuple[str, ...]) -> list[dict]:
    """Admit exactly these namespaces, by name (no selector or regex that could widen later)."""
    return [{"namespaces": sorted(set(namespaces))}]


def gcpsm_provider(args: EnvironmentStoreSpec) -> dict:
    workload_identity: dict = {"serviceAccountRef": {"name": SERVICE_ACCOUNT, "namespace": args.operator_namespace}}
    if args.cluster_name:
        workload_identity.update(clusterLocation=args.region, clusterName=args.cluster_name, clusterProjectID=args.project)
    return {"gcpsm": {"projectID": args.project, "auth": {"workloadIdentity": workload_identity}}}


class EnvironmentStore(pulumi.ComponentResource):
    """``ClusterSecretStore gcp-secret-manager-<env>``: usable from this environment's namespaces only."""

    TYPE = "secrets-platform:external-secrets:EnvironmentStore"

    def __init__(self, name: str, args: EnvironmentStoreSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        self.name = args.name
        if args.project:
            provider: pulumi.Input[dict] = gcpsm_provider(args)
        else:
            fake: pulumi.Output[list[Any]] = pulumi.Output.secret(pulumi.Output.from_input(args.fake_data or []))
            provider = fake.apply(lambda data: {"fake": {"data": data}})
        self.store = k8s.apiextensions.CustomResource(
            self.name,
            api_version=API_VERSION,
            kind="ClusterSecretStore",
            metadata=metadata(self.name, args.labels),
            spec={"conditions": store_conditions(args.namespaces), "provider": provider},
            opts=child_options(self, opts),
        )
        self.register_outputs({"name": self.name})


# --------------------------------------------------------------------------- credentials


@dataclass(frozen=True)
class ExternalCredentialSpec:
    """A gcp-secret-manager bundle as the stack resolved it (:func:`components.platform.external_credential_spec`)."""

    credential: Credential
    secret_name: str
    """``<service>-<env>-credentials``: the Secret ESO writes and the Secret Manager secret (:func:`conventions.credentials_name`)."""
    namespaces: tuple[str, ...]
    store: str
    """The ClusterSecretStore the ExternalSecrets read (:func:`conventions.store_name`)."""
    labels: Mapping[str, str]
    """The CONVENTIONS labels: on the ExternalSecrets and on the Secrets ESO writes."""
    gcp_labels: Mapping[str, str]
    """The Secret Manager secret's labels (GCP's alphabet, with ``service``)."""
    protect: bool
    refresh_interval: str
    project: str | None
    """None in local: no Secret Manager resources, the fake store stands in."""
    password_names: Mapping[str, str]
    """Per pushed generated key, its RandomPassword's resource name (``<service>-<key slug>``)."""
    stand_in_names: Mapping[str, str]
    """local: per property key, its stand-in RandomPassword's resource name (``<service>-<key slug>-stand-in``)."""
    replica_locations: tuple[str, ...] = ()
    accessor: str | None = None
    """The one IAM member granted secretAccessor on this secret (``serviceAccount:eso-<env>@...``)."""


def remote_properties(cred: Credential) -> dict[str, str]:
    """Secret key -> property of the remote JSON document; pushed keys are stored under their own name."""
    pushed = {k: k for k in cred.values} | {g.key: g.key for g in cred.generated} if cred.push else {}
    return {**pushed, **cred.properties}


def describe_external(args: ExternalCredentialSpec) -> list[SecretDescriptor]:
    """The Secrets ESO writes for this bundle (pure, like the other describe_* functions)."""
    cred, name = args.credential, args.secret_name
    keys = tuple(sorted(remote_properties(cred)))
    extra = {"remoteKey": name, "store": args.store}
    return [
        SecretDescriptor(name, namespace, OPAQUE, keys, BACKEND, cred.service, cred.rotation, extra)
        for namespace in sorted(args.namespaces)
    ]


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


class ExternalCredential(pulumi.ComponentResource):
    """``<service>-<env>-credentials`` kept in Secret Manager and copied by ESO into each consumer namespace."""

    TYPE = "secrets-platform:external-secrets:ExternalCredential"

    def __init__(self, name: str, args: ExternalCredentialSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        cred = args.credential
        self.secret_name = args.secret_name
        self.store = args.store
        self.properties = remote_properties(cred)
        child = child_options(self, opts)
        # GCP resources take the stack's gcp provider from this component's `providers`.
        gcp_child = pulumi.ResourceOptions(parent=self)
        keep = data_safety(args.protect)

        # Pushed values: generated once, stored centrally as JSON of key -> value.
        self.passwords: dict[str, random.RandomPassword] = {}
        if cred.push:
            for gen in sorted(cred.generated, key=lambda g: g.key):
                self.passwords[gen.key] = generated_password(args.password_names[gen.key], gen, {"rotation": cred.rotation}, child)
        # local only: stand-ins for the properties someone would add to Secret Manager by hand.
        if not args.project:
            for key in sorted(cred.properties):
                self.passwords[key] = random.RandomPassword(
                    args.stand_in_names[key],
                    length=32,
                    special=False,
                    opts=child,
                )
        document: pulumi.Output[str] | None = None
        if cred.push or not args.project:
            values = pulumi.Output.all(**{k: p.result for k, p in self.passwords.items()})
            by_property = {self.properties.get(k, k): v for k, v in cred.values.items()} if cred.push else {}
            as_json: pulumi.Output[str] = values.apply(
                lambda generated: json.dumps({**by_property, **{self.properties[k]: v for k, v in generated.items()}}, sort_keys=True)
            )
            document = pulumi.Output.secret(as_json)
        #: local: the fake store's entry for this bundle (a Pulumi secret).
        self.fake_entry = (
            document.apply(lambda doc: {"key": self.secret_name, "value": doc}) if document is not None and not args.project else None
        )

        self.remote: gcp.secretmanager.Secret | None = None
        self.version: gcp.secretmanager.SecretVersion | None = None
        self.grant: gcp.secretmanager.SecretIamMember | None = None
        if args.project:
            self.remote = gcp.secretmanager.Secret(
                conventions.child_resource_name(name, "secret"),
                secret_id=self.secret_name,
                project=args.project,
                replication=replication(args.replica_locations),
                labels=dict(args.gcp_labels),
                opts=pulumi.ResourceOptions.merge(gcp_child, pulumi.ResourceOptions(**keep)),
            )
            if document is not None:
                self.version = gcp.secretmanager.SecretVersion(
                    conventions.child_resource_name(name, "version"),
                    secret=self.remote.id,
                    secret_data=document,
                    opts=pulumi.ResourceOptions.merge(gcp_child, pulumi.ResourceOptions(additional_secret_outputs=["secretData"], **keep)),
                )
            if args.accessor:
                # On this one secret, for this one account: never a project-wide grant.
                self.grant = gcp.secretmanager.SecretIamMember(
                    conventions.child_resource_name(name, "accessor"),
                    project=args.project,
                    secret_id=conventions.gcp_secret_resource_name(args.project, self.secret_name),
                    role=SECRET_ACCESSOR,
                    member=args.accessor,
                    opts=pulumi.ResourceOptions.merge(gcp_child, pulumi.ResourceOptions(depends_on=[self.remote])),
                )

        spec = external_secret_spec(self.secret_name, self.store, self.properties, args.refresh_interval, args.labels)
        # ESO owns the Secret it writes; in prd the ExternalSecret is kept like a Secret would be.
        self.external_secrets = {
            namespace: k8s.apiextensions.CustomResource(
                conventions.object_key(namespace, self.secret_name),
                api_version=API_VERSION,
                kind="ExternalSecret",
                metadata=metadata(self.secret_name, args.labels, namespace),
                spec=spec,
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(**keep)),
            )
            for namespace in sorted(args.namespaces)
        }
        self.register_outputs({"secret_name": self.secret_name, "keys": sorted(self.properties)})
