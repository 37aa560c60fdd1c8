"""`secrets-platform audit`: who read each credential, from Kubernetes, Vault and Cloud Audit Logs entries.

The Cloud Logging entries are built from the documented LogEntry and AuditLog fields
(logName, resource, timestamp, protoPayload with @type, serviceName, methodName,
resourceName, authenticationInfo, authorizationInfo, requestMetadata, status), one per
kind of access; the Kubernetes and Vault lines from the audit.k8s.io/v1 Event and the
file audit device's JSON. The real API server and OpenBao are read in
tests/e2e/test_audit_e2e.py.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cli_support import CANARY, copy_project, invoke, make_app

PROJECT = "example-data-platform"
NOW = datetime.now(timezone.utc)
AUDIT_LOG = "type.googleapis.com/google.cloud.audit.AuditLog"
ESO_PRD = f"eso-prd@{PROJECT}.iam.gserviceaccount.com"


def ts(minutes_ago: float = 60) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def log_entry(service: str, method: str, resource: str, principal: str, minutes_ago: float = 60, code: int = 0, **extra) -> dict:
    """A Data Access audit LogEntry as `gcloud logging read --format=json` exports it (documented fields only)."""
    payload = {
        "@type": AUDIT_LOG,
        "serviceName": service,
        "methodName": method,
        "resourceName": resource,
        "authenticationInfo": {"principalEmail": principal},
        "authorizationInfo": [{"resource": resource, "permission": "secretmanager.versions.access", "granted": code == 0}],
        "requestMetadata": {"callerIp": "10.0.0.7", "callerSuppliedUserAgent": "test-agent"},
        # a field the CLI must never print: what a response body could hold
        "response": {"payload": {"data": CANARY}},
        **extra,
    }
    if code:
        payload["status"] = {"code": code, "message": "PERMISSION_DENIED"}
    return {
        "logName": f"projects/{PROJECT}/logs/cloudaudit.googleapis.com%2Fdata_access",
        "resource": {"type": "audited_resource", "labels": {"service": service, "method": method, "project_id": PROJECT}},
        "timestamp": ts(minutes_ago),
        "receiveTimestamp": ts(minutes_ago - 0.1),
        "severity": "ERROR" if code else "INFO",
        "insertId": f"id{abs(hash((service, method, resource, principal, minutes_ago)))}",
        "protoPayload": payload,
    }


def sm_access(secret: str, principal: str, **kw) -> dict:
    return log_entry(
        "secretmanager.googleapis.com",
        "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion",
        f"projects/123456789/secrets/{secret}/versions/latest",
        principal,
        **kw,
    )


def k8s_read(verb: str, namespace: str, name: str | None, principal: str, **kw) -> dict:
    resource = f"core/v1/namespaces/{namespace}/secrets" + (f"/{name}" if name else "")
    return log_entry("k8s.io", f"io.k8s.core.v1.secrets.{verb}", resource, principal, **kw)


def vault_line(path: str, namespace: str | None, account: str | None, minutes_ago: float = 30, error: str | None = None) -> dict:
    """A Vault file audit device's response entry (values HMACed), as Vault writes it."""
    auth: dict[str, Any] = {"display_name": f"kubernetes-{namespace}-{account}" if namespace else "root", "policies": ["default"]}
    if namespace:
        auth["metadata"] = {"role": f"job-runner-{namespace}", "service_account_name": account, "service_account_namespace": namespace}
    entry = {
        "time": ts(minutes_ago),
        "type": "response",
        "auth": auth,
        "request": {"id": "r1", "operation": "read", "path": path, "client_token": "hmac-sha256:ab"},
        "response": {"data": {"password": "hmac-sha256:cd"}},
    }
    if error:
        entry["error"] = error
    return entry


