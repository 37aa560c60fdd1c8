"""PostgreSQL on loopback for the local stack: the database Vault issues short-lived users in.

Debian's PostgreSQL server binaries (``apt-get install postgresql``; ``.ci/run``
installs them when missing), run as a local process beside the cluster and
started and stopped with it (``python -m secrets_platform.localcluster up|down``). Its files live
in ``<cluster data>/postgres/``:

- ``data/``: the database cluster (``initdb``), listening on 127.0.0.1 only, no
  Unix socket, password (SCRAM) authentication for every connection;
- ``superuser-password`` and ``vault-admin-password`` (mode 0600, generated at
  random, never on a command line or in a log: psql gets the password in its
  environment and the statements that set one on stdin): the bootstrap superuser, used
  only to create what follows, and ``vault_admin``, the CREATEROLE user Vault's
  database engine creates and drops the issued users with;
- the database ``pipelines`` with one table, ``public.pipeline_runs``, so an issued
  user's query shows its grants.

PostgreSQL refuses to run as root. Started by root (CI, containers), it runs in a
user namespace of its own (``unshare --user``) under an unprivileged id mapped to
root, so the data folder stays root's and nothing is chowned.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from secrets_platform.localcluster import LOOPBACK, ClusterError
from secrets_platform.localcluster.layout import InRoot
from secrets_platform.localcluster.servers import LoopbackServer

# The API server's port + 12 (OpenBao has +10 and +11).
PORT_OFFSET = 12
SUPERUSER = "secrets_platform"
VAULT_ADMIN = "vault_admin"
DATABASE = "pipelines"
SAMPLE_TABLE = "public.pipeline_runs"
# The id PostgreSQL runs under when started by root (inside its own user namespace).
UNPRIVILEGED_ID = 65534
INSTALL_FIX = "install Debian's PostgreSQL server (apt-get install postgresql), then run make up again"


class PostgresError(ClusterError):
    """A missing server, a port in use, data of another version: the message names it and the fix."""


@dataclass(frozen=True)
class Login:
    """How Vault's database engine reaches the local database (the password never leaves this process's memory and its file)."""

    connection_url: str
    username: str
    password: str


def server_bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/<major>/bin`` holding a server, else the folder of ``postgres`` on PATH."""
    found = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        if (bindir / "postgres").is_file() and (bindir / "initdb").is_file() and bindir.parent.name.isdigit():
            found.append((int(bindir.parent.name), bindir))
    if found:
        return max(found)[1]
    on_path = shutil.which("postgres")
    if on_path and shutil.which("initdb", path=str(Path(on_path).parent)):
        return Path(on_path).parent
    raise PostgresError(f"no PostgreSQL server binaries (postgres, initdb) in /usr/lib/postgresql/*/bin or on PATH: {INSTALL_FIX}")


def _bin_dir_or_none() -> Path | None:
    with contextlib.suppress(PostgresError):
        return server_bin_dir()
    return None


