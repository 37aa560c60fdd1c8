"""The ``secrets-platform`` command line (click). Exit codes: see :mod:`secrets_platform.cli.errors`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from secrets_platform.cli import catalog as catalog_mod
from secrets_platform.cli import render
from secrets_platform.cli.commands import audit as audit_cmd
from secrets_platform.cli.commands import dbt_profile as dbt_cmd
from secrets_platform.cli.commands import dotenv as dotenv_cmd
from secrets_platform.cli.commands import freshness as freshness_cmd
from secrets_platform.cli.commands import listing
from secrets_platform.cli.commands import rotate as rotate_cmd
from secrets_platform.cli.commands import status as status_cmd
from secrets_platform.cli.commands import validate as validate_cmd
from secrets_platform.cli.commands.consumers import consumers, radii, running_jobs
from secrets_platform.cli.context import App, StackContext, StackParam
from secrets_platform.cli.engine import Engine
from secrets_platform.cli.errors import ABORTED, OK, USAGE, VALIDATION_FAILED, Aborted, InputError
from secrets_platform.cli.project import Project, find_project_dir

EXIT_CODES = f"""Exit codes: {OK} ok, {VALIDATION_FAILED} validation failed (or a Secret not synced),
{USAGE} usage or input error, 3 engine or cluster error, {ABORTED} aborted at a prompt."""


stack_option = click.option(
    "--stack", "-s", "sc", type=StackParam(), required=True, metavar="STACK", help="Stack (= environment): local, dev, stg or prd."
)
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


def _catalog(sc: StackContext, source: str) -> catalog_mod.Catalog:
    cat = listing.catalog(sc, source)
    if cat.note:
        click.echo(f"note: {cat.note}", err=True)
    return cat


def _listing(sc: StackContext, source: str) -> listing.Listing:
    return listing.of(_catalog(sc, source))


# ---- list ----------------------------------------------------------------------------------------
@cli.command("list")
@stack_option
@source_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_cmd(sc: StackContext, source: str, as_json: bool) -> None:
    """List the stack's Secrets: name, namespace, type, backend, keys, last rotation. Never values."""
    found = _listing(sc, source)
    cat, ages = found.catalog, found.ages
    if as_json:
        ages_json = {svc: a.as_json() for svc, a in sorted(ages.items())}
        out = {"stack": sc.name, "source": cat.source, "deployedAt": cat.deployed_at, "secrets": cat.secrets, "ages": ages_json}
        click.echo(json.dumps(out, indent=2, sort_keys=True))
        return
    rows = [("NAME", "NAMESPACE", "TYPE", "BACKEND", "KEYS", "ROTATION", "AGE", "OVERDUE")]
    for s in cat.secrets:
        a = found.age_of(s)
        keys = ",".join(s["keys"])
        rows.append(
            (s["name"], s["namespace"], s["type"], s["backend"], keys, s.get("rotation") or "-", *render.age_cells(a)),
        )
    click.echo(f"Secrets of stack {sc.name} (from {render.source_label(cat)}):")
    render.table(rows)
    render.age_notes(ages)


