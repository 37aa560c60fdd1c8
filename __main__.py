"""secrets-platform: one environment per stack. Wiring only: settings -> components -> outputs."""

import pulumi

import settings
from components.platform import build

platform = build(settings.from_pulumi())
for key, value in platform.outputs().items():
    pulumi.export(key, value)
