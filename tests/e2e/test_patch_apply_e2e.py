"""A ``...Patch`` the pack refuses would have created its object: the real engine, provider and API server.

secrets_platform/policies/kube.py judges a ``ClusterRoleBindingPatch`` as the ClusterRoleBinding it
upserts, because pulumi-kubernetes applies Patch resources with server-side apply,
whose apply PATCH creates an absent object. This module checks that claim where it
matters: a throwaway program registering only a ``ClusterRoleBindingPatch`` that
grants ``cluster-admin`` to ``system:authenticated``, on the tier's local cluster
(tests/conftest.py's ``cluster``, lent to this module alone; the binding is deleted after it),
through the pinned engine and provider.

- previewed with the pack, the engine stops it with the pack's mandatory violations;
- applied without the pack, the binding did not exist before and exists after, as
  the Patch declared it: the upsert the pack guards against.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from local_project import PASSPHRASE, PLUGINS, PULUMI, ROOT, engine_missing

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(engine_missing() is not None, reason=engine_missing() or "")]

BINDING = "pack-e2e-everyone-cluster-admin"

PROGRAM = """\
import pulumi
import pulumi_kubernetes as k8s

provider = k8s.Provider("kubernetes-local", kubeconfig={kubeconfig!r}, enable_server_side_apply=True)
k8s.rbac.v1.ClusterRoleBindingPatch(
    "everyone-admin",
    metadata={{"name": {binding!r}}},
    role_ref={{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}},
    subjects=[{{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}}],
    opts=pulumi.ResourceOptions(provider=provider),
)
"""


class PatchProject:
    """A one-resource Pulumi project in a temporary folder, with a file backend of its own."""

    def __init__(self, root: Path, kubeconfig: Path) -> None:
        self.root = root
        (root / "Pulumi.yaml").write_text(
            textwrap.dedent(
                f"""\
                name: pack-patch-e2e
                runtime:
                  name: python
                  options:
                    virtualenv: {ROOT / ".venv"}
                """
            )
        )
        (root / "__main__.py").write_text(PROGRAM.format(kubeconfig=str(kubeconfig), binding=BINDING))
        (root / ".state").mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "KUBECONFIG"))}
        self.env.update(
            PATH=f"{ROOT / 'bin'}:{os.environ.get('PATH', '')}",
            PULUMI_HOME=str(PLUGINS.parent),
            PULUMI_BACKEND_URL=f"file://{root / '.state'}",
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
        )
        self.pulumi("stack", "init", "local")

    def pulumi(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(PULUMI), *args, "--non-interactive", "--color", "never"],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc


@pytest.fixture(scope="module")
def project(tmp_path_factory, cluster):
    yield PatchProject(tmp_path_factory.mktemp("patch"), cluster.kubeconfig)
    # the binding the Patch created grants cluster-admin to everyone: gone before the cluster is lent on
    cluster.kubectl("delete", "clusterrolebinding", BINDING, "--ignore-not-found", check=False)


def binding(cluster) -> dict | None:
    found = cluster.kubectl("get", "clusterrolebinding", BINDING, "-o", "json", "--show-managed-fields", check=False)
    if found.returncode != 0:
        assert "NotFound" in found.stderr, found.stderr
        return None
    return json.loads(found.stdout)


def test_the_pack_refuses_the_patch(project, cluster):
    assert binding(cluster) is None
    proc = project.pulumi("preview", "-s", "local", "--policy-pack", str(ROOT / "policies"), check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    for rule in ("privilege-binding-no-admin-roles", "isolation-binding-subject-env"):
        assert rule in out, out
    assert "registered as 'ClusterRoleBindingPatch'" in out and "mandatory" in out
    assert binding(cluster) is None


def test_without_the_pack_the_patch_creates_the_binding(project, cluster):
    assert binding(cluster) is None, "the binding must not exist before: the Patch is what creates it"
    project.pulumi("up", "-s", "local", "--yes")
    created = binding(cluster)
    assert created is not None, "server-side apply of the Patch did not create the binding"
    assert created["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}
    assert created["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}]
    # the provider's field manager owns what the Patch declared: it is Pulumi's object now
    managers = {m["manager"] for m in created["metadata"].get("managedFields", [])}
    assert any(m.startswith("pulumi") for m in managers), managers
