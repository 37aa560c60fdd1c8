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

from typing import Any, Mapping, cast

import pulumi
import pulumi_kubernetes as k8s

from secrets_platform.model.specs import ChartArgs

_PROTECTED_TYPES = ("kubernetes:core/v1:Secret", "kubernetes:core/v1:Namespace")


def label_transform(labels: Mapping[str, str], protect: bool = False):
    """A transform adding the CONVENTIONS labels to every Kubernetes object a chart renders.

    With ``protect`` (prd) the chart's Secrets and Namespaces are also registered with
    ``protect`` and ``retain_on_delete``, as the platform's own are.
    """
    wanted = dict(labels)

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if not args.type_.startswith("kubernetes:") or args.type_.startswith("kubernetes:helm.sh/"):
            return None
        props = dict(args.props)
        metadata: dict[str, Any] = dict(cast(Mapping[str, Any], props.get("metadata") or {}))
        metadata["labels"] = {**(metadata.get("labels") or {}), **wanted}
        props["metadata"] = metadata
        opts = args.opts
        if protect and args.type_ in _PROTECTED_TYPES:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True, retain_on_delete=True))
        return pulumi.ResourceTransformResult(props=props, opts=opts)

    return transform


def chart_source(args: ChartArgs) -> tuple[str, k8s.helm.v4.RepositoryOptsArgs | None]:
    """What the Chart resource is given: a local path, an ``oci://`` reference, or a name in a repository."""
    if args.path:
        return args.path, None
    if args.repository.startswith("oci://"):
        return f"{args.repository.rstrip('/')}/{args.chart}", None
    return args.chart, k8s.helm.v4.RepositoryOptsArgs(repo=args.repository)


def pinned_chart(name: str, args: ChartArgs, opts: pulumi.ResourceOptions) -> k8s.helm.v4.Chart:
    chart, repository = chart_source(args)
    return k8s.helm.v4.Chart(
        name,
        chart=chart,
        name=args.chart,
        version=args.version,
        repository_opts=repository,
        namespace=args.namespace,
        values=dict(args.values),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transforms=[label_transform(args.labels, args.protect)])),
    )