def gcp_export(tmp_path: Path) -> Path:
    entries = [
        # Secret Manager: ESO's account syncs its secrets (declared), a person reads one, a foreign account is refused
        sm_access("polaris-prd-credentials", ESO_PRD),
        sm_access("polaris-prd-credentials", ESO_PRD, minutes_ago=20),
        sm_access("cube-prd-credentials", "alice@example.com"),
        sm_access("cube-prd-credentials", f"ci-deployer@{PROJECT}.iam.gserviceaccount.com", code=7),
        sm_access("cube-prd-credentials", f"ci-deployer@{PROJECT}.iam.gserviceaccount.com", code=5),  # NOT_FOUND: no read
        # a metadata read: no value
        log_entry(
            "secretmanager.googleapis.com",
            "google.cloud.secretmanager.v1.SecretManagerService.GetSecret",
            "projects/123456789/secrets/cube-prd-credentials",
            "alice@example.com",
        ),
        # Kubernetes API of GKE: the job runner reads its own Secret, another namespace's runner reads it, a person lists
        k8s_read("get", "dagster-prd", "snowflake-prd-credentials", "system:serviceaccount:dagster-prd:job-runner"),
        k8s_read("get", "dagster-prd", "minio-prd-credentials", "system:serviceaccount:floe-jobs-prd:job-runner"),
        k8s_read("list", "floe-jobs-prd", None, "bob@example.com"),
        k8s_read("watch", "floe-jobs-prd", None, "system:serviceaccount:external-secrets-prd:external-secrets"),
        # the Vault server's stdout device, shipped by GKE as the container log's jsonPayload
        {
            "logName": f"projects/{PROJECT}/logs/stdout",
            "resource": {"type": "k8s_container", "labels": {"namespace_name": "vault-prd"}},
            "timestamp": ts(30),
            "jsonPayload": vault_line("floe/data/prd/salesforce", "floe-jobs-prd", "job-runner"),
        },
        # another service's entry: not about credentials
        log_entry("storage.googleapis.com", "storage.objects.get", "projects/_/buckets/b/objects/o", "alice@example.com"),
        # older than the window
        sm_access("cube-prd-credentials", "mallory@example.com", minutes_ago=60 * 24 * 30),
    ]
    path = tmp_path / "audit-prd.json"
    path.write_text(json.dumps(entries, indent=2))
    return path


def run_json(*args: str, app=None) -> tuple[int, dict]:
    result = invoke(app or make_app(), "audit", *args, "--json")
    assert CANARY not in result.output
    return result.exit_code, json.loads(result.stdout)


def by_name(data: dict) -> dict[str, dict]:
    return {c["name"]: c for c in data["credentials"]}


def test_each_kind_of_gcp_access_lands_on_its_credential(tmp_path):
    code, data = run_json("--stack", "prd", "--log-file", str(gcp_export(tmp_path)))
    assert code == 1
    creds = by_name(data)
    polaris = creds[f"projects/{PROJECT}/secrets/polaris-prd-credentials"]
    [reader] = polaris["reads"]
    assert reader["identity"] == ESO_PRD and reader["declared"] is True and reader["count"] == 2
    assert (reader["namespace"], reader["serviceAccount"]) == ("external-secrets-prd", "external-secrets")
    assert reader["how"] == {"external-secrets sync": 2}
    cube = creds[f"projects/{PROJECT}/secrets/cube-prd-credentials"]
    alice = next(r for r in cube["reads"] if r["identity"] == "alice@example.com")
    assert alice["declared"] is False and alice["count"] == 1 and alice["role"] == "person"
    refused = next(r for r in cube["reads"] if r["identity"].startswith("ci-deployer"))
    assert refused["count"] == 0 and refused["denied"] == 1
    assert not any(r["identity"] == "mallory@example.com" for r in cube["reads"]), "an entry older than --since was counted"
    runner = by_name(data)["dagster-prd/snowflake-prd-credentials"]["reads"]
    assert [(r["namespace"], r["serviceAccount"], r["how"], r["declared"]) for r in runner] == [
        ("dagster-prd", "job-runner", {"get": 1}, True)
    ]
    salesforce = creds["floe/prd/salesforce"]["reads"]
    assert [(r["namespace"], r["how"], r["declared"]) for r in salesforce] == [("floe-jobs-prd", {"vault read": 1}, True)]
    # bob's list read every Secret of floe-jobs-prd
    listed = [c["name"] for c in data["credentials"] if any(r["identity"] == "bob@example.com" for r in c["reads"])]
    assert listed and all(n.startswith("floe-jobs-prd/") for n in listed)


