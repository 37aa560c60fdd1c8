"""No-op analyzers: bench instruments that split the pack's cost on a real preview.

A preview with our pack costs more than one without it for three reasons: the engine's
own work for a policy pack (it calls ``Remediate`` then ``Analyze`` for every
registration, ``AnalyzeStack`` once, and waits for the pack's start-up), the Python
process serving the analyzer protocol (interpreter, ``import pulumi``, pulumi_policy's
grpcio server), and our rules' answers. Two packs that judge nothing measure the first
two alone, in the same interleaved rounds as the real pack (bench/engine.py):

- ``noop-go``: bench/noop_analyzer/, a Go analyzer plugin answering every call empty,
  the engine's floor. The engine runs a policy pack path that is an executable as an
  analyzer plugin (pkg/v3 ``resource/plugin/analyzer_plugin.go``, ``NewPolicyAnalyzer``).
  It serves our pack's own ``GetAnalyzerInfo`` (the same policies, names, levels),
  written beside it as protobuf JSON.
- ``noop-py``: a copy of policies/ whose entry serves the same ``PolicyPack`` (same
  policies, pulumi_policy's server, ``GetAnalyzerInfo`` and ``Configure``) with a
  servicer whose ``Analyze``, ``AnalyzeStack`` and ``Remediate`` answer empty.

With ``preview`` the preview without a pack: ``noop-go / preview`` is what the engine
alone costs, ``noop-py / noop-go`` what serving from Python adds and ``pack / noop-py``
what our rules add.
"""

from __future__ import annotations

import compileall
import os
import shutil
from pathlib import Path

from bench.commands import run_checked

ROOT = Path(__file__).resolve().parents[1]
MODULE = Path(__file__).resolve().parent / "noop_analyzer"
BINARY = "noop-analyzer"
INFO_FILE = "analyzer-info.json"
"""Read by the Go analyzer from beside the path it was started as (bench/noop_analyzer/main.go)."""
LABELS = ("noop-go", "noop-py")

PY_MAIN = '''"""A no-op copy of the secrets-platform pack (bench/noop.py): the same PolicyPack, answering every call empty."""

import pulumi_policy.policy as upstream
from pulumi_policy import EnforcementLevel, PolicyPack

from secrets_platform.policies.rules import ALL_POLICIES


class NoopServicer(upstream._PolicyAnalyzerServicer):
    def Analyze(self, request, context):
        return upstream.proto.AnalyzeResponse()

    def AnalyzeStack(self, request, context):
        return upstream.proto.AnalyzeResponse()

    def Remediate(self, request, context):
        return upstream.proto.RemediateResponse()


upstream._PolicyAnalyzerServicer = NoopServicer

PolicyPack(name={name!r}, description="no-op", enforcement_level=EnforcementLevel.MANDATORY, policies=ALL_POLICIES)
'''
PACK_NAME = "secrets-platform"
PACK_VERSION = "0.1.0"


def go_env() -> dict[str, str]:
    """The Makefile's Go environment (GO_ENV), with ``-mod=mod``: the wrapper module's go.sum is complete, so a warm
    module cache builds it offline; a cold one fetches from the module proxy like every toolchain step."""
    env = dict(os.environ)
    env.update({"GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod -trimpath -gcflags=all=-dwarf=false"})
    return env


def build_go(out_dir: Path, module: Path = MODULE) -> Path:
    """``go build`` of the Go no-op analyzer into ``out_dir`` (incremental: seconds with a warm build cache).

    Raises RuntimeError naming the step and the cause when Go is missing or the build fails.
    """
    go = shutil.which("go")
    if go is None:
        raise RuntimeError("no-op analyzer: `go` is not on PATH (the toolchain's Go builds bench/noop_analyzer)")
    out_dir.mkdir(parents=True, exist_ok=True)
    binary = out_dir / BINARY
    run_checked(
        [go, "build", "-ldflags", "-s -w", "-o", str(binary), "."],
        f"no-op analyzer: go build in {module}",
        cwd=module,
        env=go_env(),
        timeout=900,
    )
    return binary


def analyzer_info_json() -> str:
    """Our pack's ``GetAnalyzerInfo`` answer, as pulumi_policy's server gives it, in protobuf JSON."""
    from google.protobuf import empty_pb2, json_format
    from pulumi_policy import EnforcementLevel

    from secrets_platform.policies import analyzer
    from secrets_platform.policies.rules import ALL_POLICIES

    servicer = analyzer.servicer_class()(PACK_NAME, PACK_VERSION, ALL_POLICIES, EnforcementLevel.MANDATORY)
    return json_format.MessageToJson(servicer.GetAnalyzerInfo(empty_pb2.Empty(), None))


def go_pack(work: Path, binary: Path) -> Path:
    """``work/packs/noop-go/noop-analyzer``: a link to the built analyzer, beside our pack's info; the path to pass."""
    base = work / "packs" / "noop-go"
    base.mkdir(parents=True)
    (base / INFO_FILE).write_text(analyzer_info_json())
    link = base / BINARY
    link.symlink_to(binary)
    return link


def python_pack(work: Path, root: Path = ROOT) -> Path:
    """A copy of policies/ (bench/engine.py's pack_dir) whose entry serves the same pack with a no-op servicer."""
    from bench.engine import pack_dir

    path = pack_dir(work, "noop-py", root / "policies", root)
    (path / "__main__.py").write_text(PY_MAIN.format(name=PACK_NAME))
    # Bytecode now, as the real pack's warm-up preview does for its copy: no round pays for compiling.
    compileall.compile_dir(path.parent, quiet=1)
    return path


def packs(work: Path, labels: tuple[str, ...] = LABELS, root: Path = ROOT) -> dict[str, Path]:
    """The instruments asked for (a subset of LABELS), label -> what ``--policy-pack`` gets; RuntimeError when one can't be made."""
    out: dict[str, Path] = {}
    for label in labels:
        if label == "noop-go":
            out[label] = go_pack(work, build_go(root / "build" / "bench"))
        elif label == "noop-py":
            out[label] = python_pack(work, root)
        else:
            raise ValueError(f"unknown no-op analyzer {label!r}: one of {', '.join(LABELS)}")
    return out
