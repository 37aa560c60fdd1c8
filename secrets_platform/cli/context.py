"""What one CLI invocation works with: the :class:`App` (project, engine, environment, cluster access)
and, for the command's ``--stack``, one :class:`StackContext`.

``--stack`` is validated once, when click parses it (:class:`StackParam`): an unknown stack is
refused before the command runs, and the command gets the context, never a bare name. The
context reads the stack file's settings once, resolves the model once, and opens at most one
engine workspace and one kubectl, each only when the command first asks for it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

import click

from secrets_platform import settings as settings_pkg
from secrets_platform.cli.cluster import Kubectl
from secrets_platform.cli.engine import Engine, Workspace
from secrets_platform.cli.project import Project

if TYPE_CHECKING:
    from secrets_platform.model import StackModel


@dataclass
class App:
    """What every command needs; tests build one with fakes and pass it as ``obj``."""

    project: Project
    engine: Engine
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    kubectl: Callable[..., Kubectl] = field(default=lambda context, kubeconfig=None: Kubectl(context, kubeconfig=kubeconfig))
    interactive: Callable[[], bool] = field(default=lambda: sys.stdin.isatty() and sys.stdout.isatty())


class StackContext:
    """One stack for one command: its name, file and settings; lazily its model, engine workspace and kubectl."""

    def __init__(self, app: App, name: str):
        self.app = app
        self.name = name
        self.file: Path = app.project.stack_file(name)
        self._workspace: Workspace | None = None
        self._kube: Kubectl | None = None

    @property
    def project(self) -> Project:
        return self.app.project

    @property
    def environ(self) -> Mapping[str, str]:
        return self.app.environ

    @cached_property
    def settings(self) -> settings_pkg.Settings:
        """The stack file's validated settings (read on first use, so a command may check its other input first)."""
        return self.app.project.read_settings(self.name, self.app.environ)

    @property
    def environment(self) -> str:
        return self.settings.environment

    @cached_property
    def model(self) -> "StackModel":
        from secrets_platform.model import resolve

        return resolve(self.settings)

    def engine_available(self) -> bool:
        return self.app.engine.available()

    def workspace(self) -> Workspace:
        """The command's one engine workspace (opened on first use; EngineError without an engine)."""
        if self._workspace is None:
            self._workspace = self.app.engine.open(self.name)
        return self._workspace

    def kube(self) -> Kubectl:
        """kubectl for the stack's cluster: its context, and its kubeconfig file (local: the local cluster's)."""
        if self._kube is None:
            s = self.settings
            kubeconfig = str((self.app.project.dir / s.kubeconfig).resolve()) if s.kubeconfig else None
            self._kube = self.app.kubectl(s.config.kubernetes.context, kubeconfig)
        return self._kube


class StackParam(click.ParamType):
    """``--stack``: a stack of this project, turned into the command's :class:`StackContext` at parse time.

    An unknown stack fails here with the project's InputError (the stacks that exist, and the fix), exit 2.
    """

    name = "stack"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> StackContext:
        if isinstance(value, StackContext):
            return value
        app = ctx.find_object(App) if ctx is not None else None
        assert app is not None, "the group's callback sets ctx.obj before a command's options are parsed"
        app.project.check_stack(str(value))
        return StackContext(app, str(value))
