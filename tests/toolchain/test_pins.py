"""The engine pins agree: requirements.lock, toolchain/versions.txt and the Go wrapper modules.

The Python packages (pulumi, pulumi-kubernetes, pulumi-random) must be the
versions whose engine pieces `make toolchain` builds: the pulumi CLI from
github.com/pulumi/pulumi/pkg/v3 at the same version, and provider plugins from
the provider modules at the pseudo-version recorded in toolchain/versions.txt.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCK_FILE = ROOT / "requirements.lock"
VERSIONS_FILE = ROOT / "toolchain" / "versions.txt"
PULUMI_BIN = ROOT / "bin" / "pulumi"

ENGINE_PACKAGES = ("pulumi", "pulumi-kubernetes", "pulumi-random")
# The local cluster's pieces: Go modules with release tags and no Python package.
CLUSTER_PIECES = ("kube-control-plane", "etcd", "external-secrets", "vault-injector", "reloader")
LINT_TOOLS = ("actionlint",)  # built by make lint from toolchain/lint
NO_PYTHON = "-"
CLUSTER_BIN = ROOT / "build" / "cluster"
LOCAL = "local"  # our own module in the wrapper dir (upstream refused by the proxy)


def normalize(name: str) -> str:
    """PEP 503 name normalization: pulumi_kubernetes == pulumi-kubernetes."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pin:
    package: str
    python_version: str
    go_module: str
    go_version: str
    wrapper: str


def read_versions() -> dict[str, Pin]:
    pins: dict[str, Pin] = {}
    for lineno, raw in enumerate(VERSIONS_FILE.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        assert len(fields) == 5, f"{VERSIONS_FILE.name}:{lineno}: expected 5 columns, got {len(fields)}: {raw!r}"
        pin = Pin(normalize(fields[0]), *fields[1:])
        assert pin.package not in pins, f"{VERSIONS_FILE.name}:{lineno}: {pin.package} listed twice"
        pins[pin.package] = pin
    return pins


def read_lock() -> dict[str, str]:
    locked: dict[str, str] = {}
    for raw in LOCK_FILE.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;]+)", line)
        if m:
            locked[normalize(m.group(1))] = m.group(2)
    return locked


def go_requirements(go_mod: Path) -> dict[str, str]:
    """Module -> version from the require directives of a go.mod (single-line and block form)."""
    reqs: dict[str, str] = {}
    in_block = False
    for raw in go_mod.read_text().splitlines():
        line = raw.split("//", 1)[0].strip()
        if in_block:
            if line == ")":
                in_block = False
            elif line:
                mod, ver = line.split()[:2]
                reqs[mod] = ver
        elif line == "require (":
            in_block = True
        elif line.startswith("require "):
            mod, ver = line[len("require ") :].split()[:2]
            reqs[mod] = ver
    return reqs


def go_replacements(go_mod: Path) -> dict[str, str]:
    """Module -> replacement (as written) for replace directives without a version on the left."""
    repl: dict[str, str] = {}
    in_block = False
    for raw in go_mod.read_text().splitlines():
        line = raw.split("//", 1)[0].strip()
        if in_block:
            if line == ")":
                in_block = False
                continue
            body = line
        elif line == "replace (":
            in_block = True
            continue
        elif line.startswith("replace "):
            body = line[len("replace ") :]
        else:
            continue
        if "=>" in body:
            left, right = (s.strip() for s in body.split("=>", 1))
            repl[left.split()[0]] = right
    return repl


def python_to_go(version: str) -> str:
    return "v" + version


PINS = read_versions()


def test_versions_file_lists_every_engine_package():
    missing = [p for p in ENGINE_PACKAGES if p not in PINS]
    assert not missing, f"{VERSIONS_FILE} has no line for {', '.join(missing)}"


