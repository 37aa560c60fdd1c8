"""The data tools consume what the local stack provides, as its snippets say, with the real tools.

The local stack is applied to the tier's local cluster (tests/conftest.py's ``cluster``; External Secrets
syncing, OpenBao and PostgreSQL beside it, make up's Vault step applied), then:

- dbt-postgres: ``secrets-platform dbt-profile --credential warehouse`` (a vault-database bundle), the env
  file rendered by OpenBao's own agent from the template the stack outputs, logged in with the dagster job
  runner's token exactly as the injected agent does, sourced by the snippet's command, and ``dbt debug``
  connects to the local PostgreSQL as the leased user;
- flytekit: a real task reads every ``flyteSecrets`` entry of the stack's outputs, from ``_FSEC_`` variables and
  from files where Flyte's Kubernetes injector puts them, and the Vault snippet's files rendered by OpenBao's
  agent with Flyte's template (the platform's old Secret-style key renders ``<no value>``);
- dagster: the real ``dagster`` CLI loads the ``.env`` that ``secrets-platform dotenv`` writes (External Secrets'
  keys included), and a run reads every key with ``EnvVar``; so does a run given a Secret's keys as ``envFrom`` does.

Values are compared as sha256 digests and never printed. Where a piece runs in a pod in production (Flyte's
webhook, the Vault injector, the kubelet's envFrom), the test puts the values where that piece's code does
(flytepropeller's webhook utils: ``_FSEC_`` + upper(group_key), files ``<group>/<key>`` lower-cased; Vault
templates ``{{ with secret "<group>" }}{{ .Data.data.<key> }}{{ end }}``) and the real tool reads them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from local_project import LocalProject, engine_missing
from vault_client import http, run_apply

from secrets_platform import conventions
from secrets_platform.localcluster import DEFAULT_BIN, Cluster
from secrets_platform.localcluster import postgres as lp
from secrets_platform.localcluster.vault import OpenBao, bao_binary

# An engine tier like e2e (so `-m "not e2e"` stays the fast tiers), run on its own after it: `-m consumers`.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.consumers,
    pytest.mark.skipif(
        engine_missing() is not None or lp._bin_dir_or_none() is None,
        reason=engine_missing() or "no PostgreSQL server binaries (apt-get install postgresql)",
    ),
]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DAGSTER, FLOE_JOBS, FLYTESNACKS = "dagster-local", "floe-jobs-local", "flytesnacks-local"


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


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
    """The local stack applied as make up does it: pulumi up with the pack, then the Vault step on its outputs."""
    p = LocalProject(tmp_path_factory.mktemp("consumers"), cluster)
    p.pulumi("up", "-s", "local", "--yes", "--policy-pack", "policies")
    outputs = p.root / "outputs.json"
    outputs.write_text(p.pulumi("stack", "output", "-s", "local", "--json").stdout)
    done = run_apply(cluster, outputs)
    assert done.returncode == 0, done.stderr
    # External Secrets writes the gcp-secret-manager bundles' Secrets on its own schedule: wait for them.
    wanted = {f"{s['namespace']}/{s['name']}" for s in json.loads(outputs.read_text())["secrets"] if s["backend"] == "gcp-secret-manager"}
    deadline = time.monotonic() + 90
    while not wanted <= set(p.cluster_secrets()) and time.monotonic() < deadline:
        time.sleep(1)
    assert wanted <= set(p.cluster_secrets()), f"External Secrets did not sync {sorted(wanted - set(p.cluster_secrets()))}"
    yield p, json.loads(outputs.read_text())
    p.pulumi("destroy", "-s", "local", "--yes", check=False)


def cli(p: LocalProject, *args: str) -> subprocess.CompletedProcess[str]:
    """The project's own CLI (the program's venv) on the applied copy, with the copy's state and the cluster's kubectl."""
    env = {**p.env, "PATH": f"{DEFAULT_BIN}:{p.env['PATH']}"}
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "secrets-platform"), "--project-dir", str(p.root), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def tool_env(tmp: Path, **extra: str) -> dict[str, str]:
    """A clean environment for a data tool: no credential of ours leaks in from the test process, no network checks."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ")}
    return {
        **base,
        "HOME": str(tmp),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_USE_COLORS": "false",
        "DO_NOT_TRACK": "1",
        "DAGSTER_DISABLE_TELEMETRY": "1",
        **extra,
    }


