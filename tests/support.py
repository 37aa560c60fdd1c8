"""Shared test helpers, imported by name (`from support import ...`): the program under Pulumi mocks
(tests/mocks.py, shared with bench/) with every registration recorded, and stack configs to test with.

Helpers live here, not in conftest.py, so no test imports a conftest (another conftest.py
anywhere in tests/ would shadow it); conftest.py holds only fixtures.

Mocks are set per test (never at import time) with the project and stack of the
settings under test, and return realistic state: the inputs plus a
`metadata.name`-derived id, like the kubernetes provider.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import mocks
from pulumi.runtime import rpc

from secrets_platform import settings as settings_pkg

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Registered:
    type: str
    name: str
    inputs: dict[str, Any]
    urn: str = ""
    protect: bool = False
    retain_on_delete: bool = False

    def plain(self) -> dict[str, Any]:
        """Inputs with secrets unwrapped (for asserting structure, never printed)."""
        return unwrap(self.inputs)


def is_secret(value: Any) -> bool:
    """True when a wire value is a Pulumi secret (the mock monitor keeps the signature)."""
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def unwrap(value: Any) -> Any:
    if is_secret(value):
        return unwrap(value["value"])
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


@dataclass
class ProgramRun:
    resources: list[Registered]
    outputs: dict[str, Any]

    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.type == typ]

    def named(self, typ: str, name: str) -> Registered:
        found = [r for r in self.of_type(typ) if r.name == name]
        assert len(found) == 1, f"expected one {typ} named {name}, found {[r.name for r in self.of_type(typ)]}"
        return found[0]


def run_program(settings: settings_pkg.Settings, body: Callable[[settings_pkg.Settings], Any] | None = None) -> ProgramRun:
    """Run the platform (or ``body``) for ``settings`` under fresh mocks and wait for it."""
    from secrets_platform.components.platform import build

    result: dict[str, Any] = {}

    def program():
        if body is not None:
            result["value"] = body(settings)
            return None
        platform = build(settings)
        result["value"] = platform.outputs()
        return None

    monitor = mocks.evaluate(program, settings.stack)
    resources = [
        Registered(r.type, r.name, dict(rpc.deserialize_properties(r.object)), r.urn, r.protect, r.retain_on_delete)
        for r in monitor.registered
    ]
    return ProgramRun(resources, result.get("value") or {})


def pem(label: str) -> str:
    """A PEM-armored block made at run time with a random body: enough for the armor checks, never a real key."""
    body = base64.b64encode(os.urandom(48)).decode()
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def stack_settings(stack: str, environ: dict[str, str] | None = None) -> settings_pkg.Settings:
    return settings_pkg.from_stack_file(ROOT / f"Pulumi.{stack}.yaml", environ or {})


def base_config(env: str = "prd", **overrides: Any) -> dict[str, Any]:
    """A small valid config (keys without the namespace), as the engine would hand it over."""
    cfg: dict[str, Any] = {
        "environment": env,
        "namespaces": ["dagster", "floe-jobs"],
        "credentials": [
            {
                "service": "snowflake",
                "namespaces": ["dagster", "floe-jobs"],
                "rotation": "1",
                "values": {"SNOWFLAKE_USER": "svc"},
                "generated": [{"key": "SNOWFLAKE_PASSWORD", "length": 40}],
            }
        ],
    }
    if env == "local":
        cfg["kubernetes"] = {"renderDir": "rendered/local"}
    else:  # dev, stg and prd name their cluster's context (settings refuse an ambient kubeconfig)
        cfg["kubernetes"] = {"context": f"gke_example-data-platform_europe-west1_data-{env}"}
    cfg.update(overrides)
    return cfg


def load(
    env: str = "prd", secret_keys: set[str] | None = None, environ: dict[str, str] | None = None, **overrides: Any
) -> settings_pkg.Settings:
    return settings_pkg.from_mapping(base_config(env, **overrides), secret_keys or set(), env, environ or {})


class CmdlineSampler:
    """Every process's command line, sampled while something runs, to prove no secret rides on one.

    Any local user reads ``/proc/<pid>/cmdline`` of every process, so a token or password passed as an
    argument is disclosed for as long as the process lives. Used as a context manager around the steps
    under test (``with CmdlineSampler() as seen: ...``), a thread re-reads every process's command line
    every ``interval`` seconds and keeps each distinct one; :meth:`leaks` then names, without the value,
    each known secret found in one (as it is, or base64-encoded). A value first known after the steps
    ran (an issued password) is checked just the same: the command lines are kept, not judged live.
    """

    def __init__(self, interval: float = 0.002):
        import threading

        self.interval = interval
        self.seen: dict[bytes, int] = {}
        """Each distinct command line (NUL-separated arguments) -> the pid it was first seen in."""
        self.sweeps = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cmdline-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sweep()
            self._stop.wait(self.interval)

    def sweep(self) -> None:
        with os.scandir("/proc") as entries:
            for entry in entries:
                if not entry.name.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry.name}/cmdline", "rb") as fh:
                        line = fh.read()
                except OSError:  # gone meanwhile
                    continue
                if line and line not in self.seen:
                    self.seen[line] = int(entry.name)
        self.sweeps += 1

    def __enter__(self) -> "CmdlineSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.sweep()

    def saw(self, needle: str) -> bool:
        """Some command line held ``needle`` (for a test's positive control)."""
        return any(needle.encode() in line for line in self.seen)

    def leaks(self, secrets: dict[str, str]) -> list[str]:
        """``name in <program> (pid N)`` for each secret (name -> value) found on a command line; never the value."""
        found = []
        for name, value in sorted(secrets.items()):
            if len(value) < 8:
                raise ValueError(f"{name} is too short to tell from an ordinary argument: give the sampler real secrets")
            forms = {value.encode(), base64.b64encode(value.encode()), base64.urlsafe_b64encode(value.encode())}
            for line, pid in self.seen.items():
                if any(form in line for form in forms):
                    program = line.split(b"\0", 1)[0].decode(errors="replace").rsplit("/", 1)[-1]
                    found.append(f"{name} in {program} (pid {pid})")
        return found
