"""Entry point of the secrets-platform policy pack: builds the PolicyPack, nothing else.

`pulumi preview --policy-pack policies` runs this file with the Python language
host (`python -m pulumi.policy`) in the virtualenv PulumiPolicy.yaml names
(`../.venv`), with only the pack directory (policies/) on sys.path. The rules
import `conventions` (the naming contract) and `policies.rules...` (this package,
by its full name, so the tests import the very same modules): both are part of
the project that `make venv` installs into that virtualenv (editable, so this
checkout's code), which is how they are found; no path is patched here.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from policies import analyzer
from policies.rules import ALL_POLICIES

# pulumi_policy's analyzer without the decoding that cannot change a result (policies/analyzer.py).
analyzer.install()

PolicyPack(
    name="secrets-platform",
    description="Naming, environment isolation, least privilege, hygiene and data safety for secrets-platform stacks.",
    # Each policy sets its own level; this default only covers a policy that forgot to.
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=ALL_POLICIES,
)
