"""A generated credential bundle: pulumi-random values plus fixed values, one Opaque Secret per namespace.

Rotation, ``rotationStrategy: single`` (the default): the bundle's ``rotation`` value is
a keeper of every RandomPassword, so changing it replaces exactly those passwords; the
Secrets holding them are updated in place (see :func:`components.common.platform_secret`).

``rotationStrategy: dual``: every generated key has two RandomPasswords, slots ``a`` and
``b``. The bundle's ``generation`` (a counter) picks them: slot a was last regenerated at
the latest odd generation, slot b at the latest even one, and each slot's keeper is that
number, so ``generation + 1`` changes the keeper of exactly one slot, the older one. The
current slot is the one of the generation's parity; the Secret holds ``<KEY>`` (current)
and ``<KEY>_PREVIOUS`` (the other slot: the value that was current before the last
rotation). Neither strategy sets the password on the remote system (Snowflake, ...):
that stays the owner's step (README, Rotation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pulumi
import pulumi_random as random

from secrets_platform import conventions

from secrets_platform.components.common import SecretCopiesComponent, SecretDescriptor, child_options, generated_password
from secrets_platform.components.consumers import OPAQUE
from secrets_platform.settings import Credential
from secrets_platform.settings.model import PREVIOUS_SUFFIX, GeneratedKey

SLOTS = ("a", "b")


@dataclass(frozen=True)
class GeneratedCredentialSpec:
    """A generated bundle as the stack resolved it (:func:`components.platform.generated_credential_spec`)."""

    credential: Credential
    """The validated bundle from the stack config."""
    secret_name: str
    """``<service>-<env>-credentials`` (:func:`conventions.credentials_name`)."""
    namespaces: tuple[str, ...]
    """Full namespace names that get a copy of the Secret."""
    password_names: Mapping[str, str]
    """Per generated key, the resource name of its RandomPassword (``<service>-<key slug>``; dual: plus ``-slot-a``/``-slot-b``)."""
    labels: Mapping[str, str]
    protect: bool
    """Protect and retain the Secrets (prd)."""


def slot_generations(generation: int) -> dict[str, int]:
    """The generation at which each slot was last regenerated: a at odd ones, b at even ones (0 = the first value)."""
    odd = generation if generation % 2 else generation - 1
    even = generation if generation % 2 == 0 else generation - 1
    return {"a": odd, "b": even}


def current_slot(generation: int) -> str:
    return "a" if generation % 2 else "b"


def bundle_keys(cred: Credential) -> tuple[str, ...]:
    generated = [gen.key for gen in cred.generated]
    if cred.rotation_strategy == "dual":
        generated += [k + PREVIOUS_SUFFIX for k in generated]
    return tuple(sorted({*cred.values, *generated}))


def describe_credential(spec: GeneratedCredentialSpec) -> list[SecretDescriptor]:
    """What the component creates, without creating it (pure: the CLI reads a stack file with it)."""
    cred, name = spec.credential, spec.secret_name
    extra = {}
    if cred.rotation_strategy == "dual":  # single bundles describe themselves as before
        extra = {"rotationStrategy": "dual", "generation": str(cred.generation), "currentSlot": current_slot(cred.generation)}
    return [
        SecretDescriptor(name, namespace, OPAQUE, bundle_keys(cred), "kubernetes", cred.service, cred.rotation, extra)
        for namespace in sorted(spec.namespaces)
    ]


class GeneratedCredential(SecretCopiesComponent):
    """``<service>-<env>-credentials`` in each consumer namespace."""

    TYPE = "secrets-platform:credentials:GeneratedCredential"

    def __init__(self, name: str, spec: GeneratedCredentialSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        cred = spec.credential
        child = child_options(self, opts)

        def password(resource_name: str, gen: GeneratedKey, keepers: dict[str, str]) -> random.RandomPassword:
            return generated_password(resource_name, gen, keepers, child)

        # Keyed by the secret key, never by position: reordering config replaces nothing.
        self.passwords: dict[str, random.RandomPassword] = {}
        values: dict[str, pulumi.Output[str]] = {}
        for gen in sorted(cred.generated, key=lambda g: g.key):
            base = spec.password_names[gen.key]
            if cred.rotation_strategy == "single":
                self.passwords[gen.key] = password(base, gen, {"rotation": cred.rotation})
                values[gen.key] = self.passwords[gen.key].result
                continue
            slots = {
                slot: password(conventions.slot_resource_name(base, slot), gen, {"slot": slot, "generation": str(g)})
                for slot, g in slot_generations(cred.generation).items()
            }
            current = current_slot(cred.generation)
            previous = "b" if current == "a" else "a"
            for slot, resource in slots.items():
                self.passwords[f"{gen.key}:{slot}"] = resource
            values[gen.key] = slots[current].result
            values[gen.key + PREVIOUS_SUFFIX] = slots[previous].result
        # A map of known keys (each value a secret): a preview, and the pack, see which keys the Secret holds
        # even before the passwords exist (prd's rules fail closed on an unknown map).
        string_data: dict[str, pulumi.Input[str]] = {**cred.values, **values}
        self.keys = bundle_keys(cred)
        self._write_copies(
            spec.secret_name,
            spec.namespaces,
            labels=spec.labels,
            secret_type=OPAQUE,
            string_data=string_data,
            protect=spec.protect,
            opts=child,
            keys=list(self.keys),
        )
