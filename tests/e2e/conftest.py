"""The e2e tier's local cluster: one per test module, in a temporary folder, on free loopback ports.

A cluster of the tests' own, never the developer's `.cluster/`: tests can create,
break and delete anything. Started with the same code as `make up` (localcluster/),
with the External Secrets CRDs the toolchain fetched; stopped and removed after the
module, whatever happened.
"""

from __future__ import annotations

import pytest

from localcluster import DEFAULT_BIN, Cluster, free_port_base

ESO_CRDS = DEFAULT_BIN / "external-secrets-crds.yaml"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("cluster"), port_base=free_port_base())
    try:
        c.start()
        c.apply_crds(ESO_CRDS)
        yield c
    finally:
        c.destroy()