@pytest.mark.parametrize("package", ENGINE_PACKAGES)
def test_lock_matches_versions_file(package):
    locked = read_lock()
    pin = PINS[package]
    assert package in locked, f"{LOCK_FILE.name} does not pin {package}; the engine is built for {package}=={pin.python_version}"
    assert locked[package] == pin.python_version, (
        f"{LOCK_FILE.name} pins {package}=={locked[package]} but the engine toolchain is built for "
        f"{package}=={pin.python_version} ({pin.go_module} {pin.go_version}, see {VERSIONS_FILE.relative_to(ROOT)}). "
        f"Change both together: requirements.lock and toolchain/versions.txt + {pin.wrapper}/go.mod."
    )


@pytest.mark.parametrize("package", ENGINE_PACKAGES)
def test_go_module_matches_versions_file(package):
    pin = PINS[package]
    go_mod = ROOT / pin.wrapper / "go.mod"
    assert go_mod.is_file(), f"{package}: wrapper module {go_mod} missing"
    if pin.go_version == LOCAL:
        module = re.search(r"^module\s+(\S+)", go_mod.read_text(), re.M)
        assert module and module.group(1) == pin.go_module, (
            f"{go_mod.relative_to(ROOT)} is not module {pin.go_module} as {VERSIONS_FILE.relative_to(ROOT)} says"
        )
        return
    reqs = go_requirements(go_mod)
    assert pin.go_module in reqs, f"{go_mod.relative_to(ROOT)} does not require {pin.go_module}"
    assert reqs[pin.go_module] == pin.go_version, (
        f"{go_mod.relative_to(ROOT)} requires {pin.go_module} {reqs[pin.go_module]} but "
        f"{VERSIONS_FILE.relative_to(ROOT)} maps {package}=={pin.python_version} to {pin.go_version}"
    )
    replaced = go_replacements(go_mod).get(pin.go_module)
    assert replaced is None, f"{go_mod.relative_to(ROOT)} replaces {pin.go_module} ({replaced}); the pin would not be what is built"


def test_pulumi_cli_is_the_released_module_version():
    """pulumi==X is built from pkg/v3 vX, whose sdk/v3 must be vX as well."""
    pin = PINS["pulumi"]
    assert pin.go_version == python_to_go(pin.python_version), (
        f"pulumi=={pin.python_version} must be built from {pin.go_module} {python_to_go(pin.python_version)}, "
        f"versions.txt says {pin.go_version}"
    )
    reqs = go_requirements(ROOT / pin.wrapper / "go.mod")
    sdk = reqs.get("github.com/pulumi/pulumi/sdk/v3")
    assert sdk == pin.go_version, (
        f"{pin.wrapper}/go.mod selects github.com/pulumi/pulumi/sdk/v3 {sdk}; the CLI and the Python SDK need {pin.go_version}"
    )


def test_pseudo_versions_are_pseudo_versions():
    """Provider modules have no provider/vX tags: their pins are commit pseudo-versions."""
    for pin in PINS.values():
        if pin.package == "pulumi" or pin.go_version == LOCAL or pin.package in CLUSTER_PIECES + LINT_TOOLS:
            continue
        assert re.fullmatch(r"v\d+\.0\.0-\d{14}-[0-9a-f]{12}", pin.go_version), (
            f"{pin.package}: {pin.go_version} is not a commit pseudo-version of {pin.go_module}"
        )


def test_versions_file_lists_every_cluster_piece_and_lint_tool():
    missing = [p for p in CLUSTER_PIECES + LINT_TOOLS if p not in PINS]
    assert not missing, f"{VERSIONS_FILE} has no line for {', '.join(missing)}"


@pytest.mark.parametrize("piece", CLUSTER_PIECES + LINT_TOOLS)
def test_cluster_piece_is_a_release_required_by_its_wrapper(piece):
    pin = PINS[piece]
    assert pin.python_version == NO_PYTHON, f"{piece} has no Python package; its python-version column must be {NO_PYTHON!r}"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", pin.go_version), f"{piece}: {pin.go_version} is not a release tag"
    go_mod = ROOT / pin.wrapper / "go.mod"
    reqs = go_requirements(go_mod)
    assert reqs.get(pin.go_module) == pin.go_version, (
        f"{go_mod.relative_to(ROOT)} requires {pin.go_module} {reqs.get(pin.go_module)}, "
        f"{VERSIONS_FILE.relative_to(ROOT)} pins {pin.go_version}"
    )
    assert pin.go_module not in go_replacements(go_mod), f"{go_mod.relative_to(ROOT)} replaces {pin.go_module}"


