"""Reloader on the local cluster without running it: batch-safe and scoped flags, its place in the start order, its health."""

from __future__ import annotations

import http.server
import threading

import pytest
from test_localcluster import binaries  # noqa: F401  (the stand-in binaries fixture)

from secrets_platform import conventions, localcluster
from secrets_platform.localcluster import COMPONENTS, Cluster, ClusterError, reloader


def test_jobs_and_cronjobs_are_never_rolled_and_only_platform_namespaces_are_watched():
    args = reloader.args()
    assert "--ignored-workload-types=jobs,cronjobs" in args
    # The selector is the label every platform namespace carries (conventions.labels), in Reloader's key=value form.
    selector = next(a.split("=", 1)[1] for a in args if a.startswith("--namespace-selector="))
    key, value = selector.split("=")
    assert conventions.labels("local")[key] == value
    assert not any(a.startswith(("--namespaces=", "--enable-pprof", "--pprof-addr", "--webhook-url", "--auto-reload-all")) for a in args)


def test_its_environment_names_only_the_kubeconfig():
    env = reloader.environment("/x/kubeconfig")
    assert env == {"KUBECONFIG": "/x/kubeconfig"}, (
        "KUBERNETES_NAMESPACE would narrow it to one namespace, RELOADER_NAMESPACE writes a ConfigMap"
    )


def test_it_starts_after_the_api_server_and_stops_before_it():
    assert COMPONENTS.index("kube-apiserver") < COMPONENTS.index("reloader") < COMPONENTS.index("kubelet")


def test_the_controller_manager_runs_the_controller_of_every_kind_reloader_rolls():
    # Without them a StatefulSet or DaemonSet gets no pod at all, and a rollout Reloader starts never happens.
    args = Cluster(port_base=20000)._args("kube-controller-manager")
    controllers = next(a.split("=", 1)[1] for a in args if a.startswith("--controllers=")).split(",")
    for kind in conventions.RELOADER_ROLLED_KINDS:
        assert f"{kind.lower()}-controller" in controllers


def test_a_missing_binary_is_one_clear_error_naming_reloader(tmp_path, binaries):  # noqa: F811 (the imported fixture)
    (binaries / "reloader").unlink()
    with pytest.raises(ClusterError, match=r"reloader is missing: run make toolchain \(it builds Reloader"):
        Cluster(tmp_path / "c", binaries).start()
    assert not (tmp_path / "c" / "cluster.json").exists(), "nothing is created"


@pytest.mark.parametrize(
    "sockets, port",
    [([("127.0.0.1", 41000)], 41000), ([], None), ([("0.0.0.0", 9090)], None), ([("127.0.0.1", 1), ("127.0.0.1", 2)], None)],
)
def test_its_port_is_its_one_loopback_listener(sockets, port):
    assert reloader.listen_port(sockets) == port


def test_healthy_once_live_answers_alive():
    class Live(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"alive" if self.path == "/live" else b""
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Live)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert reloader.healthy(lambda: [("127.0.0.1", server.server_port)])
        assert not reloader.healthy(lambda: [])
    finally:
        server.shutdown()
    assert not reloader.healthy(lambda: [("127.0.0.1", server.server_port)]), "a closed port is not healthy"


def test_status_lists_it(tmp_path):
    assert "reloader" in Cluster(tmp_path).pids() and localcluster.reloader is reloader


def test_the_ignored_workload_types_are_the_platforms_batch_kinds():
    assert reloader.IGNORED_WORKLOAD_TYPES == tuple(f"{kind.lower()}s" for kind in conventions.RELOADER_BATCH_KINDS)
