"""A generated credential bundle: pulumi-random values plus fixed values, one Opaque Secret per namespace.

Rotation: the bundle's ``rotation`` value is a keeper of every RandomPassword, so
changing it replaces exactly those passwords; the Secrets holding them are updated
in place (see :func:`components.common.platform_secret`). It does not rotate the
password on the remote system (Snowflake, ...): that stays the owner's step.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random

import conventions
from components.common import SecretDescriptor, child_options, secret_copies
from components.consumers import OPAQUE
from settings import Credential


@dataclass(frozen=True)
class GeneratedCredentialArgs:
    credential: Credential
    """The validated bundle from the stack config."""
    environment: str
    namespaces: tuple[str, ...]
    """Full namespace names that get a copy of the Secret."""
    protect: bool
    """Protect and retain the Secrets (prd)."""


def describe_credential(args: GeneratedCredentialArgs) -> list[SecretDescriptor]:
    """What the component creates, without creating it (pure: the CLI reads a stack file with it)."""
    cred = args.credential
    name = conventions.credentials_name(cred.service, args.environment)
    keys = tuple(sorted({*cred.values, *(gen.key for gen in cred.generated)}))
    return [
        SecretDescriptor(name, namespace, OPAQUE, keys, "kubernetes", cred.service, cred.rotation)
        for namespace in sorted(args.namespaces)
    ]


class GeneratedCredential(pulumi.ComponentResource):
    """``<service>-<env>-credentials`` in each consumer namespace."""

    TYPE = "secrets-platform:credentials:GeneratedCredential"

    def __init__(self, name: str, args: GeneratedCredentialArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        cred = args.credential
        self.secret_name = conventions.credentials_name(cred.service, args.environment)
        child = child_options(self, opts)
        # Keyed by the secret key, never by position: reordering config replaces nothing.
        self.passwords = {
            gen.key: random.RandomPassword(
                f"{name}-{gen.key.lower().replace('_', '-')}",
                length=gen.length,
                upper=gen.upper,
                lower=gen.lower,
                numeric=gen.numeric,
                special=gen.special,
                override_special=gen.override_special,
                keepers={"rotation": cred.rotation},
                opts=child,
            )
            for gen in sorted(cred.generated, key=lambda g: g.key)
        }
        # A map of known keys (each value a secret): a preview, and the pack, see which keys the Secret holds
        # even before the passwords exist (prd's rules fail closed on an unknown map).
        string_data = {**cred.values, **{k: p.result for k, p in self.passwords.items()}}
        self.keys = tuple(sorted({*cred.values, *self.passwords}))
        self.secrets = secret_copies(
            self.secret_name,
            args.namespaces,
            environment=args.environment,
            secret_type=OPAQUE,
            string_data=string_data,
            protect=args.protect,
            opts=child,
        )
        self.descriptors = describe_credential(args)
        self.register_outputs({"secret_name": self.secret_name, "keys": list(self.keys)})
