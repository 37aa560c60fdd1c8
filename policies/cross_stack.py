"""Cross-stack check: no two environments share anything, seen across every stack file at once.

A policy pack sees one stack at a time, so it can't notice that dev and prd
would both claim the same namespace, service account, remote key (Secret
Manager id, Vault path), import target or encryption key. This reads every
``Pulumi.<env>.yaml`` together (no engine, no cloud: encrypted values stay
encrypted) and fails when one object is claimed by two environments.

    python -m policies.cross_stack                 # every Pulumi.*.yaml of the repository
    python -m policies.cross_stack Pulumi.dev.yaml Pulumi.prd.yaml

Exit codes: 0 no sharing, 1 sharing found, 2 a stack file is unreadable or invalid.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path
from typing import Iterable

import yaml

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

import conventions  # noqa: E402
import settings  # noqa: E402

Claim = tuple[str, str]  # (kind, identity)


def claims(s: "settings.Settings", secrets_provider: str | None = None) -> set[Claim]:
    """Everything one stack would own, named the way the program names it."""
    from components.external_secrets import store_name
    from components.platform import planned_descriptors, vault_names
    from components.workload_identity import service_account_email

    cfg, env = s.config, s.environment
    out: set[Claim] = set()
    namespaces = list(s.namespaces)
    if cfg.external_secrets.enabled:
        eso_ns = s.namespace(cfg.external_secrets.namespace)
        namespaces.append(eso_ns)
        out.add(("service account", f"{eso_ns}/external-secrets"))
        out.add(("secret store", store_name(env)))
        if cfg.gcp.project:
            out.add(("service account", service_account_email("eso", env, cfg.gcp.project)))
    if cfg.vault.enabled:
        vault_ns = s.namespace(cfg.vault.namespace)
        namespaces.append(vault_ns)
        out.add(("service account", f"{vault_ns}/vault-auth"))
        names = vault_names(s)
        out.add(("vault auth path", f"{cfg.vault.address or '(vault)'}/{names.auth_path}"))
        for cred in cfg.credentials:
            if cred.backend == "vault":
                out.add(("remote key", f"vault:{cfg.vault.address or '(vault)'}/{names.path(cred.service)}"))
    for ns in namespaces:
        out.add(("namespace", ns))
    for ns in s.namespaces:
        out.add(("service account", f"{ns}/{conventions.JOB_RUNNER}"))
    for d in planned_descriptors(s):
        out.add(("secret", f"{d.namespace}/{d.name}"))
        if d.backend == "gcp-secret-manager":
            out.add(("remote key", f"gcpsm:{cfg.gcp.project or '(fake)'}/{d.name}"))
    if cfg.imports.enabled:
        out.add(("import target", s.namespace(cfg.imports.namespace)))
    if secrets_provider and secrets_provider != "passphrase":
        out.add(("secrets provider", secrets_provider))
    return out


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
            provider = (yaml.safe_load(path.read_text()) or {}).get("secretsprovider")
        except settings.ConfigError as err:
            invalid = True
            lines.append(f"✗ {path.name}: {err}")
            continue
        by_stack[s.stack] = claims(s, provider)
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
