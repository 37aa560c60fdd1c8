"""What every component shares: labels, data-safety options and the Secret builder.

Kept free of decisions of its own: names, labels and protection arrive resolved, in each
component's spec (:func:`secrets_platform.model.resolve` builds them from :mod:`conventions`).
"""

from __future__ import annotations

from typing import Any, Mapping, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from secrets_platform import conventions
from secrets_platform.model.secrets import Generator, OneSecret


def child_options(parent: pulumi.Resource, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """Options for a component's children: ``parent`` plus the component's own ``depends_on``.

    Children do not inherit a parent's ``depends_on``; a Secret must still wait for
    its namespace, so the component hands its dependencies down.
    """
    return pulumi.ResourceOptions(parent=parent, depends_on=opts.depends_on if opts else None)


class DataSafety(TypedDict):
    """The two resource options of data safety, typed so ``**`` hands them to ``ResourceOptions``."""

    protect: bool
    retain_on_delete: bool


def data_safety(protect: bool) -> DataSafety:
    """Options for namespaces and Secrets: in prd neither `up` nor `destroy` may delete them.

    A pure function so tests can assert the choice (mocks don't apply resource options).
    """
    return {"protect": protect, "retain_on_delete": protect}


# The platform's declared state wins over an out-of-band edit of an object it owns:
# server-side apply takes the fields back from whichever field manager changed them
# (a `kubectl label`, a hand edit) instead of failing on the conflict. The drift
# workflow reports such an edit first; the next `up` repairs it.
FORCE_APPLY = {"pulumi.com/patchForce": "true"}


def metadata(
    name: str,
    labels: Mapping[str, str],
    namespace: str | None = None,
    extra_labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> k8s.meta.v1.ObjectMetaArgs:
    """An object's metadata: ``labels`` are the resolved CONVENTIONS labels of its stack (:func:`conventions.labels`)."""
    return k8s.meta.v1.ObjectMetaArgs(
        name=name,
        namespace=namespace,
        labels={**labels, **(extra_labels or {})},
        annotations={**FORCE_APPLY, **(annotations or {})},
    )


def patch_metadata(name: str, labels: Mapping[str, str], namespace: str) -> k8s.meta.v1.ObjectMetaPatchArgs:
    """:func:`metadata` for a server-side patch of an object the platform does not create."""
    return k8s.meta.v1.ObjectMetaPatchArgs(name=name, namespace=namespace, labels=dict(labels), annotations=dict(FORCE_APPLY))


# A Secret's values: a map of key -> value (each plain or an Output), or one Output of the whole map.
SecretData = pulumi.Input[Mapping[str, pulumi.Input[str]]]


def platform_secret(
    resource_name: str,
    *,
    name: str,
    namespace: str,
    labels: Mapping[str, str],
    secret_type: str,
    string_data: SecretData,
    protect: bool,
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Secret:
    """Create one Kubernetes Secret the way every platform Secret is created.

    - ``string_data`` is wrapped with ``Output.secret`` here, whatever the caller
      passes, so no plain value ever reaches the Secret (the Secret boundary).
    - It is updated in place when a value changes, never replaced: a replacement
      of an object with a fixed name would delete it first and leave consumers a
      window without the Secret. (That takes ``enableSecretMutable`` on the
      provider: see :mod:`components.provider`.)
    - It opts in to stakater Reloader, so workloads annotated with
      ``reloader.stakater.com/search: "true"`` roll when it changes.
    """
    annotations = {conventions.RELOADER_SECRET_ANNOTATION: "true"}
    if isinstance(string_data, Mapping):  # key names only, never a value
        annotations[conventions.SECRET_KEYS_ANNOTATION] = ",".join(sorted(string_data))
    return k8s.core.v1.Secret(
        resource_name,
        metadata=metadata(name, labels, namespace, annotations=annotations),
        type=secret_type,
        string_data=_secret_values(string_data),
        opts=pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(additional_secret_outputs=["data", "stringData"], **data_safety(protect)),
        ),
    )


def _secret_values(string_data: SecretData) -> SecretData:
    """Every value a Pulumi secret; a plain map keeps its keys known (only the values are secret and unknown at preview)."""
    if isinstance(string_data, Mapping):
        return {key: pulumi.Output.secret(value) for key, value in string_data.items()}
    return pulumi.Output.secret(string_data)


def secret_copies(
    spec: OneSecret, *, secret_type: str, string_data: SecretData, opts: pulumi.ResourceOptions
) -> dict[str, k8s.core.v1.Secret]:
    """The same Secret ``spec.secret_name`` in each of ``spec.namespaces``, keyed by namespace (never by position).

    A loop, not a comprehension: a comprehension is a frame of its own, and the SDK walks every frame of the
    stack for each resource it registers (its source position and stack trace).
    """
    copies: dict[str, k8s.core.v1.Secret] = {}
    for namespace in sorted(spec.namespaces):
        copies[namespace] = platform_secret(
            conventions.object_key(namespace, spec.secret_name),
            name=spec.secret_name,
            namespace=namespace,
            labels=spec.labels,
            secret_type=secret_type,
            string_data=string_data,
            protect=spec.protect,
            opts=opts,
        )
    return copies


def generated_password(resource_name: str, gen: Generator, keepers: dict[str, str], opts: pulumi.ResourceOptions) -> random.RandomPassword:
    """The one way a generated key gets its value: pulumi-random with the key's character classes; ``keepers`` say when it changes."""
    return random.RandomPassword(
        resource_name,
        length=gen.length,
        upper=gen.upper,
        lower=gen.lower,
        numeric=gen.numeric,
        special=gen.special,
        override_special=gen.override_special,
        keepers=keepers,
        opts=opts,
    )


class SecretCopiesComponent(pulumi.ComponentResource):
    """The body the Secret components share: one Secret ``secret_name`` per consumer namespace (:func:`secret_copies`)."""

    secret_name: str
    secrets: dict[str, k8s.core.v1.Secret]

    def _write_copies(
        self, spec: OneSecret, *, secret_type: str, string_data: SecretData, opts: pulumi.ResourceOptions, **outputs: Any
    ) -> None:
        """Create the copies and register the component's outputs (its Secret's name, plus ``outputs``): the last step of ``__init__``."""
        self.secret_name = spec.secret_name
        self.secrets = secret_copies(spec, secret_type=secret_type, string_data=string_data, opts=opts)
        self.register_outputs({"secret_name": spec.secret_name, **outputs})
