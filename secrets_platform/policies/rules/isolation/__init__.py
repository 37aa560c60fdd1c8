"""Isolation rules: two environments never share a secret, key, store, namespace or account.

CONVENTIONS, "The environment of a resource": every environment fact of a
resource (its stack, namespace, label, own name, and everything it binds, admits
or reads) names the same environment. The stack is the reference: its name is
the environment token, so a fact naming any other environment is a violation.

Two strengths, on purpose:
- what a resource *admits or reads* (a store's namespaces, a Vault role's
  namespaces, an ExternalSecret's remote keys) must carry the stack's token
  itself: a reference with no token cannot be shown to belong to this
  environment, and these are exactly the paths by which a prd value would leak;
- what a resource *grants to* (RoleBinding subjects, IAM members) and stack
  references only must not name another environment: a subject without a token
  (a controller's own namespace, a human group) is a least-privilege question,
  not an isolation one.

One module per concern; what they share (a resource's own environment, selector
pins) is ``policies.environment``:

- ``kubernetes``: an object's stack, namespace, label and name agree; RoleBinding subjects;
- ``external_secrets``: ExternalSecrets, PushSecrets, ClusterExternalSecrets and stores;
- ``vault``: Vault policies (environment and control paths), Kubernetes-auth roles, database engine;
- ``gcp``: GCP IAM grants;
- ``stacks``: StackReferences and the stack's own environment.

What this package does not do: judge breadth of access (``privilege``) or names
(``naming``).
"""

from __future__ import annotations

from secrets_platform.policies.rules.isolation import external_secrets, gcp, kubernetes, stacks, vault
from secrets_platform.policies.rules.isolation.external_secrets import (
    clusterexternalsecret_env,
    externalsecret_remote_key_env,
    pushsecret_env,
    secretstore_namespace_env,
)
from secrets_platform.policies.rules.isolation.gcp import gcp_iam_env
from secrets_platform.policies.rules.isolation.kubernetes import binding_subject_env, object_env_agree
from secrets_platform.policies.rules.isolation.stacks import stack_single_env, stackreference_env
from secrets_platform.policies.rules.isolation.vault import vault_database_env, vault_policy_control, vault_policy_env, vault_role_env

# The pack's order (its tests check it): by concern, each module's rules in its own order.
POLICIES = [
    *kubernetes.POLICIES,
    *external_secrets.POLICIES,
    *vault.POLICIES,
    *gcp.POLICIES,
    *stacks.POLICIES,
]

__all__ = [
    "POLICIES",
    "binding_subject_env",
    "clusterexternalsecret_env",
    "externalsecret_remote_key_env",
    "gcp_iam_env",
    "object_env_agree",
    "pushsecret_env",
    "secretstore_namespace_env",
    "stack_single_env",
    "stackreference_env",
    "vault_database_env",
    "vault_policy_control",
    "vault_policy_env",
    "vault_role_env",
]
