"""Helm charts the platform installs, as ``kubernetes.helm.v4.Chart``.

Why v4 Chart and not v3 Release: a Chart renders the chart client-side and
registers every object as its own Pulumi resource, so `pulumi preview` shows
(and the policy pack checks) each Deployment, ClusterRole and CRD one by one; a
Release is one opaque resource whose contents only Helm sees.

Every object a chart renders gets the three CONVENTIONS labels through a
resource transform, so the chart's objects are as traceable to an environment as
the platform's own. What this module does not do: choose values (each backend's
module does) or fetch anything at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import pulumi
import pulumi_kubernetes as k8s

import conventions


@dataclass(frozen=True)
class ChartArgs:
    chart: str
    """Chart name in the repository, e.g. ``external-secrets``; also the release name, so
    object names are the chart's documented ones (``vault-0``, ``vault-internal``)."""
    version: str
    """Exact version; settings refuse ranges and ``latest``."""
    repository: str
    namespace: str
    environment: str
    values: Mapping[str, Any] = field(default_factory=dict)


def label_transform(environment: str):
    """A transform adding the CONVENTIONS labels to every Kubernetes object a chart renders."""
    wanted = conventions.labels(environment)

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if not args.type_.startswith("kubernetes:") or args.type_.startswith("kubernetes:helm.sh/"):
            return None
        props = dict(args.props)
        metadata = dict(props.get("metadata") or {})
        metadata["labels"] = {**(metadata.get("labels") or {}), **wanted}
        props["metadata"] = metadata
        return pulumi.ResourceTransformResult(props=props, opts=args.opts)

    return transform


def pinned_chart(name: str, args: ChartArgs, opts: pulumi.ResourceOptions) -> k8s.helm.v4.Chart:
    return k8s.helm.v4.Chart(
        name,
        chart=args.chart,
        name=args.chart,
        version=args.version,
        repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=args.repository),
        namespace=args.namespace,
        values=dict(args.values),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transforms=[label_transform(args.environment)])),
    )
