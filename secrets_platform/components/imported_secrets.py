"""Repository secrets imported from the deploy environment (the dagster ADR's pipeline).

``DAGSTER_SECRET_SLACK_BOT_OAUTH_TOKEN`` becomes the Secret
``dagster-<env>-slack-bot-oauth-token-secret`` with that single key, so code keeps
reading ``os.environ["DAGSTER_SECRET_SLACK_BOT_OAUTH_TOKEN"]``. The values were
wrapped as secrets by :mod:`settings` the moment they were read, and the model holds them
as :class:`~secrets_platform.model.descriptors.Sensitive`, which never prints.
"""

from __future__ import annotations

import pulumi

from secrets_platform import conventions
from secrets_platform.components.common import child_options, platform_secret
from secrets_platform.model.descriptors import OPAQUE
from secrets_platform.model.secrets import ImportedSecretsSpec


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
                string_data={item.variable: pulumi.Output.secret(item.value.reveal())},
                protect=spec.protect,
                opts=child,
            )
            for item in spec.imported
        }
        self.register_outputs({"variables": sorted(self.secrets)})
