"""Data-safety rules: nothing in prd that holds or scopes data can be deleted by accident.

CONVENTIONS, "Data safety": in prd, Namespaces and Secrets are ``protect=True``
and ``retain_on_delete=True``. The engine sends a policy pack ``protect`` but
not ``retainOnDelete`` (pulumi-policy's ``PolicyResourceOptions`` has no such
field, nor does the analyzer protocol), so this rule checks ``protect`` and its
message asks for both; the program keeps both choices in one tested function.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from secrets_platform.policies.support import MANDATORY, NAMESPACE, SECRET, Resource, fails_closed, resource_rule


@resource_rule("safety-object-prd-protected", MANDATORY, frozenset({SECRET, NAMESPACE}))
def prd_protected(r: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    """In prd, every Secret and Namespace is registered with protect (and retain_on_delete).

    In prd (and any stack not named after a non-prd environment) Secrets and Namespaces are protected.
    """
    if not fails_closed(r.env) or r.protect:
        return
    where = f"the {r.env} stack" if r.env else "a stack not named after an environment (treated as prd)"
    yield (
        f"{r.describe()} in {where} is not protected, so a `pulumi up` that drops it or a `pulumi destroy` "
        "deletes it and its data. Register it with ResourceOptions(protect=True, retain_on_delete=True)."
    )


POLICIES = [prd_protected]
