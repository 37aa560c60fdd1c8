"""Short-lived database users for real: job runners' own tokens lease PostgreSQL users from Vault.

The local stack (its `warehouse` bundle: backend vault-database, namespace dagster) is
applied to the module's cluster, then make up's Vault step (`python -m secrets_platform.localcluster.vault
apply`) configures an OpenBao dev server's database engine against the local PostgreSQL.
Tokens come from TokenRequest with the role's audience; users are tried with psql. The whole
module runs under a command-line sampler: no secret it handles (the root token, the database
passwords, job-runner tokens, issued users' passwords) may appear on any process's command line.
"""

from __future__ import annotations

import json
import time

import pytest
from local_project import LocalProject, engine_missing
from support import CmdlineSampler
from vault_client import http, run_apply

from secrets_platform import conventions
from secrets_platform.localcluster import Cluster
from secrets_platform.localcluster import postgres as lp
from secrets_platform.localcluster.vault import OpenBao

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        engine_missing() is not None or lp._bin_dir_or_none() is None,
        reason=engine_missing() or "no PostgreSQL server binaries (apt-get install postgresql)",
    ),
]

NAMESPACE = "dagster-local"
# Every secret value the module handles (name -> value), checked against every command line seen meanwhile.
KNOWN: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def no_secret_on_a_command_line():
    """Samples every process's command line for the whole module; none may hold a known secret.

    The cluster's start is sampled when this module is the first to borrow the session's cluster; one started
    before could not carry these secrets: every one is made in this module (OpenBao and PostgreSQL, and their
    files, are new for each module that starts them: tests/cluster_pool.py)."""
    KNOWN.clear()
    with CmdlineSampler() as sampler:
        yield
    assert KNOWN, "the module registered no secret to look for"
    assert sampler.leaks(KNOWN) == []


@pytest.fixture(scope="module")
def servers(cluster):
    bao, pg = OpenBao(cluster), lp.LocalPostgres(cluster)
    bao.start()
    pg.start()
    KNOWN.update({"root token": bao.root_token(), "vault_admin": pg.password(lp.VAULT_ADMIN), "superuser": pg.password(lp.SUPERUSER)})
    yield bao, pg
    pg.stop()
    bao.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, cluster, servers):
    p = LocalProject(tmp_path_factory.mktemp("vaultdb"), cluster)
    p.pulumi("up", "-s", "local", "--yes", "--policy-pack", "policies")
    outputs = p.root / "outputs.json"
    outputs.write_text(p.pulumi("stack", "output", "-s", "local", "--json").stdout)
    done = run_apply(cluster, outputs)
    assert done.returncode == 0, done.stderr
    yield {"project": p, "outputs": outputs, "vault": json.loads(outputs.read_text())["vault"], "apply": done.stdout + done.stderr}
    p.pulumi("destroy", "-s", "local", "--yes", check=False)


def database(vault: dict) -> dict:
    (db,) = [d for d in vault["databases"] if d["service"] == "warehouse"]
    return db


def role_for(vault: dict, namespace: str) -> dict | None:
    return next((r for r in vault["roles"] if r["boundServiceAccountNamespaces"] == [namespace]), None)


def runner_token(cluster: Cluster, bao: OpenBao, vault: dict, namespace: str, audience: str | None = None) -> tuple[int, dict]:
    """Log in as the namespace's job runner with a TokenRequest token (the namespace's role, or the dagster one if it has none)."""
    role = role_for(vault, namespace) or role_for(vault, NAMESPACE)
    assert role is not None, f"no Vault role for {namespace} or {NAMESPACE}"
    jwt = cluster.kubectl(
        "create", "token", conventions.JOB_RUNNER, "-n", namespace, "--audience", audience or role["audience"], "--duration=10m"
    ).stdout.strip()
    KNOWN[f"JWT {len(KNOWN)}"] = jwt
    status, doc = http(bao, "POST", f"{role['authPath']}/login", body={"role": role["roleName"], "jwt": jwt})
    if status == 200:
        KNOWN[f"token {len(KNOWN)}"] = doc["auth"]["client_token"]
    return status, doc


def lease(cluster: Cluster, bao: OpenBao, vault: dict) -> tuple[str, dict]:
    status, doc = runner_token(cluster, bao, vault, NAMESPACE)
    assert status == 200, f"{NAMESPACE}/{conventions.JOB_RUNNER} could not log in: {doc.get('errors')}"
    token = doc["auth"]["client_token"]
    status, creds = http(bao, "GET", database(vault)["credsPath"], token)
    assert status == 200, f"{NAMESPACE}/{conventions.JOB_RUNNER} cannot read {database(vault)['credsPath']}: {creds.get('errors')}"
    KNOWN[f"password of {creds['data']['username']}"] = creds["data"]["password"]
    return token, creds


def user_exists(pg: lp.LocalPostgres, user: str) -> bool:
    return pg.sql(f"SELECT count(*) FROM pg_roles WHERE rolname = '{user}'").strip() == "1"


def wait_gone(pg: lp.LocalPostgres, user: str, timeout: float = 30) -> None:
    """Vault revokes leases in the background: the user is dropped within seconds, not necessarily before the call returns."""
    deadline = time.monotonic() + timeout
    while user_exists(pg, user) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not user_exists(pg, user), f"{user} still exists {timeout:.0f} s after its lease ended"