def test_every_kubernetes_staging_module_is_replaced_by_its_release():
    """k8s.io/kubernetes vX.Y.Z replaces its staging modules with ./staging paths; ours name v0.Y.Z of each."""
    pin = PINS["kube-control-plane"]
    staging = "v0." + pin.go_version.split(".", 1)[1]
    replaced = {m: r for m, r in go_replacements(ROOT / pin.wrapper / "go.mod").items() if m.startswith("k8s.io/")}
    assert len(replaced) >= 30, f"{pin.wrapper}/go.mod replaces only {len(replaced)} staging modules"
    wrong = {m: r for m, r in replaced.items() if r != f"{m} {staging}"}
    assert not wrong, f"staging modules not at {staging}: {wrong}"


def test_local_random_plugin_defaults_to_pinned_version():
    """The Makefile stamps the version, but a plain `go build` of toolchain/random must agree too."""
    pin = PINS["pulumi-random"]
    if pin.go_version != LOCAL:
        pytest.skip("pulumi-random is built from an upstream module")
    sources = "\n".join(p.read_text() for p in (ROOT / pin.wrapper).glob("*.go") if not p.name.endswith("_test.go"))
    default = re.search(r'providerVersion\s*=\s*"([^"]+)"', sources)
    assert default, f"{pin.wrapper}: no providerVersion default found"
    assert default.group(1) == pin.python_version, (
        f"{pin.wrapper} defaults to random {default.group(1)}, pinned pulumi-random is {pin.python_version}"
    )


# Wrapper modules whose shared dependencies are kept at the CLI wrapper's versions, so the Go
# build cache compiles the packages they share once (toolchain/README.md, "Times and sizes").
ALIGNED_WITH_CLI = ("toolchain/random",)


@pytest.mark.parametrize("wrapper", ALIGNED_WITH_CLI)
def test_wrapper_shares_the_cli_wrappers_dependency_versions(wrapper):
    cli = go_requirements(ROOT / PINS["pulumi"].wrapper / "go.mod")
    reqs = go_requirements(ROOT / wrapper / "go.mod")
    differ = {m: (v, cli[m]) for m, v in reqs.items() if m in cli and v != cli[m]}
    assert not differ, (
        f"{wrapper}/go.mod and {PINS['pulumi'].wrapper}/go.mod select different versions of modules both need, so the "
        "build compiles those packages twice: "
        + ", ".join(f"{m} {v} (CLI: {c})" for m, (v, c) in sorted(differ.items()))
        + f". Align them: in {wrapper}, `go get module@<CLI version>` for each, then `go mod tidy`."
    )


@pytest.mark.e2e  # runs after `make toolchain` in `make test`
@pytest.mark.skipif(not PULUMI_BIN.exists(), reason="bin/pulumi not built (make toolchain)")
def test_built_pulumi_reports_pinned_version(tmp_path):
    out = subprocess.run(
        [str(PULUMI_BIN), "version"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_HOME": str(tmp_path), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=True,
    ).stdout.strip()
    expected = python_to_go(PINS["pulumi"].python_version)
    assert out == expected, f"bin/pulumi reports {out}, pinned is {expected}; rebuild with make toolchain"


@pytest.mark.e2e  # runs after `make toolchain` in `make test`
@pytest.mark.parametrize("binary", ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "etcd"])
def test_built_cluster_binaries_report_pinned_versions(binary):
    path = CLUSTER_BIN / binary
    if not path.exists():
        pytest.skip(f"{path} not built (make toolchain)")
    out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=60, check=True).stdout
    piece = "etcd" if binary == "etcd" else "kube-control-plane"
    expected = PINS[piece].go_version
    version = expected.lstrip("v") if binary == "etcd" else expected
    assert version in out.split(), f"{binary} --version says {out.strip()!r}, pinned is {expected}; rebuild with make toolchain"
