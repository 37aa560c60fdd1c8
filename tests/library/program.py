"""Another team's Pulumi program using secrets-platform as a library (README: "Using it from another Pulumi program").

Copied as ``__main__.py`` into a project of its own (tests/library_project.py):
the platform of its stack, built from the stack's ``secrets-platform:*`` config, and one namespace of
the team's own with the platform's hardening, both through the team's Kubernetes provider.
"""

import pulumi
import pulumi_kubernetes as k8s

from secrets_platform import conventions, settings
from secrets_platform.components.namespace import NamespaceSpec, PlatformNamespace
from secrets_platform.components.platform import build

stack = settings.from_pulumi()
cluster = k8s.Provider(
    "cluster",
    kubeconfig=stack.kubeconfig,
    context=stack.config.kubernetes.context,
    enable_server_side_apply=True,
    enable_secret_mutable=True,
)
platform = build(stack, cluster)
reports = PlatformNamespace(
    "reports",
    NamespaceSpec(conventions.namespace_name("reports", stack.environment), conventions.labels(stack.environment), protect=stack.protect),
    pulumi.ResourceOptions(providers=[cluster]),
)
for key, value in platform.outputs().items():
    pulumi.export(key, value)
pulumi.export("reportsNamespace", reports.name)
