"""Entry point of the secrets-platform policy pack: builds the PolicyPack, nothing else.

`pulumi preview --policy-pack policies` runs this file with the Python language
host (`python -m pulumi.policy`) in the virtualenv PulumiPolicy.yaml names
(`../.venv`), with only the pack directory (policies/) on sys.path. The pack's code
(the rules, the analyzer) is `secrets_platform.policies`, part of the package that `make venv` installs into
that virtualenv (editable, so this checkout's code), which is how it is found; no path is patched here.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from secrets_platform.policies import analyzer
from secrets_platform.policies.rules import ALL_POLICIES

# pulumi_policy's analyzer without the decoding that cannot change a result (secrets_platform/policies/analyzer.py).
analyzer.install()

PolicyPack(
    name="secrets-platform",
    description="Naming, environment isolation, least privilege, hygiene and data safety for secrets-platform stacks.",
    # Each policy sets its own level; this default only covers a policy that forgot to.
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=ALL_POLICIES,
)
