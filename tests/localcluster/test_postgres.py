"""The local database and Vault's database engine on it, for real: Debian's PostgreSQL and OpenBao on loopback.

No engine and no API server: the stack's database definitions (its `vault.databases`
output, computed from the local stack file) are applied by the operator path's
database step to a real OpenBao dev server configured against a real PostgreSQL, and
the users it issues are used with psql. Job-runner logins are the e2e tier's
(tests/e2e/test_vault_database_e2e.py).
"""

from __future__ import annotations

import json
import os
import time

import pytest
from support import stack_settings

from secrets_platform.localcluster import Cluster, free_port_base
from secrets_platform.localcluster import postgres as lp
from secrets_platform.localcluster import vault as lv
from secrets_platform.localcluster.vault.applier import _apply_databases
from secrets_platform.model import resolve
from secrets_platform.model.outputs import vault_outputs

pytestmark = pytest.mark.skipif(lp._bin_dir_or_none() is None, reason="no PostgreSQL server binaries (apt-get install postgresql)")


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp("pg") / "cluster", port_base=free_port_base())
    pg, bao = lp.LocalPostgres(cluster), lv.OpenBao(cluster)
    try:
        pg.start()
        bao.start()
        yield cluster, pg, bao
    finally:
        bao.stop()
        pg.stop()


def local_plan() -> lv.Plan:
    return lv.plan_of(json.loads(json.dumps(vault_outputs(resolve(stack_settings("local"))))))


def root_call(bao: lv.OpenBao, method: str, path: str, body=None) -> dict:
    return lv.VaultApi(bao.address, bao.root_token()).call(method, path, body)[1]


@pytest.fixture(scope="module")
def applied(servers):
    cluster, pg, bao = servers
    api = lv.VaultApi(bao.address, bao.root_token())
    plan = local_plan()
    _, mounts = api.call("GET", "sys/mounts")
    done = _apply_databases(api, plan, {d.service: pg.vault_login() for d in plan.databases}, mounts.get("data", mounts))
    return plan, done


def test_the_local_database_listens_on_loopback_only_and_keeps_its_passwords_private(servers):
    cluster, pg, _ = servers
    assert pg.pid() is not None and pg.healthy()
    sockets = {addr for _, addr in lp_listeners(pg.pid())}
    assert sockets == {("127.0.0.1", pg.port)}, f"postgres listens on {sockets}"
    for user in (lp.SUPERUSER, lp.VAULT_ADMIN):
        mode = os.stat(pg._secret_file(user)).st_mode & 0o777
        assert mode == 0o600, f"{pg._secret_file(user)} has mode {oct(mode)}"
        assert pg.password(user) not in pg.log.read_text(), f"the {user} password is in the database log"
    assert pg.sql("SELECT rolcreaterole, rolsuper FROM pg_roles WHERE rolname = 'vault_admin'").strip() == "t|f"


def lp_listeners(pid: int) -> list[tuple[str, tuple[str, int]]]:
    from secrets_platform.localcluster import _listening_sockets

    inodes = _listening_sockets()
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            out.append(("postgres", inodes[target[8:-1]]))
    return out


def test_a_failed_statement_with_a_password_is_not_logged(servers):
    """Vault's CREATE ROLE ... PASSWORD for every issued user: if one fails, the server logs the error, never the statement."""
    cluster, pg, _ = servers
    marker = "never-logged-marker-5e1f"
    failed = pg.psql(f"CREATE ROLE {lp.VAULT_ADMIN} WITH LOGIN PASSWORD '{marker}'")  # the role exists: refused
    assert failed.returncode != 0 and "already exists" in failed.stderr
    time.sleep(0.5)  # the server writes its log asynchronously
    log = pg.log.read_text()
    assert 'role "vault_admin" already exists' in log, "the error itself should be logged"
    assert marker not in log, "a failed statement's password reached the database log"


def test_a_restart_keeps_the_data_and_a_second_start_is_a_no_op(servers):
    cluster, pg, _ = servers
    assert pg.start() is False, "a running database must not be started twice"
    assert pg.stop() is True and pg.pid() is None
    assert pg.start() is True
    assert pg.sql("SELECT count(*) FROM public.pipeline_runs", database=lp.DATABASE).strip() == "1"


def test_vault_issues_a_user_that_connects_and_reads_what_its_grants_allow(servers, applied):
    cluster, pg, bao = servers
    plan, done = applied
    (db,) = plan.databases
    assert db.role == "warehouse-local" and any("database/config/warehouse-local" in line for line in done)
    creds = root_call(bao, "GET", f"{plan.database_mount}/creds/{db.role}")
    user, password = creds["data"]["username"], creds["data"]["password"]
    assert creds["lease_duration"] == 3600, "the local stack's defaultTtl is 1h"
    got = pg.psql("SELECT current_user, count(*) FROM public.pipeline_runs", user=user, password=password, database=lp.DATABASE)
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == f"{user}|1"
    # pg_read_all_data reads, it does not write
    denied = pg.psql("INSERT INTO public.pipeline_runs (pipeline) VALUES ('x')", user=user, password=password, database=lp.DATABASE)
    assert denied.returncode != 0 and "permission denied" in denied.stderr


