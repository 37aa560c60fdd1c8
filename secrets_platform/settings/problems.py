"""Problems of a stack's config: what :class:`settings.errors.ConfigError` lists, one line each.

Kept apart from the error itself (a ``pulumi.RunError``), so the pure layers that only
name problems (:mod:`settings.model`, :mod:`settings.vault_database`, and the model that
reads them) import no Pulumi SDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

NAMESPACE = "secrets-platform"
SECRET_PLACEHOLDER = "[secret]"


@dataclass(frozen=True)
class Problem:
    key: str
    message: str
    fix: str
    value: Any = None
    show_value: bool = True

    def render(self) -> str:
        got = ""
        if self.show_value and self.value is not None:
            shown = repr(self.value)
            if len(shown) > 80:
                shown = shown[:77] + "..."
            got = f" (got {shown})"
        elif not self.show_value:
            got = f" (got {SECRET_PLACEHOLDER})"
        return f"{self.key}: {self.message}{got}. Fix: {self.fix}"


def full_key(path: Iterable[Any]) -> str:
    """``("credentials", 0, "generated")`` -> ``secrets-platform:credentials[0].generated``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return f"{NAMESPACE}:{out}"
