"""No name is spelled outside secrets_platform/conventions/: an AST walk over the product finds every name-shaped
f-string and fails on one that is not in conventions nor in the short allow-list below (each entry with its reason).

**Name-shaped**, precisely: an f-string (``ast.JoinedStr``) with at least one formatted value whose literal parts
consist only of the characters names and paths are made of (``A-Z a-z 0-9 . _ / @ -``: no space, ``:``, ``=``,
quote or brace, so no prose, flag, URL scheme or template) and where at least one literal part holds a ``-``,
``/`` or ``@``: the separators that join values into a Kubernetes or Vault name, a path, a Pulumi resource name or
an email (``f"{service}-{env}-credentials"``, ``f"{ns}/{name}"``, ``f"{mount}/data/{env}/{svc}"``); and any
f-string with a formatted value that begins with an IAM member's ``serviceAccount:`` (NAME_PREFIXES). Such a string
built elsewhere is a second spelling of a convention, which the parser in conventions would not know.

Entries are keyed by the product's top-level subpackage and the f-string's source text (not a file or line), so
moving code between files of one subpackage keeps them valid; an entry no longer found fails too (the list only
shrinks).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PRODUCT = Path(__file__).resolve().parents[2] / "secrets_platform"
CONVENTIONS = PRODUCT / "conventions"

NAME_CHARS = re.compile(r"[A-Za-z0-9._/@-]*\Z")
SEPARATORS = ("-", "/", "@")
# Literal beginnings that make any f-string a name, ':' or not: an IAM member (conventions.GCP_MEMBER_PREFIX).
NAME_PREFIXES = ("serviceAccount:",)

_VAULT_API = "the local Vault client's routes of Vault's HTTP API (sys/..., auth/<path>/..., <mount>/<verb>/...): addresses of an API, not names; the KV paths and names it writes come from the plan, built by conventions"
_PROC = "the kernel's /proc files of a process the local cluster started: the operating system's paths, not the platform's"

ALLOWED: dict[tuple[str, str], str] = {
    # --- not names
    (
        "cli",
        "f'.{path.name}.tmp-{os.getpid()}'",
    ): "a temporary file beside dotenv's output, renamed over it at once; nobody else reads its name",
    ("cli", "f'{stack.settings.render_dir}/'"): "a folder shown in a message",
    ("cli", "f'{day}-2'"): "a rotation value (<date>-<n>), the keeper a RandomPassword is regenerated on: a value, not a name",
    ("cli", "f'{day}-{int(m.group(1)) + 1}'"): "a rotation value (<date>-<n>), as above",
    (
        "components",
        "f\"{args.repository.rstrip('/')}/{args.chart}\"",
    ): "an OCI chart reference: the user's registry URL joined with the chart, as Helm reads it",
    (
        "policies",
        "f'{db.endpoints[0]}/{db.dbname}'",
    ): "the cross-stack check's identity of a database (host:port/dbname, by libpq's rules): compared, never created",
    (
        "policies",
        "f'{vault}/{names.auth_path}'",
    ): "the cross-stack check's identity of an auth method (server/path): compared, never created",
    ("policies", "f'{PREFIX}helm.sh/'"): "a type-token prefix of the Pulumi engine (kubernetes:helm.sh/), matched, never created",
    ("policies", "f'-{name}'"): "a flag of vault/bao server (-dev-ha) as a message shows it: a command-line flag, not a name",
    ("localcluster", "f'{self.server}/readyz'"): "the API server's health URL",
    ("localcluster", "f'{self.address}/v1/sys/health'"): _VAULT_API,
    ("localcluster", "f'{self.address}/v1/{path}'"): _VAULT_API,
    ("localcluster", "f'{diff_id}/layer.tar'"): "an OCI image layout's member, by the image-spec's rules",
    ("localcluster", "f'--{prefix}client-cert-auth'"): "etcd's own command-line flag (client or peer listener), no name of ours",
    **{
        ("localcluster", src): _PROC
        for src in ("f'/proc/net/{name}'", "f'/proc/{pid}/cmdline'", "f'/proc/{pid}/fd'", "f'/proc/{pid}/stat'", "f'/proc/{pid}'")
    },
    **{
        ("localcluster", src): _VAULT_API
        for src in (
            "f'auth/{path}/config'",
            "f'auth/{path}/role'",
            "f'auth/{path}/role/{name}'",
            "f'auth/{role.auth_path}/role/{role.name}'",
            "f'sys/auth/{path}'",
            "f'sys/mounts/{mount}'",
            "f'sys/mounts/{path}'",
            "f'sys/mounts/{plan.mount}'",
            "f'sys/policies/acl/{name}'",
            "f'{mount}/'",
            "f'{mount}/config/{db.connection}'",
            "f'{mount}/metadata/{prefix}'",
            "f'{mount}/roles/{db.role}'",
            "f'{mount}/{kind}'",
            "f'{mount}/{kind}/{name}'",
            "f'{path}/'",
            "f'{plan.mount}/'",
            "f'{plan.mount}/data/{path}'",
            "f'{plan.mount}/metadata/{path}'",
        )
    },
}


def name_shaped(node: ast.JoinedStr) -> bool:
    literals = [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    formatted = any(isinstance(v, ast.FormattedValue) for v in node.values)
    first = node.values[0] if node.values else None
    if formatted and isinstance(first, ast.Constant) and str(first.value).startswith(NAME_PREFIXES):
        return True
    return formatted and all(NAME_CHARS.match(s) for s in literals) and any(sep in s for s in literals for sep in SEPARATORS)


def found() -> dict[tuple[str, str], list[str]]:
    """(subpackage, source text) -> where, for every name-shaped f-string of the product outside conventions."""
    out: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PRODUCT.rglob("*.py")):
        if path.is_relative_to(CONVENTIONS):
            continue
        rel = path.relative_to(PRODUCT)
        subpackage = rel.parts[0] if len(rel.parts) > 1 else "."
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.JoinedStr) and name_shaped(node):
                out.setdefault((subpackage, ast.unparse(node)), []).append(f"secrets_platform/{rel}:{node.lineno}")
    return out


def test_no_name_shaped_f_string_outside_conventions() -> None:
    stray = {key: where for key, where in found().items() if key not in ALLOWED}
    assert not stray, (
        "names built outside secrets_platform/conventions/ (build them with a conventions function and parse them back "
        "with its inverse, or add an entry with its reason to ALLOWED if the string is no name):\n"
        + "\n".join(f"  {src}  at {', '.join(where)}" for (_, src), where in sorted(stray.items()))
    )


def test_the_stack_file_name_is_spelled_only_in_conventions() -> None:
    """``Pulumi.<stack>.yaml`` in any f-string (a message too) is conventions.stack_file_name's job."""
    spelled = [
        f"{path.relative_to(PRODUCT.parent)}:{node.lineno}"
        for path in sorted(PRODUCT.rglob("*.py"))
        if not path.is_relative_to(CONVENTIONS)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.JoinedStr)
        and any(
            isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.endswith("Pulumi.") and isinstance(b, ast.FormattedValue)
            for a, b in zip(node.values, node.values[1:])
        )
    ]
    assert not spelled, f"use conventions.stack_file_name: {spelled}"


