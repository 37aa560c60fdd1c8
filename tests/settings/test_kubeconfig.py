"""The local stack's kubeconfig must exist and point at loopback, else one ConfigError before anything is registered."""

from __future__ import annotations

import json

import pytest

from secrets_platform.settings import ConfigError
from secrets_platform.settings.kubeconfig import check_local_kubeconfig


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


def _with(tmp_path, change):
    path = kubeconfig(tmp_path, "https://127.0.0.1:16443")
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("proxy", ["http://proxy.example.internal:3128", "socks5://127.0.0.1:1080", "https://127.0.0.1:8443"])
def test_a_proxy_url_is_refused_even_on_loopback(tmp_path, proxy):
    """A proxy is a hop that sees the API traffic (Secrets included): the local stack never takes one."""
    path = _with(tmp_path, lambda d: d["clusters"][0]["cluster"].update({"proxy-url": proxy}))
    with pytest.raises(ConfigError) as err:
        check_local_kubeconfig(str(path))
    text = str(err.value)
    assert "through a proxy" in text and "remove proxy-url" in text and text.count("\n  - ") == 1


def test_another_cluster_of_the_file_off_loopback_is_refused(tmp_path):
    """The provider (or a context switch) may use any cluster of the file, not only the current one."""
    path = _with(tmp_path, lambda d: d["clusters"].append({"name": "prd", "cluster": {"server": "https://34.77.1.2"}}))
    with pytest.raises(ConfigError, match="points cluster 'prd' at '34.77.1.2'"):
        check_local_kubeconfig(str(path))


@pytest.mark.parametrize("server", ["https://[::ffff:127.0.0.1]:6443", "https://[0:0:0:0:0:0:0:1]:6443"])
def test_loopback_is_read_in_any_ip_spelling(tmp_path, server):
    check_local_kubeconfig(str(kubeconfig(tmp_path, server)))
