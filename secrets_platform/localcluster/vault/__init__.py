"""OpenBao (Vault's API) for the local stack, and the operator path that applies the stack's Vault outputs.

pulumi-vault's provider can't be built offline (the module proxy refuses its
module), so Vault's own side is applied the way docs/backends.md tells an operator:
exactly the definitions in the stack's ``vault`` output, through Vault's HTTP API.

- :mod:`.server`: :class:`OpenBao`, a dev server (in memory, unsealed) on 127.0.0.1, started and
  stopped with the local cluster (``python -m secrets_platform.localcluster up|down``), its
  root token, its files and its file audit device (values HMACed).
- :mod:`.api`: :class:`VaultApi`, the few calls of Vault's HTTP API the operator path needs,
  and :class:`VaultError`, the one error of this package.
- :mod:`.plan`: :func:`plan_of`, the stack's ``vault`` output read into a :class:`Plan`, checked first.
- :mod:`.applier`: :func:`apply`: the Kubernetes auth method at the environment's path, reviewing
  tokens against the local API server with a token of the stack's ``vault-auth``
  service account (bound to ``system:auth-delegator``); the policies; the roles;
  KV v2 at the mount; a generated value for every property of each vault-backed
  credential that has none yet (never printed); the database engine, its
  connections and roles. It converges: what it made earlier and the outputs no
  longer declare is removed (roles under a declared auth path; and, recognised by
  the mark it leaves in Vault, an auth method at another path with its roles and
  tokens, a policy, a KV path or mount, a database mount with its issued users).
  Outputs that declare nothing (the last Vault credential removed) remove all of it.
- :mod:`.cli`: the command below.

``python -m secrets_platform.localcluster.vault --dir .cluster apply --stack-outputs FILE``: FILE is
``pulumi stack output --json`` of the local stack (its ``vault`` output holds no secret).
Exit 0 done, 2 a problem the message names (an unreachable or sealed Vault, a bad
outputs file, a missing service account), checked before anything is written.
"""

from secrets_platform.localcluster.vault.api import VaultApi, VaultError
from secrets_platform.localcluster.vault.applier import (
    AUTH_DESCRIPTION,
    AUTH_SERVICE_ACCOUNT,
    BUILTIN_POLICIES,
    DATABASE_DESCRIPTION,
    KV_DESCRIPTION,
    POLICY_MARK,
    REVIEWER_TOKEN_DURATION,
    SEEDED_BYTES,
    Kubernetes,
    apply,
    apply_local,
    declares_nothing,
    local_kubernetes,
)
from secrets_platform.localcluster.vault.cli import main
from secrets_platform.localcluster.vault.plan import Database, Plan, Role, load_outputs, plan_of
from secrets_platform.localcluster.vault.server import AUDIT_LOG_MAX_BYTES, PORT_OFFSET, OpenBao, bao_binary

__all__ = [
    "AUDIT_LOG_MAX_BYTES",
    "AUTH_DESCRIPTION",
    "AUTH_SERVICE_ACCOUNT",
    "BUILTIN_POLICIES",
    "DATABASE_DESCRIPTION",
    "KV_DESCRIPTION",
    "POLICY_MARK",
    "PORT_OFFSET",
    "REVIEWER_TOKEN_DURATION",
    "SEEDED_BYTES",
    "Database",
    "Kubernetes",
    "OpenBao",
    "Plan",
    "Role",
    "VaultApi",
    "VaultError",
    "apply",
    "apply_local",
    "bao_binary",
    "declares_nothing",
    "load_outputs",
    "local_kubernetes",
    "main",
    "plan_of",
]
