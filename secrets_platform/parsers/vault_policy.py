"""Vault and OpenBao ACL policies, read the way Vault reads them.

Vault parses a policy with HashiCorp HCL v1, which also accepts JSON; ``pyhcl`` implements
that grammar (``path"x"{...}`` without a space, a quoted ``"path"`` key, several blocks on one
line, comments, JSON). This module only decides what the parsed document grants, with Vault's
rules (``vault/policy.go`` in Vault, the same in OpenBao):

- the top level holds ``path`` blocks (and an optional ``name``); anything else is refused;
- a path's body holds ``capabilities`` and the legacy ``policy`` (``read``, ``write``, ``sudo``,
  ``deny``, expanded to capabilities as Vault does), plus the parameter and wrapping
  constraints, which narrow a grant and never widen it;
- a leading ``/`` is dropped; a trailing ``*`` makes a prefix (glob) rule; ``+`` is one segment;
- the same path in two blocks is the union of both (``deny`` wins), as Vault merges them.

Whatever the reader cannot judge with certainty (an unknown key or capability, a value of the
wrong type, a key given twice inside one block, a backslash escape in an HCL string, which Vault
decodes and pyhcl does not, HCL that does not parse) raises :class:`parsers.ParseError`: the
callers refuse the policy.

``tests/localcluster/test_vault_policy_parser.py`` writes every form into a real OpenBao and
checks that what OpenBao grants (``sys/capabilities``) is what :func:`grants` reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hcl.parser import HclParser  # type: ignore[import-untyped]

from secrets_platform.parsers import ParseError

# Every capability Vault or OpenBao accepts in a policy, spelled exactly so (both refuse "READ";
# "subscribe" and "recover" are Vault's, "scan" OpenBao's; "root" is internal and refused by both).
CAPABILITIES = frozenset({"deny", "create", "read", "update", "patch", "delete", "list", "sudo", "subscribe", "recover", "scan"})
# The legacy `policy = "..."` of a path, as Vault expands it (OldReadPathPolicy & co.).
_LEGACY = {
    "deny": frozenset({"deny"}),
    "read": frozenset({"read", "list"}),
    "write": frozenset({"create", "read", "update", "delete", "list"}),
    "sudo": frozenset({"create", "read", "update", "delete", "list", "sudo"}),
}
# The keys Vault accepts in a path block (hclutil.CheckHCLKeys in parsePaths).
_PATH_KEYS = frozenset(
    {
        "comment",
        "policy",
        "capabilities",
        "allowed_parameters",
        "denied_parameters",
        "required_parameters",
        "min_wrapping_ttl",
        "max_wrapping_ttl",
        "mfa_methods",
        "control_group",
        "subscribe_event_types",
        "pagination_limit",
        "list_scan_response_keys_filter_path",
    }
)
_TOP_KEYS = frozenset({"name", "path"})
# Vault's mounts that control who may do what: auth methods and their roles (auth/), policies,
# mounts and tokens (sys/), and entities and groups with their policies (identity/).
CONTROL_MOUNTS = ("auth", "sys", "identity")


@dataclass(frozen=True)
class Grant:
    """What one policy grants on one path (as written, without a leading '/')."""

    path: str
    capabilities: frozenset[str]

    @property
    def is_prefix(self) -> bool:
        """A trailing ``*``: every path that starts with the rest."""
        return self.path.endswith("*")

    @property
    def allows(self) -> frozenset[str]:
        """The capabilities that let a token do something (``deny`` grants nothing)."""
        return frozenset() if "deny" in self.capabilities else self.capabilities


class _Duplicate(Exception):
    pass


def _merge(into: dict, key: Any, value: Any) -> None:
    """Add ``key = value`` to an object; blocks of one key merge, a scalar given twice must agree."""
    if key not in into:
        into[key] = value
    elif isinstance(into[key], dict) and isinstance(value, dict):
        for k, v in value.items():
            _merge(into[key], k, v)
    elif isinstance(into[key], list) and isinstance(value, list) and key == "capabilities":
        into[key] = into[key] + value  # two blocks of one path: Vault takes the union
    elif into[key] != value:
        raise _Duplicate(key)


class _Parser(HclParser):
    """pyhcl's HCL v1 grammar; objects are built without dropping a block whose key repeats."""

    def objectlist_flat(self, lt, replace):  # noqa: D401 - pyhcl's hook
        # replace is pyhcl's "top level": there each `path "x" {...}` block is an item of its own and
        # blocks of one path merge (Vault takes the union). Inside a block a key given twice is ambiguous.
        out: dict = {}
        for key, value in lt:
            if not isinstance(key, str):
                raise _Duplicate(key)  # an arithmetic key (`a + 1 = ...`): not a policy
            if not replace and key in out:
                raise _Duplicate(key)
            _merge(out, key, value)
        return out


