"""A rotation's blast radius from a fake cluster listing: Reloader's rules, running Jobs, and what `rotate` prints."""

from __future__ import annotations

import json

import pytest
from cli_support import FakeEngine, FakeKubectl, copy_project, invoke, local_state, make_app

from secrets_platform.cli.blast import BlastRadius, blast_radius, reloader_rolls, uses

SECRET = "snowflake-local-credentials"  # pragma: allowlist secret (a Secret's name)
PLATFORM = {"reloader.stakater.com/match": "true"}
SEARCH = {"reloader.stakater.com/search": "true"}


def env_from(secret: str = SECRET) -> dict:
    return {"containers": [{"name": "app", "image": "busybox", "envFrom": [{"secretRef": {"name": secret}}]}]}


def key_ref(secret: str = SECRET) -> dict:
    ref = {"name": "K", "valueFrom": {"secretKeyRef": {"name": secret, "key": "SNOWFLAKE_USER"}}}
    return {"containers": [{"name": "app", "image": "busybox", "env": [ref]}]}


def volume(secret: str = SECRET, mounted: bool = True, projected: bool = False) -> dict:
    source = {"projected": {"sources": [{"secret": {"name": secret}}]}} if projected else {"secret": {"secretName": secret}}
    mounts = [{"name": "creds", "mountPath": "/creds"}] if mounted else []
    return {"volumes": [{"name": "creds", **source}], "containers": [{"name": "app", "image": "busybox", "volumeMounts": mounts}]}


def workload(kind: str, name: str, pod: dict, annotations: dict | None = None, template_annotations: dict | None = None) -> dict:
    return {
        "kind": kind,
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {"template": {"metadata": {"annotations": template_annotations or {}}, "spec": pod}},
    }


def job(name: str, pod: dict, active: int) -> dict:
    return {"kind": "Job", "metadata": {"name": name}, "spec": {"template": {"spec": pod}}, "status": {"active": active} if active else {}}


@pytest.mark.parametrize(
    "pod", [env_from(), key_ref(), volume(), volume(projected=True)], ids=["envFrom", "secretKeyRef", "volume", "projected"]
)
@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet"])
def test_annotated_workloads_that_use_the_secret_roll(kind, pod):
    assert reloader_rolls(workload(kind, "w", pod, SEARCH), SECRET, PLATFORM)


@pytest.mark.parametrize(
    "case, w, secret_annotations",
    [
        ("no annotation", workload("Deployment", "w", env_from()), PLATFORM),
        ("another Secret", workload("Deployment", "w", env_from("other-local-credentials"), SEARCH), PLATFORM),
        ("Secret without match", workload("Deployment", "w", env_from(), SEARCH), {}),
        ("Secret ignored", workload("Deployment", "w", env_from(), SEARCH), {**PLATFORM, "reloader.stakater.com/ignore": "true"}),
        ("volume never mounted", workload("Deployment", "w", volume(mounted=False), SEARCH), PLATFORM),
        ("excluded", workload("Deployment", "w", env_from(), {**SEARCH, "secrets.exclude.reloader.stakater.com/reload": SECRET}), PLATFORM),
        ("a Job", workload("Job", "w", env_from(), SEARCH), PLATFORM),
        ("a CronJob", workload("CronJob", "w", env_from(), SEARCH), PLATFORM),
        ("search is not true", workload("Deployment", "w", env_from(), {"reloader.stakater.com/search": "yes"}), PLATFORM),
    ],
)
def test_what_does_not_roll(case, w, secret_annotations):
    assert not reloader_rolls(w, SECRET, secret_annotations), case


def test_reload_list_rolls_by_name_or_expression_even_without_a_reference():
    listed = workload("Deployment", "w", env_from("unrelated"), {"secret.reloader.stakater.com/reload": "x, snowflake-.*-credentials"})
    assert reloader_rolls(listed, SECRET, {})
    exact = workload("Deployment", "w", env_from("unrelated"), {"secret.reloader.stakater.com/reload": "snowflake"})
    assert not reloader_rolls(exact, SECRET, {}), "an expression matches the whole name, not a part"
    broken = workload("Deployment", "w", env_from("unrelated"), {"secret.reloader.stakater.com/reload": "([, " + SECRET})
    assert reloader_rolls(broken, SECRET, {}), "an invalid expression is skipped, the others still count"


