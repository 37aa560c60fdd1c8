"""The secrets-platform policy pack (Pulumi CrossGuard, Python).

The rules live in ``policies.rules``, one module per area (naming, isolation,
privilege, hygiene, safety); ``policies.support`` holds the machinery every rule
shares (reading properties that may be unknown at preview, exemptions, messages
that never carry a value). Only ``policies/__main__.py`` builds the
``PolicyPack``, so importing this package never starts the analyzer and tests can
call every policy directly.
"""
