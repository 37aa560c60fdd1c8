"""Repository secrets imported from the deploy environment (the dagster ADR's pipeline).

``DAGSTER_SECRET_SLACK_BOT_OAUTH_TOKEN`` becomes the Secret
``dagster-<env>-slack-bot-oauth-token-secret`` with that single key, so code keeps
reading ``os.environ["DAGSTER_SECRET_SLACK_BOT_OAUTH_TOKEN"]``. The values were
wrapped as secrets by :mod:`settings` the moment they were read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pulumi

from secrets_platform import conventions
from secrets_platform.components.common import SecretDescriptor, child_options, platform_secret
from secrets_platform.components.consumers import OPAQUE
from secrets_platform.settings import ImportedSecret


@dataclass(frozen=True)
class ImportedSecretsSpec:
    """The imported variables as the stack resolved them (:func:`components.platform.imported_spec`); each carries its Secret's name and namespace."""

    imported: tuple[ImportedSecret, ...]
    service: str
    labels: Mapping[str, str]
    protect: bool


def describe_imported(spec: ImportedSecretsSpec) -> list[SecretDescriptor]:
    """What the component creates, without creating it (pure: names and keys only)."""
    return [
        SecretDescriptor(i.name, i.namespace, OPAQUE, (i.variable,), "imported", spec.service)
        for i in sorted(spec.imported, key=lambda i: i.variable)
    ]


class ImportedSecrets(pulumi.ComponentResource):
    """One Opaque Secret per imported variable, keyed by the variable name."""

    TYPE = "secrets-platform:imports:ImportedSecrets"

    def __init__(self, name: str, spec: ImportedSecretsSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        child = child_options(self, opts)
        self.secrets = {
            item.variable: platform_secret(
                conventions.object_key(item.namespace, item.name),
                name=item.name,
                namespace=item.namespace,
                labels=spec.labels,
                secret_type=OPAQUE,
                string_data={item.variable: pulumi.Output.secret(item.value.get_secret_value())},
                protect=spec.protect,
                opts=child,
            )
            for item in sorted(spec.imported, key=lambda i: i.variable)
        }
        self.register_outputs({"variables": sorted(self.secrets)})