# ---- diff ----------------------------------------------------------------------------------------
@cli.command()
@stack_option
@click.option("--base", required=True, metavar="REF", help="The git ref to compare with (e.g. origin/main).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def diff(sc: StackContext, base: str, as_json: bool) -> None:
    """What changes in the stack's Secrets between REF and the working tree: names, keys, rotations, never values.

    The REF side is planned by the program at REF (its tree extracted to a temporary
    directory), the working tree by this CLI's program.
    """
    from secrets_platform.cli.commands import diff as diff_cmd

    found = diff_cmd.run(sc, base)
    out, base_side = found.out, found.base
    if as_json:
        click.echo(json.dumps({"stack": sc.name, "base": base, **out}, indent=2, sort_keys=True))
        return
    planned = "each side planned by its own program" if base_side.program == "ref" else "both sides planned by today's program"
    click.echo(
        f"Secrets of stack {sc.name}: {base} ({base_side.commit[:12]}) -> working tree; {planned} "
        "(names, keys and rotations only; never a value)"
    )
    for note in out["notes"]:
        click.echo(f"note: {note}")
    for line in render.diff_lines(out) or ["(no change to the stack's Secrets)"]:
        click.echo(f"  {line}")
    for name, using in out["consumers"].items():
        click.echo(f"Consumers of {name}:")
        for line in using:
            click.echo(f"  {line}")


# ---- audit ---------------------------------------------------------------------------------------
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
    type=click.Choice(audit_cmd.FINDING_KINDS),
    help="Only these findings fail the run (repeatable; default: all). Unread log entries always fail it.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def audit(
    ctx: click.Context,
    sc: StackContext,
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
    found = audit_cmd.run(sc, since, log_files, allowed)
    if as_json:
        render.audit_json(sc.name, since, found)
    else:
        render.audit_table(sc.name, since, found)
    failing, unparsed = found.failing(fail_on), found.unparsed
    if failing or unparsed:
        parts = [f"{len(failing)} finding{'s' * (len(failing) != 1)}"] if failing else []
        if unparsed:
            parts.append(f"{unparsed} unread log entr{'ies' if unparsed != 1 else 'y'} (the answer is incomplete)")
        click.echo(f"audit of stack {sc.name}: {' and '.join(parts)}", err=True)
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
def freshness(ctx: click.Context, sc: StackContext, fail_on_unknown: bool) -> None:
    """Check every generated bundle's age against its maxAge; exit 1 naming each overdue bundle (the drift workflow runs it).

    A bundle of unknown age (its rotation value is not a date, or a date in the future) fails too
    with --fail-on-unknown, and always in prd (a fail-closed environment): there, not knowing
    how old a credential is counts as overdue.
    """
    found = freshness_cmd.run(sc, fail_on_unknown)
    rows = [("BUNDLE", "ROTATED", "AGE", "MAX AGE", "OVERDUE")]
    for service, a in sorted(found.ages.items()):
        rotated = a.rotated.isoformat() if a.rotated else "-"
        rows.append((found.bundle(service), rotated, a.age_text, a.max_age or "-", a.overdue_text))
    render.table(rows)
    render.age_notes(found.ages)
    names = found.failing
    if names:
        click.echo(
            f"{len(names)} bundle{'s' * (len(names) != 1)} of stack {sc.name} past their freshness target"
            f"{' or of unknown age' if found.fail_on_unknown and found.unknown else ''}: {', '.join(names)}. "
            f"Fix: `secrets-platform rotate <service> --stack {sc.name}` (it writes today's date as the rotation value)",
            err=True,
        )
        ctx.exit(VALIDATION_FAILED)


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
def validate(ctx: click.Context, sc: StackContext, source: str, namespaces: tuple[str, ...], paths: tuple[Path, ...]) -> None:
    """Prove every secret reference in consumer files resolves in the stack.

    Reads dbt profiles.yml (env_var), Dagster Helm values (envSecrets), Flyte task
    modules (Secret(group=, key=), parsed, never imported) and Pachyderm pipeline
    specs (transform.secrets, transform.image_pull_secrets). Directories are walked.
    """
    refs, files = validate_cmd.read(paths)
    cat = _catalog(sc, source).only_namespaces(namespaces)
    found = validate_cmd.run(refs, files, cat)
    click.echo(
        f"Validating {len(refs)} secret references in {len(found.paths)} files against stack {sc.name} (from {render.source_label(cat)})..."
    )
    render.validation(found)
    errors, warnings = found.errors, found.warnings
    tail = f" ({len(warnings)} warning{'s' * (len(warnings) != 1)})" if warnings else ""
    if not errors:
        click.echo(f"All {len(found.results)} references resolve in stack {sc.name}{tail}.")
        return
    click.echo(f"\n{len(errors)} error{'s' * (len(errors) != 1)} found in {len(found.results)} references{tail}. To fix:")
    for fix in found.fixes:
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
def rotate(ctx: click.Context, name: str, sc: StackContext, yes: bool, to_value: str | None) -> None:
    """Regenerate a credential bundle's generated keys: bump its rotation, preview, apply only it.

    NAME is the service (snowflake) or the bundle (snowflake-prd-credentials).
    Reloader-annotated workloads that use the bundle restart once it changes.
    """
    rot = rotate_cmd.plan(sc, name, to_value)
    secret_name, path = rot.secret_name, sc.file
    with rot.edited_file():
        render.rotation_plan(sc.name, rot, path.name)
        render.rotation_preview(rot.preview())
        found = radii(sc, secret_name, list(rot.cred.namespaces))
        render.blast_radius(consumers(sc, secret_name, list(rot.cred.namespaces), found), running_jobs(found[0], rot.dual))
        if not yes:
            if not _app(ctx).interactive():
                raise InputError("refusing to rotate without confirmation: no terminal to ask on", "re-run with --yes")
            if not click.confirm(f"Apply the rotation of {secret_name} to stack {sc.name}?", default=False):
                raise Aborted(f"not applied; {path.name} is unchanged")
        replaced, updated = rot.apply()
        render.rotation_done(rot, path.name, replaced, updated)


# ---- status --------------------------------------------------------------------------------------
@cli.command()
@stack_option
@source_option
@click.pass_context
def status(ctx: click.Context, sc: StackContext, source: str) -> None:
    """Each Secret's sync state and age in the cluster (ExternalSecret Ready condition, or the Secret's presence)."""
    render_dir = status_cmd.no_cluster(sc)
    if render_dir:
        click.echo(
            f"Stack {sc.name} has no cluster: it renders manifests into {render_dir}/ instead of applying them, "
            "so there is no sync state to report (`secrets-platform list --stack local` shows what it holds)."
        )
        return
    kube = status_cmd.cluster(sc)
    found = status_cmd.run(kube, _listing(sc, source))
    rows = [("NAME", "NAMESPACE", "BACKEND", "STORE", "SYNC STATUS", "LAST SYNC", "AGE", "OVERDUE")]
    for secret, st in zip(found.listing.catalog.secrets, found.states):
        rows.append((st.name, st.namespace, st.backend, st.store, st.status, st.age, *render.age_cells(found.listing.age_of(secret))))
    render.table(rows)
    render.age_notes(found.listing.ages)
    if found.failed:
        click.echo(f"{found.failed} of {len(found.states)} Secrets are missing or not synced.")
        ctx.exit(VALIDATION_FAILED)


# ---- dotenv --------------------------------------------------------------------------------------
@cli.command()
@stack_option
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None, help="File to write (default: .env in the checkout)."
)
@click.option("--workload", "-w", "workloads", multiple=True, help="Only the Secrets of this workload's namespace (repeatable).")
@click.option("--force", is_flag=True, help="Overwrite a file this command did not write.")
def dotenv(sc: StackContext, output: Path | None, workloads: tuple[str, ...], force: bool) -> None:
    """Write the local stack's values to a .env file (mode 0600) for local development.

    Refused for every stack but local. Values go to the file only, never to the terminal.
    """
    done = dotenv_cmd.run(sc, output, workloads, force)
    path = done.path
    click.echo(f"Wrote {done.keys} keys of {done.secrets} Secrets from {done.source} to {path} (mode 0600).")
    if done.not_synced:
        click.echo(
            f"Not in {path.name}: {', '.join(done.not_synced)} (written by External Secrets, not by Pulumi): {done.reason}. "
            "Run `make up` (it starts the cluster and ESO syncs within its refresh interval), then dotenv again.",
            err=True,
        )
    if done.ignored:
        click.echo(f"{path.name} is git-ignored: keep it that way, and never commit or share it.")
    else:
        click.echo(f"{path} is outside this repository: keep it out of version control.")


# ---- dbt-profile ---------------------------------------------------------------------------------
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
def dbt_profile(sc: StackContext, source: str, credential: str, output: Path | None, **profile_opts: Any) -> None:
    """Generate profiles.yml whose credentials are only env_var() references to keys of the stack."""
    found = dbt_cmd.run(sc.name, _catalog(sc, source), credential, dbt_cmd.Options(**profile_opts))
    if output is None:
        click.echo(found.text, nl=False)
        return
    dbt_cmd.write(output, found.text)
    click.echo(f"Wrote {output}: {found.text.count('env_var(')} env_var() references to keys of {found.name}.", err=True)


def main() -> None:  # the console-script entry point
    cli(prog_name="secrets-platform")


if __name__ == "__main__":  # pragma: no cover
    main()
