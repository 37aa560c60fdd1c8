"""The ``secrets-platform`` command line (click). Exit codes: see :mod:`secrets_platform.cli.errors`."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import click

from secrets_platform import conventions
from secrets_platform.cli import catalog as catalog_mod
from secrets_platform.cli import dbt_profile as dbt_mod
from secrets_platform.cli import dotenv as dotenv_mod
from secrets_platform.cli import freshness as freshness_mod
from secrets_platform.components.platform import planned_descriptors, vault_names
from secrets_platform.cli.cluster import Kubectl, reloading_workloads, sync_state
from secrets_platform.cli.engine import Engine
from secrets_platform.cli.errors import ABORTED, OK, USAGE, VALIDATION_FAILED, Aborted, EngineError, InputError
from secrets_platform.cli.project import Project, find_project_dir
from secrets_platform.cli.references import KINDS, scan
from secrets_platform.cli.stackfile import bump_rotation, next_rotation
from secrets_platform.cli.validate import FAIL, MARK, WARN, resolve
from secrets_platform.settings.model import PREVIOUS_SUFFIX
from secrets_platform.settings.vault_database import BACKEND as VAULT_DATABASE

EXIT_CODES = f"""Exit codes: {OK} ok, {VALIDATION_FAILED} validation failed (or a Secret not synced),
{USAGE} usage or input error, 3 engine or cluster error, {ABORTED} aborted at a prompt."""


@dataclass
class App:
    """What every command needs; tests build one with fakes and pass it as ``obj``."""

    project: Project
    engine: Engine
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    kubectl: Callable[..., Kubectl] = field(default=lambda context, kubeconfig=None: Kubectl(context, kubeconfig=kubeconfig))
    interactive: Callable[[], bool] = field(default=lambda: sys.stdin.isatty() and sys.stdout.isatty())


stack_option = click.option("--stack", "-s", required=True, metavar="STACK", help="Stack (= environment): local, dev, stg or prd.")
source_option = click.option(
    "--from",
    "source",
    type=click.Choice(catalog_mod.SOURCES),
    default="auto",
    show_default=True,
    help="Where Secrets are read: the deployed stack's outputs (state), the stack file (file), or state when deployed (auto).",
)


@click.group(epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--project-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The secrets-platform checkout (default: found upwards from the working directory, or $SECRETS_PLATFORM_DIR).",
)
@click.version_option(package_name="secrets-platform", prog_name="secrets-platform")
@click.pass_context
def cli(ctx: click.Context, project_dir: Path | None) -> None:
    """Operate secrets-platform: list, validate, rotate, status, diff, freshness, audit, dotenv, dbt-profile.

    No command ever prints a secret value; only `dotenv` writes values, to a 0600 file.
    """
    if ctx.obj is None:
        root = find_project_dir(project_dir, os.environ)
        ctx.obj = App(Project(root), Engine(root))


def _app(ctx: click.Context) -> App:
    app = ctx.find_object(App)
    assert app is not None, "the group's callback sets ctx.obj before any command runs"
    return app


def _catalog(app: App, stack: str, source: str) -> catalog_mod.Catalog:
    cat = catalog_mod.load(app.project, app.engine, stack, app.environ, source)
    if cat.note:
        click.echo(f"note: {cat.note}", err=True)
    return cat


def _source_label(cat: catalog_mod.Catalog) -> str:
    if cat.source == "state":
        return f"deployed state{f' of {cat.deployed_at}' if cat.deployed_at else ''}"
    return conventions.stack_file_name(cat.stack)


# ---- list ----------------------------------------------------------------------------------------
@cli.command("list")
@stack_option
@source_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_cmd(ctx: click.Context, stack: str, source: str, as_json: bool) -> None:
    """List the stack's Secrets: name, namespace, type, backend, keys, last rotation. Never values."""
    cat = _catalog(_app(ctx), stack, source)
    ages = _ages(cat)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "stack": stack,
                    "source": cat.source,
                    "deployedAt": cat.deployed_at,
                    "secrets": cat.secrets,
                    "ages": {svc: a.as_json() for svc, a in sorted(ages.items())},
                },
                indent=2,
                sort_keys=True,
            )
        )
        return
    rows = [("NAME", "NAMESPACE", "TYPE", "BACKEND", "KEYS", "ROTATION", "AGE", "OVERDUE")]
    for s in cat.secrets:
        a = ages.get(s.get("service") or "") if catalog_mod.is_bundle(s) else None
        rows.append(
            (
                s["name"],
                s["namespace"],
                s["type"],
                s["backend"],
                ",".join(s["keys"]),
                s.get("rotation") or "-",
                a.age_text if a else "-",
                a.overdue_text if a else "-",
            )
        )
    click.echo(f"Secrets of stack {stack} (from {_source_label(cat)}):")
    _table(rows)
    _age_notes(ages)