def test_findings_name_the_non_consumer_reads_the_list_and_the_unused(tmp_path):
    code, data = run_json("--stack", "prd", "--log-file", str(gcp_export(tmp_path)))
    assert code == 1
    found = {(f["kind"], f["credential"], f["identity"]) for f in data["findings"]}
    assert ("non-consumer-read", f"projects/{PROJECT}/secrets/cube-prd-credentials", "alice@example.com") in found
    assert (
        "non-consumer-read",
        "dagster-prd/minio-prd-credentials",
        "system:serviceaccount:floe-jobs-prd:job-runner",
    ) in found
    assert ("secret-list-watch", "namespace floe-jobs-prd", "bob@example.com") in found
    # ESO's watch is a platform controller's: no finding
    assert not any(f["identity"].endswith("external-secrets") for f in data["findings"])
    unused = {f["credential"] for f in data["findings"] if f["kind"] == "unused"}
    assert "flytesnacks-production/minio-prd-credentials" in unused  # a Flyte project: its prd namespace is Flyte's
    assert "dagster-prd/snowflake-prd-credentials" not in unused
    assert data["unparsed"] == 0
    assert data["sources"][0]["entries"] == 13


def test_the_table_shows_every_reader_and_never_a_value(tmp_path):
    result = invoke(make_app(), "audit", "--stack", "prd", "--log-file", str(gcp_export(tmp_path)))
    assert result.exit_code == 1
    assert CANARY not in result.output
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["KIND", "CREDENTIAL", "READ", "BY", "ACCOUNT", "HOW", "COUNT", "LAST", "DECLARED"]
    row = next(line for line in lines if "cube-prd-credentials" in line and "alice@example.com" in line)
    assert row.rstrip().endswith("NO")
    assert any(line.startswith("FINDING secret-list-watch: bob@example.com ran a list") for line in lines)
    assert "finding" in result.stderr


def test_only_declared_reads_and_every_credential_read_exit_0(tmp_path):
    """A log where each credential is read by its declared reader only: no finding."""
    app = make_app()
    from secrets_platform.model import resolve

    model = resolve(app.project.settings("prd", {}))
    entries = []
    for d in model.descriptors:
        entries.append(k8s_read("get", d.namespace, d.name, f"system:serviceaccount:{d.namespace}:job-runner"))
        if d.backend == "gcp-secret-manager":
            entries.append(sm_access(d.name, ESO_PRD))
    for a in model.vault_access:
        for service in a.services:
            entries.append(
                {"logName": "x", "timestamp": ts(), "jsonPayload": vault_line(f"floe/data/prd/{service}", a.namespace, "job-runner")}
            )
    path = tmp_path / "clean.json"
    path.write_text("\n".join(json.dumps(e) for e in entries) + "\n")  # JSON lines (a sink's export)
    code, data = run_json("--stack", "prd", "--log-file", str(path), app=app)
    assert data["findings"] == [] and code == 0


def test_since_that_is_not_a_duration_is_one_clear_error(tmp_path):
    for bad in ("7", "seven days", "7y", "-1d", "0d"):
        result = invoke(make_app(), "audit", "--stack", "prd", "--since", bad, "--log-file", str(gcp_export(tmp_path)))
        assert result.exit_code == 2, (bad, result.output)
        assert f"--since {bad!r} is not a duration" in result.output and "Traceback" not in result.output


def test_a_window_excludes_older_reads(tmp_path):
    code, data = run_json("--stack", "prd", "--since", "25m", "--log-file", str(gcp_export(tmp_path)))
    polaris = by_name(data)[f"projects/{PROJECT}/secrets/polaris-prd-credentials"]
    assert [r["count"] for r in polaris["reads"]] == [1]


@pytest.mark.parametrize(
    "content,reason,line",
    [
        ("[\n" + json.dumps(sm_access("polaris-prd-credentials", ESO_PRD)) + ',\n{"logName": "x", "protoPa', "truncated", 3),
        (json.dumps(sm_access("polaris-prd-credentials", ESO_PRD)) + '\n{"kind": "Event", "apiVer', "truncated", 2),
        (json.dumps(sm_access("polaris-prd-credentials", ESO_PRD)) + '\n{"hello": "world"}\n', "unknown shape", 2),
        (json.dumps(sm_access("polaris-prd-credentials", ESO_PRD)) + "\n[1, 2]\n", "not an object", 2),
        (
            json.dumps(sm_access("polaris-prd-credentials", ESO_PRD))
            + "\n"
            + json.dumps({"logName": "x", "protoPayload": {"@type": "type.googleapis.com/other"}})
            + "\n",
            "not an AuditLog",
            2,
        ),
    ],
)
def test_unreadable_entries_are_counted_and_reported_and_the_rest_is_read(tmp_path, content, reason, line):
    path = tmp_path / "log.json"
    path.write_text(content)
    result = invoke(make_app(), "audit", "--stack", "prd", "--log-file", str(path))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"UNREAD: 1 entry of {path} could not be read (line {line}: " in result.stdout and reason in result.stdout
    assert "the answer is incomplete" in result.stderr
    assert "polaris-prd-credentials" in result.stdout and ESO_PRD in result.stdout


