"""``rotate``: bump one bundle's rotation in its stack file, preview and apply only that bundle.

:func:`plan` checks everything that can be checked before the stack file is touched;
:meth:`Rotation.edited` holds the edit for the preview and the prompt and restores the file
unless :meth:`Rotation.apply` succeeded.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from secrets_platform import conventions
from secrets_platform.cli.context import StackContext
from secrets_platform.cli.engine import Step
from secrets_platform.cli.errors import EngineError, InputError
from secrets_platform.cli.stackfile import bump_rotation, next_rotation
from secrets_platform.settings.model import Credential

# A replacement shows as up to three steps of one resource (create-replacement, replace,
# delete-replaced); count resources, not steps.
_REPLACE_OPS = frozenset({"replace", "create-replacement", "delete-replaced", "create-before-delete"})


@dataclass
class Rotation:
    stack: StackContext
    cred: Credential
    secret_name: str
    targets: list[str]
    """URNs of the bundle's component and everything under it: all that preview and up touch."""
    new: str
    """The new rotation value."""
    original: str
    edited: str
    applied: bool = False

    @property
    def dual(self) -> bool:
        """The generation picks the slot; the rotation value stays the date."""
        return self.cred.rotation_strategy == "dual"

    def slots(self) -> tuple[str, str]:
        """(the slot regenerated, the slot that keeps the current value) of a dual bundle."""
        from secrets_platform.model.secrets import current_slot

        return current_slot(self.cred.generation + 1), current_slot(self.cred.generation)

    @contextmanager
    def edited_file(self) -> Iterator[None]:
        """The stack file carries the new rotation inside; the original comes back unless applied."""
        self.stack.file.write_text(self.edited)
        try:
            yield
        finally:
            if not self.applied:
                self.stack.file.write_text(self.original)

    def preview(self) -> list[Step]:
        return self.stack.workspace().preview(self.targets)

    def apply(self) -> tuple[int, int]:
        """Up of the bundle only: (generated keys replaced, Secrets updated in place)."""
        done = self.stack.workspace().up(self.targets)
        self.applied = True
        return rotation_counts(done)


def plan(stack: StackContext, name: str, to_value: str | None) -> Rotation:
    """The rotation of bundle ``name`` (service or bundle name), checked; the stack file is not touched yet."""
    cred = credential(stack, name)
    secret_name = conventions.credentials_name(cred.service, stack.settings.environment)
    if not stack.workspace().exists():
        raise EngineError(
            f"stack {stack.name!r} has no deployed state in this backend, so there is nothing to rotate",
            f"deploy it first (`make up` for local, `pulumi up -s {stack.name}` otherwise)",
        )
    targets = bundle_urns(stack.workspace().resources(), cred.service, secret_name)
    path = stack.file
    original = path.read_text()
    new = to_value or next_rotation(cred.rotation)
    if new == cred.rotation:
        raise InputError(f"--to {new}: that is the current rotation of {cred.service}", "give a new value")
    edited = bump_rotation(original, cred.service, new, str(path))
    if cred.rotation_strategy == "dual":
        edited = bump_rotation(edited, cred.service, str(cred.generation + 1), str(path), field="generation")
    return Rotation(stack, cred, secret_name, targets, new, original, edited)


def credential(stack: StackContext, name: str) -> Credential:
    """The generated bundle called ``name``; an InputError for anything else, saying where its value comes from."""
    s = stack.settings
    env = s.environment
    cred = next((c for c in s.config.credentials if name in (c.service, conventions.credentials_name(c.service, env))), None)
    if cred is None:
        others = [
            *(conventions.pull_secret_name(r.service, env) for r in s.config.registries),
            *(conventions.secret_name(t.service, env, t.purpose) for t in s.config.tls_secrets),
        ]
        if name in others or conventions.OTHER_SECRET_NAME.match(name):
            raise InputError(
                f"{name} is not a generated credential bundle; its value comes from config or the deploy environment",
                "rotate it at its source, then `pulumi config set --secret ...` (or update the repository secret) and deploy",
            )
        known = ", ".join(c.service for c in s.config.credentials) or "(none)"
        raise InputError(
            f"unknown credential {name!r} in stack {stack.name}: bundles are {known}", "pass a service or <service>-<env>-credentials"
        )
    if not cred.generated:
        raise InputError(
            f"{cred.service} has no generated keys, so rotation would change nothing",
            "rotate fixed values with `pulumi config set --path 'credentials[..].values.<KEY>'`",
        )
    return cred


def rotation_counts(steps: Iterable[Step]) -> tuple[int, int]:
    """(generated keys replaced, Secrets updated in place) of an applied rotation: distinct resources."""
    steps = list(steps)
    replaced = {s.urn for s in steps if s.type.endswith("RandomPassword") and s.op in _REPLACE_OPS}
    updated = {s.urn for s in steps if s.type == "kubernetes:core/v1:Secret" and s.op == "update"}
    return len(replaced), len(updated)


def bundle_urns(resources: list[dict[str, Any]], service: str, secret_name: str) -> list[str]:
    """The bundle's component and everything under it, found in state (works for any backend)."""
    by_urn = {r["urn"]: r for r in resources if "urn" in r}
    roots = {
        r.get("parent") for r in resources if ((r.get("inputs") or {}).get("metadata") or {}).get("name") == secret_name and r.get("parent")
    }
    roots |= {
        u for u, r in by_urn.items() if r.get("type") == conventions.GENERATED_CREDENTIAL_TYPE and conventions.parse_urn(u).name == service
    }
    if not roots:
        raise EngineError(f"{secret_name} is not in the deployed state", "deploy the stack file as it is first, then rotate")

    def under(urn: str) -> bool:
        seen = set()
        while urn and urn not in seen:
            if urn in roots:
                return True
            seen.add(urn)
            urn = (by_urn.get(urn) or {}).get("parent", "")
        return False

    return sorted(u for u in by_urn if under(u))
