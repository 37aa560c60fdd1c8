"""Read audit logs into one list of credential accesses: who, how, when; never a value.

Three shapes are read, one JSON object per line or (an export of Cloud Logging) one
JSON array of them, detected per entry:

- a Kubernetes audit event (``audit.k8s.io/v1`` ``Event``: the local API server's
  ``--audit-log-path`` file, rotated backups included);
- a Vault/OpenBao audit entry (a file audit device's line: ``type`` request or
  response), and the same line as the ``jsonPayload`` of a Cloud Logging entry (the
  Vault server's stdout device on GKE);
- a Cloud Logging ``LogEntry`` whose ``protoPayload`` is an ``AuditLog``
  (``type.googleapis.com/google.cloud.audit.AuditLog``): Secret Manager
  (``secretmanager.googleapis.com``) and the Kubernetes API of GKE (``k8s.io``).

Only names are kept: the identity, the object's path or name, the verb or method, the
time, whether it was allowed. Nothing of a request or response body is read, and a line
that cannot be read is counted and described by its number and the reason, never by its
content. Interpretation (whose credential, declared or not) is :mod:`secrets_platform.cli.audit`'s.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

from secrets_platform import conventions

AUDIT_LOG_TYPE = "type.googleapis.com/google.cloud.audit.AuditLog"
SECRET_MANAGER = "secretmanager.googleapis.com"
KUBERNETES = "k8s.io"
ACCESS_SECRET_VERSION = "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion"
READ_VERBS = ("get", "list", "watch")

_K8S_RESOURCE = re.compile(r"^core/v1/namespaces/(?P<namespace>[^/]+)/secrets(/(?P<name>[^/]+))?$")
_K8S_CLUSTER_RESOURCE = re.compile(r"^core/v1/secrets$")
_K8S_METHOD = re.compile(r"^io\.k8s\.core\.v1\.secrets\.(?P<verb>[a-z]+)$")
_FRACTION = re.compile(r"(\.\d{1,6})\d*")


class LogReadError(ValueError):
    """A file that cannot be read at all (missing, a folder, not text): the message names it and the fix."""


@dataclass(frozen=True)
class Access:
    """One request for a credential, as a log recorded it."""

    system: str
    """``kubernetes``, ``vault`` or ``secret-manager``."""
    principal: str
    """The identity as the system names it (a Kubernetes user, a Vault display name, a GCP principal)."""
    verb: str
    """kubernetes: get, list, watch; vault: read; secret-manager: access."""
    time: datetime
    allowed: bool
    """False: refused (401/403, permission denied). A request that failed otherwise (not found) read nothing and is no Access."""
    namespace: str | None = None
    """kubernetes: the Secret's namespace (None: every namespace)."""
    name: str | None = None
    """kubernetes: the Secret (None: a list or watch of many); vault: the request path; secret-manager: the secret id."""
    project: str | None = None
    sa_namespace: str | None = None
    """The principal's Kubernetes namespace and service account when the log names them (Vault's Kubernetes auth metadata)."""
    sa_name: str | None = None
    user_agent: str | None = None


@dataclass
class SourceReport:
    """What one file held: entries read, entries about other things, lines that could not be read."""

    path: str
    entries: int = 0
    accesses: int = 0
    unparsed: int = 0
    problems: list[str] = field(default_factory=list)
    """``line N: reason`` for the first few unparsed lines (never their content)."""
    kinds: set[str] = field(default_factory=set)
    """Which systems' entries the file held (kubernetes, vault, secret-manager)."""

    def problem(self, line: int, reason: str) -> None:
        self.unparsed += 1
        if len(self.problems) < 5:
            self.problems.append(f"line {line}: {reason}")

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "entries": self.entries,
            "accesses": self.accesses,
            "unparsed": self.unparsed,
            "problems": self.problems,
            "systems": sorted(self.kinds),
        }


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time (nanoseconds and ``Z`` allowed) as an aware datetime, else None."""
    if not isinstance(value, str) or not value:
        return None
    text = _FRACTION.sub(r"\1", value.strip()).replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class _Unknown(Exception):
    """An entry of no shape this module reads: the reason (never the content)."""


def read_files(paths: list[Path]) -> tuple[list[Access], list[SourceReport]]:
    accesses: list[Access] = []
    reports = []
    for path in paths:
        report = SourceReport(str(path))
        accesses.extend(read_file(path, report))
        reports.append(report)
    return accesses, reports


def read_file(path: Path, report: SourceReport) -> Iterator[Access]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LogReadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise LogReadError(f"{path} is a folder, not a log file") from None
    except UnicodeDecodeError as err:
        raise LogReadError(f"{path} is not UTF-8 text (byte {err.start}): it is not an audit log") from None
    except OSError as err:
        raise LogReadError(f"{path} cannot be read ({err.strerror or err.__class__.__name__})") from None
    for line, doc in _documents(text, report):
        try:
            found = list(_entry(doc))
        except _Unknown as unknown:
            report.problem(line, str(unknown))
            continue
        report.entries += 1
        for system, access in found:
            report.kinds.add(system)
            if access is not None:
                report.accesses += 1
                yield access


def _documents(text: str, report: SourceReport) -> Iterator[tuple[int, Any]]:
    """(line number, JSON value) of each entry: a JSON array's items, or one object per line."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        decoder = json.JSONDecoder()
        pos = len(text) - len(stripped) + 1
        while True:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(text):
                report.problem(text.count("\n", 0, pos) + 1, "the JSON array is not closed (the file is truncated)")
                return
            if text[pos] == "]":
                if text[pos + 1 :].strip():
                    report.problem(text.count("\n", 0, pos) + 1, "text after the end of the JSON array")
                return
            try:
                doc, end = decoder.raw_decode(text, pos)
            except ValueError:
                report.problem(text.count("\n", 0, pos) + 1, "not a JSON value (the file is truncated or corrupt from here)")
                return
            yield text.count("\n", 0, pos) + 1, doc
            pos = end
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            last = number == len(lines) or (number == len(lines) - 1 and not lines[-1])
            reason = "not JSON" + (" (the last line is cut off: the file is truncated)" if last and not text.endswith("\n") else "")
            report.problem(number, reason)
            continue
        yield number, doc


