"""Cross-stack check: no two environments share anything, seen across every stack file at once.

A policy pack sees one stack at a time, so it can't notice that dev and prd
would both claim the same namespace, service account, remote key (Secret
Manager id, Vault path), import target, encryption key or cluster. This reads every
``Pulumi.<env>.yaml`` together (no engine, no cloud: encrypted values stay
encrypted) and fails when one object is claimed by two environments.

Identities are compared, not spellings, each read by the rules of the system that uses it
(:mod:`parsers`): a KMS key URL as Pulumi's opener reads it (percent-decoding, dot segments,
case, trailing slashes, a key version ignored); a Vault address and ``vault.kubernetesHost`` as
URLs (``urllib.parse`` + ``ipaddress``: host case, a trailing dot, IPv6 spellings, default
ports 443 and 8200, ``/.`` and trailing slashes ignored); a database connection by libpq's own
parser (``?host=``, ``?hostaddr=``, ``?port=``, ``?dbname=``, several hosts, percent-encoding,
the default port 5432); the Vault paths each job-runner policy grants by the HCL parser Vault
uses (:mod:`parsers.vault_policy`); a cluster by its kubeconfig context and, for GKE, by
project + location + name (a ``gke_<project>_<location>_<name>`` context is the same cluster as
those ``gcp`` keys). One cluster belongs to one environment: that is what lets the operators hold
cluster-wide roles; so does the Kubernetes API server Vault's auth method verifies tokens with
(``vault.kubernetesHost``, unless it is the in-cluster name, which is the stack's own cluster),
and the PostgreSQL server Vault issues users on (roles are server-wide: an issued user may
connect to every database of its server that grants CONNECT to PUBLIC, the default). dev, stg
and prd must encrypt with a ``gcpkms://`` key of their own and name their cluster (a context,
or ``gcp.project`` + ``gcp.region`` + ``gcp.clusterName``); local needs neither.

    python -m secrets_platform.policies.cross_stack                 # every Pulumi.*.yaml of the repository
    python -m secrets_platform.policies.cross_stack Pulumi.dev.yaml Pulumi.prd.yaml

Exit codes: 0 no sharing, 1 sharing found, 2 a stack file is unreadable or invalid.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Iterable

from secrets_platform import conventions, settings
from secrets_platform.parsers import ParseError, addresses, conninfo, vault_policy

REPO = Path(__file__).resolve().parents[2]

Claim = tuple[str, str]  # (kind, identity)

_GKE_CONTEXT = re.compile(r"^gke_(?P<project>[a-z][a-z0-9-]{4,28}[a-z0-9])_(?P<location>[a-z0-9-]+)_(?P<name>.+)\Z")
# Vault's own port, like https' 443, does not make another address.
_VAULT_DEFAULT_PORTS = {"https": 8200, "http": 8200}


class StackProblem(ValueError):
    """A stack file the check cannot accept (exit 2), with the fix."""


def kms_key_identity(url: str) -> str:
    """``gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K`` reduced to one spelling.

    As Pulumi's opener reads the URL (:func:`parsers.addresses.gcpkms_key`): case, surrounding
    blanks, percent-encoding, dot segments, duplicate or trailing slashes, a query string and a
    ``cryptoKeyVersions/N`` suffix do not make another key. Anything else raises StackProblem.
    """
    try:
        return addresses.gcpkms_key(url)
    except ParseError:
        raise StackProblem(
            f"secretsprovider {url!r} is not a gcpkms:// key URL",
            "use gcpkms://projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>",
        ) from None


def database_servers(url: str) -> set[str]:
    """The PostgreSQL servers (``host:port``) a connection URL reaches, by libpq's rules.

    ``?host=``/``?hostaddr=``/``?port=`` override the URL's parts, every one of several hosts
    counts, percent-encoding is decoded, the port defaults to 5432 and hosts are canonical.
    """
    try:
        return {str(e) for e in conninfo.database(url).endpoints}
    except ParseError as err:
        raise StackProblem(f"a databaseConnections url {err}", "give postgresql://host:5432/dbname?sslmode=verify-full") from None


def database_identity(url: str) -> str:
    """One connection as ``host:port/dbname`` (its first server), by libpq's rules."""
    try:
        db = conninfo.database(url)
    except ParseError as err:
        raise StackProblem(f"a databaseConnections url {err}", "give postgresql://host:5432/dbname?sslmode=verify-full") from None
    return f"{db.endpoints[0]}/{db.dbname}"