def test_a_missing_or_binary_file_is_one_clear_error(tmp_path):
    result = invoke(make_app(), "audit", "--stack", "prd", "--log-file", str(tmp_path / "nope.json"))
    assert result.exit_code == 2 and "nope.json: no such file" in result.output and "Traceback" not in result.output
    binary = tmp_path / "bin.log"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = invoke(make_app(), "audit", "--stack", "prd", "--log-file", str(binary))
    assert result.exit_code == 2 and "is not UTF-8 text" in result.output


def test_dev_stg_prd_without_a_log_file_say_how_to_export_one():
    result = invoke(make_app(), "audit", "--stack", "prd")
    assert result.exit_code == 2
    assert "gcloud logging read" in result.output and f"--project={PROJECT}" in result.output
    assert "roles/logging.privateLogViewer" in result.output and 'namespace_name="vault-prd"' in result.output


def test_fail_on_limits_which_findings_fail(tmp_path):
    """The drift workflow fails on reads by non-consumers, not on credentials idle for a day."""
    path = tmp_path / "one.json"
    path.write_text(json.dumps([sm_access("polaris-prd-credentials", ESO_PRD)]))
    result = invoke(make_app(), "audit", "--stack", "prd", "--log-file", str(path), "--fail-on", "non-consumer-read")
    assert result.exit_code == 0 and "FINDING unused" in result.stdout
    result = invoke(make_app(), "audit", "--stack", "prd", "--log-file", str(gcp_export(tmp_path)), "--fail-on", "non-consumer-read")
    assert result.exit_code == 1 and "finding" in result.stderr


def test_allow_declares_an_extra_reader(tmp_path):
    code, data = run_json("--stack", "prd", "--allow", "alice@example.com", "--log-file", str(gcp_export(tmp_path)))
    assert not any(f["identity"] == "alice@example.com" for f in data["findings"])


# --------------------------------------------------------------------------- local: the cluster's own files


def k8s_event(
    verb: str, namespace: str, name: str | None, user: str, agent: str = "kubectl/v1.34.4", code: int = 200, stage="ResponseComplete"
):
    uri = f"/api/v1/namespaces/{namespace}/secrets" + (f"/{name}" if name else "")
    ref = {"resource": "secrets", "namespace": namespace, "apiVersion": "v1"}
    if name:
        ref["name"] = name
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": "a1",
        "stage": stage,
        "requestURI": uri,
        "verb": verb,
        "user": {"username": user, "groups": ["system:authenticated"]},
        "userAgent": agent,
        "objectRef": ref,
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": ts(5),
        "stageTimestamp": ts(5),
    }


def local_project(tmp_path: Path, api_lines: list[dict], bao_lines: list[dict] | None) -> Path:
    project = copy_project(tmp_path)
    (project / ".cluster" / "audit").mkdir(parents=True)
    (project / ".cluster" / "audit" / "kube-apiserver.log").write_text("".join(json.dumps(e) + "\n" for e in api_lines))
    if bao_lines is not None:
        (project / ".cluster" / "openbao").mkdir()
        (project / ".cluster" / "openbao" / "audit.log").write_text("".join(json.dumps(e) + "\n" for e in bao_lines))
    return project


