"""Every rule of the pack, one module per area.

- ``naming``: names and labels follow CONVENTIONS;
- ``isolation``: no resource mixes environments;
- ``privilege``: least privilege on secrets (RBAC, stores, IAM, Vault);
- ``hygiene``: no credentials outside Secrets, no Vault dev mode, pinned charts;
- ``safety``: prd data cannot be deleted by accident.

``ALL_POLICIES`` is what ``policies/__main__.py`` puts in the pack.
"""

from __future__ import annotations

from policies.rules import hygiene, isolation, naming, privilege, safety

ALL_POLICIES = [*naming.POLICIES, *isolation.POLICIES, *privilege.POLICIES, *hygiene.POLICIES, *safety.POLICIES]