def vault_identity(address: str | None) -> str:
    """A Vault address reduced to host[:port][path]: scheme, case, default ports (443, 8200), dot segments and trailing slashes ignored."""
    if not address:
        return "(in-cluster vault)"
    try:
        url = addresses.canonical_url(address, _VAULT_DEFAULT_PORTS)
    except ParseError as err:
        raise StackProblem(f"vault.address {err}", "give Vault's API address, e.g. https://vault.example.internal:8200") from None
    host = f"[{url.host}]" if ":" in url.host else url.host
    return host + ("" if url.port is None else f":{url.port}") + url.path


def kubernetes_api_identity(host: str) -> str | None:
    """``vault.kubernetesHost`` as the API server it names; None for the in-cluster name (the stack's own cluster)."""
    try:
        url = addresses.canonical_url(host)
    except ParseError as err:
        raise StackProblem(
            f"vault.kubernetesHost {err}", "give the cluster's API server URL, e.g. https://kubernetes.default.svc"
        ) from None
    if addresses.is_in_cluster(url):
        return None
    return url.origin + url.path


def vault_policy_paths(policy: str) -> set[str]:
    """The paths a policy grants anything on, read by Vault's HCL parser (:mod:`parsers.vault_policy`)."""
    try:
        return {g.path for g in vault_policy.grants(policy) if g.allows}
    except ParseError as err:
        raise StackProblem(f"a Vault policy of the program {err}", "report it: the program writes every policy") from None


def cluster_identities(s: "settings.Settings") -> set[str]:
    """Every name of the cluster a stack targets: its context, and for GKE project/location/name."""
    cfg = s.config
    out: set[str] = set()
    context = (cfg.kubernetes.context or "").strip()
    if context:
        out.add(f"kubeconfig context {context}")
        m = _GKE_CONTEXT.match(context)
        if m:
            out.add(f"GKE cluster {m['project']}/{m['location']}/{m['name']}")
    gcp = cfg.gcp
    if gcp.project and gcp.region and gcp.cluster_name:
        out.add(f"GKE cluster {gcp.project.lower()}/{gcp.region.lower()}/{gcp.cluster_name.lower()}")
    return out


def claims(s: "settings.Settings", secrets_provider: str | None = None) -> set[Claim]:
    """Everything one stack would own, named the way the program names it."""
    from secrets_platform.model import resolve

    cfg, model = s.config, resolve(s)
    out: set[Claim] = set()
    namespaces = [ns.name for ns in model.namespaces.values()]
    if model.external_secrets is not None:
        eso_ns = model.external_secrets.namespace.name
        namespaces.append(eso_ns)
        out.add(("service account", conventions.object_key(eso_ns, model.external_secrets.service_account)))
        if model.store:
            out.add(("secret store", model.store))
        if model.eso_service_account:
            out.add(("service account", model.eso_service_account))
    if model.vault_server is not None:
        vault_ns = model.vault_server.namespace.name
        namespaces.append(vault_ns)
        out.add(("service account", conventions.object_key(vault_ns, model.vault_server.service_account)))
        names = model.vault_names
        vault = vault_identity(cfg.vault.address)
        out.add(("vault auth path", f"{vault}/{names.auth_path}"))
        api = kubernetes_api_identity(cfg.vault.kubernetes_host)
        if api:
            # the API server Vault verifies job-runner tokens with: one environment's cluster
            out.add(("kubernetes API server", api))
        for access in model.vault_access:
            for path in vault_policy_paths(access.hcl):
                out.add(("vault path", f"vault:{vault}/{path}"))
        for cred in model.vault_credentials:
            out.add(("remote key", f"vault:{vault}/{cred.path}"))
        for role in model.database_roles:
            out.add(("vault database role", f"vault:{vault}/{role.mount}/roles/{role.name}"))
    for conn in cfg.database_connections.values():
        # one database server per environment: roles are server-wide, so two stacks issuing users
        # on one server share it (whatever database each names)
        for server in database_servers(conn.url):
            out.add(("database server", server))
    for ns in namespaces:
        out.add(("namespace", ns))
    for runner in model.access.values():
        out.add(("service account", conventions.object_key(runner.namespace, runner.service_account)))
    for d in model.descriptors:
        out.add(("secret", conventions.object_key(d.namespace, d.name)))
        if d.backend == "gcp-secret-manager":
            out.add(("remote key", f"gcpsm:{cfg.gcp.project or '(fake)'}/{d.name}"))
    if cfg.imports.enabled:
        out.add(("import target", s.namespace(cfg.imports.namespace)))
    if secrets_provider and secrets_provider.strip().lower().startswith("gcpkms://"):
        out.add(("secrets provider", kms_key_identity(secrets_provider)))
    elif secrets_provider and secrets_provider.strip() != "passphrase":
        out.add(("secrets provider", secrets_provider.strip()))
    for cluster in cluster_identities(s):
        out.add(("cluster", cluster))
    return out


