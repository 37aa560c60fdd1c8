"""A name declared once, from which its builder, its parser and its error's form all derive (part of :mod:`secrets_platform.conventions`).

A :class:`Form` is a template of literal text and fields, each field with the characters it may hold:
``Form("Vault creds path", "{mount}/creds/{role}", mount=r"[^/]+", role=r"[^/]+")``. ``build`` spells the
template, ``parse`` reads it back as a dict of its fields, and the error a bad value gets quotes the same
template (``Vault creds path 'x' is not of the form '<mount>/creds/<role>'``), so a builder and its inverse
cannot disagree. Names with logic of their own (an environment suffix, a DNS check) do not use it.
"""

from __future__ import annotations

import re
from string import Formatter

from secrets_platform.conventions.errors import matched

__all__ = ["Form"]


class Form:
    """One name's spelling: ``what`` it is called in errors, its ``template`` and each field's regex (or its only words).

    A field given as a tuple of words may be only one of them, and the form shows it as ``<a|b>``; any other field
    is a regex (a character class and its count) and shows as ``<field>``.
    """

    def __init__(self, what: str, template: str, **fields: str | tuple[str, ...]) -> None:
        self.what = what
        self.template = template
        regex, shown = [], []
        for literal, name, spec, conversion in Formatter().parse(template):
            regex.append(re.escape(literal))
            shown.append(literal)
            if name is None:
                continue
            if spec or conversion or name not in fields:
                raise ValueError(f"form {template!r}: field {name!r} needs a pattern and takes no format spec")
            field = fields[name]
            words = isinstance(field, tuple)
            regex.append(f"(?P<{name}>{'|'.join(map(re.escape, field)) if words else field})")
            shown.append(f"<{'|'.join(field) if words else name}>")
        self.pattern = re.compile("^" + "".join(regex) + r"\Z")
        # The form an error quotes: the template with each field as <field>.
        self.form = "'" + "".join(shown) + "'"

    def build(self, **values: object) -> str:
        """The name of these field values (spelled as an f-string would)."""
        return self.template.format(**values)

    def parse(self, value: str) -> dict[str, str]:
        """The fields of ``value``, or the :class:`~secrets_platform.conventions.ConventionError` quoting the form."""
        return matched(self.pattern, self.what, value, self.form).groupdict()