def test_local_reads_the_clusters_api_server_and_openbao_files(tmp_path):
    api = [
        k8s_event("get", "dagster-local", "snowflake-local-credentials", "system:serviceaccount:dagster-local:job-runner"),
        k8s_event("get", "dagster-local", "snowflake-local-credentials", "secrets-platform-admin"),
        k8s_event("get", "dagster-local", "cube-local-credentials", "secrets-platform-admin", agent="external-secrets/v0.16.2"),
        k8s_event("get", "dagster-local", "minio-local-credentials", "secrets-platform-admin", agent="pulumi-resource-kubernetes"),
        k8s_event("get", "flytesnacks-local", "minio-local-credentials", "system:serviceaccount:flytesnacks-local:job-runner", code=403),
        k8s_event("watch", "", None, "system:serviceaccount:kube-system:generic-garbage-collector", stage="ResponseStarted"),
        k8s_event("list", "", None, "system:apiserver", agent="kube-apiserver/v1.34.4"),  # its own informer, at start
        # the local Reloader's informers (admin certificate, its own user agent): plumbing, not a use of each credential
        k8s_event("list", "flytesnacks-local", None, "secrets-platform-admin", agent="reloader/v0.0.0 (linux/amd64) kubernetes/$Format"),
        k8s_event(
            "watch", "flytesnacks-local", None, "secrets-platform-admin", agent="reloader/v0.0.0 (linux/amd64)", stage="ResponseStarted"
        ),
        # ESO looks for its target before creating it: a 404 returned nothing and refused nobody
        k8s_event(
            "get", "floe-jobs-local", "polaris-local-credentials", "secrets-platform-admin", agent="external-secrets/v0.16.2", code=404
        ),
    ]
    bao = [
        vault_line("database/creds/warehouse-local", "dagster-local", "job-runner"),
        {**vault_line("database/creds/warehouse-local", "dagster-local", "job-runner"), "type": "request"},
        vault_line("floe/data/local/salesforce", "dagster-local", "job-runner", error="1 error occurred:\n\t* permission denied\n\n"),
    ]
    app = make_app(local_project(tmp_path, api, bao))
    code, data = run_json("--stack", "local", app=app)
    assert code == 1
    creds = by_name(data)
    snowflake = {r["identity"]: r for r in creds["dagster-local/snowflake-local-credentials"]["reads"]}
    assert snowflake["system:serviceaccount:dagster-local:job-runner"]["declared"] is True
    assert snowflake["secrets-platform-admin"]["role"] == "person" and snowflake["secrets-platform-admin"]["declared"] is False
    cube = creds["dagster-local/cube-local-credentials"]["reads"]
    assert [(r["role"], r["how"], r["declared"]) for r in cube] == [("controller", {"external-secrets sync": 1}, True)]
    assert creds["dagster-local/minio-local-credentials"]["reads"][0]["role"] == "engine"
    flyte = creds["flytesnacks-local/minio-local-credentials"]["reads"]
    assert [(r["count"], r["denied"]) for r in flyte] == [(0, 1)]
    warehouse = creds["database/creds/warehouse-local"]["reads"]
    assert [(r["namespace"], r["serviceAccount"], r["how"], r["count"]) for r in warehouse] == [
        ("dagster-local", "job-runner", {"lease": 1}, 1)
    ]
    assert [(r["count"], r["denied"]) for r in creds["floe/local/salesforce"]["reads"]] == [(0, 1)]
    kinds = {(f["kind"], f["credential"]) for f in data["findings"]}
    assert ("non-consumer-read", "dagster-local/snowflake-local-credentials") in kinds
    assert ("unused", "floe/local/salesforce") in kinds and ("unused", "flytesnacks-local/minio-local-credentials") in kinds
    assert not any(k == "secret-list-watch" for k, _ in kinds), "the API server and the garbage collector are platform controllers"
    assert creds["floe-jobs-local/polaris-local-credentials"]["reads"] == [], "a 404 counted as a read or a refusal"


def test_local_without_an_openbao_log_does_not_call_vault_credentials_unused(tmp_path):
    app = make_app(local_project(tmp_path, [k8s_event("get", "dagster-local", "x", "secrets-platform-admin")], None))
    code, data = run_json("--stack", "local", app=app)
    assert by_name(data)["floe/local/salesforce"]["logged"] is False
    assert not any(f["credential"] == "floe/local/salesforce" for f in data["findings"])
    assert any("no OpenBao audit log" in n for n in data["notes"])


def test_local_without_a_cluster_says_make_up(tmp_path):
    result = invoke(make_app(copy_project(tmp_path)), "audit", "--stack", "local")
    assert result.exit_code == 2 and "no API server audit log in" in result.output and "make up" in result.output


@pytest.mark.parametrize(
    "principal",
    [
        f"serviceAccount:{PROJECT}.svc.id.goog[dagster-prd/job-runner]",
        f"principal://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/{PROJECT}.svc.id.goog"
        "/subject/ns/dagster-prd/sa/job-runner",
    ],
)
def test_a_workload_identity_principal_in_either_spelling_names_its_service_account(tmp_path, principal):
    path = tmp_path / "audit-prd.json"
    path.write_text(json.dumps([sm_access("cube-prd-credentials", principal)]))
    _, data = run_json("--stack", "prd", "--log-file", str(path))
    [reader] = by_name(data)[f"projects/{PROJECT}/secrets/cube-prd-credentials"]["reads"]
    assert (reader["namespace"], reader["serviceAccount"]) == ("dagster-prd", "job-runner")
