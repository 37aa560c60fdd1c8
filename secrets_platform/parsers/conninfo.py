"""PostgreSQL connection URLs read by libpq's own rules (``PQconninfoParse``, through psycopg).

What a URL connects to is not its spelling: libpq (and pgx, which Vault's PostgreSQL plugin
uses, with the same URI rules) lets ``?host=``, ``?hostaddr=``, ``?port=`` and ``?dbname=``
override the URL's parts, decodes percent-encoding, takes several comma-separated hosts and
ports, and defaults the port to 5432. Where the two differ, the URL is refused: a keyword given
twice (libpq reads the last, pgx the first). :func:`parse` hands the URL to libpq itself;
:func:`endpoints` turns the result into the servers a client may reach, each in one canonical
spelling (:mod:`parsers.addresses`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from secrets_platform.parsers import ParseError
from secrets_platform.parsers.addresses import canonical_host

DEFAULT_PORT = 5432
SCHEMES = ("postgresql://", "postgres://")
# Connection keywords that carry or point at a credential, or send libpq elsewhere to find the
# real connection (a service file on Vault's host): never in a stack file's URL.
SECRET_KEYWORDS = frozenset({"password", "passfile", "sslpassword"})
# The keywords a URL of the platform may set; any other one is refused (fail closed), since what
# it does to where and as whom the client connects is not judged here. `user` is a key of its own.
ALLOWED_KEYWORDS = frozenset(
    {
        "host",
        "hostaddr",
        "port",
        "dbname",
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "sslcrl",
        "sslsni",
        "sslnegotiation",
        "channel_binding",
        "connect_timeout",
        "application_name",
        "target_session_attrs",
        "load_balance_hosts",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
    }
)


# Keyword names are never secret: only these are named in a message (anything else libpq refuses anyway).
_KNOWN_KEYWORDS = ALLOWED_KEYWORDS | SECRET_KEYWORDS | {"user", "service", "options"}


@dataclass(frozen=True)
class Endpoint:
    """One server a connection may reach: a canonical host (or address) and a port."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse(url: str) -> dict[str, str]:
    """libpq's reading of ``url``: keyword -> value (percent-decoding and query overrides applied).

    ParseError when libpq refuses it; the message repeats nothing of the URL (it may hold a password).
    """
    if not isinstance(url, str):
        raise ParseError("is not text")
    if "://" in url:
        # libpq takes the last of a repeated query keyword, pgx (Vault's driver) the first: refused.
        query = url.split("?", 1)[1] if "?" in url else ""
        names = [name for name, _ in parse_qsl(query.split("#", 1)[0], keep_blank_values=True)]
        repeated = sorted({n for n in names if names.count(n) > 1 and n in _KNOWN_KEYWORDS})
        if repeated:
            raise ParseError(f"gives {', '.join(repeated)} more than once (libpq reads the last, pgx, Vault's driver, the first)")
    # Imported on first use: psycopg is a tenth of a second of the policy pack's start-up, which
    # the engine waits for before it runs the program, and most stacks have no connection URL.
    from psycopg import conninfo as libpq
    from psycopg import errors as pgerrors

    try:
        return {k: str(v) for k, v in libpq.conninfo_to_dict(url).items() if v is not None}
    except (pgerrors.ProgrammingError, pgerrors.InterfaceError, ValueError, TypeError):
        # libpq's own message quotes pieces of the URL (which may hold a password): not repeated.
        raise ParseError(
            "is not a connection URL libpq accepts (an unknown query keyword, a space, a bad percent-encoding or port?)"
        ) from None


def _split(value: str | None) -> list[str]:
    return [] if value is None else value.split(",")


def endpoints(params: dict[str, str]) -> tuple[Endpoint, ...]:
    """The servers of a parsed connection: each host and each hostaddr with its port.

    libpq pairs the n-th host (or hostaddr) with the n-th port; one port serves every host, an
    empty one is 5432. Unix-socket directories (a host starting with '/' or '@') are refused:
    which server they reach depends on the machine the client runs on.
    """
    hosts, addrs, ports = _split(params.get("host")), _split(params.get("hostaddr")), _split(params.get("port"))
    count = max(len(hosts), len(addrs), 1)
    if hosts and addrs and len(hosts) != len(addrs):
        raise ParseError(f"gives {len(hosts)} hosts but {len(addrs)} hostaddr values")
    if len(ports) not in (0, 1, count):
        raise ParseError(f"gives {len(ports)} ports for {count} hosts")
    out: list[Endpoint] = []
    for i in range(count):
        raw_port = (ports[i] if len(ports) == count else ports[0] if ports else "").strip()
        try:
            port = int(raw_port) if raw_port else DEFAULT_PORT
        except ValueError:
            # Not echoed: a URL pasted in the wrong field can carry a password where the port stands.
            raise ParseError("has a port that is not a number") from None
        if not 0 < port < 65536:
            raise ParseError("has a port out of range (1 to 65535)")
        for raw in ([hosts[i]] if i < len(hosts) else []) + ([addrs[i]] if i < len(addrs) else []):
            raw = raw.strip()
            if not raw:
                continue
            if raw.startswith(("/", "@")):
                raise ParseError("connects through a Unix socket, whose server depends on the machine Vault runs on")
            try:
                host = canonical_host(raw)
            except ParseError:
                # Not echoed, for the port's reason: what stands where the host should is unknown text.
                raise ParseError("has a host that is not a host name") from None
            out.append(Endpoint(host, port))
    if not out:
        raise ParseError("names no host")
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class Database:
    """A connection's identity: the servers it may reach and the database it opens there."""

    endpoints: tuple[Endpoint, ...]
    dbname: str


def database(url: str) -> Database:
    """``url``'s servers and database, by libpq's rules; ParseError when they cannot be known."""
    params = parse(url)
    if "service" in params:
        raise ParseError("names a libpq service, whose connection lives in a file on the machine Vault runs on")
    dbname = params.get("dbname", "")
    if not dbname:
        raise ParseError("names no database")
    return Database(endpoints(params), dbname)
