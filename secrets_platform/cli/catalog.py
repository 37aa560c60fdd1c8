"""The Secrets of one stack as the CLI sees them: names, types, keys, never values.

Source order: the deployed stack's ``secrets`` output when the stack exists in the
state backend (what consumers really get), else the stack file described by
:func:`secrets_platform.model.planned_descriptors` (what ``pulumi up`` would create).
Both have the shape of :func:`secrets_platform.model.consumers.describe`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Mapping

from secrets_platform import conventions
from secrets_platform import settings as settings_pkg
from secrets_platform.cli.context import StackContext
from secrets_platform.cli.errors import EngineError, InputError
from secrets_platform.model import planned_descriptors
from secrets_platform.model.consumers import describe
from secrets_platform.model.descriptors import OPAQUE

SOURCES = ("auto", "state", "file")
# The backends of a credential bundle's Secret: written by the program (generated and literal values) or by
# External Secrets from Secret Manager. Pull and TLS Secrets share "kubernetes" but not the Opaque type;
# imported Secrets are "imported"; Vault-backed bundles have no Secret.
BUNDLE_BACKENDS = ("kubernetes", conventions.STORE_BACKEND)


def is_bundle(secret: Mapping[str, Any]) -> bool:
    """Whether a catalog entry is a credential bundle's Secret, from its descriptor (type and backend), never its name."""
    return secret.get("type") == OPAQUE and secret.get("backend") in BUNDLE_BACKENDS


@dataclass
class Catalog:
    stack: str
    source: str
    """``state`` (deployed outputs) or ``file`` (the stack file)."""
    secrets: list[dict[str, Any]]
    settings: settings_pkg.Settings
    note: str = ""
    """Why the source is what it is, when that is not obvious (shown on stderr)."""
    deployed_at: str | None = None
    _by_name: dict[str, list[dict[str, Any]]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for s in self.secrets:
            by_name[s["name"]].append(s)
        self._by_name = dict(by_name)

    @property
    def environment(self) -> str:
        return self.settings.environment

    def named(self, name: str) -> list[dict[str, Any]]:
        """Every copy (one per namespace) of the Secret called ``name``."""
        return self._by_name.get(name, [])

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def bundle_names(self) -> set[str]:
        """The names of the credential bundles' Secrets (:func:`is_bundle`)."""
        return {s["name"] for s in self.secrets if is_bundle(s)}

    def bundle_name(self, credential: str) -> str:
        """The bundle ``credential`` means: a bundle listed by that name or service, else the name conventions give it."""
        for s in self.secrets:
            if is_bundle(s) and credential in (s["name"], s.get("service")):
                return s["name"]
        try:
            conventions.parse_credentials_name(credential)
        except conventions.ConventionError:
            return conventions.credentials_name(credential, self.environment, checked=False)
        return credential

    def with_key(self, key: str) -> list[dict[str, Any]]:
        return [s for s in self.secrets if key in s.get("keys", [])]

    def only_namespaces(self, namespaces: tuple[str, ...]) -> "Catalog":
        if not namespaces:
            return self
        # A workload or a full namespace name; a Flyte project's namespace is <project>-<domain> (settings.namespace).
        full = {w: self.settings.namespace(w) for w in self.settings.config.namespaces}
        wanted = {full.get(n) or (n if n in full.values() or self._is_namespace(n) else self._namespace(n)) for n in namespaces}
        kept = [s for s in self.secrets if s["namespace"] in wanted]
        return Catalog(self.stack, self.source, kept, self.settings, self.note, self.deployed_at)

    def _is_namespace(self, name: str) -> bool:
        try:
            return conventions.parse_namespace_name(name).env == self.environment
        except conventions.ConventionError:
            return False

    def _namespace(self, workload: str) -> str:
        return conventions.namespace_name(workload, self.environment, checked=False)


def from_file(s: settings_pkg.Settings) -> list[dict[str, Any]]:
    return [describe(d) for d in planned_descriptors(s)]


def load(stack: StackContext, source: str = "auto") -> Catalog:
    """The catalog of ``stack``; ``source`` picks state, file, or (auto) state when deployed (one engine workspace)."""
    name, s = stack.name, stack.settings
    if source == "file":
        return Catalog(name, "file", from_file(s), s)
    if source == "auto" and not stack.engine_available():
        return Catalog(name, "file", from_file(s), s, note="no Pulumi engine installed: read the stack file")
    try:
        deployed = stack.workspace().exists()
    except EngineError as err:
        if source == "state":
            raise
        return Catalog(name, "file", from_file(s), s, note=f"state unavailable ({err.message.splitlines()[0]}): read the stack file")
    if not deployed:
        if source == "state":
            raise InputError(
                f"stack {name!r} has no deployed state in this backend",
                f"deploy it first (`make up` for local, `pulumi up -s {name}`), or use --from file",
            )
        return Catalog(name, "file", from_file(s), s, note=f"stack {name} is not deployed in this backend: read the stack file")
    outputs = stack.workspace().outputs()
    secrets = outputs.get("secrets")
    if not isinstance(secrets, list):
        raise EngineError(f"stack {name!r} has no `secrets` output", f"run `pulumi up -s {name}` with this version of the program")
    return Catalog(name, "state", secrets, s, deployed_at=stack.workspace().last_update())
