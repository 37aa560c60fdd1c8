"""The RFC 1123 label every Kubernetes name the platform builds must be (part of :mod:`secrets_platform.conventions`, re-exported there)."""

from __future__ import annotations

import re

from secrets_platform.conventions.errors import ConventionError

__all__ = ["MAX_NAME", "check_dns_label", "is_dns_label"]

# RFC 1123 label: lower-case alphanumerics and '-', starting and ending alphanumeric.
MAX_NAME = 63
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")


def is_dns_label(value: str) -> bool:
    return len(value) <= MAX_NAME and bool(_DNS_LABEL.match(value))


def check_dns_label(value: str, what: str) -> str:
    """Return ``value`` if it is an RFC 1123 label, else raise with the reason."""
    if len(value) > MAX_NAME:
        raise ConventionError(f"{what} {value!r} is {len(value)} characters; Kubernetes allows at most {MAX_NAME}")
    if not _DNS_LABEL.match(value):
        raise ConventionError(
            f"{what} {value!r} is not a lower-case RFC 1123 label (a-z, 0-9 and '-', starting and ending with a letter or digit)"
        )
    return value
