"""The one error a convention raises (part of :mod:`secrets_platform.conventions`, re-exported there)."""

import re

__all__ = ["ConventionError"]


class ConventionError(ValueError):
    """A name that breaks CONVENTIONS; the message says which rule and how to fix it."""


def refuse(what: str, value: str, form: str) -> ConventionError:
    """The error a parser raises: ``<what> '<value>' is not of the form <form>``."""
    return ConventionError(f"{what} {value!r} is not of the form {form}")


def matched(pattern: re.Pattern[str], what: str, value: str, form: str) -> re.Match[str]:
    """``pattern``'s match of ``value``, or :func:`refuse`'s error when it does not match."""
    m = pattern.match(value)
    if not m:
        raise refuse(what, value, form)
    return m


def between(value: str, what: str, form: str, *, prefix: str = "", suffix: str = "") -> str:
    """What ``value`` holds between ``prefix`` and ``suffix`` (never empty), or :func:`refuse`'s error when it lacks either."""
    inner = value.removeprefix(prefix).removesuffix(suffix)
    if not value.startswith(prefix) or not value.endswith(suffix) or not inner:
        raise refuse(what, value, form)
    return inner
