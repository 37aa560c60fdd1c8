"""Who read which credential: the stack's resolved model joined with its audit logs.

The credentials and their declared readers come from the stack's model
(:func:`secrets_platform.model.resolve`), never from config again:

- every Secret copy (``<namespace>/<name>``): its namespace's job runner; the
  External Secrets controller for the Secrets it syncs (gcp-secret-manager bundles);
- every Vault KV bundle (``<mount>/<env>/<service>``) and database role
  (``<mount>/creds/<service>-<env>``): the job runners of the namespaces its policy
  admits;
- every Secret Manager secret (dev/stg/prd): ESO's GCP account, the one per-secret
  accessor the stack grants.

Kubernetes' own controllers (``system:apiserver``, ``system:kube-controller-manager``, ``kube-system``
service accounts) and ESO may list and watch Secrets (their informers: not counted as a
read of each credential); anything else that does reads every Secret in scope at once.
Findings: a read by an identity that is not a declared reader; a credential nobody
but a controller or the deploying engine read in the window (when the window's logs
cover its system); a list or watch of Secrets by anything but those controllers.

In the local cluster the External Secrets controller, the Pulumi engine and a person's
``kubectl`` all use the one admin client certificate (``secrets-platform-admin``);
there, and only there, the controller and the engine are told apart by the user agent
the client sends, which a client chooses. dev/stg/prd identities are accounts.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from secrets_platform import conventions
from secrets_platform.cli.audit_logs import Access
from secrets_platform.model import StackModel

KIND_SECRET = "Secret"
KIND_VAULT = "Vault path"
KIND_DATABASE = "database role"
KIND_SECRET_MANAGER = "Secret Manager secret"
SYSTEM_OF_KIND = {KIND_SECRET: "kubernetes", KIND_VAULT: "vault", KIND_DATABASE: "vault", KIND_SECRET_MANAGER: "secret-manager"}

LOCAL_ADMIN = "secrets-platform-admin"
KUBE_CONTROLLERS = ("system:apiserver", "system:kube-controller-manager", "system:kube-scheduler")
LOCAL_RELOADER_AGENT = "reloader/"
"""The user agent of the local cluster's Reloader (client-go's default: the binary's name), which runs as the local admin."""
_DURATION = re.compile(r"^(?P<n>[1-9][0-9]{0,5})(?P<unit>[smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str) -> timedelta:
    """``7d``, ``12h``, ``30m``, ``2w``, ``90s`` as a timedelta; ValueError otherwise."""
    m = _DURATION.match(text.strip())
    if m is None:
        raise ValueError(text)
    return timedelta(**{_UNITS[m["unit"]]: int(m["n"])})


@dataclass(frozen=True)
class Credential:
    kind: str
    name: str
    """What the log names: ``<namespace>/<secret>``, a Vault path, ``projects/<p>/secrets/<id>``."""
    readers: frozenset[str]
    """Declared readers as ``<namespace>/<service account>`` (or a GCP account's email)."""
    syncer: str | None = None
    """The controller that syncs it (External Secrets), allowed to read it."""
    namespace: str | None = None
    secret: str | None = None
    vault_path: str | None = None
    """The API path a read of it names (KV v2 ``<mount>/data/...``, ``<mount>/creds/<role>``)."""
    project: str | None = None


@dataclass(frozen=True)
class Who:
    """An identity as the system named it, and where it maps in Kubernetes when it does."""

    principal: str
    namespace: str | None
    service_account: str | None
    role: str
    """``consumer`` (a declared reader), ``controller``, ``engine`` (local Pulumi), ``person``, ``account`` (anything else)."""

    @property
    def account(self) -> str | None:
        return conventions.object_key(self.namespace, self.service_account) if self.namespace and self.service_account else None

    def label(self) -> str:
        return f"{self.principal} ({self.account})" if self.account and self.account not in self.principal else self.principal


@dataclass
class Reads:
    who: Who
    how: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    count: int = 0
    last: datetime | None = None
    denied: int = 0
    declared: bool = False


@dataclass
class Report:
    credentials: list[Credential]
    reads: dict[str, dict[str, Reads]]
    """credential name -> principal label -> Reads."""
    covered: set[str]
    """Systems whose logs were read (a credential of another system cannot be called unused)."""
    findings: list[dict[str, str]]
    used: set[str] = field(default_factory=set)

    def as_json(self) -> list[dict[str, Any]]:
        out = []
        for c in self.credentials:
            rows = sorted(self.reads.get(c.name, {}).values(), key=lambda r: (-r.count, r.who.principal))
            out.append(
                {
                    "kind": c.kind,
                    "name": c.name,
                    "declaredReaders": sorted(c.readers),
                    "unused": SYSTEM_OF_KIND[c.kind] in self.covered and c.name not in self.used,
                    "logged": SYSTEM_OF_KIND[c.kind] in self.covered,
                    "reads": [
                        {
                            "identity": r.who.principal,
                            "namespace": r.who.namespace,
                            "serviceAccount": r.who.service_account,
                            "role": r.who.role,
                            "declared": r.declared,
                            "how": dict(sorted(r.how.items())),
                            "count": r.count,
                            "denied": r.denied,
                            "last": r.last.isoformat() if r.last else None,
                        }
                        for r in rows
                    ],
                }
            )
        return out


def credentials(model: StackModel) -> list[Credential]:
    """Every credential of the stack with its declared readers, from the resolved model."""
    eso = model.external_secrets
    eso_account = conventions.object_key(eso.namespace.name, eso.service_account) if eso else None
    out = []
    for d in model.descriptors:
        synced = d.backend == "gcp-secret-manager"
        out.append(
            Credential(
                KIND_SECRET,
                conventions.object_key(d.namespace, d.name),
                frozenset({conventions.object_key(d.namespace, conventions.JOB_RUNNER)}),
                syncer=eso_account if synced else None,
                namespace=d.namespace,
                secret=d.name,
            )
        )
    names = model.vault_names
    by_service: dict[str, set[str]] = defaultdict(set)
    for access in model.vault_access:
        for service in access.services:
            by_service[service].add(conventions.object_key(access.namespace, conventions.JOB_RUNNER))
    for service in sorted(by_service):
        out.append(Credential(KIND_VAULT, names.path(service), frozenset(by_service[service]), vault_path=names.api_path(service)))
    for role in model.database_roles:
        readers = frozenset(conventions.object_key(ns, conventions.JOB_RUNNER) for ns in role.namespaces)
        out.append(Credential(KIND_DATABASE, role.creds_path, readers, vault_path=role.creds_path))
    project = model.gcp_project
    if project and model.eso_service_account:
        for d in model.descriptors:
            if d.backend == "gcp-secret-manager" and not any(c.secret == d.name and c.kind == KIND_SECRET_MANAGER for c in out):
                out.append(
                    Credential(
                        KIND_SECRET_MANAGER,
                        conventions.gcp_secret_resource_name(project, d.name),
                        frozenset({model.eso_service_account}),
                        secret=d.name,
                        project=project,
                    )
                )
    return out


def _service_account_of(principal: str) -> conventions.ObjectKey | None:
    """The ServiceAccount a Kubernetes user or a GCP Workload Identity principal names, if it names one."""
    for parse in (conventions.parse_kubernetes_service_account_user, conventions.parse_workload_identity_principal):
        try:
            return parse(principal)
        except conventions.ConventionError:
            continue
    return None


class Identities:
    """Maps a principal to a :class:`Who`: service accounts, Workload Identity, ESO's GCP account, the local admin."""

    def __init__(self, model: StackModel, allowed: Iterable[str] = ()):
        eso = model.external_secrets
        self.eso = (eso.namespace.name, eso.service_account) if eso else None
        self.eso_email = model.eso_service_account
        self.local = model.environment == "local"
        self.allowed = set(allowed)

    def of(self, access: Access) -> Who:
        p = access.principal
        ns, sa = access.sa_namespace, access.sa_name
        if ns is None and (found := _service_account_of(p)) is not None:
            ns, sa = found
        if ns is None and self.eso_email and p.lower() == self.eso_email.lower() and self.eso:
            ns, sa = self.eso
        if self.local and p == LOCAL_ADMIN and access.system == "kubernetes":
            agent = (access.user_agent or "").lower()
            if agent.startswith("external-secrets") and self.eso:
                return Who(p, self.eso[0], self.eso[1], "controller")
            if agent.startswith("pulumi"):
                return Who(p, None, None, "engine")
            if agent.startswith(LOCAL_RELOADER_AGENT):
                # Reloader's informers watch the platform's Secrets to hash them: the platform's own controller
                return Who(p, None, None, "controller")
            return Who(p, None, None, "person")
        if p in self.allowed:
            return Who(p, ns, sa, "allowed")
        if p in KUBE_CONTROLLERS or ns == "kube-system":
            return Who(p, ns, sa, "controller")
        if self.eso and (ns, sa) == self.eso:
            return Who(p, ns, sa, "controller")
        if ns and sa:
            return Who(p, ns, sa, "account")
        if access.system == "vault" and p in ("root", "token"):
            return Who(p, None, None, "person")  # an operator's token, not a workload's login
        return Who(p, None, None, "person" if "@" in p and not p.endswith("gserviceaccount.com") else "account")


def _how(access: Access, who: Who, credential: Credential) -> str:
    if who.role == "controller" and credential.syncer and who.account == credential.syncer:
        return "external-secrets sync"
    if credential.kind == KIND_SECRET_MANAGER:
        return "external-secrets sync" if who.account and who.role == "controller" else "access"
    if credential.kind == KIND_DATABASE:
        return "lease"
    if credential.kind == KIND_VAULT:
        return "vault read"
    return access.verb


def _may_read(credential: Credential, who: Who) -> bool:
    if who.role in ("allowed", "engine"):
        return True
    if who.account and who.account in credential.readers:
        return True
    if credential.kind == KIND_SECRET_MANAGER and who.principal in credential.readers:
        return True
    if credential.syncer and who.account == credential.syncer:
        return True
    return who.role == "controller" and credential.kind == KIND_SECRET and who.namespace == "kube-system"


@dataclass
class _Index:
    """The stack's credentials by what an access names: Secrets per namespace, and each credential by (system, name)."""

    secrets_by_ns: dict[str, list[Credential]] = field(default_factory=lambda: defaultdict(list))
    by_name: dict[tuple[str, str], Credential] = field(default_factory=dict)

    @classmethod
    def of(cls, creds: list[Credential]) -> "_Index":
        index = cls()
        for c in creds:
            if c.kind == KIND_SECRET and c.namespace:
                index.secrets_by_ns[c.namespace].append(c)
                index.by_name[("secret", c.name)] = c
            elif c.vault_path:
                index.by_name[("vault", c.vault_path)] = c
            elif c.kind == KIND_SECRET_MANAGER and c.secret:
                index.by_name[("sm", c.secret)] = c
        return index

    def _named(self, system: str, name: str) -> list[Credential]:
        found = self.by_name.get((system, name))
        return [found] if found else []

    def targets(self, a: Access) -> tuple[list[Credential], bool]:
        """The credentials an access reads, and whether it is broad (a list or watch of Secrets, every value in scope)."""
        if a.system == "kubernetes":
            if a.name and a.namespace:
                return self._named("secret", conventions.object_key(a.namespace, a.name)), False
            if not a.name:
                everything = [c for cs in self.secrets_by_ns.values() for c in cs]
                return (self.secrets_by_ns.get(a.namespace, []) if a.namespace else everything), True
        elif a.system == "vault" and a.name:
            return self._named("vault", a.name), False
        elif a.system == "secret-manager" and a.name:
            # resourceName carries the project's number or id; the secret id is unique in the stack's one project
            return self._named("sm", a.name), False
        return [], False


class _Findings(list[dict[str, str]]):
    """Findings in the order found, each (kind, credential, identity) once."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[str, str, str]] = set()

    def add(self, kind: str, credential: str, who: Who, detail: str) -> None:
        key = (kind, credential, who.principal)
        if key not in self.seen:
            self.seen.add(key)
            self.append({"kind": kind, "credential": credential, "identity": who.principal, "detail": detail})


def _unused(creds: list[Credential], covered: set[str], used: set[str]) -> list[dict[str, str]]:
    return [
        {
            "kind": "unused",
            "credential": c.name,
            "identity": "",
            "detail": f"no consumer read {c.kind} {c.name} in the window (only controllers or the deploying engine, if "
            "anyone): a candidate for removal, or its consumer is not running",
        }
        for c in creds
        if SYSTEM_OF_KIND[c.kind] in covered and c.name not in used
    ]


def analyse(model: StackModel, accesses: list[Access], covered: set[str], since: datetime, allowed: Iterable[str] = ()) -> Report:
    creds = credentials(model)
    identities = Identities(model, allowed)
    index = _Index.of(creds)
    reads: dict[str, dict[str, Reads]] = defaultdict(dict)
    findings = _Findings()
    used: set[str] = set()
    """Credentials read by a consumer or anyone else but a controller or the deploying engine."""
    for a in sorted(accesses, key=lambda a: a.time):
        if a.time < since:
            continue
        who = identities.of(a)
        targets, broad = index.targets(a)
        if broad and a.allowed and who.role not in ("controller", "allowed", "engine"):
            scope = f"namespace {a.namespace}" if a.namespace else "every namespace"
            findings.add(
                "secret-list-watch",
                scope,
                who,
                f"{who.label()} ran a {a.verb} of the Secrets of {scope} ({len(targets)} of the stack's Secrets), which reads "
                "every value there; only the platform's controllers may",
            )
        if broad and who.role in ("controller", "engine"):
            continue  # the platform's own informers (garbage collector, ESO's cache): plumbing, not a use of each credential
        for c in targets:
            r = reads[c.name].setdefault(who.label(), Reads(who))
            if not a.allowed:
                r.denied += 1
                continue
            r.count += 1
            r.how[_how(a, who, c)] += 1
            r.last = a.time if r.last is None or a.time > r.last else r.last
            r.declared = _may_read(c, who)
            if who.role not in ("controller", "engine") or who.principal in c.readers or (who.account or "") in c.readers:
                used.add(c.name)
            if not r.declared and not broad:
                detail = f"{who.label()} read {c.kind} {c.name} ({a.verb}); its declared readers are {', '.join(sorted(c.readers))}"
                findings.add("non-consumer-read", c.name, who, detail)
    return Report(creds, dict(reads), covered, [*findings, *_unused(creds, covered, used)], used)