def _ages(cat: catalog_mod.Catalog) -> dict[str, freshness_mod.Age]:
    """service -> Age of each generated bundle, from the rotation value of what the catalog lists.

    From deployed state that is the deployed Secret's own rotation (a rotation committed but not
    applied does not make a credential younger); the maxAge target comes from the stack file.
    """
    targets = {c.service: c.effective_max_age(cat.environment) for c in cat.settings.config.credentials if c.generated}
    return {
        s["service"]: freshness_mod.age(s.get("rotation"), targets[s["service"]])
        for s in cat.secrets
        if s.get("service") in targets and catalog_mod.is_bundle(s)
    }


def _age_notes(ages) -> None:
    unknown = sorted(s for s, a in ages.items() if a.days is None and not a.future)
    if unknown:
        click.echo(f"age unknown: {', '.join(unknown)} (the rotation value is not a date; `secrets-platform rotate` writes one)")
    future = sorted(s for s, a in ages.items() if a.future)
    if future:
        click.echo(f"age unknown: {', '.join(future)} (the rotation date is in the future; `secrets-platform rotate` writes today's)")
    for service, a in sorted(ages.items()):
        if a.overdue:
            click.echo(
                f"OVERDUE: {service} was rotated {a.days} days ago, over its maxAge of {a.max_age}: secrets-platform rotate {service}"
            )