def agent_render(cluster: Cluster, bao: OpenBao, tmp: Path, namespace: str, role: dict, templates: dict[Path, str]) -> None:
    """OpenBao's own agent, configured as the injector configures a pod's init agent: Kubernetes auth with the
    namespace's job-runner token (TokenRequest, the role's audience) at the role's auth path, each template
    rendered once to its file, then exit (agent-pre-populate-only)."""
    tmp.mkdir(parents=True, exist_ok=True)
    token = tmp / "token"
    token.write_text(
        cluster.kubectl(
            "create", "token", conventions.JOB_RUNNER, "-n", namespace, "--audience", role["audience"], "--duration=10m"
        ).stdout.strip()
    )
    config = {
        "vault": {"address": bao.address},
        "exit_after_auth": True,
        "pid_file": str(tmp / "agent.pid"),
        "auto_auth": {
            "method": [
                {"type": "kubernetes", "mount_path": role["authPath"], "config": {"role": role["roleName"], "token_path": str(token)}}
            ]
        },
        "template": [{"contents": text, "destination": str(dest), "perms": "0600"} for dest, text in templates.items()],
    }
    (tmp / "agent.json").write_text(json.dumps(config))
    done = subprocess.run(
        [str(bao_binary()), "agent", f"-config={tmp / 'agent.json'}"],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"bao agent exited {done.returncode}: {done.stderr[-2000:]}"
    for dest in templates:
        assert dest.is_file(), f"bao agent rendered no {dest}"


def role_of(outputs: dict, namespace: str) -> dict:
    return next(r for r in outputs["vault"]["roles"] if r["boundServiceAccountNamespaces"] == [namespace])


def secret_values(p: LocalProject, namespace: str, name: str) -> dict[str, str]:
    return p.secrets()[f"{namespace}/{name}"]


# --------------------------------------------------------------------------- dbt


def test_dbt_debug_connects_with_a_vault_lease_through_the_projects_profile(cluster, servers, stack, tools, tmp_path):
    bao, pg = servers
    p, outputs = stack
    (db,) = [d for d in outputs["vault"]["databases"] if d["service"] == "warehouse"]
    consumer = db["consumers"][DAGSTER]
    # 1. the profile, from the project's CLI: credentials only as env_var() of the bundle's keys
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    made = cli(
        p,
        "dbt-profile",
        "--stack",
        "local",
        "--credential",
        "warehouse",
        "--profile",
        "pipelines",
        "--set",
        "host=127.0.0.1",
        "--set",
        f"port={pg.port}",
        "--set",
        f"dbname={lp.DATABASE}",
        "--set",
        "schema=public",
        "-o",
        str(profiles / "profiles.yml"),
    )
    assert made.returncode == 0, made.stderr
    # 2. the env file, rendered by OpenBao's agent from the stack's own template, as the dagster job runner
    annotations = consumer["podAnnotations"]
    name = Path(consumer["envFile"]).name
    env_file = tmp_path / "vault-secrets" / name
    agent_render(
        cluster,
        bao,
        tmp_path / "agent",
        DAGSTER,
        role_of(outputs, DAGSTER),
        {env_file: annotations[f"vault.hashicorp.com/agent-inject-template-{name}"]},
    )
    # 3. dbt debug, started by the snippet's own command (it sources the env file first)
    project = tmp_path / "project"
    project.mkdir()
    (project / "dbt_project.yml").write_text("name: consumers\nversion: '1.0'\nconfig-version: 2\nprofile: pipelines\n")
    command = consumer["command"].replace(consumer["envFile"], str(env_file))
    done = subprocess.run(
        ["sh", "-c", command, "sh", str(tools / "dbt"), "debug", "--profiles-dir", str(profiles), "--project-dir", str(project)],
        env=tool_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Connection test: [OK connection ok]" in done.stdout, done.stdout[-3000:]
    # the user dbt connected as is a leased one of the warehouse role (v-...), and dbt never printed its password
    leased = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    user = leased["WAREHOUSE_USER"].strip("'")
    assert user != lp.SUPERUSER and pg.sql(f"SELECT count(*) FROM pg_roles WHERE rolname = '{user}'").strip() == "1"
    assert leased["WAREHOUSE_PASSWORD"].strip("'") not in done.stdout + done.stderr


def test_dbt_reads_the_literal_template_when_the_env_file_is_not_sourced(servers, stack, tools, tmp_path):
    """Why the snippet's command matters: without the env file dbt keeps '{{ env_var(...) }}' unresolved and fails."""
    _, pg = servers
    p, _ = stack
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    made = cli(
        p, "dbt-profile", "--stack", "local", "--credential", "warehouse", "--profile", "pipelines",
        "--set", "host=127.0.0.1", "--set", f"port={pg.port}", "--set", f"dbname={lp.DATABASE}", "--set", "schema=public",
        "-o", str(profiles / "profiles.yml"),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    project = tmp_path / "project"
    project.mkdir()
    (project / "dbt_project.yml").write_text("name: consumers\nversion: '1.0'\nconfig-version: 2\nprofile: pipelines\n")
    done = subprocess.run(
        [str(tools / "dbt"), "debug", "--profiles-dir", str(profiles), "--project-dir", str(project)],
        env=tool_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0 and "Connection test: [OK connection ok]" not in done.stdout


# --------------------------------------------------------------------------- flytekit


def flyte_read(tools: Path, tmp: Path, requests: list[dict], **env: str) -> list[dict]:
    done = subprocess.run(
        [str(tools / "python"), str(HERE / "flyte_task.py"), json.dumps(requests)],
        env=tool_env(tmp, **env),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_flytekit_reads_the_kubernetes_snippets_group_and_key_from_env_and_files(stack, tools, tmp_path):
    p, outputs = stack
    entries = [s for s in outputs["secrets"] if s["namespace"] == FLYTESNACKS and "flyteSecrets" in s["consumers"]]
    assert entries, f"no Secret with a Flyte snippet in {FLYTESNACKS}"
    requests = [r for s in entries for r in s["consumers"]["flyteSecrets"]]
    expected = [sha(secret_values(p, FLYTESNACKS, r["group"])[r["key"]]) for r in requests]
    # ENV_VAR: flytepropeller's Kubernetes injector names the variable upper("_FSEC_" + group + "_" + key)
    variables = {("_FSEC_" + r["group"] + "_" + r["key"]).upper(): secret_values(p, FLYTESNACKS, r["group"])[r["key"]] for r in requests}
    by_env = flyte_read(tools, tmp_path, requests, FLYTE_SECRETS_DEFAULT_DIR=str(tmp_path / "none"), **variables)
    assert by_env == [{"sha256": d} for d in expected]
    # FILE: a secret volume at /etc/flyte/secrets/<group lower-cased>, the item's path the key lower-cased
    files = tmp_path / "etc-flyte-secrets"
    for r in requests:
        path = files / r["group"].lower() / r["key"].lower()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secret_values(p, FLYTESNACKS, r["group"])[r["key"]])
    by_file = flyte_read(tools, tmp_path, requests, FLYTE_SECRETS_DEFAULT_DIR=str(files))
    assert by_file == [{"sha256": d} for d in expected]


def test_flytekit_reads_the_vault_snippets_files_rendered_by_the_agent(cluster, servers, stack, tools, tmp_path):
    bao, _ = servers
    _, outputs = stack
    (cred,) = [c for c in outputs["vault"]["credentials"] if c["service"] == "salesforce"]
    requests = [{"group": r["group"], "key": r["key"]} for r in cred["flyteSecrets"]]
    assert {r["key"] for r in requests} == {"client_id", "client_secret"}, "the KV fields Pulumi.local.yaml maps, by their own names"
    files = tmp_path / "etc-flyte-secrets"
    # Flyte's Vault injector: one template per request, rendered to /etc/flyte/secrets/<group>/<key> (utils.go)
    flyte_template = '{{{{- with secret "{group}" -}}}}{{{{ .Data.data.{key} }}}}{{{{- end -}}}}'
    templates = {files / r["group"] / r["key"]: flyte_template.format(**r) for r in requests}
    wrong = files / cred["path"] / cred["keys"][0]  # the platform's Secret-style key, which validate refuses
    templates[wrong] = flyte_template.format(group=cred["path"], key=cred["keys"][0])
    agent_render(cluster, bao, tmp_path / "agent", FLOE_JOBS, role_of(outputs, FLOE_JOBS), templates)
    assert wrong.read_text() == "<no value>", "Flyte's injector renders a key that is no KV field as <no value>"
    status, doc = http(bao, "GET", f"{outputs['vault']['mount']}/data/local/salesforce", bao.root_token())
    assert status == 200, doc.get("errors")
    stored = doc["data"]["data"]
    got = flyte_read(tools, tmp_path, requests, FLYTE_SECRETS_DEFAULT_DIR=str(files))
    assert got == [{"sha256": sha(stored[r["key"]])} for r in requests]


# --------------------------------------------------------------------------- dagster


def dagster_read(tools: Path, tmp: Path, keys: list[str], cwd: Path, **env: str) -> dict[str, str]:
    """`dagster asset materialize` (the real CLI: it loads cwd's .env) of an asset whose resources are EnvVar(key)."""
    digests = tmp / "digests.json"
    digests.unlink(missing_ok=True)
    home = tmp / "dagster-home"
    home.mkdir(exist_ok=True)
    done = subprocess.run(
        [str(tools / "dagster"), "asset", "materialize", "-f", str(HERE / "dagster_defs.py"), "--select", "reads_credentials"],
        env=tool_env(tmp, DAGSTER_HOME=str(home), CONSUMER_KEYS=json.dumps(keys), CONSUMER_DIGESTS=str(digests), **env),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(digests.read_text())


def test_dagster_envvar_reads_every_key_of_the_dotenv_file(stack, tools, tmp_path):
    """`secrets-platform dotenv --workload dagster` writes what dagster-local's pods get, External Secrets' keys included."""
    p, outputs = stack
    workdir = tmp_path / "dagster-project"
    workdir.mkdir()
    wrote = cli(p, "dotenv", "--stack", "local", "--workload", "dagster", "--output", str(workdir / ".env"))
    assert wrote.returncode == 0, wrote.stderr
    assert "Not in" not in wrote.stderr, wrote.stderr
    expected = {}
    for s in outputs["secrets"]:
        if s["namespace"] == DAGSTER and s["type"] == "Opaque":
            expected.update(secret_values(p, DAGSTER, s["name"]))
    assert "CUBE_API_SECRET" in expected, "the ESO-synced bundle is one of dagster-local's Secrets"
    for value in expected.values():
        assert value not in wrote.stdout + wrote.stderr
    got = dagster_read(tools, tmp_path, sorted(expected), workdir)
    assert got == {k: sha(v) for k, v in expected.items()}


def test_dagster_envvar_reads_each_secret_as_envfrom_exposes_it(stack, tools, tmp_path):
    """The dagster-user-deployments chart's envSecrets: [{name}] is envFrom: every key of each Secret is a variable."""
    p, outputs = stack
    variables: dict[str, str] = {}
    named = []
    for s in outputs["secrets"]:
        if s["namespace"] != DAGSTER or "dagsterEnvSecrets" not in s["consumers"]:
            continue
        (ref,) = s["consumers"]["dagsterEnvSecrets"]
        data = p.cluster_secrets()[f"{DAGSTER}/{ref['name']}"]["data"]
        exposed = {k: base64.b64decode(v).decode() for k, v in data.items()}
        assert sorted(exposed) == sorted(s["keys"]), s["name"]
        assert not set(exposed) & set(variables), f"{s['name']} repeats a key of another envSecrets entry"
        variables.update(exposed)
        named.append(ref["name"])
    assert "cube-local-credentials" in named and len(named) > 1, named
    workdir = tmp_path / "no-dotenv"
    workdir.mkdir()
    got = dagster_read(tools, tmp_path, sorted(variables), workdir, **variables)
    assert got == {k: sha(v) for k, v in variables.items()}
