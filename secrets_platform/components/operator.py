"""What the operator components share (External Secrets, Vault): a namespace of their own, a service account in it, their pinned chart.

Only the scaffolding: which account, which chart values and which extra objects an
operator needs stay in its own module (:mod:`components.external_secrets`, :mod:`components.vault`).
"""

from __future__ import annotations

from typing import Mapping

import pulumi
import pulumi_kubernetes as k8s

from secrets_platform import conventions
from secrets_platform.components.common import child_options, metadata
from secrets_platform.components.helm import pinned_chart
from secrets_platform.components.namespace import PlatformNamespace
from secrets_platform.model.specs import ChartArgs, OperatorSpec


class OperatorComponent(pulumi.ComponentResource):
    """Base of an operator's component: call the three steps in order from ``__init__``."""

    namespace_component: PlatformNamespace
    namespace: str
    service_account: k8s.core.v1.ServiceAccount
    chart: k8s.helm.v4.Chart | None

    def _own_namespace(self, spec: OperatorSpec, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
        """Create the operator's namespace; returns the options of the children that live in it."""
        child = child_options(self, opts)
        self.namespace_component = PlatformNamespace(spec.workload, spec.namespace, child)
        self.namespace = self.namespace_component.name
        return pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.namespace_component.namespace]))

    def _own_service_account(
        self, account: str, labels: Mapping[str, str], in_namespace: pulumi.ResourceOptions, annotations: Mapping[str, str] | None = None
    ) -> k8s.core.v1.ServiceAccount:
        """The operator's service account in its namespace (ours, labelled; the chart creates none)."""
        self.service_account = k8s.core.v1.ServiceAccount(
            conventions.object_key(self.namespace, account),
            metadata=metadata(account, labels, self.namespace, annotations=annotations),
            opts=in_namespace,
        )
        return self.service_account

    def _install_chart(self, name: str, install: bool, chart: ChartArgs | None, in_namespace: pulumi.ResourceOptions) -> None:
        """The operator's chart when ``install`` (after its namespace and service account), else none."""
        self.chart = None
        if install:
            assert chart is not None and chart.version, "settings require a pinned chart version"
            self.chart = pinned_chart(
                conventions.child_resource_name(name, "chart"),
                chart,
                pulumi.ResourceOptions.merge(
                    in_namespace, pulumi.ResourceOptions(depends_on=[self.namespace_component.namespace, self.service_account])
                ),
            )
