"""``audit``: who read each credential of the stack, from audit logs (exported, or the local cluster's own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from secrets_platform import conventions
from secrets_platform.cli import audit as audit_mod
from secrets_platform.cli import audit_logs
from secrets_platform.cli.context import StackContext
from secrets_platform.cli.errors import InputError

GCLOUD_EXPORT = (
    "gcloud logging read "
    '\'(logName:"cloudaudit.googleapis.com%2Fdata_access" AND '
    '(protoPayload.serviceName="secretmanager.googleapis.com" OR protoPayload.serviceName="k8s.io")) OR '
    '(resource.type="k8s_container" AND resource.labels.namespace_name="vault-<stack>" AND jsonPayload.type="response")\' '
    "--project=<project> --freshness=7d --format=json > audit-<stack>.json"
)
FINDING_KINDS = ("non-consumer-read", "secret-list-watch", "unused")


@dataclass(frozen=True)
class Audit:
    files: list[Path]
    sources: list[audit_logs.SourceReport]
    report: audit_mod.Report
    notes: list[str]
    start: datetime
    now: datetime

    @property
    def unparsed(self) -> int:
        return sum(src.unparsed for src in self.sources)

    @property
    def entries(self) -> int:
        return sum(src.entries for src in self.sources)

    def failing(self, fail_on: tuple[str, ...]) -> list[dict]:
        """The findings that fail the run: those of the kinds in ``fail_on`` (default: every kind)."""
        return [f for f in self.report.findings if f["kind"] in (fail_on or FINDING_KINDS)]


def window(since: str) -> timedelta:
    try:
        return audit_mod.parse_since(since)
    except ValueError:
        raise InputError(f"--since {since!r} is not a duration", "give a number and a unit: 90s, 30m, 12h, 7d or 2w") from None


def run(stack: StackContext, since: str, log_files: tuple[Path, ...], allowed: tuple[str, ...]) -> Audit:
    span = window(since)
    s, model = stack.settings, stack.model
    notes: list[str] = []
    covered: set[str]
    if log_files:
        files, covered = list(log_files), set()
    elif s.environment == "local":
        files, covered, notes = _local_audit_files(stack)
    else:
        raise InputError(
            f"stack {stack.name} keeps its audit logs in Cloud Logging: pass an export of them with --log-file",
            GCLOUD_EXPORT.replace("<project>", s.config.gcp.project or "<project>")
            .replace(
                "vault-<stack>",
                model.vault_server.namespace.name if model.vault_server else conventions.namespace_name("vault", stack.name, checked=False),
            )
            .replace("<stack>", stack.name)
            + " "
            "(needs roles/logging.privateLogViewer on the project; docs/cli.md)",
        )
    try:
        accesses, sources = audit_logs.read_files(files)
    except audit_logs.LogReadError as err:
        raise InputError(str(err), "pass an audit log (JSON lines, or gcloud logging read --format=json)") from None
    for src in sources:
        covered |= src.kinds & set(audit_mod.SYSTEM_OF_KIND.values())
    now = datetime.now(timezone.utc)
    report = audit_mod.analyse(model, accesses, covered, now - span, allowed)
    for system in sorted(set(audit_mod.SYSTEM_OF_KIND.values()) - covered):
        if any(audit_mod.SYSTEM_OF_KIND[c.kind] == system for c in report.credentials):
            notes.append(f"the logs hold no {system} entries: whether its credentials were read is not known (not called unused)")
    return Audit(files, sources, report, notes, now - span, now)


def _local_audit_files(stack: StackContext) -> tuple[list[Path], set[str], list[str]]:
    """The local cluster's audit files (API server, rotated backups, OpenBao), the systems they cover, notes."""
    s = stack.settings
    if s.render_dir or not s.kubeconfig:
        raise InputError(
            f"stack {s.environment} renders manifests into {s.render_dir}/ and has no cluster, so no audit log records reads",
            "apply it to the local cluster (make up), or pass exported logs with --log-file",
        )
    root = (stack.project.dir / s.kubeconfig).resolve().parent
    api_dir = root / "audit"
    api_files = sorted(api_dir.glob("kube-apiserver*.log"), key=lambda p: (p.name == "kube-apiserver.log", p.name))
    if not api_files:
        raise InputError(
            f"no API server audit log in {api_dir}: the local cluster is not created, or was started before audit logging",
            "make up starts it (make down && make up restarts an older one with the audit policy)",
        )
    files, covered, notes = list(api_files), {"kubernetes"}, []
    bao = [p for p in (root / "openbao" / "audit.log.1", root / "openbao" / "audit.log") if p.is_file()]
    if bao:
        files += bao
        covered.add("vault")
    else:
        notes.append(f"no OpenBao audit log in {root / 'openbao'} (the local Vault never ran): Vault reads are not known")
    return files, covered, notes
