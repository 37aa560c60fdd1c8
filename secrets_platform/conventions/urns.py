"""Pulumi resource URNs, built and parsed by the engine's own rules (part of :mod:`secrets_platform.conventions`).

``urn:pulumi:<stack>::<project>::<qualified type>::<name>``. The qualified type is the parent's
type chain and the resource's own type joined by ``$``. The name is everything after the third
``::``, so a name may itself hold ``::``: the engine's ``URN.Name`` (pulumi sdk/v3
``go/common/resource/urn``) reads it that way, and so must every guard that compares names;
reading the last ``::`` segment instead would let ``evil::trusted`` pass for ``trusted``.
"""

from __future__ import annotations

from typing import NamedTuple

from secrets_platform.conventions.errors import ConventionError

__all__ = ["GENERATED_CREDENTIAL_TYPE", "URN_PREFIX", "Urn", "parse_urn", "urn"]

URN_PREFIX = "urn:pulumi:"
_DELIMITER = "::"
_TYPE_DELIMITER = "$"
_FORM = "'urn:pulumi:<stack>::<project>::<type>::<name>'"

# A generated bundle's component type (components.credentials); the CLI finds a bundle in state by it and its name.
GENERATED_CREDENTIAL_TYPE = "secrets-platform:credentials:GeneratedCredential"


class Urn(NamedTuple):
    """A URN's parts, as the engine reads them."""

    stack: str
    project: str
    qualified_type: str
    """The parent's type chain and the resource's own type, joined by ``$``."""
    name: str

    @property
    def type(self) -> str:
        """The resource's own type: the qualified type's last ``$`` part."""
        return self.qualified_type.rsplit(_TYPE_DELIMITER, 1)[-1]

    @property
    def parent_type(self) -> str | None:
        """The parent's type (the qualified type's part before its own), None for a child of the stack."""
        chain = self.qualified_type.split(_TYPE_DELIMITER)
        return chain[-2] if len(chain) > 1 else None


def urn(stack: str, project: str, qualified_type: str, name: str) -> str:
    """``urn:pulumi:<stack>::<project>::<qualified type>::<name>`` (the engine's ``NewURN``)."""
    for what, part in (("stack", stack), ("project", project), ("type", qualified_type)):
        if _DELIMITER in part:
            raise ConventionError(f"a URN's {what} {part!r} holds '::', which would end it early; only the name may")
    return f"{URN_PREFIX}{stack}{_DELIMITER}{project}{_DELIMITER}{qualified_type}{_DELIMITER}{name}"


def parse_urn(text: str) -> Urn:
    """The inverse of :func:`urn`: the engine's ``URN.Stack/Project/QualifiedType/Name``.

    Raises ConventionError for a string the engine would not take as a URN (no ``urn:pulumi:``
    prefix, fewer than three ``::``).
    """
    if not isinstance(text, str) or not text.startswith(URN_PREFIX) or text.count(_DELIMITER) < 3:
        raise ConventionError(f"URN {text!r} is not of the form {_FORM}")
    stack, project, qualified_type, name = text[len(URN_PREFIX) :].split(_DELIMITER, 3)
    return Urn(stack, project, qualified_type, name)
