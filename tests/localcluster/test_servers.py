"""A side server (OpenBao, PostgreSQL) that exits while starting, or never gets ready, is one error naming itself and its log."""

from __future__ import annotations

import os
import re
import signal

import pytest

from secrets_platform.localcluster import Cluster
from secrets_platform.localcluster.postgres import LocalPostgres, PostgresError
from secrets_platform.localcluster.vault import OpenBao, VaultError


@pytest.mark.parametrize(
    ("server", "error", "label"), [(OpenBao, VaultError, "Vault (OpenBao)"), (LocalPostgres, PostgresError, "database (PostgreSQL)")]
)
def test_a_server_that_exits_while_starting_is_named_with_its_exit_code_and_log(tmp_path, server, error, label):
    cluster = Cluster(tmp_path / "c", tmp_path / "bin", port_base=23000)
    srv = server(cluster)
    srv.root.mkdir(parents=True)
    with pytest.raises(
        error,
        match=rf"the local {re.escape(label)} exited while starting \(exit code 3\): see .*{srv.COMPONENT}",
    ):
        srv._run(["/bin/sh", "-c", "echo starting-failed >&2; exit 3"], {"PATH": "/usr/bin:/bin"}, 5)
    assert not srv._pid_file.exists()
    assert "starting-failed" in srv.log.read_text()


def test_a_server_never_ready_is_stopped_and_named_with_its_address(tmp_path, monkeypatch):
    cluster = Cluster(tmp_path / "c", tmp_path / "bin", port_base=23100)
    srv = OpenBao(cluster)
    srv.root.mkdir(parents=True)
    monkeypatch.setattr(OpenBao, "healthy", lambda self: False)
    stopped: list[OpenBao] = []

    def stop(self: OpenBao) -> bool:
        stopped.append(self)
        return True

    monkeypatch.setattr(OpenBao, "_stop", stop)
    try:
        with pytest.raises(VaultError, match=rf"the local Vault \(OpenBao\) at {srv.address} was not ready after 1 s: see "):
            srv._run(["/bin/sleep", "30"], {"PATH": "/usr/bin:/bin"}, 1)
        assert stopped == [srv]
    finally:
        os.kill(int(srv._pid_file.read_text()), signal.SIGKILL)
