"""HashiCorp Vault for one environment: the server, Kubernetes auth, and read-only access for job runners.

- :class:`VaultServer`: namespace ``vault-<env>``, the ``vault-auth`` service
  account the server runs as (bound to ``system:auth-delegator`` so Vault can
  review job-runner tokens; that ClusterRole creates TokenReviews and
  SubjectAccessReviews and touches no Secret), and the pinned chart: HA with
  integrated storage (raft) where settings ask for it (always in stg and prd),
  the agent injector on, dev mode only if settings allowed it (local only);
- :class:`VaultAccess`: Vault's own side, with pulumi-vault when the stack gives
  an address: the Kubernetes auth method ``kubernetes-<env>`` and, per namespace
  that declares Vault credentials, the policy ``<mount>-<namespace>-read`` (only
  those credentials' paths) and the role ``job-runner-<namespace>`` (only that
  namespace's job-runner). Without an address the same policies and roles are stack
  outputs an operator applies. A namespace without Vault credentials gets no role.

The names, policies, roles and agent fragments are the model's (:mod:`secrets_platform.model.vault`).
Nothing here writes values into Vault, and nothing unseals or initialises it (docs/backends.md says how).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from secrets_platform import conventions
from secrets_platform.components.common import metadata
from secrets_platform.components.operator import OperatorComponent
from secrets_platform.model.specs import VaultServerSpec
from secrets_platform.model.vault import AUTH_DELEGATOR, VaultAccessSpec

# --------------------------------------------------------------------------- server


class VaultServer(OperatorComponent):
    """Vault's namespace, its token-reviewer identity and (optionally) the chart."""

    TYPE = "secrets-platform:vault:Server"

    def __init__(self, name: str, args: VaultServerSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        after_ns = self._own_namespace(args, opts)
        self._own_service_account(args.service_account, args.labels, after_ns)
        binding = args.auth_delegator
        self.auth_delegator = k8s.rbac.v1.ClusterRoleBinding(
            binding,
            metadata=metadata(binding, args.labels),
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": AUTH_DELEGATOR},
            subjects=[{"kind": "ServiceAccount", "name": args.service_account, "namespace": self.namespace}],
            opts=after_ns,
        )
        self._install_chart(name, args.install, args.chart, after_ns)
        self.register_outputs({"namespace": self.namespace})


# --------------------------------------------------------------------------- Vault's own side


class VaultAccess(pulumi.ComponentResource):
    """Kubernetes auth of one environment, and per namespace its read-only policy and job-runner role."""

    TYPE = "secrets-platform:vault:Access"

    def __init__(self, name: str, args: VaultAccessSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        import pulumi_vault as vault  # only stacks that configure Vault load the provider SDK

        names = args.names
        self.provider = vault.Provider(args.provider_name, address=args.address, opts=pulumi.ResourceOptions(parent=self))
        child = pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=opts.depends_on if opts else None)
        self.auth_backend = vault.AuthBackend(
            conventions.child_resource_name(name, "auth"),
            type="kubernetes",
            path=names.auth_path,
            description=f"secrets-platform: Kubernetes auth of {names.environment}",
            opts=child,
        )
        after_auth = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.auth_backend]))
        self.auth_config = vault.kubernetes.AuthBackendConfig(
            conventions.child_resource_name(name, "auth-config"),
            backend=names.auth_path,
            kubernetes_host=args.kubernetes_host,
            opts=after_auth,
        )
        self.policies: dict[str, Any] = {}
        self.roles: dict[str, Any] = {}
        for item in args.access:
            role = item.role
            policy = vault.Policy(
                conventions.child_resource_name(name, item.namespace, "policy"), name=item.policy, policy=item.hcl, opts=child
            )
            self.policies[item.namespace] = policy
            self.roles[item.namespace] = vault.kubernetes.AuthBackendRole(
                conventions.child_resource_name(name, item.namespace, "role"),
                backend=role.backend,
                role_name=role.name,
                bound_service_account_names=list(role.service_accounts),
                bound_service_account_namespaces=list(role.namespaces),
                audience=role.audience,
                token_policies=list(role.policies),
                token_ttl=role.token_ttl,
                token_max_ttl=role.token_max_ttl,
                opts=pulumi.ResourceOptions.merge(after_auth, pulumi.ResourceOptions(depends_on=[self.auth_backend, policy])),
            )
        self.database_roles: dict[str, Any] = {}
        if args.databases:
            self._databases(vault, name, args, child)
        self.register_outputs({"policies": [a.policy for a in args.access], "roles": [a.role.name for a in args.access]})

    def _databases(self, vault: Any, name: str, args: VaultAccessSpec, child: pulumi.ResourceOptions) -> None:
        """The database engine's mount and, per vault-database bundle, its connection and role."""
        names = args.names
        mount = vault.Mount(
            conventions.child_resource_name(name, "database"),
            path=names.database_mount,
            type="database",
            description=f"secrets-platform: short-lived database users of {names.environment}",
            opts=child,
        )
        after_mount = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[mount]))
        for db_role, login in args.databases:
            connection = vault.database.SecretBackendConnection(
                conventions.child_resource_name(name, db_role.service, "connection"),
                backend=mount.path,
                name=db_role.name,
                allowed_roles=[db_role.name],
                verify_connection=True,
                postgresql=vault.database.SecretBackendConnectionPostgresqlArgs(
                    connection_url=login.connection_url, username=login.username, password=pulumi.Output.secret(login.password.reveal())
                ),
                opts=after_mount,
            )
            self.database_roles[db_role.service] = vault.database.SecretBackendRole(
                conventions.child_resource_name(name, db_role.service, "database-role"),
                backend=mount.path,
                name=db_role.name,
                db_name=connection.name,
                creation_statements=db_role.creation_statements(),
                revocation_statements=db_role.revocation_statements(),
                default_ttl=db_role.default_ttl,
                max_ttl=db_role.max_ttl,
                opts=pulumi.ResourceOptions.merge(after_mount, pulumi.ResourceOptions(depends_on=[connection])),
            )