def _entry(doc: Any) -> Iterator[tuple[str, Access | None]]:
    """(system, access or None when the entry is about something else) of one entry; _Unknown when it has no known shape."""
    if not isinstance(doc, dict):
        raise _Unknown(f"a JSON {type(doc).__name__}, not an object")
    if doc.get("kind") == "Event" and str(doc.get("apiVersion", "")).startswith("audit.k8s.io/"):
        yield "kubernetes", _kubernetes_event(doc)
    elif _is_vault(doc):
        yield "vault", _vault_entry(doc)
    elif isinstance(doc.get("protoPayload"), dict):
        yield from _cloud_audit(doc)
    elif isinstance(doc.get("jsonPayload"), dict) and "logName" in doc:
        payload = doc["jsonPayload"]
        if _is_vault(payload):
            yield "vault", _vault_entry(payload)
        else:
            yield "other", None  # another container's log line in the export
    else:
        raise _Unknown("an object of unknown shape (not a Kubernetes audit event, a Vault audit entry or a Cloud Logging entry)")


# --------------------------------------------------------------------------- Kubernetes


def _kubernetes_event(doc: dict) -> Access | None:
    ref, user = doc.get("objectRef"), doc.get("user")
    ref = ref if isinstance(ref, dict) else None
    if not isinstance(user, dict) or not isinstance(user.get("username"), str):
        raise _Unknown("a Kubernetes audit event without user.username")
    if ref is None or ref.get("resource") != "secrets" or ref.get("apiGroup") not in (None, "") or ref.get("subresource"):
        return None
    verb, stage = doc.get("verb"), doc.get("stage")
    if verb not in READ_VERBS:
        return None
    status: dict = doc["responseStatus"] if isinstance(doc.get("responseStatus"), dict) else {}
    code = status.get("code")
    if isinstance(code, int) and code >= 400 and code not in (401, 403):
        return None  # not found, conflict, a server error: nothing was returned, nobody was refused
    allowed = not isinstance(code, int) or code < 400
    # A watch counts when it starts (it may last for hours; a refused one only completes); any other request when it completes.
    if verb == "watch":
        if not (stage == "ResponseStarted" or (stage == "ResponseComplete" and not allowed)):
            return None
    elif stage != "ResponseComplete":
        return None
    when = parse_time(doc.get("requestReceivedTimestamp") or doc.get("stageTimestamp"))
    if when is None:
        raise _Unknown("a Kubernetes audit event without a readable requestReceivedTimestamp")
    name = ref.get("name") or _field_selector_name(doc.get("requestURI"))
    impersonated = doc.get("impersonatedUser")
    principal = impersonated["username"] if isinstance(impersonated, dict) and impersonated.get("username") else user["username"]
    return Access(
        "kubernetes",
        principal,
        verb,
        when,
        allowed,
        namespace=ref.get("namespace") or None,
        name=name or None,
        user_agent=doc.get("userAgent") if isinstance(doc.get("userAgent"), str) else None,
    )


