"""One local cluster with the local stack applied and its Vault side configured, shared by the Vault e2e modules.

test_audit_e2e, test_vault_database_e2e and test_vault each set up the same thing for themselves: a
cluster, OpenBao and PostgreSQL beside it, the local stack applied with the pack, make up's Vault step
(`python -m secrets_platform.localcluster.vault apply`) run on its outputs, then a destroy: three cluster starts, three
`pulumi up` and three destroys. The session now sets it up once (``vault_stack`` in tests/conftest.py),
and the three modules run one after the other at the end of the session (so no other cluster runs
beside this one), in the order of tests/conftest.py's ``VAULT_STACK_MODULES``, because each leaves marks the next must not judge:

- test_audit_e2e first: it counts reads in the API server's and OpenBao's audit logs (one lease, one
  `get`), which the other two modules' logins and leases would add to;
- test_vault_database_e2e second: it stops and restarts PostgreSQL and re-applies, leaving the state as
  it found it;
- test_vault last: its last test seals OpenBao and starts a new, empty one.

The stack holds test_vault's extra credential (``SHARED``: one Vault credential shared by two namespaces);
the other two modules judge only their own bundles (``warehouse``, ``salesforce``) and roles bound to one
namespace, which it does not change. test_vault_database_e2e's command-line sampler judged everything its
module ran, set-up included (cluster start, servers, `pulumi up`, apply): the set-up now runs under a
sampler of its own (``setup_sampler``), whose command lines that module judges with its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from local_project import LocalProject
from secrets_platform.localcluster import Cluster, free_port_base
from secrets_platform.localcluster import postgres as lp
from secrets_platform.localcluster.vault import OpenBao
from support import CmdlineSampler
from vault_client import run_apply

SHARED = {"service": "hubspot", "backend": "vault", "namespaces": ["dagster", "floe-jobs"], "properties": {"HUBSPOT_TOKEN": "token"}}
"""test_vault's second vault credential, shared by two namespaces."""


@dataclass
class VaultStack:
    cluster: Cluster
    bao: OpenBao
    pg: lp.LocalPostgres
    project: LocalProject
    outputs: Path
    """The stack outputs file make up's Vault step applied (it holds no secret)."""
    vault: dict
    """The stack's `vault` output."""
    apply: str
    """What the Vault step printed (stdout and stderr)."""
    setup_sampler: CmdlineSampler = field(repr=False)
    """Every command line seen while the stack was set up."""


def vault_stack(cluster_dir: Path, project_dir: Path) -> Iterator[VaultStack]:
    """Set the shared stack up (the cluster's data in ``cluster_dir``, the project's copy in ``project_dir``), yield it,
    then destroy it and stop everything, whatever happened (no server, pod, mount or cgroup left)."""
    cluster = Cluster(cluster_dir, port_base=free_port_base())
    bao, pg = OpenBao(cluster), lp.LocalPostgres(cluster)
    try:
        with CmdlineSampler() as sampler:
            cluster.start()
            bao.start()
            pg.start()
            project = LocalProject(project_dir, cluster)
            project.edit_stack(lambda c: c["secrets-platform:credentials"].append(SHARED))
            project.pulumi("up", "-s", "local", "--yes", "--policy-pack", "policies")
            outputs = project.root / "outputs.json"
            outputs.write_text(project.pulumi("stack", "output", "-s", "local", "--json").stdout)
            done = run_apply(cluster, outputs)
        assert done.returncode == 0, done.stderr
        vault = json.loads(outputs.read_text())["vault"]
        yield VaultStack(cluster, bao, pg, project, outputs, vault, done.stdout + done.stderr, sampler)
        project.pulumi("destroy", "-s", "local", "--yes", check=False)
    finally:
        pg.stop()
        bao.stop()
        cluster.destroy()
