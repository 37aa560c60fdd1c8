"""The Pulumi engine, driven through the Automation API (``pulumi.automation``).

The environment follows the Makefile's conventions so the CLI and ``make`` see the
same state: ``bin/`` (the engine built from Go modules) first on PATH, a file state
backend in ``.state/`` unless ``PULUMI_BACKEND_URL`` says otherwise (CI points it at
the environment's bucket), no update check, no automatic plugin download, and the
documented local passphrase for the ``local`` stack only.

Nothing here prints: callers get names, operations and counts. Engine output is
never streamed to the terminal, so no diff can leak a value.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from secrets_platform import conventions
from secrets_platform.cli.errors import EngineError

# Documented in the README; protects nothing real and is used for the local stack only.
LOCAL_PASSPHRASE = "local-only-passphrase"
# Marker pulumi uses for a secret value in exported state (`stack export --show-secrets`).
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"


@dataclass(frozen=True)
class Step:
    """One planned or applied resource operation (never its inputs)."""

    op: str
    urn: str
    type: str

    @property
    def name(self) -> str:
        return conventions.parse_urn(self.urn).name


@dataclass
class Engine:
    """Automation API access to the project's stacks; one instance per CLI run."""

    project_dir: Path
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    # ---- environment -------------------------------------------------------------------------
    @property
    def bin_dir(self) -> Path:
        return self.project_dir / "bin"

    def pulumi_binary(self) -> str | None:
        local = self.bin_dir / "pulumi"
        if local.is_file() and os.access(local, os.X_OK):
            return str(local)
        return shutil.which("pulumi", path=self.environ.get("PATH"))

    def available(self) -> bool:
        return self.pulumi_binary() is not None

    def env_vars(self, stack: str) -> dict[str, str]:
        e = self.environ
        env = {
            "PULUMI_HOME": e.get("PULUMI_HOME") or str(self.project_dir / ".pulumi-home"),
            "PULUMI_BACKEND_URL": e.get("PULUMI_BACKEND_URL") or f"file://{self.project_dir / '.state'}",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "PATH": os.pathsep.join([str(self.bin_dir), str(self.project_dir / ".venv" / "bin"), e.get("PATH", "")]),
        }
        if stack == "local":
            env["PULUMI_CONFIG_PASSPHRASE"] = e.get("PULUMI_CONFIG_PASSPHRASE") or LOCAL_PASSPHRASE
        return env

    def require(self) -> None:
        if not self.available():
            raise EngineError(
                "the Pulumi engine is not installed (no bin/pulumi and no pulumi on PATH)",
                "build it with `make toolchain` (or install Pulumi 3.260.0)",
            )

    def open(self, stack: str) -> "Workspace":
        """One engine workspace for ``stack``: a command opens one and asks it everything (see :class:`Workspace`)."""
        from pulumi import automation as auto

        self.require()
        binary = Path(self.pulumi_binary() or "")
        env = self.env_vars(stack)
        home = Path(env["PULUMI_HOME"])
        try:
            home.mkdir(parents=True, exist_ok=True)
        except OSError as err:  # a dangling link, a file in its place, no permission
            raise EngineError(
                f"the engine's home folder PULUMI_HOME={home} cannot be created: {err.strerror or err}",
                f"remove or fix {home} (make toolchain creates it), or set PULUMI_HOME to a writable folder",
            ) from None
        # PulumiCommand(root=R) runs R/bin/pulumi.
        command = auto.PulumiCommand(root=str(binary.parent.parent), skip_version_check=True)
        return Workspace(stack, auto.LocalWorkspace(work_dir=str(self.project_dir), env_vars=env, pulumi_command=command))


