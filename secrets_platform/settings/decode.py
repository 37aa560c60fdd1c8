"""From raw config to what the models read, and from pydantic's errors back to Problems naming the key, value and fix."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from secrets_platform import conventions
from secrets_platform.settings.errors import Problem, full_key

_FIX_BY_TYPE = {
    "extra_forbidden": "remove the key or correct its spelling; README.md lists every key",
    "missing": "add the key; README.md lists every key with its default",
    "string_type": "give a string (quote it in YAML)",
    "int_type": "give a whole number without quotes",
    "bool_type": "give true or false without quotes",
    "list_type": "give a YAML list",
    "dict_type": "give a YAML mapping",
    "model_type": "give a YAML mapping",
    "model_attributes_type": "give a YAML mapping",
    "literal_error": f"use one of {conventions.ENVIRONMENT_LIST}",
    "too_short": "give at least one entry",
    "greater_than_equal": "raise the number",
    "less_than_equal": "lower the number",
}
_LITERAL_FIX_BY_KEY = {
    "backend": "use one of kubernetes, gcp-secret-manager, vault, vault-database (docs/backends.md)",
    "plugin": "use postgresql (the one database plugin the platform configures)",
    "rotationStrategy": "use single or dual (README.md, Rotation)",
}


def strip_secure(value: Any) -> tuple[Any, bool]:
    """Replace ``{secure: <ciphertext>}`` leaves by a placeholder; say whether any was found."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return "[encrypted]", True
        found = False
        out = {}
        for k, v in value.items():
            out[k], s = strip_secure(v)
            found = found or s
        return out, found
    if isinstance(value, list):
        pairs = [strip_secure(v) for v in value]
        return [p[0] for p in pairs], any(p[1] for p in pairs)
    return value, False


def decode_value(key: str, value: Any, problems: list[Problem], is_secret: bool) -> Any:
    """The engine hands structured config over as JSON text; scalars stay strings."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            problems.append(
                Problem(full_key([key]), "is not valid structured config", "set it as a YAML list or mapping", value, not is_secret)
            )
    return value


def problems_of(err: ValidationError, secret_keys: set[str] | frozenset[str]) -> list[Problem]:
    problems = []
    for e in err.errors():
        loc = list(e["loc"])
        kind = e["type"]
        if kind == "extra_forbidden":
            message = "is not a known key"
        elif kind == "missing":
            message = "is required"
        elif kind == "value_error":
            message = str(e["msg"]).removeprefix("Value error, ")
        else:
            message = e["msg"][:1].lower() + e["msg"][1:]
        hidden = bool(loc) and loc[0] in secret_keys
        problems.append(
            Problem(
                full_key(loc),
                message,
                _LITERAL_FIX_BY_KEY.get(str(loc[-1]), _FIX_BY_TYPE["literal_error"])
                if kind == "literal_error" and loc
                else _FIX_BY_TYPE.get(kind, "see the config reference in README.md"),
                None if kind == "missing" else e.get("input"),
                not hidden,
            )
        )
    return problems