def stack_problems(s: "settings.Settings", secrets_provider: str | None) -> list[str]:
    """What a stack must say for the check to mean anything: its own KMS key and its cluster."""
    if s.environment == "local":
        return []  # passphrase provider, and a local cluster from a kubeconfig file (or none)
    problems = []
    provider = (secrets_provider or "").strip()
    if not provider.lower().startswith("gcpkms://"):
        problems.append(
            f"{s.environment} has no gcpkms:// secrets provider (got {provider or 'none'!r}). Fix: "
            f"`pulumi stack change-secrets-provider -s {s.environment} gcpkms://projects/<project>/locations/<location>/"
            f"keyRings/<ring>/cryptoKeys/<key-of-{s.environment}>` (one key per environment)"
        )
    else:
        try:
            kms_key_identity(provider)
        except StackProblem as err:
            problems.append(f"{err.args[0]}. Fix: {err.args[1]}")
    if not cluster_identities(s):
        problems.append(
            f"{s.environment} does not say which cluster it targets, so two stacks could reach the same one. Fix: set "
            "secrets-platform:kubernetes.context, or gcp.project, gcp.region and gcp.clusterName"
        )
    return problems


def shared(claims_by_stack: dict[str, set[Claim]]) -> dict[Claim, list[str]]:
    """Claims held by more than one stack."""
    owners: dict[Claim, list[str]] = defaultdict(list)
    for stack, held in sorted(claims_by_stack.items()):
        for claim in held:
            owners[claim].append(stack)
    return {c: stacks for c, stacks in sorted(owners.items()) if len(stacks) > 1}


def check(paths: Iterable[Path]) -> tuple[int, list[str]]:
    """Return (exit code, report lines) for the given stack files."""
    lines: list[str] = []
    by_stack: dict[str, set[Claim]] = {}
    invalid = False
    for path in sorted(paths):
        try:
            s = settings.from_stack_file(path, environ={})
            provider = settings.read_stack_document(path).get("secretsprovider")
            provider = provider if isinstance(provider, str) or provider is None else str(provider)
            problems = stack_problems(s, provider)
            held = claims(s, provider) if not problems else set()
        except settings.ConfigError as err:
            invalid = True
            lines.append(f"✗ {path.name}: {err}")
            continue
        except (conventions.ConventionError, StackProblem, ValueError) as err:
            invalid = True
            lines.append(f"✗ {path.name}: {err.args[0] if err.args else err}. Fix: correct the stack file")
            continue
        if problems:
            invalid = True
            lines.extend(f"✗ {path.name}: {p}" for p in problems)
            continue
        if s.stack in by_stack:
            invalid = True
            lines.append(f"✗ {path.name}: a second stack file for stack {s.stack}. Fix: keep one {conventions.stack_file_name(s.stack)}")
            continue
        by_stack[s.stack] = held
        lines.append(f"✓ {path.name}: environment {s.environment}, {len(by_stack[s.stack])} objects")
    if invalid:
        return 2, lines
    found = shared(by_stack)
    for (kind, identity), stacks in found.items():
        lines.append(f"✗ {kind} {identity} is shared by stacks {', '.join(stacks)}: give each environment its own")
    lines.append(f"{len(by_stack)} stacks, {len(found)} shared objects" + ("" if found else ": no sharing between environments"))
    return (1 if found else 0), lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in args] or sorted(REPO.glob(conventions.STACK_FILE_GLOB))
    missing = [p for p in paths if not p.is_file()]
    if missing:
        print(f"cross-stack check: no such stack file: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    code, lines = check(paths)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