class Workspace:
    """One Automation API workspace bound to one stack, for one command.

    The backend's stack list is read once (whether the stack exists and when it was last
    updated come from the same listing) and the stack is selected once, for every later
    read, preview and up.
    """

    def __init__(self, stack: str, workspace: Any):
        self.stack = stack
        self._ws = workspace
        self._summary: Any = None
        self._listed = False
        self._selected: Any = None

    def _listing(self) -> Any:
        """The backend's summary of this stack (None when absent); read once."""
        if not self._listed:
            self._summary = next((s for s in self._ws.list_stacks() if s.name.rsplit("/", 1)[-1] == self.stack), None)
            self._listed = True
        return self._summary

    def _select(self) -> Any:
        from pulumi import automation as auto

        if self._selected is None:
            try:
                self._selected = auto.Stack.select(self.stack, self._ws)
            except auto.errors.CommandError as err:
                raise EngineError(
                    f"stack {self.stack!r} cannot be selected: {_first_line(err)}",
                    f"deploy it first (`make up` for local, `pulumi up -s {self.stack}` otherwise)",
                ) from None
        return self._selected

    # ---- reads ---------------------------------------------------------------------------------
    def exists(self) -> bool:
        from pulumi import automation as auto

        try:
            return self._listing() is not None
        except auto.errors.CommandError as err:
            raise EngineError(
                f"the state backend cannot be read: {_first_line(err)}", "check PULUMI_BACKEND_URL and your credentials for it"
            ) from None

    def last_update(self) -> str | None:
        from pulumi import automation as auto

        try:
            summary = self._listing()
        except auto.errors.CommandError:
            return None
        return summary.last_update.isoformat(timespec="seconds") if summary is not None and summary.last_update else None

    def outputs(self) -> dict[str, Any]:
        """Plain stack outputs (the platform exports no secret output)."""
        from pulumi import automation as auto

        try:
            return {k: v.value for k, v in self._select().outputs().items()}
        except auto.errors.CommandError as err:
            raise EngineError(f"outputs of stack {self.stack!r} cannot be read: {_first_line(err)}") from None

    def resources(self) -> list[dict[str, Any]]:
        """The deployment's resources, decrypted (``stack export --show-secrets``): handle with care."""
        from pulumi import automation as auto

        try:
            deployment = self._select().export_stack().deployment or {}
        except auto.errors.CommandError as err:
            raise EngineError(f"state of stack {self.stack!r} cannot be exported: {_first_line(err)}") from None
        return list(deployment.get("resources") or [])

    # ---- writes --------------------------------------------------------------------------------
    def preview(self, targets: list[str]) -> list[Step]:
        return self._run(targets, apply=False)

    def up(self, targets: list[str]) -> list[Step]:
        return self._run(targets, apply=True)

    def _run(self, targets: list[str], apply: bool) -> list[Step]:
        from pulumi import automation as auto

        st = self._select()
        steps: list[Step] = []
        sink: list[str] = []
        kwargs: dict[str, Any] = dict(
            target=targets, target_dependents=True, on_event=_collect(steps), on_output=sink.append, color="never"
        )
        try:
            if apply:
                st.up(**kwargs)
            else:
                st.preview(**kwargs)
        except auto.errors.CommandError as err:
            verb = "up" if apply else "preview"
            raise EngineError(
                f"`pulumi {verb}` of stack {self.stack!r} failed: {_diagnostic(err)}",
                f"run `pulumi {verb} -s {self.stack}` for the full report",
            ) from None
        return [s for s in steps if s.op not in ("same", "read")]


def _collect(steps: list[Step]) -> Callable[[Any], None]:
    seen: set[tuple[str, str]] = set()

    def on_event(event: Any) -> None:
        pre = getattr(event, "resource_pre_event", None)
        if pre is None or pre.metadata is None:
            return
        md = pre.metadata
        op = getattr(md.op, "value", str(md.op))
        if (op, md.urn) not in seen and md.type != "pulumi:pulumi:Stack":
            seen.add((op, md.urn))
            steps.append(Step(op, md.urn, md.type))

    return on_event


def _first_line(err: Exception) -> str:
    text = getattr(err, "stderr", "") or str(err)
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


def _diagnostic(err: Exception) -> str:
    """The engine's error lines (diagnostics name resources and causes, never secret values)."""
    text = str(getattr(err, "stderr", "") or err)
    lines = [line.strip() for line in text.splitlines() if "error" in line.lower()]
    return "; ".join(lines[:3]) if lines else _first_line(err)


def plain(value: Any) -> Any:
    """Unwrap exported secret values (``{<sig>: ..., plaintext: "<json>"}``) into plain data."""
    if isinstance(value, dict):
        if SECRET_SIG_KEY in value:
            if "plaintext" in value:
                return plain(json.loads(value["plaintext"]))
            if "value" in value:
                return plain(value["value"])
            raise EngineError(
                "a secret in the exported state is still encrypted",
                "the local passphrase must decrypt it: run with PULUMI_CONFIG_PASSPHRASE of the README",
            )
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
