"""The local stack's kubeconfig must exist and point at loopback, else one ConfigError before anything is registered."""

from __future__ import annotations

import json

import pytest

from settings import ConfigError
from settings.kubeconfig import check_local_kubeconfig


def kubeconfig(tmp_path, server: str):
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "c",
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
        "clusters": [{"name": "k", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {}}],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("server", ["https://127.0.0.1:16443", "https://127.5.6.7:6443", "https://localhost:6443", "https://[::1]:6443"])
def test_loopback_clusters_are_accepted(tmp_path, server):
    check_local_kubeconfig(str(kubeconfig(tmp_path, server)))


@pytest.mark.parametrize("server", ["https://10.0.0.1:443", "https://34.77.1.2", "https://gke.example.internal:443", "https://128.0.0.1"])
def test_a_cluster_off_loopback_is_refused_with_the_fix(tmp_path, server):
    with pytest.raises(ConfigError) as err:
        check_local_kubeconfig(str(kubeconfig(tmp_path, server)))
    text = str(err.value)
    assert "secrets-platform:kubernetes.kubeconfig" in text and "loopback" in text and "make -s kubeconfig" in text
    assert "nothing was created" in text


def test_a_missing_kubeconfig_says_to_run_make_up(tmp_path):
    with pytest.raises(ConfigError, match="the local cluster is not running.*Fix: run make up"):
        check_local_kubeconfig(str(tmp_path / "nope"))


@pytest.mark.parametrize(
    "text", ["", "[]", "current-context: x\n", "{not json", "clusters: 3\ncontexts: [{name: a}]\ncurrent-context: a\n"]
)
def test_a_malformed_kubeconfig_is_one_clear_error(tmp_path, text):
    path = tmp_path / "kubeconfig"
    path.write_text(text)
    with pytest.raises(ConfigError, match="is not a kubeconfig with a current context"):
        check_local_kubeconfig(str(path))