@lru_cache(maxsize=1)
def _parser() -> _Parser:
    return _Parser()


def _json_object(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def parse(text: str) -> dict:
    """The policy document as HCL v1 (or JSON) reads it; ParseError when it does not parse."""
    if not isinstance(text, str):
        raise ParseError("a policy is text")
    try:
        if text.lstrip().startswith("{"):
            doc = json.loads(text, object_pairs_hook=_json_object)
        else:
            doc = _parser().parse(text)
    except _Duplicate as err:
        raise ParseError(f"gives {err.args[0]!r} twice in one object, which Vault may read otherwise than this check") from None
    except Exception as err:  # noqa: BLE001 - pyhcl and ply raise ValueError, TypeError, LexError...
        raise ParseError(
            f"is not HCL or JSON that Vault parses ({str(err).splitlines()[0][:120] if str(err) else type(err).__name__})"
        ) from None
    if not isinstance(doc, dict):
        raise ParseError("is not an HCL or JSON object")
    if not text.lstrip().startswith("{") and _has_backslash(doc):
        # Vault decodes HCL string escapes (\u0073ys is sys, \x2f is '/'); pyhcl keeps them as written,
        # so a path with one could mean another path to Vault than to this reader.
        raise ParseError("uses a backslash escape in a string, which Vault decodes and this reader does not; write the path plainly")
    return doc


def _has_backslash(value: Any) -> bool:
    if isinstance(value, str):
        return "\\" in value
    if isinstance(value, dict):
        return any(_has_backslash(k) or _has_backslash(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_backslash(v) for v in value)
    return False


def _path_blocks(value: Any) -> list[tuple[str, Any]]:
    """``path`` as HCL gives it (an object of path -> body) or as JSON may (a list of such objects)."""
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return [item for v in value for item in v.items()]
    raise ParseError("has a `path` that is not a block of paths")


def _capabilities(path: str, body: Any) -> frozenset[str]:
    if not isinstance(body, dict):
        raise ParseError(f"path {path!r} is not a block")
    unknown = sorted(set(body) - _PATH_KEYS)
    if unknown:
        raise ParseError(f"path {path!r} has keys Vault does not know ({', '.join(map(repr, unknown))})")
    caps: set[str] = set()
    listed = body.get("capabilities", [])
    if not isinstance(listed, list) or not all(isinstance(c, str) for c in listed):
        raise ParseError(f"path {path!r}: capabilities is not a list of names")
    for cap in listed:
        if cap not in CAPABILITIES:
            raise ParseError(f"path {path!r}: {cap!r} is not a Vault capability")
        caps.add(cap)
    legacy = body.get("policy")
    if legacy is not None:
        if not isinstance(legacy, str) or legacy not in _LEGACY:
            raise ParseError(f"path {path!r}: policy {legacy!r} is not one of deny, read, write, sudo")
        caps |= _LEGACY[legacy]
    return frozenset({"deny"}) if "deny" in caps else frozenset(caps)


def grants(text: str) -> tuple[Grant, ...]:
    """Every path the policy names with what it grants there (blocks of one path merged), in path order."""
    doc = parse(text)
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        raise ParseError(f"has top-level keys Vault does not know ({', '.join(map(repr, unknown))})")
    merged: dict[str, frozenset[str]] = {}
    for raw, body in _path_blocks(doc.get("path", {})):
        path = raw.removeprefix("/")
        caps = _capabilities(raw, body)
        before = merged.get(path, frozenset())
        merged[path] = frozenset({"deny"}) if "deny" in caps | before else before | caps
    return tuple(Grant(path, caps) for path, caps in sorted(merged.items()))


def control_mount(path: str) -> str | None:
    """The control mount (auth, sys, identity) a policy path may reach, or None.

    A path reaches one when its first segment is that mount, or a ``+`` (any mount), or a
    glob that covers the mount's name (``*``, ``s*``, ``a*``); or when any later segment is
    the mount's name (a namespace's own ``<ns>/sys/...``).
    """
    segments = path.removeprefix("/").split("/")
    first = segments[0]
    if first == "+":
        return "any mount ('+')"
    if len(segments) == 1 and first.endswith("*"):
        stem = first[:-1]
        for mount in CONTROL_MOUNTS:
            if mount.startswith(stem) or stem.startswith(mount):
                return mount
    for segment in segments:
        if segment in CONTROL_MOUNTS:
            return segment
    return None
