"""secrets-platform: per-environment credentials for data pipelines on Kubernetes, provisioned with Pulumi.

Subpackages, each named for what it holds:

- ``settings``: the stack's configuration, read and validated once.
- ``components``: the Pulumi ComponentResources and ``build()``, which maps the resolved model onto them.
- ``policies``: the policy pack's rules and its analyzer (the pack's entry point is ``policies/`` at the root).
- ``parsers``: other systems' formats read by their own rules (Vault's HCL, libpq's conninfo).
- ``cli``: the ``secrets-platform`` command.
- ``localcluster``: the local platform ``make up`` runs.

``conventions`` is the only place a name is built or parsed.
"""
