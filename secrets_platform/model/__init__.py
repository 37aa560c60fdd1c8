"""The resolved model of one stack: what every layer reads, with no Pulumi SDK in it.

Data flows one way: stack config -> :mod:`secrets_platform.settings` -> :func:`resolve`
(this package) -> :mod:`secrets_platform.components` (``build``) -> the stack outputs.
The CLI, the cross-stack check and the bench read the model without importing the program.

- :mod:`~secrets_platform.model.stack`: :func:`resolve`, :class:`StackModel`, the operators', access, audit and provider specs;
- :mod:`~secrets_platform.model.plan`: the secret plan (each Secret component's spec and descriptors);
- :mod:`~secrets_platform.model.secrets`, :mod:`~secrets_platform.model.specs`: the specs, resolved values only;
- :mod:`~secrets_platform.model.vault`: Vault's names, policies, roles, database roles and agent fragments;
- :mod:`~secrets_platform.model.external_secrets`: ESO's chart values, store and ExternalSecret bodies;
- :mod:`~secrets_platform.model.consumers`, :mod:`~secrets_platform.model.outputs`: consumer fragments and the outputs' content.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from secrets_platform.model.descriptors import SecretDescriptor, Sensitive
from secrets_platform.model.plan import PlannedSecrets, descriptors_of, secret_plan
from secrets_platform.model.stack import StackModel, resolve, vault_names

if TYPE_CHECKING:
    from secrets_platform.settings import Settings

__all__ = [
    "PlannedSecrets",
    "SecretDescriptor",
    "Sensitive",
    "StackModel",
    "descriptors_of",
    "planned_descriptors",
    "resolve",
    "secret_plan",
    "vault_names",
]


def planned_descriptors(settings: Settings) -> list[SecretDescriptor]:
    """Every Secret the stack creates, described without creating anything (same order as outputs)."""
    return resolve(settings).descriptors
