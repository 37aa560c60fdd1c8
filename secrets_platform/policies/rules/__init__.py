"""Every rule of the pack, one module per area.

- ``naming``: names and labels follow CONVENTIONS;
- ``isolation``: no resource mixes environments;
- ``privilege``: least privilege on secrets (RBAC, stores, IAM, Vault);
- ``operators``: the proof that an operator chart's own objects may break a rule;
- ``hygiene``: no credentials outside Secrets, no Vault dev mode, pinned charts;
- ``safety``: prd data cannot be deleted by accident;
- ``coverage``: only types the pack can judge, Kubernetes objects as the provider applies them, providers of the stack's environment.
- ``audit``: credential reads are recorded (prd turns the logs on), never with a value.

``ALL_POLICIES`` is what ``policies/__main__.py`` puts in the pack.
"""

from __future__ import annotations

from secrets_platform.policies.rules import audit, coverage, hygiene, isolation, naming, operators, privilege, safety

ALL_POLICIES = [
    *naming.POLICIES,
    *isolation.POLICIES,
    *privilege.POLICIES,
    *operators.POLICIES,
    *hygiene.POLICIES,
    *safety.POLICIES,
    *coverage.POLICIES,
    *audit.POLICIES,
]
