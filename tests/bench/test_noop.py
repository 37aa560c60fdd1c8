"""The no-op analyzers (bench/noop.py), bench instruments: they answer what the analyzer protocol asks, and judge nothing.

The Go analyzer is built from its wrapper module (seconds with the toolchain's warm Go
caches) and asked over a real gRPC connection; the Python one is our pack with a
servicer that answers empty. A real preview with each (the engine loading a binary
pack, and a directory pack) runs only with the toolchain.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel

from bench import engine, noop, plans, report, run
from secrets_platform.policies.rules import ALL_POLICIES

ROOT = Path(__file__).resolve().parents[2]
needs_go = pytest.mark.skipif(shutil.which("go") is None, reason="no go on PATH (the toolchain's Go builds bench/noop_analyzer)")


@pytest.fixture(scope="module")
def binary(tmp_path_factory) -> Path:
    return noop.build_go(tmp_path_factory.mktemp("noop-build"))


def _start(path: Path) -> subprocess.Popen:
    return subprocess.Popen([str(path), "127.0.0.1:1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@needs_go
def test_the_go_analyzer_serves_our_packs_info_and_answers_every_call_empty(binary, tmp_path):
    path = noop.go_pack(tmp_path, binary)
    proc = _start(path)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=10)
            assert info == json_format.Parse(noop.analyzer_info_json(), analyzer_pb2.AnalyzerInfo())
            assert [p.name for p in info.policies] == [p.name for p in ALL_POLICIES]
            request = analyzer_pb2.AnalyzeRequest(type="kubernetes:core/v1:Secret", urn="urn:pulumi:s::p::kubernetes:core/v1:Secret::x")
            assert stub.Analyze(request, timeout=10) == analyzer_pb2.AnalyzeResponse()
            assert stub.Remediate(request, timeout=10) == analyzer_pb2.RemediateResponse()
            stack = analyzer_pb2.AnalyzeStackRequest(resources=[analyzer_pb2.AnalyzerResource(type=request.type, urn=request.urn)])
            assert stub.AnalyzeStack(stack, timeout=10) == analyzer_pb2.AnalyzeResponse()
            stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(), timeout=10)
            assert stub.GetPluginInfo(empty_pb2.Empty(), timeout=10).version == noop.PACK_VERSION
    finally:
        proc.kill()
        proc.communicate()


@needs_go
def test_the_go_analyzer_without_its_info_says_which_file_and_exits(binary, tmp_path):
    lonely = tmp_path / noop.BINARY
    lonely.symlink_to(binary)
    proc = _start(lonely)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and out == ""
    assert str(tmp_path / noop.INFO_FILE) in err and "bench/noop.py" in err


@needs_go
def test_the_go_module_builds_against_the_engines_sdk_version():
    """Its pulumirpc is the pinned engine's (toolchain/versions.txt), so the toolchain's Go build cache serves it."""
    pinned = next(line.split()[3] for line in (ROOT / "toolchain" / "versions.txt").read_text().splitlines() if line.startswith("pulumi "))
    edit = subprocess.run(["go", "mod", "edit", "-json"], cwd=noop.MODULE, capture_output=True, text=True, check=True)
    required = {r["Path"]: r["Version"] for r in json.loads(edit.stdout)["Require"]}
    assert required["github.com/pulumi/pulumi/sdk/v3"] == pinned


def test_the_python_no_op_pack_serves_our_policies_and_answers_empty(tmp_path):
    path = noop.python_pack(tmp_path)
    main = (path / "__main__.py").read_text()
    namespace: dict = {}
    import pulumi_policy.policy as upstream

    original = upstream._PolicyAnalyzerServicer
    try:
        exec(compile(main.split("PolicyPack(name=")[0], str(path / "__main__.py"), "exec"), namespace)  # the servicer, not the server
        servicer = upstream._PolicyAnalyzerServicer(noop.PACK_NAME, noop.PACK_VERSION, ALL_POLICIES, EnforcementLevel.MANDATORY)
    finally:
        upstream._PolicyAnalyzerServicer = original  # type: ignore[misc]
    assert type(servicer).__name__ == "NoopServicer" and "policies=ALL_POLICIES" in main
    request = analyzer_pb2.AnalyzeRequest(type="kubernetes:core/v1:Secret", urn="urn:pulumi:s::p::kubernetes:core/v1:Secret::x")
    assert servicer.Analyze(request, None) == analyzer_pb2.AnalyzeResponse()
    assert servicer.Remediate(request, None) == analyzer_pb2.RemediateResponse()
    assert servicer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(), None) == analyzer_pb2.AnalyzeResponse()
    assert [p.name for p in servicer.GetAnalyzerInfo(empty_pb2.Empty(), None).policies] == [p.name for p in ALL_POLICIES]


def test_an_unknown_instrument_is_refused(tmp_path):
    with pytest.raises(ValueError, match="noop-go, noop-py"):
        noop.packs(tmp_path, ("noop-rust",))


def test_the_quick_line_carries_the_floor_ratios():
    figures = dict.fromkeys(("overhead_ratio", "growth_ratio", "policy_us_per_resource", "preview_pack_ratio", "ours_fair_floor_ratio"))
    line = report.quick_line({"figures": {**figures, "pack_engine_floor_ratio": 1.23456, "pack_python_floor_ratio": None}})
    fields = dict(part.split("=", 1) for part in line.split())
    assert fields["pack_engine_floor_ratio"] == "1.235" and fields["pack_python_floor_ratio"] == "skipped"


@pytest.mark.e2e
@pytest.mark.skipif(engine.availability() is not None, reason=engine.availability() or "")
@needs_go
def test_a_real_preview_runs_with_each_no_op_analyzer():
    """The engine loads the Go binary and the Python copy as policy packs, and the series reports their ratios."""
    result = engine.measure((2,), 1, up=False, flat=False, fair=False)
    assert "skipped" not in result and "noop_skipped" not in result, result
    size = result["sizes"]["2"]
    for label in noop.LABELS:
        op = size["ops"][f"ours preview --policy-pack {label}"]
        assert op["seconds"] > 0 and "analyzer" in op["roles"], op["roles"]
        assert size["ratios"][f"{label}_ratio"] > 0


def test_the_runner_measures_both_instruments_unless_told_otherwise():
    def plan(*argv: str) -> tuple[str, ...]:
        return plans.of_args(run.arguments().parse_args(list(argv))).engine_noops

    assert plan() == noop.LABELS and plan("--quick") == ("noop-go",)
    assert plan("--quick", "--engine-noops", *noop.LABELS) == noop.LABELS
    assert plan("--engine-noops") == ()
    assert plan("--engine-only", "--engine-noops", "noop-go") == ("noop-go",)
    with pytest.raises(SystemExit):
        plan("--engine-noops", "noop-rust")
