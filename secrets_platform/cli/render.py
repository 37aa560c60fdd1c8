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
from secrets_platform.cli.commands import validate as validate_cmd
from secrets_platform.cli.references import KINDS
from secrets_platform.cli.validate import MARK


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
