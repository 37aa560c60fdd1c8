"""A request's properties, straight from protobuf to what the rules read.

pulumi_policy hands a rule the properties in three steps: ``json_format.MessageToDict``
(the ``Struct`` to dicts and lists), ``deserialize_properties`` (signature objects to
their values: a secret to its plain value, an asset or archive to the SDK's object)
and ``unknown_checking_proxy``; ``support.plain`` then copies that into plain dicts
and lists with ``UNKNOWN`` for the engine's unknown sentinels. :func:`plain_struct`
does the same in one walk over the protobuf message, with the same result: the same
keys in the same order, the same Python types (numbers stay floats, as
``MessageToDict`` leaves them), ``UNKNOWN`` in the same places.

Anything uncommon (an asset, an archive, an unrecognised signature, a number that is
not finite) is left to pulumi_policy's own steps for the whole message, so the result,
or the error raised, is theirs. tests/policies/test_analyzer.py compares the two on
every property of the real program's requests and on each of those cases.
"""

from __future__ import annotations

import math
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY, deserialize_properties

from secrets_platform.policies.support import SENTINELS, UNKNOWN, plain


class _Uncommon(Exception):
    """A value :func:`plain_struct` leaves to pulumi_policy's own decoding."""


def upstream_plain(struct: struct_pb2.Struct) -> Any:
    """The properties as pulumi_policy decodes them, then made plain: the reference :func:`plain_struct` equals."""
    return plain(deserialize_properties(json_format.MessageToDict(struct)))


def plain_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """``upstream_plain(struct)``, in one walk when nothing uncommon is inside."""
    fields = struct.fields
    try:
        # The top level is a map whatever its keys (deserialize_properties); signatures count below it.
        return {key: _value(fields[key]) for key in fields}
    except _Uncommon:
        return upstream_plain(struct)


def _struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    fields = struct.fields
    if SPECIAL_SIG_KEY in fields:
        return _signed(fields)
    return {key: _value(fields[key]) for key in fields}


def _signed(fields: Any) -> Any:
    """A secret is its value (pulumi_policy, ``proxy_secrets=False``); anything else is uncommon."""
    sig = fields[SPECIAL_SIG_KEY]
    if sig.WhichOneof("kind") != "string_value" or sig.string_value != SPECIAL_SECRET_SIG or "value" not in fields:
        raise _Uncommon
    return _value(fields["value"])


def _value(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        text = value.string_value
        return UNKNOWN if text in SENTINELS else text
    if kind == "struct_value":
        return _struct(value.struct_value)
    if kind == "list_value":
        return [_value(item) for item in value.list_value.values]
    if kind == "bool_value":
        return value.bool_value
    if kind == "number_value":
        number = value.number_value
        if not math.isfinite(number):
            raise _Uncommon
        return number
    return None
