"""The real engine previews another Pulumi program that uses secrets-platform as a library (tests/library_project.py).

Its own project in a folder outside the repository, on .venv (the installed package), with PYTHONPATH unset,
previewed against the module's local cluster: the platform of its stack and the team's own namespace are planned
through the team's provider. The same program under the SDK's mocks: tests/library/test_library.py.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from library_project import PROJECT, ROOT, write_project
from local_project import PASSPHRASE, PULUMI, engine_missing

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(engine_missing() is not None, reason=engine_missing() or "")]


def test_the_engine_previews_another_program_built_on_the_package(tmp_path, cluster):
    assert not tmp_path.resolve().is_relative_to(ROOT)
    root = write_project(tmp_path / PROJECT, "local", {"kubeconfig": str(cluster.kubeconfig)})
    (root / ".state").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "KUBECONFIG") and not k.startswith("PULUMI_")}
    env.update(
        PATH=f"{ROOT / 'bin'}:{os.environ.get('PATH', '')}",
        PULUMI_HOME=str(ROOT / ".pulumi-home"),
        PULUMI_BACKEND_URL=f"file://{root / '.state'}",
        PULUMI_SKIP_UPDATE_CHECK="true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
    )

    def pulumi(*args: str) -> str:
        done = subprocess.run(
            [str(PULUMI), *args, "--non-interactive", "--color", "never"], cwd=root, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, f"pulumi {' '.join(args)} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    pulumi("stack", "init", "local")
    steps = json.loads(pulumi("preview", "-s", "local", "--json")).get("steps", [])
    creates = {(s["urn"].split("::")[-2].split("$")[-1], s["urn"].split("::")[-1]) for s in steps if s["op"] == "create"}
    assert {
        ("pulumi:providers:kubernetes", "cluster"),
        ("kubernetes:core/v1:Namespace", "reports-local"),
        ("kubernetes:core/v1:Namespace", "dagster-local"),
        ("kubernetes:core/v1:Secret", "dagster-local/snowflake-local-credentials"),
    } <= creates, sorted(creates)
    assert all(s["urn"].startswith(f"urn:pulumi:local::{PROJECT}::") for s in steps)
