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
that stays the owner's step (README, Rotation). The slots' arithmetic is the model's
(:mod:`secrets_platform.model.secrets`).
"""

from __future__ import annotations

import pulumi
import pulumi_random as random

from secrets_platform import conventions
from secrets_platform.components.common import SecretCopiesComponent, child_options, generated_password
from secrets_platform.model.descriptors import OPAQUE
from secrets_platform.model.secrets import GeneratedCredentialSpec, current_slot, slot_generations


class GeneratedCredential(SecretCopiesComponent):
    """``<service>-<env>-credentials`` in each consumer namespace."""

    TYPE = conventions.GENERATED_CREDENTIAL_TYPE

    def __init__(self, name: str, spec: GeneratedCredentialSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        child = child_options(self, opts)
        # Keyed by the secret key, never by position: reordering config replaces nothing.
        self.passwords: dict[str, random.RandomPassword] = {}
        values: dict[str, pulumi.Output[str]] = {}
        for gen in spec.generated:
            if spec.rotation_strategy == "single":
                self.passwords[gen.key] = generated_password(spec.password_names[gen.key], gen, {"rotation": spec.rotation}, child)
                values[gen.key] = self.passwords[gen.key].result
                continue
            slots = {
                slot: generated_password(spec.slot_names[gen.key][slot], gen, {"slot": slot, "generation": str(g)}, child)
                for slot, g in slot_generations(spec.generation).items()
            }
            current = current_slot(spec.generation)
            previous = "b" if current == "a" else "a"
            for slot, resource in slots.items():
                self.passwords[f"{gen.key}:{slot}"] = resource
            values[gen.key] = slots[current].result
            values[spec.previous_keys[gen.key]] = slots[previous].result
        # A map of known keys (each value a secret): a preview, and the pack, see which keys the Secret holds
        # even before the passwords exist (prd's rules fail closed on an unknown map).
        string_data: dict[str, pulumi.Input[str]] = {**spec.values, **values}
        self.keys = spec.keys
        self._write_copies(spec, secret_type=OPAQUE, string_data=string_data, opts=child, keys=list(self.keys))