class LocalPostgres(LoopbackServer):
    """The local stack's PostgreSQL, keeping its files in the cluster's data folder."""

    COMPONENT = "postgres"
    LABEL = "the local database (PostgreSQL)"
    ERROR = PostgresError
    PORT_OFFSET = PORT_OFFSET
    STOP_SIGNAL = signal.SIGINT  # fast shutdown: ends sessions, checkpoints, exits
    STOP_TIMEOUT = 20.0
    START_TIMEOUT = 60.0

    data = InRoot("data")

    def _secret_file(self, user: str) -> Path:
        return self.root / ("superuser-password" if user == SUPERUSER else "vault-admin-password")

    @property
    def address(self) -> str:
        return self.host_port

    def password(self, user: str) -> str:
        try:
            return self._secret_file(user).read_text().strip()
        except OSError:
            raise PostgresError(f"no password for {user} in {self._secret_file(user)}: start the local database with make up") from None

    def vault_login(self) -> Login:
        """What Vault's database engine connects with: ``vault_admin`` over loopback (no TLS: nothing leaves 127.0.0.1)."""
        url = f"postgresql://{{{{username}}}}:{{{{password}}}}@{LOOPBACK}:{self.port}/{DATABASE}?sslmode=disable"
        return Login(url, VAULT_ADMIN, self.password(VAULT_ADMIN))

    # ------------------------------------------------------------------ state

    def _is_ours(self, cmdline: list[bytes]) -> bool:
        return Path(cmdline[0].decode()).name == "postgres" and str(self.data).encode() in cmdline

    def healthy(self) -> bool:
        """Accepting connections (pg_isready: no login, so no password involved)."""
        pg_isready = shutil.which("pg_isready", path=f"{_bin_dir_or_none() or ''}:/usr/bin:/bin")
        if pg_isready is None:
            return False
        try:
            return (
                subprocess.run(
                    [pg_isready, "-q", "-h", LOOPBACK, "-p", str(self.port), "-t", "2"],
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=5,
                ).returncode
                == 0
            )
        except (OSError, subprocess.TimeoutExpired):
            return False

    def _command(self, bindir: Path, program: str, *args: str) -> list[str]:
        argv = [str(bindir / program), *args]
        if os.geteuid() != 0:
            return argv
        unshare = shutil.which("unshare")
        if unshare is None:
            raise PostgresError(
                "PostgreSQL refuses to run as root, and unshare (util-linux) is missing to run it unprivileged: "
                "install util-linux, or run make up as a normal user"
            )
        return [unshare, "--user", f"--map-user={UNPRIVILEGED_ID}", f"--map-group={UNPRIVILEGED_ID}", *argv]

    def _check_version(self, bindir: Path) -> None:
        version_file = self.data / "PG_VERSION"
        if not version_file.exists():
            return
        have, want = version_file.read_text().strip(), bindir.parent.name
        if want.isdigit() and have != want:
            raise PostgresError(
                f"the local database in {self.data} was made by PostgreSQL {have}, but this machine runs {want}: "
                "make destroy removes the local cluster's data (and the local stack), then make up starts afresh"
            )

    def _init(self, bindir: Path) -> None:
        """initdb once: SCRAM for every host connection, the superuser's password from a file that is then kept 0600."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        for user in (SUPERUSER, VAULT_ADMIN):
            path = self._secret_file(user)
            if not path.exists():
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_urlsafe(24) + "\n")
        self._write_port()
        if (self.data / "PG_VERSION").exists():
            return
        shutil.rmtree(self.data, ignore_errors=True)  # a half-made folder of an interrupted initdb
        done = subprocess.run(
            self._command(
                bindir,
                "initdb",
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--auth=scram-sha-256",
                f"--pwfile={self._secret_file(SUPERUSER)}",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-instructions",
            ),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            shutil.rmtree(self.data, ignore_errors=True)
            tail = " | ".join(done.stderr.strip().splitlines()[-3:])
            raise PostgresError(f"initdb of the local database failed (exit code {done.returncode}): {tail}")

    # ------------------------------------------------------------------ life cycle (LoopbackServer.start: initdb and bootstrap the first time)

    def _tools(self) -> Path:
        return server_bin_dir()

    def _prepare(self, bindir: Path) -> None:
        """Data of this PostgreSQL's version, the port free, initdb the first time."""
        self._check_version(bindir)
        self._check_ports((self.port,), "the local database, PostgreSQL", PostgresError)
        self._init(bindir)

    def _launch(self, bindir: Path, timeout: float) -> None:
        """Run the server, wait until it accepts connections, then bootstrap what Vault's engine needs."""
        (self.data / "postmaster.pid").unlink(missing_ok=True)  # a killed server's; ours is not running
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(self.root)}
        self._run(
            self._command(
                bindir,
                "postgres",
                "-D",
                str(self.data),
                "-c",
                f"listen_addresses={LOOPBACK}",
                "-c",
                f"port={self.port}",
                "-c",
                "unix_socket_directories=",
                "-c",
                "max_connections=40",
                "-c",
                "shared_buffers=16MB",
                "-c",
                "log_connections=off",
                # a failed statement is logged without its text: CREATE/ALTER ROLE ... PASSWORD (ours, and
                # Vault's for every issued user) must never reach the log, whatever goes wrong
                "-c",
                "log_min_error_statement=panic",
            ),
            env,
            timeout,
        )
        self._bootstrap(bindir)

    def _bootstrap(self, bindir: Path) -> None:
        """vault_admin (CREATEROLE, its password re-set from its file every start), the pipelines database and its table."""
        admin = self.password(VAULT_ADMIN)
        if not re.fullmatch(r"[A-Za-z0-9_-]+", admin):
            raise PostgresError(
                f"{self._secret_file(VAULT_ADMIN)} was edited: it must hold letters, digits, '-' and '_' only; "
                "delete it and run make up again"
            )
        done = self.psql(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{VAULT_ADMIN}') THEN "
            f"CREATE ROLE {VAULT_ADMIN} LOGIN CREATEROLE; END IF; END $$;",
            f"ALTER ROLE {VAULT_ADMIN} WITH LOGIN CREATEROLE PASSWORD '{admin}';",
            bindir=bindir,
        )
        if done.returncode != 0:  # psql may echo the failed statement, password included: never shown
            raise PostgresError(
                f"the local database refused to create or update {VAULT_ADMIN} (psql exit code {done.returncode}): "
                f"see {self.log}; make destroy and make up start afresh"
            )
        if not self.sql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'", bindir=bindir).strip():
            self.sql(f"CREATE DATABASE {DATABASE}", bindir=bindir)
        self.sql(
            f"CREATE TABLE IF NOT EXISTS {SAMPLE_TABLE} (id serial PRIMARY KEY, pipeline text NOT NULL, "
            "finished_at timestamptz NOT NULL DEFAULT now())",
            f"INSERT INTO {SAMPLE_TABLE} (pipeline) SELECT 'daily-snowflake-load' WHERE NOT EXISTS (SELECT FROM {SAMPLE_TABLE})",
            database=DATABASE,
            bindir=bindir,
        )

    def psql(
        self,
        *statements: str,
        user: str = SUPERUSER,
        password: str | None = None,
        database: str = "postgres",
        bindir: Path | None = None,
        timeout: float = 30,
    ) -> subprocess.CompletedProcess[str]:
        """Run statements with psql over loopback as ``user`` (each its own transaction, stopping at the first error).

        Nothing secret on psql's command line (every local user reads /proc/<pid>/cmdline): the password is in its
        environment, and the statements (``ALTER ROLE ... PASSWORD`` among them) reach it on stdin.
        """
        psql = (bindir or server_bin_dir()) / "psql"
        if not psql.exists():
            psql = Path(shutil.which("psql") or "psql")
        args = [
            str(psql),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            f"host={LOOPBACK} port={self.port} dbname={database} user={user} connect_timeout=5",
        ]
        script = "".join(statement.rstrip().rstrip(";") + ";\n" for statement in statements)
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PGPASSWORD": password if password is not None else self.password(user)}
        return subprocess.run(args, input=script, capture_output=True, text=True, env=env, timeout=timeout)

    def sql(self, *statements: str, user: str = SUPERUSER, database: str = "postgres", bindir: Path | None = None) -> str:
        """:meth:`psql` as one of the local users, its output; a refusal is a PostgresError."""
        done = self.psql(*statements, user=user, database=database, bindir=bindir)
        if done.returncode != 0:
            raise PostgresError(f"the local database refused a statement as {user}: {done.stderr.strip()[-300:]}")
        return done.stdout
