"""Reading properties as the engine sends them, and quoting names for messages.

Properties may be unknown during preview: pulumi_policy raises ``UnknownValueError``
on access and, if a policy lets it escape, downgrades the result to an advisory
note (fail-open). So rules read properties through ``plain`` and turn an unknown
they need into ``UnknownAtPreview``, which the wrappers in ``policies.declare``
report in stacks that fail closed. Messages only ever carry names, passed through
``show``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)
from pulumi_policy.secret import Secret

# --------------------------------------------------------------------------- unknowns


class _Unknown:
    """Marks a property whose value the engine could not know at preview."""

    _instance: "_Unknown | None" = None

    def __new__(cls) -> "_Unknown":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown at preview>"


UNKNOWN = _Unknown()

SENTINELS = frozenset(
    {
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    }
)


class UnknownAtPreview(Exception):
    """A rule needed a value that is unknown at preview; ``where`` is its property path."""

    def __init__(self, where: str, why: str = "it is computed from another resource") -> None:
        super().__init__(where)
        self.where = where or "(the resource's properties)"
        self.why = why


def plain(value: Any) -> Any:
    """Copy engine properties into plain dicts/lists, unknowns replaced by ``UNKNOWN``.

    Works on pulumi_policy's unknown-checking proxies (which raise on access) and on
    raw sentinel strings alike, so tests may build properties either way.
    """
    if isinstance(value, Secret):
        value = value.value
    if isinstance(value, str):
        return UNKNOWN if value in SENTINELS else value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in value:
            try:
                out[key] = plain(value[key])
            except UnknownValueError:
                out[key] = UNKNOWN
        return out
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def _path(where: str, steps: Sequence[str | int]) -> str:
    for step in steps:
        if isinstance(step, int):
            where = f"{where}[{step}]"
        else:
            where = f"{where}.{step}" if where else str(step)
    return where


def at(value: Any, *path: str | int, where: str = "", default: Any = None) -> Any:
    """Walk ``path`` into ``value``; a missing step gives ``default``, an unknown one raises."""
    for depth, step in enumerate(path):
        if value is UNKNOWN:
            raise UnknownAtPreview(_path(where, path[:depth]))
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return default
        elif not isinstance(value, Mapping) or step not in value:
            return default
        value = value[step]
    if value is UNKNOWN:
        raise UnknownAtPreview(_path(where, path))
    return default if value is None else value


def has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


def known(value: Any, where: str) -> Any:
    """``value`` itself, after checking nothing inside it is unknown."""
    if has_unknown(value):
        raise UnknownAtPreview(where)
    return value


def strings(value: Any, where: str) -> list[str]:
    """A known list of strings (``None`` -> ``[]``, a single string -> ``[it]``)."""
    known(value, where)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def entries(value: Any, where: str) -> Iterator[tuple[str, Any]]:
    """``(where[i], item)`` for a list that is itself known (its items may not be)."""
    if value is UNKNOWN:
        raise UnknownAtPreview(where)
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield f"{where}[{index}]", item


def keys_of(value: Any, where: str) -> list[str]:
    """The keys of a map that is itself known; its values are never read."""
    if value is UNKNOWN:
        raise UnknownAtPreview(where)
    return list(value) if isinstance(value, Mapping) else []


# --------------------------------------------------------------------------- showing names


def artifact_name(reference: str) -> str:
    """The name of a chart or image reference, without registry, path, tag or digest:
    ``oci://registry/hashicorp/vault``, ``hashicorp/vault:1.17.2``, ``quay.io/openbao/openbao@sha256:...`` -> ``vault``, ``openbao``."""
    return reference.rstrip("/").rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]


_SHOWABLE = re.compile(r"^[A-Za-z0-9_.:/@\[\]*^$()|+?\\ -]{1,253}\Z")


def show(text: Any) -> str:
    """Quote a *name* (key, namespace, role, reference) for a message.

    Rules only ever pass names here, never values. As a second fence, anything that
    does not look like a name (too long, odd characters, not a string) is not shown.
    """
    if isinstance(text, str) and _SHOWABLE.match(text) and "\n" not in text:
        return f"'{text}'"
    return "(a name not shown: it does not look like a plain name)"
