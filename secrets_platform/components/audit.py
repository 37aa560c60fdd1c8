"""Where every read of a credential is recorded, for environments whose stack owns the log switch.

CONVENTIONS, "Audit": a read is recorded where it happens, never with its value.

- GCP Data Access audit logs (``projects.IAMAuditConfig``, one per service) in the
  environment's project: Secret Manager (``secretmanager.googleapis.com``: an
  ``AccessSecretVersion`` is a ``DATA_READ``) and the Kubernetes Engine API
  (``container.googleapis.com``: GKE writes the Kubernetes API server's reads,
  ``protoPayload.serviceName = "k8s.io"``, to the Data Access log under this
  service's configuration). ``ADMIN_READ`` too, so listing secrets and reading their
  metadata is recorded. Admin Activity logs (writes) are always on and not configured.
- A Vault audit device (pulumi-vault ``Audit``, type ``file`` to the server's stdout,
  which GKE ships to Cloud Logging) where the stack applies Vault's side itself
  (``vault.address`` set). Its values are HMACed (``log_raw`` is never set).

The local stack has neither: its API server and OpenBao write audit files of their own
(secrets_platform/localcluster/). Nothing here turns a log off on delete: every resource is
``retain_on_delete`` (several environments may share one project, and destroying
one stack must not stop another's logs), and protected in prd.
"""

from __future__ import annotations

import pulumi

from secrets_platform.model.specs import AuditSpec


class AuditLogs(pulumi.ComponentResource):
    """The stack's Data Access audit configs and Vault audit device: exactly what its spec lists."""

    TYPE = "secrets-platform:audit:Logs"

    def __init__(
        self,
        name: str,
        spec: AuditSpec,
        opts: pulumi.ResourceOptions | None = None,
        vault_provider: pulumi.ProviderResource | None = None,
    ):
        super().__init__(self.TYPE, name, None, opts)
        keep = pulumi.ResourceOptions(parent=self, protect=spec.protect, retain_on_delete=True)
        self.data_access = {}
        if spec.data_access:
            import pulumi_gcp as gcp

            for item in spec.data_access:
                self.data_access[item.service] = gcp.projects.IAMAuditConfig(
                    item.resource_name,
                    project=item.project,
                    service=item.service,
                    audit_log_configs=[gcp.projects.IAMAuditConfigAuditLogConfigArgs(log_type=t) for t in item.log_types],
                    opts=keep,
                )
        self.vault_device = None
        if spec.vault is not None:
            if vault_provider is None:
                raise ValueError("a Vault audit device needs the stack's vault provider (vault.address set)")
            import pulumi_vault as vault

            device = spec.vault
            self.vault_device = vault.Audit(
                device.resource_name,
                path=device.path,
                type=device.type,
                description=device.description,
                options=dict(device.options),
                opts=pulumi.ResourceOptions.merge(
                    keep, pulumi.ResourceOptions(provider=vault_provider, depends_on=opts.depends_on if opts else None)
                ),
            )
        self.register_outputs(
            {"dataAccessLogs": [i.service for i in spec.data_access], "vaultAuditDevice": spec.vault.path if spec.vault else None}
        )
