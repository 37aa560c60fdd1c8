"""secrets-platform: one environment per stack. Wiring only: settings -> components -> outputs."""

import pulumi

from secrets_platform import collector, settings
from secrets_platform.components.platform import build

collector.tune()
platform = build(settings.from_pulumi())
for key, value in platform.outputs().items():
    pulumi.export(key, value)
