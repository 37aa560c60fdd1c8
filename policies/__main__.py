"""Entry point of the secrets-platform policy pack: builds the PolicyPack, nothing else.

`pulumi preview --policy-pack policies` runs this file with the Python language
host (`python -m pulumi.policy`), which puts only the pack directory (policies/)
on sys.path. The rules import `conventions` (the naming contract, at the
repository root) and `policies.rules...` (this package, by its full name so the
tests import the very same modules), so the repository root must be on sys.path
too: we add it here, before those imports, and nowhere else.
"""

import sys
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policies.rules import ALL_POLICIES  # noqa: E402

PolicyPack(
    name="secrets-platform",
    description="Naming, environment isolation, least privilege, hygiene and data safety for secrets-platform stacks.",
    # Each policy sets its own level; this default only covers a policy that forgot to.
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=ALL_POLICIES,
)
