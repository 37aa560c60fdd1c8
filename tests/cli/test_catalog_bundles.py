"""Which catalog entries are credential bundles, and which bundle a --credential means, come from the
descriptors (type, backend, service), never from a name's suffix."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from secrets_platform.cli.catalog import Catalog, is_bundle


def entry(name: str, type_: str, backend: str, service: str) -> dict[str, Any]:
    return {"name": name, "namespace": "dagster-prd", "type": type_, "backend": backend, "service": service, "keys": ["K"]}


GENERATED = entry("snowflake-prd-credentials", "Opaque", "kubernetes", "snowflake")
SYNCED = entry("warehouse-prd-credentials", "Opaque", "gcp-secret-manager", "warehouse")
PULL = entry("ghcr-prd-pull-secret", "kubernetes.io/dockerconfigjson", "kubernetes", "ghcr")
TLS = entry("api-prd-ingress-secret", "kubernetes.io/tls", "kubernetes", "api")
IMPORTED = entry("dagster-prd-slack-token-secret", "Opaque", "imported", "dagster")


@pytest.mark.parametrize(("secret", "bundle"), [(GENERATED, True), (SYNCED, True), (PULL, False), (TLS, False), (IMPORTED, False)])
def test_a_bundle_is_what_its_descriptor_says(secret: dict[str, Any], bundle: bool) -> None:
    assert is_bundle(secret) is bundle
    # the name plays no part: the same descriptor under another name is judged the same
    assert is_bundle({**secret, "name": "renamed"}) is bundle


def catalog(*secrets: dict[str, Any]) -> Catalog:
    return Catalog("prd", "file", list(secrets), SimpleNamespace(environment="prd"))  # type: ignore[arg-type]


def test_bundle_names_and_the_bundle_a_credential_means() -> None:
    cat = catalog(GENERATED, SYNCED, PULL, TLS, IMPORTED)
    assert cat.bundle_names() == {"snowflake-prd-credentials", "warehouse-prd-credentials"}
    assert cat.bundle_name("snowflake") == "snowflake-prd-credentials"  # by the descriptor's service
    assert cat.bundle_name("warehouse-prd-credentials") == "warehouse-prd-credentials"
    # not in the catalog (a vault-database bundle has no Secret): the name conventions give it
    assert cat.bundle_name("ledger") == "ledger-prd-credentials"
    assert cat.bundle_name("ledger-prd-credentials") == "ledger-prd-credentials"