# ---- diff ----------------------------------------------------------------------------------------
@cli.command()
@stack_option
@click.option("--base", required=True, metavar="REF", help="The git ref to compare with (e.g. origin/main).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def diff(ctx: click.Context, stack: str, base: str, as_json: bool) -> None:
    """What changes in the stack's Secrets between REF and the working tree: names, keys, rotations, never values.

    The REF side is planned by the program at REF (its tree extracted to a temporary
    directory), the working tree by this CLI's program.
    """
    from secrets_platform.cli import diff as diff_mod

    app = _app(ctx)
    new = app.project.settings(stack, app.environ)
    base_side = diff_mod.base_plan(app.project.dir, base, stack, app.environ)
    out = diff_mod.compare(base_side.plan, diff_mod.plan_of(new))
    notes = [base_side.note] if base_side.note else []
    program_dir = Path(diff_mod.settings_pkg.__file__).resolve().parents[2]
    if program_dir != app.project.dir.resolve():
        notes.append(
            f"the working tree's side is planned with the program this CLI runs from ({program_dir}), "
            f"not program files in {app.project.dir}"
        )
    touched: dict[str, set[str]] = {}
    for d in planned_descriptors(new):
        if any(r["service"] == d.service for r in out["rotated"]) or any(c["name"] == d.name for c in out["keysChanged"]):
            touched.setdefault(d.name, set()).add(conventions.parse_namespace_name(d.namespace).workload)
    out["consumers"] = {name: _consumers(app, new, name, sorted(ws)) for name, ws in sorted(touched.items())}
    out.update(baseCommit=base_side.commit, baseProgram=base_side.program, notes=notes)
    if as_json:
        click.echo(json.dumps({"stack": stack, "base": base, **out}, indent=2, sort_keys=True))
        return
    planned = "each side planned by its own program" if base_side.program == "ref" else "both sides planned by today's program"
    click.echo(
        f"Secrets of stack {stack}: {base} ({base_side.commit[:12]}) -> working tree; {planned} "
        "(names, keys and rotations only; never a value)"
    )
    for note in notes:
        click.echo(f"note: {note}")
    lines = [
        *(f"+ Secret {a['namespace']}/{a['name']} (keys {', '.join(a['keys'])})" for a in out["secretsAdded"]),
        *(f"- Secret {r['namespace']}/{r['name']}" for r in out["secretsRemoved"]),
        *(
            f"~ Secret {c['namespace']}/{c['name']}: keys added {c['keysAdded'] or '-'}, removed {c['keysRemoved'] or '-'}"
            for c in out["keysChanged"]
        ),
        *(
            f"~ rotated {r['service']} ({r['strategy']}): {r['change']}{'; ' + r['detail'] if r.get('detail') else ''}; keys {', '.join(r['keys'])}"
            for r in out["rotated"]
        ),
        *(f"+ namespace {n}" for n in out["namespacesGained"]),
        *(f"- namespace {n}" for n in out["namespacesLost"]),
    ]
    for line in lines or ["(no change to the stack's Secrets)"]:
        click.echo(f"  {line}")
    for name, found in out["consumers"].items():
        click.echo(f"Consumers of {name}:")
        for line in found:
            click.echo(f"  {line}")


# ---- audit ---------------------------------------------------------------------------------------
GCLOUD_EXPORT = (
    "gcloud logging read "
    '\'(logName:"cloudaudit.googleapis.com%2Fdata_access" AND '
    '(protoPayload.serviceName="secretmanager.googleapis.com" OR protoPayload.serviceName="k8s.io")) OR '
    '(resource.type="k8s_container" AND resource.labels.namespace_name="vault-<stack>" AND jsonPayload.type="response")\' '
    "--project=<project> --freshness=7d --format=json > audit-<stack>.json"
)


FINDING_KINDS = ("non-consumer-read", "secret-list-watch", "unused")


def _local_audit_files(app: App, s) -> tuple[list[Path], set[str], list[str]]:
    """The local cluster's audit files (API server, rotated backups, OpenBao), the systems they cover, notes."""
    if s.render_dir or not s.kubeconfig:
        raise InputError(
            f"stack {s.environment} renders manifests into {s.render_dir}/ and has no cluster, so no audit log records reads",
            "apply it to the local cluster (make up), or pass exported logs with --log-file",
        )
    root = (app.project.dir / s.kubeconfig).resolve().parent
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


@cli.command()
@stack_option
@click.option("--since", default="7d", show_default=True, metavar="DURATION", help="The window: 90s, 30m, 12h, 7d, 2w.")
@click.option(
    "--log-file",
    "log_files",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Audit entries to read (repeatable): Cloud Logging's JSON export (dev/stg/prd), Kubernetes or Vault audit files. "
    "local: default the local cluster's own.",
)
@click.option(
    "--allow",
    "allowed",
    multiple=True,
    metavar="IDENTITY",
    help="An identity that may read every credential, as the log names it (e.g. the deploy pipeline's account; repeatable).",
)
@click.option(
    "--fail-on",
    "fail_on",
    multiple=True,
    type=click.Choice(FINDING_KINDS),
    help="Only these findings fail the run (repeatable; default: all). Unread log entries always fail it.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def audit(
    ctx: click.Context,
    stack: str,
    since: str,
    log_files: tuple[Path, ...],
    allowed: tuple[str, ...],
    fail_on: tuple[str, ...],
    as_json: bool,
) -> None:
    """Who read each credential, how, how often and when last; exit 1 on a finding.

    Findings: a read by an identity that is not a declared reader, a credential nobody
    read in the window, a list or watch of Secrets by anything but the platform's
    controllers. Reads names from the logs, never a value.
    """
    from datetime import datetime, timezone

    from secrets_platform.components.platform import resolve
    from secrets_platform.cli import audit as audit_mod
    from secrets_platform.cli import audit_logs

    try:
        window = audit_mod.parse_since(since)
    except ValueError:
        raise InputError(f"--since {since!r} is not a duration", "give a number and a unit: 90s, 30m, 12h, 7d or 2w") from None
    app = _app(ctx)
    s = app.project.settings(stack, app.environ)
    model = resolve(s)
    notes: list[str] = []
    covered: set[str]
    if log_files:
        files, covered = list(log_files), set()
    elif s.environment == "local":
        files, covered, notes = _local_audit_files(app, s)
    else:
        raise InputError(
            f"stack {stack} keeps its audit logs in Cloud Logging: pass an export of them with --log-file",
            GCLOUD_EXPORT.replace("<project>", s.config.gcp.project or "<project>")
            .replace(
                "vault-<stack>",
                model.vault_server.namespace.name if model.vault_server else conventions.namespace_name("vault", stack, checked=False),
            )
            .replace("<stack>", stack)
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
    report = audit_mod.analyse(model, accesses, covered, now - window, allowed)
    unparsed = sum(src.unparsed for src in sources)
    for system in sorted(set(audit_mod.SYSTEM_OF_KIND.values()) - covered):
        if any(audit_mod.SYSTEM_OF_KIND[c.kind] == system for c in report.credentials):
            notes.append(f"the logs hold no {system} entries: whether its credentials were read is not known (not called unused)")
    if as_json:
        click.echo(
            json.dumps(
                {
                    "stack": stack,
                    "since": since,
                    "from": (now - window).isoformat(),
                    "to": now.isoformat(),
                    "sources": [src.as_json() for src in sources],
                    "unparsed": unparsed,
                    "notes": notes,
                    "credentials": report.as_json(),
                    "findings": report.findings,
                },
                indent=2,
                sort_keys=True,
            )
        )
    else:
        entries = sum(src.entries for src in sources)
        click.echo(f"Credential reads in stack {stack} over the last {since} ({len(files)} log files, {entries} entries; never a value):")
        rows = [("KIND", "CREDENTIAL", "READ BY", "ACCOUNT", "HOW", "COUNT", "LAST", "DECLARED")]
        for c in report.as_json():
            if not c["reads"]:
                rows.append((c["kind"], c["name"], "(nobody)" if c["logged"] else "(not logged)", "-", "-", "0", "-", "-"))
            for r in c["reads"]:
                account = conventions.object_key(r["namespace"], r["serviceAccount"]) if r["namespace"] and r["serviceAccount"] else "-"
                how = ", ".join(f"{k} {v}" for k, v in r["how"].items()) or "-"
                denied = f" (+{r['denied']} denied)" if r["denied"] else ""
                rows.append(
                    (
                        c["kind"],
                        c["name"],
                        r["identity"],
                        account,
                        how,
                        f"{r['count']}{denied}",
                        (r["last"] or "-")[:19],
                        "yes" if r["declared"] else "NO",
                    )
                )
        _table(rows)
        for note in notes:
            click.echo(f"note: {note}")
        for src in sources:
            if src.unparsed:
                click.echo(
                    f"UNREAD: {src.unparsed} entr{'ies' if src.unparsed != 1 else 'y'} of {src.path} could not be read "
                    f"({'; '.join(src.problems)}{'; ...' if src.unparsed > len(src.problems) else ''})"
                )
        for f in report.findings:
            click.echo(f"FINDING {f['kind']}: {f['detail']}")
    failing = [f for f in report.findings if f["kind"] in (fail_on or FINDING_KINDS)]
    if failing or unparsed:
        parts = [f"{len(failing)} finding{'s' * (len(failing) != 1)}"] if failing else []
        if unparsed:
            parts.append(f"{unparsed} unread log entr{'ies' if unparsed != 1 else 'y'} (the answer is incomplete)")
        click.echo(f"audit of stack {stack}: {' and '.join(parts)}", err=True)
        ctx.exit(VALIDATION_FAILED)


# ---- freshness -----------------------------------------------------------------------------------
@cli.command()
@stack_option
@click.option(
    "--fail-on-unknown",
    is_flag=True,
    help="Also fail when a bundle's age is unknown (its rotation value is not a date); always so in prd.",
)
@click.pass_context
def freshness(ctx: click.Context, stack: str, fail_on_unknown: bool) -> None:
    """Check every generated bundle's age against its maxAge; exit 1 naming each overdue bundle (the drift workflow runs it).

    A bundle of unknown age (its rotation value is not a date, or a date in the future) fails too
    with --fail-on-unknown, and always in prd (a fail-closed environment): there, not knowing
    how old a credential is counts as overdue.
    """
    app = _app(ctx)
    s = app.project.settings(stack, app.environ)
    fail_on_unknown = fail_on_unknown or s.traits.fail_closed
    ages = freshness_mod.bundle_ages(s)
    rows = [("BUNDLE", "ROTATED", "AGE", "MAX AGE", "OVERDUE")]
    for service, a in sorted(ages.items()):
        rows.append(
            (
                conventions.credentials_name(service, s.environment),
                a.rotated.isoformat() if a.rotated else "-",
                a.age_text,
                a.max_age or "-",
                a.overdue_text,
            )
        )
    _table(rows)
    _age_notes(ages)
    overdue = sorted(svc for svc, a in ages.items() if a.overdue)
    unknown = sorted(svc for svc, a in ages.items() if a.days is None and a.max_age)
    if overdue or (fail_on_unknown and unknown):
        names = [conventions.credentials_name(svc, s.environment) for svc in overdue + (unknown if fail_on_unknown else [])]
        click.echo(
            f"{len(names)} bundle{'s' * (len(names) != 1)} of stack {stack} past their freshness target"
            f"{' or of unknown age' if fail_on_unknown and unknown else ''}: {', '.join(names)}. "
            f"Fix: `secrets-platform rotate <service> --stack {stack}` (it writes today's date as the rotation value)",
            err=True,
        )
        ctx.exit(VALIDATION_FAILED)


def _table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


# ---- validate ------------------------------------------------------------------------------------
@cli.command()
@stack_option
@source_option
@click.option(
    "--namespace",
    "-n",
    "namespaces",
    multiple=True,
    metavar="NS",
    help="Only Secrets of these namespaces count (workload or full name; repeatable).",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def validate(ctx: click.Context, stack: str, source: str, namespaces: tuple[str, ...], paths: tuple[Path, ...]) -> None:
    """Prove every secret reference in consumer files resolves in the stack.

    Reads dbt profiles.yml (env_var), Dagster Helm values (envSecrets), Flyte task
    modules (Secret(group=, key=), parsed, never imported) and Pachyderm pipeline
    specs (transform.secrets, transform.image_pull_secrets). Directories are walked.
    """
    app = _app(ctx)
    app.project.check_stack(stack)
    refs, files = scan(list(paths))  # bad files fail (exit 2) before the stack is read
    if not files:
        raise InputError(
            f"nothing to validate: no consumer file in {', '.join(map(str, paths))}",
            "pass dbt profiles.yml, Dagster Helm values (.yaml), Flyte task modules (.py) or Pachyderm specs (.json/.yaml), "
            "or a directory that holds them",
        )
    cat = _catalog(app, stack, source).only_namespaces(namespaces)
    results = [resolve(r, cat) for r in refs]
    click.echo(
        f"Validating {len(refs)} secret references in {len({f for f, _ in files})} files against stack {stack} (from {_source_label(cat)})..."
    )
    by_file: dict[str, list] = {}
    for res in results:
        by_file.setdefault(res.ref.path, []).append(res)
    for path in dict.fromkeys(f for f, _ in files):
        kinds = ", ".join(KINDS[k] for f, k in files if f == path)
        click.echo(f"{path} ({kinds})")
        if path not in by_file:
            click.echo("  (no secret references)")
        for res in by_file.get(path, []):
            click.echo(f"  {MARK[res.status]} {res.ref.line or '-'}: {res.ref.text}: {res.detail}")
    errors = [r for r in results if r.status == FAIL]
    warnings = [r for r in results if r.status == WARN]
    tail = f" ({len(warnings)} warning{'s' * (len(warnings) != 1)})" if warnings else ""
    if not errors:
        click.echo(f"All {len(results)} references resolve in stack {stack}{tail}.")
        return
    click.echo(f"\n{len(errors)} error{'s' * (len(errors) != 1)} found in {len(results)} references{tail}. To fix:")
    for fix in dict.fromkeys(r.fix for r in errors if r.fix):
        click.echo(f"  {fix}")
    ctx.exit(VALIDATION_FAILED)


# ---- rotate --------------------------------------------------------------------------------------
@cli.command()
@click.argument("name")
@stack_option
@click.option("--yes", "-y", is_flag=True, help="Apply without asking (required without a terminal).")
@click.option(
    "--to",
    "to_value",
    default=None,
    metavar="VALUE",
    help="The new rotation value (default: today's date, YYYY-MM-DD, which also dates the bundle's age).",
)
@click.pass_context
def rotate(ctx: click.Context, name: str, stack: str, yes: bool, to_value: str | None) -> None:
    """Regenerate a credential bundle's generated keys: bump its rotation, preview, apply only it.

    NAME is the service (snowflake) or the bundle (snowflake-prd-credentials).
    Reloader-annotated workloads that use the bundle restart once it changes.
    """
    app = _app(ctx)
    s = app.project.settings(stack, app.environ)
    env = s.environment
    cred = next((c for c in s.config.credentials if name in (c.service, conventions.credentials_name(c.service, env))), None)
    if cred is None:
        others = [
            *(conventions.pull_secret_name(r.service, env) for r in s.config.registries),
            *(conventions.secret_name(t.service, env, t.purpose) for t in s.config.tls_secrets),
        ]
        if name in others or conventions.OTHER_SECRET_NAME.match(name):
            raise InputError(
                f"{name} is not a generated credential bundle; its value comes from config or the deploy environment",
                "rotate it at its source, then `pulumi config set --secret ...` (or update the repository secret) and deploy",
            )
        known = ", ".join(c.service for c in s.config.credentials) or "(none)"
        raise InputError(
            f"unknown credential {name!r} in stack {stack}: bundles are {known}", "pass a service or <service>-<env>-credentials"
        )
    if not cred.generated:
        raise InputError(
            f"{cred.service} has no generated keys, so rotation would change nothing",
            "rotate fixed values with `pulumi config set --path 'credentials[..].values.<KEY>'`",
        )
    secret_name = conventions.credentials_name(cred.service, env)
    if not app.engine.stack_exists(stack):
        raise EngineError(
            f"stack {stack!r} has no deployed state in this backend, so there is nothing to rotate",
            f"deploy it first (`make up` for local, `pulumi up -s {stack}` otherwise)",
        )
    targets = _bundle_urns(app.engine.resources(stack), cred.service, secret_name)
    path = app.project.stack_file(stack)
    original = path.read_text()
    new = to_value or next_rotation(cred.rotation)
    if new == cred.rotation:
        raise InputError(f"--to {new}: that is the current rotation of {cred.service}", "give a new value")
    edited = bump_rotation(original, cred.service, new, str(path))
    dual = cred.rotation_strategy == "dual"
    if dual:  # the generation picks the slot; the rotation value stays the date
        edited = bump_rotation(edited, cred.service, str(cred.generation + 1), str(path), field="generation")
    path.write_text(edited)
    applied = False
    try:
        click.echo(f"Rotating {secret_name} in stack {stack}: rotation {cred.rotation!r} -> {new!r} in {path.name}")
        if dual:
            from secrets_platform.components.credentials import current_slot

            slot, old = current_slot(cred.generation + 1), current_slot(cred.generation)
            click.echo(
                f"Strategy dual: generation {cred.generation} -> {cred.generation + 1}; slot {slot} is regenerated and becomes "
                f"<KEY>, slot {old} (the current value) stays valid as <KEY>{PREVIOUS_SUFFIX}"
            )
        steps = app.engine.preview(stack, targets)
        click.echo("Preview (only this bundle is targeted):")
        for step in steps:
            click.echo(f"  {step.op:<10} {step.type}  {step.name}")
        if not steps:
            click.echo("  (no changes)")
        consumers = _consumers(app, s, secret_name, [c for c in cred.namespaces])
        click.echo("Will restart:" if consumers else "Consumers:")
        for line in consumers:
            click.echo(f"  {line}")
        if not yes:
            if not app.interactive():
                raise InputError("refusing to rotate without confirmation: no terminal to ask on", "re-run with --yes")
            if not click.confirm(f"Apply the rotation of {secret_name} to stack {stack}?", default=False):
                raise Aborted(f"not applied; {path.name} is unchanged")
        done = app.engine.up(stack, targets)
        applied = True
        replaced, updated = rotation_counts(done)
        click.echo(f"✓ {secret_name}: {replaced} generated keys replaced, {updated} Secrets updated in place")
        click.echo(f"✓ {path.name}: rotation of {cred.service} is now {new!r}; commit it: git commit {path.name} -m 'rotate {secret_name}'")
        if dual:
            click.echo(
                "Rotation complete. Now set the new <KEY> on the remote system's free slot (its other slot keeps <KEY>_PREVIOUS valid); "
                "retire _PREVIOUS there once every consumer rolled (see docs/cli.md)."
            )
        else:
            click.echo("Rotation complete. The owner must also set the new password on the remote system (see docs/cli.md).")
    finally:
        if not applied:
            path.write_text(original)


# A replacement shows as up to three steps of one resource (create-replacement, replace,
# delete-replaced); count resources, not steps.
_REPLACE_OPS = frozenset({"replace", "create-replacement", "delete-replaced", "create-before-delete"})


def rotation_counts(steps) -> tuple[int, int]:
    """(generated keys replaced, Secrets updated in place) of an applied rotation: distinct resources."""
    replaced = {s.urn for s in steps if s.type.endswith("RandomPassword") and s.op in _REPLACE_OPS}
    updated = {s.urn for s in steps if s.type == "kubernetes:core/v1:Secret" and s.op == "update"}
    return len(replaced), len(updated)


def _bundle_urns(resources: list[dict[str, Any]], service: str, secret_name: str) -> list[str]:
    """The bundle's component and everything under it, found in state (works for any backend)."""
    by_urn = {r["urn"]: r for r in resources if "urn" in r}
    roots = {
        r.get("parent") for r in resources if ((r.get("inputs") or {}).get("metadata") or {}).get("name") == secret_name and r.get("parent")
    }
    roots |= {
        u for u, r in by_urn.items() if r.get("custom") is False and u.endswith(f"::{service}") and ":credentials:" in r.get("type", "")
    }
    if not roots:
        raise EngineError(f"{secret_name} is not in the deployed state", "deploy the stack file as it is first, then rotate")

    def under(urn: str) -> bool:
        seen = set()
        while urn and urn not in seen:
            if urn in roots:
                return True
            seen.add(urn)
            urn = (by_urn.get(urn) or {}).get("parent", "")
        return False

    return sorted(u for u in by_urn if under(u))


def _kube(app: App, s) -> Kubectl:
    """kubectl for the stack's cluster: its context, and its kubeconfig file (local: the local cluster's)."""
    kubeconfig = s.kubeconfig
    if kubeconfig:
        kubeconfig = str((app.project.dir / kubeconfig).resolve())
    return app.kubectl(s.config.kubernetes.context, kubeconfig)


def _consumers(app: App, s, secret_name: str, workloads: list[str]) -> list[str]:
    namespaces = [s.namespace(w) for w in sorted(workloads)]
    if s.render_dir:
        return [
            f'namespace {ns}: workloads annotated {conventions.RELOADER_CONSUMER_ANNOTATION}: "true" that mount {secret_name} '
            f"(the local stack renders manifests to {s.render_dir}; no cluster to ask)"
            for ns in namespaces
        ]
    kube = _kube(app, s)
    reason = kube.unreachable_reason()
    lines = []
    for ns in namespaces:
        if reason:
            lines.append(f"namespace {ns}: Reloader-annotated workloads using {secret_name} (cluster not asked: {reason})")
            continue
        found = reloading_workloads(kube.workloads(ns), secret_name)
        lines.append(
            f"namespace {ns}: {', '.join(found) if found else 'no Reloader-annotated workload uses it; restart consumers by hand'}"
        )
    return lines


# ---- status --------------------------------------------------------------------------------------
@cli.command()
@stack_option
@source_option
@click.pass_context
def status(ctx: click.Context, stack: str, source: str) -> None:
    """Each Secret's sync state and age in the cluster (ExternalSecret Ready condition, or the Secret's presence)."""
    app = _app(ctx)
    s = app.project.settings(stack, app.environ)
    if s.render_dir:
        click.echo(
            f"Stack {stack} has no cluster: it renders manifests into {s.render_dir}/ instead of applying them, "
            "so there is no sync state to report (`secrets-platform list --stack local` shows what it holds)."
        )
        return
    kube = _kube(app, s)
    reason = kube.unreachable_reason()
    if reason:
        fix = (
            "start the local cluster: make up"
            if s.environment == "local"
            else "connect to the cluster (gcloud container clusters get-credentials ...)"
        )
        raise EngineError(f"cannot report status of stack {stack}. {reason}", fix)
    cat = _catalog(app, stack, source)
    rows = [("NAME", "NAMESPACE", "BACKEND", "STORE", "SYNC STATUS", "LAST SYNC", "AGE", "OVERDUE")]
    ages = _ages(cat)
    failed = 0
    try:
        for secret in cat.secrets:
            st = sync_state(kube, secret)
            failed += not st.ok
            a = ages.get(secret.get("service") or "") if catalog_mod.is_bundle(secret) else None
            rows.append(
                (st.name, st.namespace, st.backend, st.store, st.status, st.age, a.age_text if a else "-", a.overdue_text if a else "-")
            )
    except RuntimeError as err:
        raise EngineError(f"kubectl failed: {err}") from None
    _table(rows)
    _age_notes(ages)
    if failed:
        click.echo(f"{failed} of {len(cat.secrets)} Secrets are missing or not synced.")
        ctx.exit(VALIDATION_FAILED)


# ---- dotenv --------------------------------------------------------------------------------------
@cli.command()
@stack_option
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None, help="File to write (default: .env in the checkout)."
)
@click.option("--workload", "-w", "workloads", multiple=True, help="Only the Secrets of this workload's namespace (repeatable).")
@click.option("--force", is_flag=True, help="Overwrite a file this command did not write.")
@click.pass_context
def dotenv(ctx: click.Context, stack: str, output: Path | None, workloads: tuple[str, ...], force: bool) -> None:
    """Write the local stack's values to a .env file (mode 0600) for local development.

    Refused for every stack but local. Values go to the file only, never to the terminal.
    """
    app = _app(ctx)
    if stack != "local":
        app.project.check_stack(stack)
        raise InputError(
            f"dotenv is refused for stack {stack}: only the local stack's values may leave the cluster",
            "use --stack local; dev, stg and prd values stay in their Secrets",
        )
    s = app.project.settings(stack, app.environ)
    path = (output or app.project.dir / ".env").resolve()
    if path.exists() and not force and not path.read_text(errors="replace").startswith(dotenv_mod.HEADER):
        raise InputError(f"{path} exists and was not written by this command", "move it away or pass --force")
    ignored = dotenv_mod.git_ignored(path) if path.parent.is_dir() else None
    if ignored is False:
        raise InputError(
            f"{path} is inside a git work tree and not git-ignored", f"add {path.name} to .gitignore, or write elsewhere with --output"
        )
    render_dir = dotenv_mod.confined_render_dir(app.project.dir, s.render_dir) if s.render_dir else None
    if app.engine.available() and app.engine.stack_exists(stack):
        secrets = dotenv_mod.secrets_from_state(app.engine.resources(stack), set(s.namespaces))
        source = "the local stack's state"
    elif render_dir is not None and render_dir.is_dir():
        secrets = dotenv_mod.secrets_from_render_dir(render_dir, set(s.namespaces))
        source = f"{s.render_dir}/"
    else:
        raise EngineError("the local stack is not deployed: no state and no rendered manifests hold values yet", "run `make up` first")
    wanted = {s.namespace(w) for w in workloads} if workloads else None
    # What External Secrets syncs is in no Pulumi resource: read the Secrets ESO wrote into the local cluster.
    synced = [
        (d.namespace, d.name)
        for d in planned_descriptors(s)
        if d.backend == "gcp-secret-manager" and (wanted is None or d.namespace in wanted)
    ]
    not_synced: list[str] = []
    reason = None
    if synced and render_dir is not None:
        reason, not_synced = (
            f"the local stack renders manifests into {s.render_dir}/ (no cluster)",
            [conventions.object_key(ns, n) for ns, n in synced],
        )
    elif synced:
        kube = _kube(app, s)
        reason = kube.unreachable_reason()
        if reason:
            not_synced = [conventions.object_key(ns, n) for ns, n in synced]
        else:
            try:
                found, not_synced = dotenv_mod.secrets_from_cluster(kube.secret_manifest, synced, set(s.namespaces))
            except RuntimeError as err:
                raise EngineError(
                    f"kubectl failed reading the local cluster's synced Secrets: {err}", "check `make cluster-status`"
                ) from None
            secrets = {**secrets, **found}
            reason = "External Secrets has not synced them (yet)" if not_synced else None
    values, origin = dotenv_mod.merge(secrets, wanted)
    if not values:
        raise InputError(
            "no Opaque Secret values found" + (f" for workloads {', '.join(workloads)}" if workloads else ""),
            "check --workload, or run `make up`",
        )
    dotenv_mod.write_private(path, dotenv_mod.render(values, origin))
    if len(synced) > len(not_synced):
        source += " and the Secrets External Secrets synced into the local cluster"
    click.echo(f"Wrote {len(values)} keys of {len(set(origin.values()))} Secrets from {source} to {path} (mode 0600).")
    if not_synced:
        click.echo(
            f"Not in {path.name}: {', '.join(not_synced)} (written by External Secrets, not by Pulumi): {reason}. "
            "Run `make up` (it starts the cluster and ESO syncs within its refresh interval), then dotenv again.",
            err=True,
        )
    if ignored:
        click.echo(f"{path.name} is git-ignored: keep it that way, and never commit or share it.")
    else:
        click.echo(f"{path} is outside this repository: keep it out of version control.")


# ---- dbt-profile ---------------------------------------------------------------------------------
def _pairs(values: tuple[str, ...], flag: str) -> dict[str, str]:
    out = {}
    for v in values:
        if "=" not in v:
            raise InputError(f"{flag} {v!r}: expected FIELD=VALUE")
        k, _, val = v.partition("=")
        out[k.strip()] = val.strip()
    return out


@cli.command("dbt-profile")
@stack_option
@source_option
@click.option("--credential", "-c", required=True, help="The bundle: service (snowflake) or snowflake-<env>-credentials.")
@click.option("--type", "adapter", default=None, help="dbt adapter type (default: the service name).")
@click.option("--profile", "profile_name", default="default", show_default=True, help="Profile name (dbt_project.yml `profile:`).")
@click.option("--target", default=None, help="Target name (default: the stack).")
@click.option("--map", "maps", multiple=True, metavar="FIELD=KEY", help="Profile field from a key of the bundle (repeatable).")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE", help="Non-secret literal field, e.g. schema=analytics (repeatable).")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write here instead of stdout.")
@click.pass_context
def dbt_profile(
    ctx: click.Context,
    stack: str,
    source: str,
    credential: str,
    adapter: str | None,
    profile_name: str,
    target: str | None,
    maps: tuple[str, ...],
    sets: tuple[str, ...],
    threads: int,
    output: Path | None,
) -> None:
    """Generate profiles.yml whose credentials are only env_var() references to keys of the stack."""
    cat = _catalog(_app(ctx), stack, source)
    name = cat.bundle_name(credential)
    copies = cat.named(name)
    mapping, literals = _pairs(maps, "--map"), _pairs(sets, "--set")
    if copies:
        secret, service = copies[0], copies[0].get("service") or conventions.parse_credentials_name(name).service
        defaults: tuple[dict[str, str], dict[str, str]] = ({}, {})
        note = dbt_mod.ENVFROM_NOTE
    else:
        database = _vault_database_bundle(cat, name)
        if database is None:
            bundles = sorted(cat.bundle_names() | set(_vault_database_names(cat)))
            raise InputError(
                f"no credential bundle {name} in stack {stack}: bundles are {', '.join(bundles) or '(none)'}",
                "pass --credential with one of them",
            )
        service, secret, defaults, note = database
        if (adapter or "postgres") != "postgres":
            raise InputError(
                f"--type {adapter}: {service} is a vault-database bundle, whose users Vault issues in PostgreSQL", "drop --type (postgres)"
            )
        adapter = "postgres"
    text = dbt_mod.profile(
        stack=stack,
        secret=secret,
        service=service,
        adapter=adapter or service,
        profile_name=profile_name,
        target=target or stack,
        mapping={**defaults[0], **mapping},
        literals={**{k: v for k, v in defaults[1].items() if k not in mapping}, **literals},
        threads=threads,
        source=note,
    )
    if output is None:
        click.echo(text, nl=False)
        return
    if not output.parent.is_dir():
        raise InputError(
            f"--output {output}: folder {output.parent} does not exist", f"create it first (mkdir -p {output.parent}) or write elsewhere"
        )
    try:
        output.write_text(text)
    except OSError as err:
        raise InputError(
            f"--output {output}: cannot be written ({err.strerror or err.__class__.__name__})", "pass a writable file path"
        ) from None
    click.echo(f"Wrote {output}: {text.count('env_var(')} env_var() references to keys of {name}.", err=True)


def _vault_database_names(cat: catalog_mod.Catalog) -> list[str]:
    return [
        conventions.credentials_name(c.service, cat.environment, checked=False)
        for c in cat.settings.config.credentials
        if c.backend == VAULT_DATABASE
    ]


def _vault_database_bundle(cat: catalog_mod.Catalog, name: str):
    """A vault-database bundle called ``name`` (``<service>-<env>-credentials``): it has no Secret; its keys are the
    ones the Vault agent renders into the job's env file. (service, secret-like entry, default fields, source note)."""
    for cred in cat.settings.config.credentials:
        if cred.backend != VAULT_DATABASE or conventions.credentials_name(cred.service, cat.environment, checked=False) != name:
            continue
        conn = cat.settings.config.database_connections.get(cred.service)
        names = vault_names(cat.settings)
        creds_path = names.database_creds_path(cred.service)
        secret = {"name": name, "keys": sorted(cred.properties)}
        note = dbt_mod.vault_database_source(creds_path, conventions.vault_secrets_file(conventions.vault_database_env_file(cred.service)))
        return cred.service, secret, dbt_mod.vault_database_defaults(dict(cred.properties), conn.url if conn else None), note
    return None


def main() -> None:  # the console-script entry point
    cli(prog_name="secrets-platform")


if __name__ == "__main__":  # pragma: no cover
    main()
