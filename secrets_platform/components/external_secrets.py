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
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pulumi_random as random

from secrets_platform import conventions
from secrets_platform.components.common import child_options, data_safety, generated_password, metadata
from secrets_platform.components.operator import OperatorComponent
from secrets_platform.components.workload_identity import WorkloadIdentity
from secrets_platform.model.external_secrets import external_secret_spec, gcpsm_provider, replication, store_conditions
from secrets_platform.model.secrets import ExternalCredentialSpec
from secrets_platform.model.specs import EnvironmentStoreSpec, ExternalSecretsOperatorSpec

API_VERSION = "external-secrets.io/v1"
SECRET_ACCESSOR = "roles/secretmanager.secretAccessor"


# --------------------------------------------------------------------------- operator


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


class EnvironmentStore(pulumi.ComponentResource):
    """``ClusterSecretStore gcp-secret-manager-<env>``: usable from this environment's namespaces only."""

    TYPE = "secrets-platform:external-secrets:EnvironmentStore"

    def __init__(
        self,
        name: str,
        args: EnvironmentStoreSpec,
        opts: pulumi.ResourceOptions | None = None,
        fake_data: pulumi.Input[list] | None = None,
    ):
        """``fake_data``, local only: the fake provider's ``[{key, value}]`` entries (values are Pulumi secrets)."""
        super().__init__(self.TYPE, name, None, opts)
        self.name = args.name
        if args.project:
            provider: pulumi.Input[dict] = gcpsm_provider(args)
        else:
            fake: pulumi.Output[list[Any]] = pulumi.Output.secret(pulumi.Output.from_input(fake_data or []))
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


class ExternalCredential(pulumi.ComponentResource):
    """``<service>-<env>-credentials`` kept in Secret Manager and copied by ESO into each consumer namespace."""

    TYPE = "secrets-platform:external-secrets:ExternalCredential"

    def __init__(self, name: str, args: ExternalCredentialSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        self.secret_name = args.secret_name
        self.store = args.store
        self.properties = dict(args.properties)
        child = child_options(self, opts)
        document = self._document(args, child)
        #: local: the fake store's entry for this bundle (a Pulumi secret).
        self.fake_entry = (
            document.apply(lambda doc: {"key": self.secret_name, "value": doc}) if document is not None and not args.project else None
        )
        self._secret_manager(name, args, document)
        spec = external_secret_spec(self.secret_name, self.store, self.properties, args.refresh_interval, args.labels)
        # ESO owns the Secret it writes; in prd the ExternalSecret is kept like a Secret would be.
        self.external_secrets = {
            namespace: k8s.apiextensions.CustomResource(
                conventions.object_key(namespace, self.secret_name),
                api_version=API_VERSION,
                kind="ExternalSecret",
                metadata=metadata(self.secret_name, args.labels, namespace),
                spec=spec,
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(**data_safety(args.protect))),
            )
            for namespace in sorted(args.namespaces)
        }
        self.register_outputs({"secret_name": self.secret_name, "keys": sorted(self.properties)})

    def _document(self, args: ExternalCredentialSpec, child: pulumi.ResourceOptions) -> pulumi.Output[str] | None:
        """The bundle's JSON document (a Pulumi secret) of pushed values and local stand-ins, or None when nothing is pushed."""
        # Pushed values: generated once, stored centrally as JSON of key -> value.
        self.passwords: dict[str, random.RandomPassword] = {}
        if args.push:
            for gen in args.generated:
                self.passwords[gen.key] = generated_password(args.password_names[gen.key], gen, {"rotation": args.rotation}, child)
        # local only: stand-ins for the properties someone would add to Secret Manager by hand.
        if not args.project:
            for key in sorted(args.stand_in_names):
                self.passwords[key] = random.RandomPassword(
                    args.stand_in_names[key],
                    length=32,
                    special=False,
                    opts=child,
                )
        document: pulumi.Output[str] | None = None
        if args.push or not args.project:
            values = pulumi.Output.all(**{k: p.result for k, p in self.passwords.items()})
            by_property = {self.properties.get(k, k): v for k, v in args.values.items()} if args.push else {}
            as_json: pulumi.Output[str] = values.apply(
                lambda generated: json.dumps({**by_property, **{self.properties[k]: v for k, v in generated.items()}}, sort_keys=True)
            )
            document = pulumi.Output.secret(as_json)
        return document

    def _secret_manager(self, name: str, args: ExternalCredentialSpec, document: pulumi.Output[str] | None) -> None:
        """With a project: the Secret Manager secret, its pushed version and the one accessor grant."""
        # GCP resources take the stack's gcp provider from this component's `providers`.
        gcp_child = pulumi.ResourceOptions(parent=self)
        keep = data_safety(args.protect)
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
                    secret_id=args.secret_resource,
                    role=SECRET_ACCESSOR,
                    member=args.accessor,
                    opts=pulumi.ResourceOptions.merge(gcp_child, pulumi.ResourceOptions(depends_on=[self.remote])),
                )
