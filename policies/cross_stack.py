"""Cross-stack check: no two environments share anything, seen across every stack file at once.

A policy pack sees one stack at a time, so it can't notice that dev and prd
would both claim the same namespace, service account, remote key (Secret
Manager id, Vault path), import target, encryption key or cluster. This reads every
``Pulumi.<env>.yaml`` together (no engine, no cloud: encrypted values stay
encrypted) and fails when one object is claimed by two environments.

Identities are compared, not spellings: a KMS key URL is reduced to its project,
location, key ring and key (case, trailing slashes and a key version ignored), a
Vault address to its host and port (scheme, case, the default ports 443 and 8200
and a trailing slash ignored), and a cluster to its kubeconfig context and, for
GKE, to project + location + name (a ``gke_<project>_<location>_<name>`` context
is the same cluster as those ``gcp`` keys). One cluster belongs to one environment:
that is what lets the operators hold cluster-wide roles. dev, stg and prd must
encrypt with a ``gcpkms://`` key of their own and name their cluster (a context,
or ``gcp.project`` + ``gcp.region`` + ``gcp.clusterName``); local needs neither.

    python -m policies.cross_stack                 # every Pulumi.*.yaml of the repository
    python -m policies.cross_stack Pulumi.dev.yaml Pulumi.prd.yaml

Exit codes: 0 no sharing, 1 sharing found, 2 a stack file is unreadable or invalid.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Iterable
from urllib.parse import urlsplit

import conventions
import settings

REPO = Path(__file__).resolve().parents[1]

Claim = tuple[str, str]  # (kind, identity)

_KMS = re.compile(
    r"^gcpkms://projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/keyrings/(?P<ring>[^/]+)/cryptokeys/(?P<key>[^/]+)"
    r"(/cryptokeyversions/[^/]+)?$"
)
_GKE_CONTEXT = re.compile(r"^gke_(?P<project>[a-z][a-z0-9-]{4,28}[a-z0-9])_(?P<location>[a-z0-9-]+)_(?P<name>.+)$")
_DEFAULT_VAULT_PORTS = {None, 443, 8200}


class StackProblem(ValueError):
    """A stack file the check cannot accept (exit 2), with the fix."""


def kms_key_identity(url: str) -> str:
    """``gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K`` reduced to one spelling.

    Case, surrounding blanks, trailing slashes, a query string and a ``cryptoKeyVersions/N``
    suffix do not make another key. Anything that is not such a URL raises StackProblem.
    """
    text = url.strip().split("?", 1)[0].rstrip("/").lower()
    m = _KMS.match(text)
    if not m:
        raise StackProblem(
            f"secretsprovider {url!r} is not a gcpkms:// key URL",
            "use gcpkms://projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>",
        )
    return "gcpkms://projects/{project}/locations/{location}/keyRings/{ring}/cryptoKeys/{key}".format(**m.groupdict())


def database_identity(url: str) -> str:
    """A PostgreSQL URL reduced to host:port/dbname: scheme, case, the default port and the query ignored."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port or 5432
    except ValueError:
        port = 5432
    return f"{(parts.hostname or url).lower().rstrip('.')}:{port}/{parts.path.strip('/')}"


def vault_identity(address: str | None) -> str:
    """A Vault address reduced to host[:port]: scheme, case, default ports (443, 8200) and trailing slashes ignored."""
    if not address:
        return "(in-cluster vault)"
    parts = urlsplit(address.strip())
    try:
        port = parts.port
    except ValueError:
        port = None
    host = (parts.hostname or address).lower().rstrip(".")
    path = parts.path.rstrip("/")
    return host + ("" if port in _DEFAULT_VAULT_PORTS else f":{port}") + path


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
    from components.platform import resolve

    cfg, model = s.config, resolve(s)
    out: set[Claim] = set()
    namespaces = list(s.namespaces)
    if cfg.external_secrets.enabled:
        eso_ns = s.namespace(cfg.external_secrets.namespace)
        namespaces.append(eso_ns)
        out.add(("service account", f"{eso_ns}/{conventions.ESO_SERVICE_ACCOUNT}"))
        if model.store:
            out.add(("secret store", model.store))
        if model.eso_service_account:
            out.add(("service account", model.eso_service_account))
    if cfg.vault.enabled:
        vault_ns = s.namespace(cfg.vault.namespace)
        namespaces.append(vault_ns)
        out.add(("service account", f"{vault_ns}/{conventions.VAULT_AUTH_SERVICE_ACCOUNT}"))
        names = model.vault_names
        vault = vault_identity(cfg.vault.address)
        out.add(("vault auth path", f"{vault}/{names.auth_path}"))
        for cred in cfg.credentials:
            if cred.backend == "vault":
                out.add(("remote key", f"vault:{vault}/{names.path(cred.service)}"))
            elif cred.backend == "vault-database":
                out.add(("vault database role", f"vault:{vault}/{names.database_mount}/roles/{names.database_role(cred.service)}"))
    for conn in cfg.database_connections.values():
        # one database per environment: two stacks issuing users in the same database share it
        out.add(("database", database_identity(conn.url)))
    for ns in namespaces:
        out.add(("namespace", ns))
    for ns in s.namespaces:
        out.add(("service account", f"{ns}/{conventions.JOB_RUNNER}"))
    for d in model.descriptors:
        out.add(("secret", f"{d.namespace}/{d.name}"))
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
            lines.append(f"✗ {path.name}: a second stack file for stack {s.stack}. Fix: keep one Pulumi.{s.stack}.yaml")
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
    paths = [Path(a) for a in args] or sorted(REPO.glob("Pulumi.*.yaml"))
    missing = [p for p in paths if not p.is_file()]
    if missing:
        print(f"cross-stack check: no such stack file: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    code, lines = check(paths)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
