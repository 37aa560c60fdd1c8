"""A targeted edit of ``Pulumi.<stack>.yaml``: bump one bundle's ``rotation`` and nothing else.

A line edit, not a YAML round trip, so comments, key order, quoting and blank
lines stay as the author wrote them; the result is re-parsed and checked before
it is written. Bundles in flow style (``credentials: [{...}]``) are refused.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml

from secrets_platform.cli.errors import InputError
from secrets_platform.settings import safe_yaml

CREDENTIALS_KEY = "secrets-platform:credentials"
_ITEM = re.compile(r"^(?P<indent>\s*)-\s+(?P<rest>.*)$")
_ROTATION = re.compile(r"""^(?P<head>\s*rotation:\s*)(?P<value>"[^"]*"|'[^']*'|[^\s#]+)(?P<tail>.*)$""")
_SERVICE = re.compile(r"""^\s*(-\s+)?service:\s*["']?(?P<service>[^"'\s#]+)["']?\s*(#.*)?$""")


def next_rotation(current: str, today: dt.date | None = None) -> str:
    """Today's date (UTC, YYYY-MM-DD), so the value is also the bundle's age; ``-2``, ``-3`` on the same day."""
    day = (today or dt.datetime.now(dt.timezone.utc).date()).isoformat()
    if current == day:
        return f"{day}-2"
    m = re.fullmatch(rf"{re.escape(day)}-(\d+)", current)
    return f"{day}-{int(m.group(1)) + 1}" if m else day


def bump_rotation(text: str, service: str, new: str, source: str, field: str = "rotation") -> str:
    """``text`` with ``field`` (rotation, or a dual bundle's generation) of bundle ``service`` set to ``new`` (inserted when absent)."""
    rotation_re = _ROTATION if field == "rotation" else re.compile(_ROTATION.pattern.replace("rotation:", f"{field}:"))
    quoted = field == "rotation"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip().startswith(f"{CREDENTIALS_KEY}:")), None)
    if start is None:
        raise InputError(f"{source}: has no {CREDENTIALS_KEY} block")
    if lines[start].split(":", 2)[-1].strip().startswith("["):
        raise InputError(
            f"{source}:{start + 1}: {CREDENTIALS_KEY} is in flow style", "write the list in block style to rotate with the CLI"
        )
    parent_indent = len(lines[start]) - len(lines[start].lstrip())
    items: list[tuple[int, int]] = []  # (line index, indent) of each "- " of the list
    end = len(lines)
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        m = _ITEM.match(line)
        if indent <= parent_indent and not (m and indent == parent_indent):
            end = i
            break
        if m and (not items or indent == items[0][1]):
            items.append((i, indent))
    for n, (first, indent) in enumerate(items):
        last = items[n + 1][0] if n + 1 < len(items) else end
        body = range(first, last)
        service_line = next(
            (
                i
                for i in body
                if (m := _SERVICE.match(lines[i])) and m.group("service") == service and _key_indent(lines[i], indent) == indent + 2
            ),
            None,
        )
        if service_line is None:
            continue
        rotation_line = next((i for i in body if rotation_re.match(lines[i]) and _key_indent(lines[i], indent) == indent + 2), None)
        if rotation_line is not None:
            m = rotation_re.match(lines[rotation_line])
            assert m is not None  # the line was found by this very pattern
            old = m.group("value")
            quote = (old[0] if old[0] in "\"'" else '"') if quoted else ""
            newline = "\n" if lines[rotation_line].endswith("\n") else ""
            lines[rotation_line] = f"{m.group('head')}{quote}{new}{quote}{m.group('tail').rstrip(chr(10))}{newline}"
        else:
            q = '"' if quoted else ""
            lines.insert(service_line + 1, " " * (indent + 2) + f"{field}: {q}{new}{q}\n")
        out = "".join(lines)
        _check(out, service, new, source, field)
        return out
    raise InputError(f"{source}: no credential bundle with service {service!r} in block style")


def _key_indent(line: str, item_indent: int) -> int:
    """Indentation of the key on ``line``; on the item's own line the key sits after '- '."""
    m = _ITEM.match(line)
    if m and len(m.group("indent")) == item_indent:
        return item_indent + 2
    return len(line) - len(line.lstrip())


def _check(text: str, service: str, new: str, source: str, field: str = "rotation") -> None:
    try:
        doc = safe_yaml.load(text)
    except yaml.YAMLError as err:  # pragma: no cover - the edit keeps the structure
        raise InputError(f"{source}: the rotation edit would break the YAML ({err}); file left unchanged") from None
    creds = (doc.get("config") or {}).get(CREDENTIALS_KEY) or []
    match = [c for c in creds if isinstance(c, dict) and c.get("service") == service]
    if len(match) != 1 or str(match[0].get(field)) != new:
        raise InputError(
            f"{source}: the rotation edit did not land where expected; file left unchanged",
            f"set it by hand: the `{field}` of service {service}",
        )


def write_text(path: Path, text: str) -> None:
    path.write_text(text)
