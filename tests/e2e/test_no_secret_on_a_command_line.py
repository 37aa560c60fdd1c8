"""No secret rides on a command line while make up's steps run and the local stack is used.

Any local user reads every process's ``/proc/<pid>/cmdline``. A :class:`support.CmdlineSampler`
keeps every distinct command line seen while this module runs make up's steps exactly as the
Makefile does (``python -m secrets_platform.localcluster up``: the cluster, OpenBao, PostgreSQL and its bootstrap;
``pulumi up`` with the pack; ``python -m secrets_platform.localcluster.vault apply``), then uses what they made
(job-runner logins, a leased database user with psql, the KV values). Afterwards every secret
value the module knows (the root token, both database passwords, the issued users' passwords,
job-runner tokens, the stack's generated values and the seeded KV values) is looked for in them.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest
from local_project import ROOT, LocalProject, engine_missing
from support import CmdlineSampler
from vault_client import http, run_apply

from secrets_platform import conventions
from secrets_platform.localcluster import DEFAULT_BIN, Cluster, free_port_base
from secrets_platform.localcluster import postgres as lp
from secrets_platform.localcluster.vault import OpenBao

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        engine_missing() is not None or lp._bin_dir_or_none() is None,
        reason=engine_missing() or "no PostgreSQL server binaries (apt-get install postgresql)",
    ),
]


def localcluster_cli(cluster: Cluster, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m secrets_platform.localcluster --dir D --bin B ...``: the Makefile's cluster step."""
    env = {**os.environ, "LOCAL_CLUSTER_PORT_BASE": str(cluster.ports.api)}
    return subprocess.run(
        [sys.executable, "-m", "secrets_platform.localcluster", "--dir", str(cluster.root), "--bin", str(DEFAULT_BIN), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def sampled(tmp_path_factory, no_shared_cluster):
    """make up's steps and some use of their result under one sampler; the secrets known afterwards.

    On a cluster of its own, started here by make up's cluster step (the session's shared one stopped first)."""
    root = tmp_path_factory.mktemp("cmdline")
    cluster = Cluster(root / "cluster", port_base=free_port_base())
    secrets: dict[str, str] = {}
    project = None
    try:
        with CmdlineSampler() as sampler:
            up = localcluster_cli(cluster, "up")
            assert up.returncode == 0, up.stderr
            (root / "project").mkdir()
            project = LocalProject(root / "project", cluster)
            project.pulumi("up", "-s", "local", "--yes", "--refresh", "--policy-pack", "policies")
            outputs = root / "stack-outputs.json"
            outputs.write_text(project.pulumi("stack", "output", "-s", "local", "--json").stdout)
            applied = run_apply(cluster, outputs)
            assert applied.returncode == 0, applied.stderr
            vault = json.loads(outputs.read_text())["vault"]
            bao, pg = OpenBao(cluster), lp.LocalPostgres(cluster)
            # Using it: every job runner with a Vault role logs in; the database one leases a user and queries with it.
            for role in vault["roles"]:
                (namespace,) = role["boundServiceAccountNamespaces"]
                jwt = cluster.kubectl(
                    "create", "token", conventions.JOB_RUNNER, "-n", namespace, "--audience", role["audience"], "--duration=10m"
                ).stdout.strip()
                secrets[f"job-runner JWT of {namespace}"] = jwt
                status, login = http(bao, "POST", f"{role['authPath']}/login", body={"role": role["roleName"], "jwt": jwt})
                assert status == 200, login
                token = login["auth"]["client_token"]
                secrets[f"Vault token of {namespace}"] = token
                for db in vault["databases"]:
                    if namespace in db.get("namespaces", [namespace]):
                        status, creds = http(bao, "GET", db["credsPath"], token)
                        if status != 200:
                            continue
                        user, password = creds["data"]["username"], creds["data"]["password"]
                        secrets[f"issued password of {user}"] = password
                        used = pg.psql("SELECT current_user", user=user, password=password, database=lp.DATABASE)
                        assert used.returncode == 0 and used.stdout.strip() == user, used.stderr
            root_token = bao.root_token()
            for credential in vault["credentials"]:
                path = credential["path"]
                mount, rest = path.split("/", 1)
                _, kv = http(bao, "GET", f"{mount}/data/{rest}", root_token)
                for key, value in kv["data"]["data"].items():
                    secrets[f"seeded {path}#{key}"] = value
            down = localcluster_cli(cluster, "down")
            assert down.returncode == 0, down.stderr
        secrets["OpenBao root token"] = bao.root_token()
        secrets[f"{lp.VAULT_ADMIN} password"] = pg.password(lp.VAULT_ADMIN)
        secrets[f"{lp.SUPERUSER} password"] = pg.password(lp.SUPERUSER)
        up = localcluster_cli(cluster, "up")  # to read the stack's generated values from the API server
        assert up.returncode == 0, up.stderr
        # The stack's generated values (plain `values` of the stack file, such as a user name, are no secret).
        generated = {
            conventions.credentials_name(c.service, "local"): {g.key for g in c.generated} for c in project.settings().config.credentials
        }
        listed = json.loads(
            cluster.kubectl("get", "secrets", "-A", "-l", "app.kubernetes.io/part-of=secrets-platform", "-o", "json").stdout
        )
        for item in listed["items"]:
            keys = generated.get(item["metadata"]["name"], set())
            for key, value in (item.get("data") or {}).items():
                if key in keys or key.removesuffix("_PREVIOUS") in keys:
                    secrets[f"Secret {item['metadata']['namespace']}/{item['metadata']['name']}#{key}"] = base64.b64decode(value).decode()
        yield sampler, secrets
    finally:
        if project is not None:
            project.pulumi("destroy", "-s", "local", "--yes", check=False)
        localcluster_cli(cluster, "destroy")


def test_the_sampler_saw_the_processes_that_handle_secrets(sampled):
    """A sampler that missed the short-lived processes would prove nothing: it saw psql (the bootstrap's and the
    issued user's), kubectl create token, the OpenBao and PostgreSQL servers, the control plane and pulumi."""
    sampler, secrets = sampled
    for needle in ("psql", "ON_ERROR_STOP=1", "create\0token", "bao\0server", "postgres\0-D", "kube-apiserver", "etcd", "pulumi"):
        assert sampler.saw(needle), f"no command line with {needle!r} among {len(sampler.seen)} seen in {sampler.sweeps} sweeps"
    assert any(name.startswith("issued password") for name in secrets) and sum(name.startswith("Secret ") for name in secrets) >= 3
    assert any(name.startswith("seeded ") for name in secrets) and "OpenBao root token" in secrets


def test_no_secret_appears_on_any_command_line(sampled):
    sampler, secrets = sampled
    assert sampler.leaks(secrets) == []
