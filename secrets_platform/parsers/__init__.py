"""Other systems' formats, read by those systems' own rules (never a regex of ours).

- :mod:`parsers.vault_policy`: Vault and OpenBao ACL policies, HCL v1 or JSON, through pyhcl
  (HashiCorp HCL v1's grammar), judged as Vault judges them (capabilities per path);
- :mod:`parsers.conninfo`: PostgreSQL connection URLs through libpq's own parser
  (``PQconninfoParse``, via psycopg and the libpq it bundles);
- :mod:`parsers.addresses`: hosts, URLs and KMS key names in one canonical spelling
  (``ipaddress``, ``urllib.parse``), so that two spellings of one thing compare equal.

Each raises :class:`ParseError` on what it cannot read: the callers refuse it (fail closed).
"""

from __future__ import annotations


class ParseError(ValueError):
    """Text the other system's rules do not accept, or that this reader cannot judge: refused."""