def stale(allowed: dict[tuple[str, str], str], there: dict[tuple[str, str], list[str]]) -> list[tuple[str, str]]:
    """The allow-list's entries the product no longer has: every one of them, none exempt."""
    return sorted(set(allowed) - set(there))


def test_the_allow_list_names_only_what_is_there() -> None:
    gone = stale(ALLOWED, found())
    assert not gone, f"remove these ALLOWED entries, the code no longer has them: {gone}"


def test_a_stale_entry_is_found() -> None:
    """An entry whose string the product no longer holds is reported (so the list can only shrink)."""
    planted = {**ALLOWED, ("components", "f'{gone}-delegator-{env}'"): "an entry for code that was moved away"}
    assert stale(planted, found()) == [("components", "f'{gone}-delegator-{env}'")]


def _shaped(src: str) -> bool:
    node = ast.parse(src, mode="eval").body
    assert isinstance(node, ast.JoinedStr)
    return name_shaped(node)


def test_the_definition() -> None:
    """What counts as name-shaped, on examples (so the walk above cannot pass by finding nothing)."""
    for name in (
        'f"{service}-{env}-credentials"',
        'f"{ns}/{name}"',
        'f"{mount}/data/{env}/{service}"',
        'f"{a}@{p}.iam.gserviceaccount.com"',
        'f"serviceAccount:{email}"',
        'f"serviceAccount:{p}.svc.id.goog[{ns}/{ksa}]"',
    ):
        assert _shaped(name), name
    for other in ('f"{where}.kind"', 'f"missing {name}: fix it"', 'f"--port={port}"', 'f"https://{host}"', 'f"{key}:{slot}"', 'f"{a}{b}"'):
        assert not _shaped(other), other
    assert found(), "the walk reads the product (the allow-listed strings at least)"