def test_the_job_runners_user_connects_and_runs_a_query(cluster, servers, stack):
    bao, pg = servers
    _, creds = lease(cluster, bao, stack["vault"])
    user, password = creds["data"]["username"], creds["data"]["password"]
    got = pg.psql("SELECT current_user, count(*) FROM public.pipeline_runs", user=user, password=password, database=lp.DATABASE)
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == f"{user}|1"
    assert creds["lease_duration"] == database(stack["vault"])["defaultTtl"] == 3600
    assert creds["renewable"] is True


def test_revoking_the_job_runners_token_drops_its_user(cluster, servers, stack):
    bao, pg = servers
    token, creds = lease(cluster, bao, stack["vault"])
    user, password = creds["data"]["username"], creds["data"]["password"]
    assert pg.psql("SELECT 1", user=user, password=password, database=lp.DATABASE).returncode == 0
    # what a job does when it ends: revoke its own token (the default policy allows it); its leases go with it
    assert http(bao, "POST", "auth/token/revoke-self", token)[0] == 204
    wait_gone(pg, user)
    refused = pg.psql("SELECT 1", user=user, password=password, database=lp.DATABASE)
    assert refused.returncode != 0 and "password authentication failed" in refused.stderr


def test_a_lease_that_runs_out_drops_its_user(cluster, servers, stack):
    bao, pg = servers
    token, creds = lease(cluster, bao, stack["vault"])
    user, password = creds["data"]["username"], creds["data"]["password"]
    # the job runner shortens its own lease (sys/leases/renew is in the default policy): it ends a second from now
    status, doc = http(bao, "PUT", "sys/leases/renew", token, {"lease_id": creds["lease_id"], "increment": 1})
    assert status == 200, doc.get("errors")
    wait_gone(pg, user)
    assert pg.psql("SELECT 1", user=user, password=password, database=lp.DATABASE).returncode != 0


def test_a_job_runner_of_another_namespace_gets_nothing(cluster, servers, stack):
    bao, _ = servers
    vault = stack["vault"]
    creds_path = database(vault)["credsPath"]
    assert database(vault)["namespaces"] == [NAMESPACE]
    # floe-jobs has a role of its own (the salesforce KV bundle): it logs in, and its token may not lease a warehouse user
    status, doc = runner_token(cluster, bao, vault, "floe-jobs-local")
    assert status == 200, doc.get("errors")
    status, _ = http(bao, "GET", creds_path, doc["auth"]["client_token"])
    assert status == 403, f"floe-jobs-local/{conventions.JOB_RUNNER} leases a warehouse user (HTTP {status})"
    # flytesnacks has no Vault bundle, so no role: it can't even log in with dagster's
    status, _ = runner_token(cluster, bao, vault, "flytesnacks-local")
    assert status in (400, 403), f"flytesnacks-local/{conventions.JOB_RUNNER} logs in (HTTP {status})"


def test_a_token_with_the_wrong_audience_gets_no_user(cluster, servers, stack):
    bao, _ = servers
    status, _ = runner_token(cluster, bao, stack["vault"], NAMESPACE, audience="not-vault")
    assert status in (400, 403), f"a {NAMESPACE} token with the wrong audience logs in (HTTP {status})"


def test_the_consumer_snippet_reads_the_path_the_policy_allows(stack):
    vault = stack["vault"]
    db = database(vault)
    snippet = db["consumers"][NAMESPACE]
    annotations = snippet["podAnnotations"]
    role = role_for(vault, NAMESPACE)
    assert role is not None and annotations["vault.hashicorp.com/role"] == role["roleName"]
    assert annotations["vault.hashicorp.com/agent-inject-secret-warehouse-database.env"] == db["credsPath"]
    template = annotations["vault.hashicorp.com/agent-inject-template-warehouse-database.env"]
    assert "WAREHOUSE_USER='{{ .Data.username }}'" in template and "WAREHOUSE_PASSWORD='{{ .Data.password }}'" in template
    policy = next(p for p in vault["policies"] if p["namespace"] == NAMESPACE)
    assert f'path "{db["credsPath"]}"' in policy["hcl"]
    for other in vault["policies"]:
        if other["namespace"] != NAMESPACE:
            assert db["credsPath"] not in other["hcl"], f"{other['name']} reads warehouse users"


def test_no_database_password_is_in_the_outputs_or_the_apply_output(servers, stack):
    _, pg = servers
    for user in (lp.VAULT_ADMIN, lp.SUPERUSER):
        secret = pg.password(user)
        assert secret not in stack["outputs"].read_text(), f"the {user} password is in the stack outputs"
        assert secret not in stack["apply"], f"the {user} password is in the apply output"
        assert secret not in stack["project"].state_text(), f"the {user} password is in the stack state"


def test_apply_with_the_database_stopped_names_it_and_writes_nothing(cluster, servers, stack):
    bao, pg = servers
    root = bao.root_token()
    policy = next(p for p in stack["vault"]["policies"] if p["namespace"] == NAMESPACE)["name"]
    assert http(bao, "DELETE", f"sys/policies/acl/{policy}", root)[0] == 204
    pg.stop()
    try:
        done = run_apply(cluster, stack["outputs"])
        assert done.returncode == 2, done.stdout + done.stderr
        assert "local database (PostgreSQL)" in done.stderr and "nothing was applied" in done.stderr
        assert "Traceback" not in done.stderr
        assert http(bao, "GET", f"sys/policies/acl/{policy}", root)[0] == 404, "apply wrote a policy before refusing"
    finally:
        pg.start()
    done = run_apply(cluster, stack["outputs"])
    assert done.returncode == 0, done.stderr
    assert http(bao, "GET", f"sys/policies/acl/{policy}", root)[0] == 200