def _field_selector_name(uri: Any) -> str | None:
    """``metadata.name=X`` of a list or watch's field selector: that request reads one Secret."""
    if not isinstance(uri, str):
        return None
    for selector in parse_qs(urlsplit(uri).query).get("fieldSelector", []):
        for term in selector.split(","):
            key, _, value = term.partition("=")
            if key.strip() == "metadata.name" and value and not value.startswith("="):
                return value.strip()
    return None


# --------------------------------------------------------------------------- Vault


def _is_vault(doc: dict) -> bool:
    return doc.get("type") in ("request", "response") and isinstance(doc.get("request"), dict)


def _vault_entry(doc: dict) -> Access | None:
    if doc["type"] != "response":
        return None  # every request has its response, which also says whether it was allowed
    request = doc["request"]
    path, operation = request.get("path"), request.get("operation")
    if not isinstance(path, str) or not isinstance(operation, str):
        raise _Unknown("a Vault audit entry without request.path or request.operation")
    if operation != "read":
        return None
    when = parse_time(doc.get("time"))
    if when is None:
        raise _Unknown("a Vault audit entry without a readable time")
    auth: dict = doc["auth"] if isinstance(doc.get("auth"), dict) else {}
    metadata: dict = auth["metadata"] if isinstance(auth.get("metadata"), dict) else {}
    error = str(doc.get("error") or "")
    if error and "permission denied" not in error.lower():
        return None  # a missing path, a bad request: nothing was returned, nobody was refused
    allowed = not error
    return Access(
        "vault",
        str(auth.get("display_name") or "(no token)"),
        "read",
        when,
        allowed,
        name=path,
        sa_namespace=metadata.get("service_account_namespace") or None,
        sa_name=metadata.get("service_account_name") or None,
    )


# --------------------------------------------------------------------------- Cloud Audit Logs


def _secret_manager_secret(resource: str) -> conventions.GcpSecretResource | None:
    """The secret of ``projects/<p>/secrets/<s>`` or of one of its versions (``.../versions/<v>``), read by the
    conventions' parser; None for any other resource."""
    parts = resource.split("/")
    if len(parts) == 6 and parts[4] == "versions" and parts[5]:
        resource = "/".join(parts[:4])
    elif len(parts) != 4:
        return None
    try:
        return conventions.parse_gcp_secret_resource_name(resource)
    except conventions.ConventionError:
        return None


def _cloud_audit(doc: dict) -> Iterator[tuple[str, Access | None]]:
    payload = doc["protoPayload"]
    if payload.get("@type") != AUDIT_LOG_TYPE:
        raise _Unknown(f"a Cloud Logging entry whose protoPayload is not an AuditLog ({AUDIT_LOG_TYPE})")
    service, method, resource = payload.get("serviceName"), payload.get("methodName"), payload.get("resourceName")
    if not isinstance(service, str) or not isinstance(method, str):
        raise _Unknown("an AuditLog without serviceName or methodName")
    if service not in (SECRET_MANAGER, KUBERNETES):
        yield "other", None
        return
    system = "secret-manager" if service == SECRET_MANAGER else "kubernetes"
    when = parse_time(doc.get("timestamp") or doc.get("receiveTimestamp"))
    auth = payload.get("authenticationInfo")
    if when is None or not isinstance(auth, dict) or not isinstance(resource, str):
        raise _Unknown("an AuditLog without timestamp, authenticationInfo or resourceName")
    principal = auth.get("principalEmail") or auth.get("principalSubject")
    if not isinstance(principal, str) or not principal:
        raise _Unknown("an AuditLog whose authenticationInfo names no principal (principalEmail or principalSubject)")
    status: dict = payload["status"] if isinstance(payload.get("status"), dict) else {}
    code = status.get("code")  # google.rpc.Status: absent or 0 is OK; 7 PERMISSION_DENIED, 16 UNAUTHENTICATED refuse
    if code and code not in (7, 16):
        yield system, None  # not found, invalid: nothing was returned, nobody was refused
        return
    allowed = not code
    if system == "secret-manager":
        sm = _secret_manager_secret(resource)
        if method != ACCESS_SECRET_VERSION or sm is None:
            yield system, None  # metadata reads and writes: no value was read
            return
        yield system, Access(system, principal, "access", when, allowed, name=sm.secret, project=sm.project)
        return
    verb_match = _K8S_METHOD.match(method)
    if verb_match is None or verb_match["verb"] not in READ_VERBS:
        yield system, None
        return
    m = _K8S_RESOURCE.match(resource)
    if m is None and not _K8S_CLUSTER_RESOURCE.match(resource):
        yield system, None
        return
    namespace, name = (m["namespace"], m["name"]) if m else (None, None)
    yield system, Access(system, principal, verb_match["verb"], when, allowed, namespace=namespace, name=name)
