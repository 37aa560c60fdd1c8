"""The one error a convention raises (part of :mod:`secrets_platform.conventions`, re-exported there)."""

__all__ = ["ConventionError"]


class ConventionError(ValueError):
    """A name that breaks CONVENTIONS; the message says which rule and how to fix it."""
