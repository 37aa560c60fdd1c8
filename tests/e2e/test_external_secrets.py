"""External Secrets for real on the local cluster: the pinned controller (v0.16.2) runs as a local process,
the local store (ESO's fake provider) is Ready, every ExternalSecret syncs its target Secret with exactly the
declared keys, and a rotated pushed value reaches the target Secret."""

from __future__ import annotations

import base64
import json
import time

import pytest
from local_project import LocalProject, engine_missing

from secrets_platform.model import planned_descriptors

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(engine_missing() is not None, reason=engine_missing() or "")]

STORE = "gcp-secret-manager-local"


@pytest.fixture(scope="module")
def project(applied):
    return applied


def external(p: LocalProject):
    return [d for d in planned_descriptors(p.settings()) if d.backend == "gcp-secret-manager"]


def ready(obj: dict) -> dict | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), None)


def wait_for(check, what: str, timeout: float = 90):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"{what} not reached after {timeout:.0f} s")


def test_the_local_store_is_ready(project, cluster):
    def store_ready():
        obj = json.loads(cluster.kubectl("get", "clustersecretstores.external-secrets.io", STORE, "-o", "json").stdout)
        return (ready(obj) or {}).get("status") == "True"

    wait_for(store_ready, f"ClusterSecretStore {STORE} Ready")


def test_every_external_secret_syncs_exactly_its_declared_keys(project, cluster):
    descriptors = external(project)
    assert descriptors
    for d in descriptors:

        def synced(d=d):
            obj = json.loads(cluster.kubectl("get", "externalsecrets.external-secrets.io", d.name, "-n", d.namespace, "-o", "json").stdout)
            return (ready(obj) or {}).get("status") == "True"

        wait_for(synced, f"ExternalSecret {d.namespace}/{d.name} Ready")
        target = json.loads(cluster.kubectl("get", "secret", d.name, "-n", d.namespace, "-o", "json").stdout)
        assert sorted(target.get("data") or {}) == sorted(d.keys), f"Secret {d.namespace}/{d.name} holds other keys than declared"
        assert target["metadata"]["labels"]["secrets-platform.io/environment"] == "local", f"Secret {d.namespace}/{d.name}"


def test_a_rotated_pushed_value_reaches_the_target_secret(project, cluster):
    def value() -> str:
        obj = json.loads(cluster.kubectl("get", "secret", "cube-local-credentials", "-n", "dagster-local", "-o", "json").stdout)
        return base64.b64decode(obj["data"]["CUBE_API_SECRET"]).decode()

    before = wait_for(
        lambda: cluster.kubectl("get", "secret", "cube-local-credentials", "-n", "dagster-local", check=False).returncode == 0 and value(),
        "Secret dagster-local/cube-local-credentials",
    )

    def bump(config):
        for cred in config["secrets-platform:credentials"]:
            if cred["service"] == "cube":
                cred["rotation"] = "2"

    project.edit_stack(bump)
    project.pulumi("up", "-s", "local", "--yes")
    # ESO follows within its refresh interval (15s in local).
    after = wait_for(lambda: value() if value() != before else None, "the rotated CUBE_API_SECRET in dagster-local")
    assert after != before and len(after) == 48
