"""secrets-platform: one environment per stack. Wiring only: settings -> components -> outputs."""

import pulumi

import collector
import settings
from components.platform import build

collector.tune()
platform = build(settings.from_pulumi())
for key, value in platform.outputs().items():
    pulumi.export(key, value)