def test_a_revoked_lease_drops_the_user(servers, applied):
    cluster, pg, bao = servers
    plan, _ = applied
    creds = root_call(bao, "GET", f"{plan.database_mount}/creds/{plan.databases[0].role}")
    user, password = creds["data"]["username"], creds["data"]["password"]
    assert pg.psql("SELECT 1", user=user, password=password, database=lp.DATABASE).returncode == 0
    root_call(bao, "PUT", "sys/leases/revoke", {"lease_id": creds["lease_id"]})
    refused = pg.psql("SELECT 1", user=user, password=password, database=lp.DATABASE)
    assert refused.returncode != 0 and "password authentication failed" in refused.stderr
    assert pg.sql(f"SELECT count(*) FROM pg_roles WHERE rolname = '{user}'").strip() == "0", "the revoked user still exists"


def test_a_lease_that_runs_out_drops_the_user(servers, applied):
    cluster, pg, bao = servers
    plan, _ = applied
    creds = root_call(bao, "GET", f"{plan.database_mount}/creds/{plan.databases[0].role}")
    user, password = creds["data"]["username"], creds["data"]["password"]
    # renewing with a 1 s increment makes the lease end a second from now (Vault's expiry, not a revoke call)
    root_call(bao, "PUT", "sys/leases/renew", {"lease_id": creds["lease_id"], "increment": 1})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and pg.sql(f"SELECT count(*) FROM pg_roles WHERE rolname = '{user}'").strip() != "0":
        time.sleep(0.5)
    refused = pg.psql("SELECT 1", user=user, password=password, database=lp.DATABASE)
    assert refused.returncode != 0 and "password authentication failed" in refused.stderr


def test_applying_again_changes_nothing_and_removes_what_the_outputs_no_longer_name(servers, applied):
    cluster, pg, bao = servers
    plan, _ = applied
    api = lv.VaultApi(bao.address, bao.root_token())
    mount = plan.database_mount
    api.call("POST", f"{mount}/roles/stale-local", {"db_name": plan.databases[0].connection, "creation_statements": ["SELECT 1"]})
    _, mounts = api.call("GET", "sys/mounts")
    done = _apply_databases(api, plan, {d.service: pg.vault_login() for d in plan.databases}, mounts["data"])
    assert f"removed {mount}/roles/stale-local (no longer in the outputs)" in done
    assert not any("enabled the database secrets engine" in line for line in done)
    assert root_call(bao, "LIST", f"{mount}/roles")["data"]["keys"] == [plan.databases[0].role]


def test_a_wrong_database_password_is_refused_when_the_connection_is_written(servers):
    cluster, pg, bao = servers
    plan = local_plan()
    api = lv.VaultApi(bao.address, bao.root_token())
    wrong = lp.Login(pg.vault_login().connection_url, lp.VAULT_ADMIN, "not-the-password")
    _, mounts = api.call("GET", "sys/mounts")
    with pytest.raises(lv.VaultError) as err:
        _apply_databases(api, plan, {d.service: wrong for d in plan.databases}, mounts["data"])
    assert "database/config/warehouse-local" in str(err.value) and "not-the-password" not in str(err.value)


def test_apply_without_a_connection_for_a_bundle_writes_nothing(servers):
    cluster, pg, bao = servers
    with pytest.raises(lv.VaultError, match="no database connection for the vault-database bundles warehouse"):
        lv.apply(lv.VaultApi("http://127.0.0.1:9", "never-used"), local_plan(), lv.Kubernetes("https://x", "ca", "jwt"), {})


def test_data_of_another_postgresql_version_is_named_with_the_fix(tmp_path):
    cluster = Cluster(tmp_path / "cluster", port_base=free_port_base())
    pg = lp.LocalPostgres(cluster)
    pg.data.mkdir(parents=True)
    (pg.data / "PG_VERSION").write_text("9\n")
    with pytest.raises(lp.PostgresError) as err:
        pg.start()
    assert "made by PostgreSQL 9" in str(err.value) and "make destroy" in str(err.value)
    assert pg.pid() is None


def test_a_port_in_use_is_named_with_the_fix(tmp_path):
    import socket

    cluster = Cluster(tmp_path / "cluster", port_base=free_port_base())
    pg = lp.LocalPostgres(cluster)
    with socket.socket() as s:
        s.bind(("127.0.0.1", pg.port))
        s.listen()
        with pytest.raises(lp.PostgresError, match=f"port {pg.port} on 127.0.0.1 .* already in use"):
            pg.start()
    assert pg.pid() is None
