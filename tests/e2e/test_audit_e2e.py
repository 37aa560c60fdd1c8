"""Who read which credential, on the real local systems: the API server's and OpenBao's audit logs, and `secrets-platform audit`.

The local stack is applied to the module's cluster (with the pack), make up's Vault
step configures OpenBao and its database engine against the local PostgreSQL, then:
a job runner's TokenRequest token reads its own Secret over HTTPS, the admin runs
`kubectl get secret`, dagster's job runner leases a warehouse user from Vault. The CLI
runs as a user runs it (the console script) on a copy of the project whose stack
points at the module's cluster.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from local_project import ROOT, LocalProject, engine_missing
from vault_client import http, run_apply

from secrets_platform import conventions
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
OWN_SECRET = "snowflake-local-credentials"
RUNNER = f"system:serviceaccount:{NAMESPACE}:{conventions.JOB_RUNNER}"
CLI = ROOT / ".venv" / "bin" / "secrets-platform"
ISSUED: list[str] = []
"""Every token the tests used (credentials too: none may be in an audit file)."""


@pytest.fixture(scope="module")
def cluster(own_cluster):
    """A cluster of this module's own (tests/conftest.py), not the session's shared one: the tests count reads in its
    API server's audit log, which must hold this module's reads alone."""
    return own_cluster


@pytest.fixture(scope="module")
def servers(cluster):
    bao, pg = OpenBao(cluster), lp.LocalPostgres(cluster)
    bao.start()
    pg.start()
    yield bao, pg
    pg.stop()
    bao.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, cluster, servers):
    p = LocalProject(tmp_path_factory.mktemp("audit"), cluster)
    p.pulumi("up", "-s", "local", "--yes", "--policy-pack", "policies")
    outputs = p.root / "outputs.json"
    outputs.write_text(p.pulumi("stack", "output", "-s", "local", "--json").stdout)
    done = run_apply(cluster, outputs)
    assert done.returncode == 0, done.stderr
    yield {"project": p, "vault": json.loads(outputs.read_text())["vault"]}
    p.pulumi("destroy", "-s", "local", "--yes", check=False)


def audit(p: LocalProject, *args: str) -> tuple[int, dict, str]:
    done = subprocess.run(
        [str(CLI), "--project-dir", str(p.root), "audit", "--stack", "local", "--json", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(p.root)},
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout), done.stderr


def credential(data: dict, name: str) -> dict:
    return next(c for c in data["credentials"] if c["name"] == name)


def token_of(cluster, namespace: str, audience: str | None = None) -> str:
    args = ["create", "token", conventions.JOB_RUNNER, "-n", namespace, "--duration=10m"]
    token = cluster.kubectl(*args, *(["--audience", audience] if audience else [])).stdout.strip()
    ISSUED.append(token)
    return token


def get_secret_as(cluster, token: str, namespace: str, name: str) -> int:
    """GET the Secret over HTTPS with a bearer token (the API server's CA, no client certificate)."""
    ctx = ssl.create_default_context(cafile=str(cluster.pki / "ca.crt"))
    req = urllib.request.Request(
        f"{cluster.server}/api/v1/namespaces/{namespace}/secrets/{name}", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10, context=ctx) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def test_a_job_runners_read_of_its_own_secret_shows_within_seconds(cluster, stack):
    p = stack["project"]
    assert get_secret_as(cluster, token_of(cluster, NAMESPACE), NAMESPACE, OWN_SECRET) == 200
    read_at = time.monotonic()
    while True:
        code, data, _ = audit(p, "--since", "10m")
        reads = {r["identity"]: r for r in credential(data, f"{NAMESPACE}/{OWN_SECRET}")["reads"]}
        if RUNNER in reads or time.monotonic() - read_at > 20:
            break
        time.sleep(0.5)
    shown = time.monotonic() - read_at
    runner = reads[RUNNER]
    assert (runner["namespace"], runner["serviceAccount"], runner["how"], runner["declared"]) == (
        NAMESPACE,
        conventions.JOB_RUNNER,
        {"get": 1},
        True,
    )
    assert shown < 10, f"the read showed after {shown:.1f} s"
    assert not any(f["credential"] == f"{NAMESPACE}/{OWN_SECRET}" and f["identity"] == RUNNER for f in data["findings"])


def test_a_runner_refused_another_namespaces_secret_shows_as_denied(cluster, stack):
    assert get_secret_as(cluster, token_of(cluster, "flytesnacks-local"), NAMESPACE, OWN_SECRET) == 403
    _, data, _ = audit(stack["project"])
    [refused] = [
        r for r in credential(data, f"{NAMESPACE}/{OWN_SECRET}")["reads"] if r["identity"].endswith(":flytesnacks-local:job-runner")
    ]
    assert refused["count"] == 0 and refused["denied"] == 1


def test_an_admins_kubectl_get_secret_is_a_non_consumer_read(cluster, stack):
    cluster.kubectl("get", "secret", "minio-local-credentials", "-n", NAMESPACE, "-o", "name")
    code, data, err = audit(stack["project"])
    assert code == 1 and "finding" in err
    [finding] = [
        f for f in data["findings"] if f["kind"] == "non-consumer-read" and f["credential"] == f"{NAMESPACE}/minio-local-credentials"
    ]
    assert finding["identity"] == "secrets-platform-admin"
    [admin] = [r for r in credential(data, f"{NAMESPACE}/minio-local-credentials")["reads"] if r["identity"] == "secrets-platform-admin"]
    assert admin["role"] == "person" and admin["declared"] is False and admin["how"] == {"get": 1}


def test_dagsters_database_lease_shows_on_the_warehouse_role(cluster, servers, stack):
    bao, pg = servers
    vault = stack["vault"]
    (db,) = [d for d in vault["databases"] if d["service"] == "warehouse"]
    role = next(r for r in vault["roles"] if r["boundServiceAccountNamespaces"] == [NAMESPACE])
    status, login = http(
        bao, "POST", f"{role['authPath']}/login", body={"role": role["roleName"], "jwt": token_of(cluster, NAMESPACE, role["audience"])}
    )
    assert status == 200, login.get("errors")
    status, creds = http(bao, "GET", db["credsPath"], login["auth"]["client_token"])
    assert status == 200, creds.get("errors")
    stack["lease"], stack["lease_token"] = creds["data"], login["auth"]["client_token"]
    _, data, _ = audit(stack["project"])
    reads = credential(data, db["credsPath"])["reads"]
    [lease] = [r for r in reads if r["namespace"] == NAMESPACE]
    assert (lease["serviceAccount"], lease["how"], lease["declared"], lease["count"]) == (conventions.JOB_RUNNER, {"lease": 1}, True, 1)


def test_a_credential_no_test_read_is_reported_unused(stack):
    code, data, _ = audit(stack["project"])
    unused = {f["credential"] for f in data["findings"] if f["kind"] == "unused"}
    assert "flytesnacks-local/minio-local-credentials" in unused
    assert credential(data, "flytesnacks-local/minio-local-credentials")["unused"] is True
    assert f"{NAMESPACE}/{OWN_SECRET}" not in unused
    assert code == 1 and data["unparsed"] == 0


def test_no_audit_file_holds_a_value_the_run_created(cluster, servers, stack):
    """Every secret value of the run (Secrets, Vault values, the leased password, tokens, passwords): in no audit file."""
    bao, pg = servers
    p = stack["project"]
    vault = stack["vault"]
    # a job runner reads its Vault bundle (the response carries the values, which the device must HMAC)
    (salesforce,) = [c for c in vault["credentials"] if c["service"] == "salesforce"]
    (reader_ns,) = salesforce["namespaces"]
    role = next(r for r in vault["roles"] if r["boundServiceAccountNamespaces"] == [reader_ns])
    status, login = http(
        bao, "POST", f"{role['authPath']}/login", body={"role": role["roleName"], "jwt": token_of(cluster, reader_ns, role["audience"])}
    )
    assert status == 200, login.get("errors")
    ISSUED.append(login["auth"]["client_token"])
    kv_path = f"{vault['mount']}/data/{salesforce['path'].split('/', 1)[1]}"
    status, read = http(bao, "GET", kv_path, login["auth"]["client_token"])
    assert status == 200 and read["data"]["data"], read.get("errors")
    values = {v for data in p.secrets().values() for v in data.values() if len(v) >= 16}
    values |= set(read["data"]["data"].values())
    root = bao.root_token()
    for c in vault["credentials"]:
        status, doc = http(bao, "GET", f"{vault['mount']}/data/{c['path'].split('/', 1)[1]}", root)
        assert status == 200
        values |= set(doc["data"]["data"].values())
    if "lease" in stack:
        values |= {stack["lease"]["password"], stack["lease_token"]}
    values |= {root, pg.password(lp.VAULT_ADMIN), pg.password(lp.SUPERUSER), *ISSUED}
    assert len(values) >= 8, "the run created fewer values than expected: the check would prove little"
    files = [*sorted((cluster.root / "audit").glob("*.log")), *sorted(bao.root.glob("audit.log*"))]
    assert {f.name for f in files} >= {"kube-apiserver.log", "audit.log"}
    for f in files:
        text = f.read_text(errors="replace")
        assert text.strip(), f"{f} is empty"
        leaked = [v for v in values if v in text]
        assert not leaked, f"{len(leaked)} secret value(s) in {f}"
    # the logs are the owner's only
    assert (cluster.root / "audit").stat().st_mode & 0o077 == 0
    assert Path(bao.audit_log).stat().st_mode & 0o077 == 0
