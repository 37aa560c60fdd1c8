"""How the commands' results are written to the terminal: tables, notes, the longer reports.

Output only: the results come from :mod:`secrets_platform.cli.commands`. Never a value.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

import click

from secrets_platform import conventions
from secrets_platform.cli import catalog as catalog_mod
from secrets_platform.cli import freshness as freshness_mod
from secrets_platform.cli.commands import audit as audit_cmd
from secrets_platform.cli.commands import rotate as rotate_cmd
from secrets_platform.cli.commands import validate as validate_cmd
from secrets_platform.cli.engine import Step
from secrets_platform.cli.references import KINDS
from secrets_platform.cli.validate import MARK
from secrets_platform.settings.model import PREVIOUS_SUFFIX


def source_label(cat: catalog_mod.Catalog) -> str:
    if cat.source == "state":
        return f"deployed state{f' of {cat.deployed_at}' if cat.deployed_at else ''}"
    return conventions.stack_file_name(cat.stack)


def age_cells(a: freshness_mod.Age | None) -> tuple[str, str]:
    return (a.age_text, a.overdue_text) if a else ("-", "-")


def age_notes(ages: dict[str, freshness_mod.Age]) -> None:
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


def table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def diff_lines(out: dict[str, Any]) -> list[str]:
    return [
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


def audit_json(stack: str, since: str, found: audit_cmd.Audit) -> None:
    out = {
        "stack": stack,
        "since": since,
        "from": found.start.isoformat(),
        "to": found.now.isoformat(),
        "sources": [src.as_json() for src in found.sources],
        "unparsed": found.unparsed,
        "notes": found.notes,
        "credentials": found.report.as_json(),
        "findings": found.report.findings,
    }
    click.echo(json.dumps(out, indent=2, sort_keys=True))


def audit_table(stack: str, since: str, found: audit_cmd.Audit) -> None:
    click.echo(
        f"Credential reads in stack {stack} over the last {since} ({len(found.files)} log files, {found.entries} entries; never a value):"
    )
    rows = [("KIND", "CREDENTIAL", "READ BY", "ACCOUNT", "HOW", "COUNT", "LAST", "DECLARED")]
    for c in found.report.as_json():
        if not c["reads"]:
            rows.append((c["kind"], c["name"], "(nobody)" if c["logged"] else "(not logged)", "-", "-", "0", "-", "-"))
        for r in c["reads"]:
            account = conventions.object_key(r["namespace"], r["serviceAccount"]) if r["namespace"] and r["serviceAccount"] else "-"
            how = ", ".join(f"{k} {v}" for k, v in r["how"].items()) or "-"
            denied = f" (+{r['denied']} denied)" if r["denied"] else ""
            count = f"{r['count']}{denied}"
            declared = "yes" if r["declared"] else "NO"
            rows.append((c["kind"], c["name"], r["identity"], account, how, count, (r["last"] or "-")[:19], declared))
    table(rows)
    for note in found.notes:
        click.echo(f"note: {note}")
    for src in found.sources:
        if src.unparsed:
            click.echo(
                f"UNREAD: {src.unparsed} entr{'ies' if src.unparsed != 1 else 'y'} of {src.path} could not be read "
                f"({'; '.join(src.problems)}{'; ...' if src.unparsed > len(src.problems) else ''})"
            )
    for f in found.report.findings:
        click.echo(f"FINDING {f['kind']}: {f['detail']}")


def validation(found: validate_cmd.Validation) -> None:
    """Each file read, as which consumer kinds, and each of its references with its mark and detail."""
    for path in found.paths:
        click.echo(f"{path} ({', '.join(KINDS[k] for k in found.kinds(path))})")
        results = found.of(path)
        if not results:
            click.echo("  (no secret references)")
        for res in results:
            click.echo(f"  {MARK[res.status]} {res.ref.line or '-'}: {res.ref.text}: {res.detail}")


def rotation_plan(stack: str, rot: rotate_cmd.Rotation, file_name: str) -> None:
    cred = rot.cred
    click.echo(f"Rotating {rot.secret_name} in stack {stack}: rotation {cred.rotation!r} -> {rot.new!r} in {file_name}")
    if rot.dual:
        slot, old = rot.slots()
        click.echo(
            f"Strategy dual: generation {cred.generation} -> {cred.generation + 1}; slot {slot} is regenerated and becomes "
            f"<KEY>, slot {old} (the current value) stays valid as <KEY>{PREVIOUS_SUFFIX}"
        )


def rotation_preview(steps: list[Step]) -> None:
    click.echo("Preview (only this bundle is targeted):")
    for step in steps:
        click.echo(f"  {step.op:<10} {step.type}  {step.name}")
    if not steps:
        click.echo("  (no changes)")


def blast_radius(lines: list[str], jobs: list[str]) -> None:
    """The consumers Reloader restarts, then the running Jobs that finish on the old value."""
    click.echo("Blast radius, read from the cluster before applying (Reloader rolls Deployments, StatefulSets, DaemonSets):")
    click.echo("Will restart:" if lines else "Consumers:")
    for line in lines:
        click.echo(f"  {line}")
    if jobs:
        click.echo(
            "Running Jobs that finish on the old value (a Job reads its Secret when it starts; Reloader never restarts Jobs or CronJobs):"
        )
        for line in jobs:
            click.echo(f"  {line}")


def rotation_done(rot: rotate_cmd.Rotation, file_name: str, replaced: int, updated: int) -> None:
    secret_name = rot.secret_name
    click.echo(f"✓ {secret_name}: {replaced} generated keys replaced, {updated} Secrets updated in place")
    click.echo(
        f"✓ {file_name}: rotation of {rot.cred.service} is now {rot.new!r}; commit it: git commit {file_name} -m 'rotate {secret_name}'"
    )
    if rot.dual:
        click.echo(
            "Rotation complete. Now set the new <KEY> on the remote system's free slot (its other slot keeps <KEY>_PREVIOUS valid); "
            "retire _PREVIOUS there once every consumer rolled (see docs/cli.md)."
        )
    else:
        click.echo("Rotation complete. The owner must also set the new password on the remote system (see docs/cli.md).")
