"""Hosts, URLs and KMS key names in one canonical spelling, so that comparing them compares the thing.

Built on the standard library's parsers: ``ipaddress`` for IP literals (``0:0::1`` and ``::1``,
``::ffff:127.0.0.1`` and ``127.0.0.1``), ``urllib.parse`` for URLs (with percent-decoding as Go's
``net/url``, which Vault, Pulumi's KMS opener and the Kubernetes clients use, applies to a path),
``posixpath`` for dot segments (``/.``, ``//``, ``a/../b``), and IDNA via ``str.encode('idna')``.
"""

from __future__ import annotations

import ipaddress
import posixpath
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from secrets_platform.parsers import ParseError

# Ports a scheme implies; an address that spells one out is the same address.
DEFAULT_PORTS = {"https": 443, "http": 80}


def canonical_host(host: str) -> str:
    """A host name or IP literal in one spelling: lower case, no trailing dot, IPs in ipaddress's form.

    Percent-encoding is decoded first (``db%2Eprd`` is ``db.prd``); brackets of an IPv6 literal
    are dropped; an IPv4-mapped IPv6 address is its IPv4 address. ParseError for an empty host
    or one with characters no host name has.
    """
    text = unquote(host).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    zone = ""
    if "%" in text:  # an IPv6 zone (fe80::1%eth0)
        text, zone = text.split("%", 1)
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        ip = None
    if ip is not None:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return str(ip) + (f"%{zone}" if zone else "")
    name = text.lower().rstrip(".")
    if not name or any(c.isspace() or c in "/\\@?#[]" for c in name):
        raise ParseError(f"{host!r} is not a host name")
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        raise ParseError(f"{host!r} is not a host name") from None
    return name


def clean_path(path: str) -> str:
    """A URL path decoded and without dot segments, duplicate or trailing slashes ('' for the root)."""
    text = unquote(path)
    if not text.strip("/"):
        return ""
    cleaned = posixpath.normpath("/" + text.lstrip("/"))
    return "" if cleaned == "/" else cleaned


@dataclass(frozen=True)
class Address:
    """A URL's identity: scheme, canonical host, port (the scheme's default filled in) and clean path."""

    scheme: str
    host: str
    port: int | None
    path: str

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + ("" if self.port is None else f":{self.port}")

    def __str__(self) -> str:
        return self.origin + self.path


def canonical_url(url: str, default_ports: dict[str, int] | None = None) -> Address:
    """``url`` as an :class:`Address`; ParseError when it has no scheme or host, or a bad port.

    ``default_ports`` (scheme -> port) are dropped like the scheme's own: Vault's 8200 is the
    same address spelled out or not.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ParseError(f"{url!r} is not a URL (its host or port does not parse)") from None
    scheme = parts.scheme.lower()
    if not scheme or not parts.hostname:
        raise ParseError(f"{url!r} is not a URL with a scheme and a host")
    if parts.username is not None or parts.password is not None:
        raise ParseError("carries user-info (user:password@), a credential")
    host = canonical_host(parts.hostname)
    defaults = {DEFAULT_PORTS.get(scheme)} | ({(default_ports or {}).get(scheme)} if default_ports else set())
    return Address(scheme, host, None if port in defaults else port, clean_path(parts.path))


# Kubernetes' in-cluster API server names: from inside a cluster they reach that cluster's own API.
IN_CLUSTER_HOSTS = frozenset({"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"})


def is_in_cluster(address: Address) -> bool:
    """True when the address is the in-cluster API server name (the cluster Vault itself runs in)."""
    return address.host in IN_CLUSTER_HOSTS


def gcpkms_key(url: str) -> str:
    """A ``gcpkms://`` key URL reduced to ``projects/P/locations/L/keyRings/R/cryptoKeys/K`` (lower case).

    As Pulumi's opener reads it (Go's ``net/url`` then ``path.Join``): percent-encoding decoded,
    dot segments and duplicate or trailing slashes dropped, the query ignored; a
    ``cryptoKeyVersions/N`` suffix names the same key. ParseError for anything else.
    """
    text = url.strip()
    if not text.lower().startswith("gcpkms://"):
        raise ParseError(f"{url!r} is not a gcpkms:// key URL")
    parts = urlsplit(text)
    joined = clean_path("/" + unquote(parts.netloc) + "/" + parts.path).lstrip("/").lower()
    segments = joined.split("/")
    if len(segments) == 10 and segments[8] == "cryptokeyversions":
        segments = segments[:8]
    names = ("projects", "locations", "keyrings", "cryptokeys")
    if len(segments) != 8 or tuple(segments[0::2]) != names or not all(segments[1::2]) or ".." in segments:
        raise ParseError(f"{url!r} is not a gcpkms:// key URL")
    p, loc, ring, key = segments[1::2]
    return f"gcpkms://projects/{p}/locations/{loc}/keyRings/{ring}/cryptoKeys/{key}"