def test_auto_annotations_use_go_booleans_and_the_pod_template_counts_when_the_workload_has_none():
    assert reloader_rolls(workload("Deployment", "w", env_from(), {"reloader.stakater.com/auto": "True"}), SECRET, {})
    assert reloader_rolls(workload("Deployment", "w", env_from(), {"secret.reloader.stakater.com/auto": "1"}), SECRET, {})
    assert reloader_rolls(workload("Deployment", "w", env_from(), template_annotations=SEARCH), SECRET, PLATFORM)
    # The workload's own opt-in key hides the pod template's.
    own = workload("Deployment", "w", env_from(), {"reloader.stakater.com/auto": "false"}, template_annotations=SEARCH)
    assert not reloader_rolls(own, SECRET, PLATFORM)


def test_init_container_use_counts():
    pod = {"initContainers": env_from()["containers"], "containers": [{"name": "main", "image": "busybox"}]}
    assert uses(pod, SECRET) and reloader_rolls(workload("StatefulSet", "s", pod, SEARCH), SECRET, PLATFORM)


def test_blast_radius_of_a_fake_cluster_listing():
    workloads = [
        workload("Deployment", "api", env_from(), SEARCH),
        workload("StatefulSet", "db", volume(), SEARCH),
        workload("DaemonSet", "agent", key_ref(), SEARCH),
        workload("Deployment", "plain", env_from()),
        workload("Deployment", "other", env_from("minio-local-credentials"), SEARCH),
    ]
    jobs = [
        job("nightly", env_from(), active=1),
        job("finished", env_from(), active=0),
        job("unrelated", env_from("minio-local-credentials"), active=1),
    ]
    radius = blast_radius("dagster-local", workloads, jobs, SECRET, PLATFORM)
    assert radius == BlastRadius("dagster-local", ("DaemonSet/agent", "Deployment/api", "StatefulSet/db"), ("Job/nightly",))


def listing(items: list[dict]) -> tuple[int, str, str]:
    return (0, json.dumps({"items": items}), "")


@pytest.mark.parametrize("strategy", ["single", "dual"])
def test_rotate_prints_the_blast_radius_read_from_the_cluster_before_applying(tmp_path, strategy):
    root = copy_project(tmp_path)
    if strategy == "dual":
        stack = root / "Pulumi.local.yaml"
        stack.write_text(
            stack.read_text().replace("    - service: snowflake\n", "    - service: snowflake\n      rotationStrategy: dual\n", 1)
        )
    kube = FakeKubectl(
        {
            "--raw=/version": (0, "{}", ""),
            "get secret snowflake-local-credentials -n dagster-local -o jsonpath={.metadata.annotations}": (0, json.dumps(PLATFORM), ""),
            "get secret snowflake-local-credentials -n floe-jobs-local -o jsonpath={.metadata.annotations}": (0, json.dumps(PLATFORM), ""),
            "deployments,statefulsets,daemonsets -n dagster-local": listing(
                [workload("Deployment", "api", env_from(), SEARCH), workload("Deployment", "plain", env_from())]
            ),
            "jobs.batch -n dagster-local": listing([job("nightly", env_from(), active=1)]),
            "deployments,statefulsets,daemonsets -n floe-jobs-local": listing([workload("StatefulSet", "db", volume(), SEARCH)]),
            "jobs.batch -n floe-jobs-local": listing([]),
        }
    )
    engine = FakeEngine(root, installed=True, deployed={"local"}, state={"local": local_state()})
    result = invoke(make_app(root, engine, kubectl=kube), "rotate", "snowflake", "--stack", "local", "--yes")
    assert result.exit_code == 0, result.output
    before_apply = result.stdout.split("Rotation complete", 1)[0]
    assert "namespace dagster-local: Deployment/api\n" in before_apply and "plain" not in before_apply, result.stdout
    assert "namespace floe-jobs-local: StatefulSet/db\n" in before_apply, result.stdout
    assert "Running Jobs that finish on the old value" in before_apply and "namespace dagster-local: Job/nightly" in before_apply
    assert ("stays valid as <KEY>_PREVIOUS" in before_apply) == (strategy == "dual"), result.stdout
    # Secrets were asked for their annotations only, never their data.
    secret_calls = [a for a in kube.seen if "secret" in a]
    assert secret_calls and all(any(x.startswith("jsonpath={.metadata.") for x in a) for a in secret_calls)
