"""Find the secret references in consumer files, with file and line, never executing them.

| consumer | file | reference |
|---|---|---|
| dbt | ``profiles.yml`` (any YAML using ``env_var``) | ``env_var('KEY')``: a key of some Secret |
| Dagster | Helm values with ``envSecrets`` anywhere | ``- name: SECRET``: a Secret |
| Flyte | Python task modules (parsed with :mod:`ast`) | ``Secret(group=SECRET, key=KEY)`` |
| Pachyderm | pipeline specs, JSON or YAML | ``transform.secrets`` (name, key), ``transform.image_pull_secrets`` |

A file that cannot be read or parsed raises :class:`InputError` naming file and line.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import yaml

from secrets_platform.cli.errors import InputError
from secrets_platform.settings import safe_yaml

DBT, DAGSTER, FLYTE, PACHYDERM = "dbt", "dagster", "flyte", "pachyderm"
KINDS = {DBT: "dbt profile", DAGSTER: "Dagster Helm values", FLYTE: "Flyte tasks", PACHYDERM: "Pachyderm pipeline spec"}

# {{ env_var('KEY') }} or env_var("KEY", "default"), as dbt's Jinja allows.
ENV_VAR = re.compile(r"""env_var\(\s*(['"])(?P<key>[^'"]*)\1\s*(?P<default>,[^)]*)?\)""")


@dataclass(frozen=True)
class Reference:
    path: str
    line: int | None
    kind: str
    text: str
    """How the reference reads in the file, e.g. ``env_var('SNOWFLAKE_PASSWORD')``."""
    secret: str | None = None
    key: str | None = None
    has_default: bool = False
    pull: bool = False
    unresolved: str | None = None
    """Why the reference cannot be read statically (then it counts as a failure)."""
    mount: str | None = None
    """Flyte: the mount_requirement given (``ENV_VAR``, ``FILE``, ``ANY``), None when left to the default (ANY)."""
    group_version: str | None = None
    """Flyte: the group_version given (flytekit puts it in the file path and the variable name)."""

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


def scan(paths: list[Path]) -> tuple[list[Reference], list[tuple[str, str]]]:
    """References of every file (directories are walked); also (path, kind) of each consumer file."""
    refs: list[Reference] = []
    files: list[tuple[str, str]] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or directory", "pass existing consumer files or directories")
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".py", ".json", ".yml", ".yaml")):
                found, kinds = scan_file(child, strict=False)
                refs.extend(found)
                files.extend((str(child), k) for k in kinds)
        else:
            found, kinds = scan_file(path, strict=True)
            refs.extend(found)
            files.extend((str(path), k) for k in kinds)
    return refs, files


def scan_file(path: Path, strict: bool) -> tuple[list[Reference], list[str]]:
    """The references of one file and the consumer kinds it was read as.

    ``strict``: a file named on the command line must be a consumer file we know;
    files found while walking a directory are skipped when they are not.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot be read ({err.__class__.__name__}: {getattr(err, 'strerror', None) or err})") from None
    name = str(path)
    if path.suffix == ".py":
        return flyte_references(name, text), [FLYTE]
    if path.suffix == ".json":
        try:
            json.loads(text)
        except json.JSONDecodeError as err:
            raise InputError(f"{name}:{err.lineno}: malformed JSON: {err.msg} (column {err.colno})") from None
        except RecursionError:
            raise InputError(
                f"{name}: refused: the JSON nests too deeply to read", "nest less; a pipeline spec is a few levels deep"
            ) from None
    elif path.suffix not in (".yml", ".yaml"):
        if strict:
            raise InputError(
                f"{name}: not a consumer file validate understands",
                "pass dbt profiles.yml, Dagster Helm values (.yaml), Flyte task modules (.py) or Pachyderm specs (.json/.yaml)",
            )
        return [], []
    docs = _compose(name, text)
    refs: list[Reference] = []
    kinds: list[str] = []
    pach = [r for doc in docs for r in pachyderm_references(name, doc)]
    if any(_is_pipeline(doc) for doc in docs):
        kinds.append(PACHYDERM)
        refs.extend(pach)
    dagster = [r for doc in docs for r in dagster_references(name, doc)]
    if dagster or any(_has_key(doc, "envSecrets") for doc in docs):
        kinds.append(DAGSTER)
        refs.extend(dagster)
    dbt = dbt_references(name, docs)
    if dbt or path.name in ("profiles.yml", "profiles.yaml"):
        kinds.append(DBT)
        refs.extend(dbt)
    if not kinds and strict:
        raise InputError(
            f"{name}: no secret references validate understands (no env_var(), envSecrets or pipeline transform)",
            "pass dbt profiles.yml, Dagster Helm values, Flyte task modules or Pachyderm pipeline specs",
        )
    return refs, kinds


# ---- YAML with line numbers ---------------------------------------------------------------------
def _compose(name: str, text: str) -> list[yaml.Node]:
    """Every document's nodes, read with the project's bounded loader (alias bombs and deep nesting refused)."""
    try:
        return [doc for doc in safe_yaml.compose_all(text) if doc is not None]
    except safe_yaml.UnsafeYamlError as err:
        where, reason = safe_yaml.located(name, err)
        raise InputError(
            f"{where}: refused: the YAML {reason}",
            "write the values out without anchors and aliases, and nest less",
        ) from None
    except yaml.YAMLError as err:
        where, reason = safe_yaml.located(name, err)
        raise InputError(f"{where}: malformed YAML: {reason}") from None


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _scalar(node: yaml.Node | None) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _walk(node: yaml.Node) -> Iterator[tuple[str, yaml.Node]]:
    """Every (key, value) pair of every mapping in the tree."""
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                yield k.value, v
            yield from _walk(v)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item)


def _has_key(node: yaml.Node, key: str) -> bool:
    return any(k == key for k, _ in _walk(node))


# ---- dbt -----------------------------------------------------------------------------------------
def dbt_references(name: str, docs: list[yaml.Node]) -> list[Reference]:
    """``env_var()`` calls in YAML string values (comments don't count; YAML quoting is undone first)."""
    refs = []
    for node in (n for doc in docs for n in _scalars(doc)):
        # Lines counted incrementally: linear in the scalar, however many calls it holds.
        line, counted = _line(node), 0
        for m in ENV_VAR.finditer(node.value):
            line += node.value.count("\n", counted, m.start())
            counted = m.start()
            refs.append(Reference(name, line, DBT, m.group(0), key=m.group("key"), has_default=bool(m.group("default"))))
    return refs


def _scalars(node: yaml.Node) -> Iterator[yaml.ScalarNode]:
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.MappingNode):
        for _key, v in node.value:
            yield from _scalars(v)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _scalars(item)


# ---- Dagster Helm values -------------------------------------------------------------------------
def dagster_references(name: str, doc: yaml.Node) -> list[Reference]:
    """``envSecrets: [{name: S}]`` at any depth: user deployments, daemon, webserver, run launcher."""
    refs = []
    for key, value in _walk(doc):
        if key != "envSecrets":
            continue
        if not isinstance(value, yaml.SequenceNode):
            if _scalar(value) in (None, "", "null", "~") and isinstance(value, yaml.ScalarNode):
                continue
            raise InputError(f"{name}:{_line(value)}: envSecrets must be a list of {{name: <Secret>}}")
        for item in value.value:
            secret = _scalar(_get(item, "name")) if isinstance(item, yaml.MappingNode) else _scalar(item)
            if not secret:
                raise InputError(f"{name}:{_line(item)}: an envSecrets entry has no name", "write `- name: <Secret name>`")
            refs.append(Reference(name, _line(item), DAGSTER, f"envSecrets: {secret}", secret=secret))
    return refs


# ---- Pachyderm pipeline specs --------------------------------------------------------------------
def _is_pipeline(doc: yaml.Node) -> bool:
    return isinstance(doc, yaml.MappingNode) and _get(doc, "transform") is not None and _get(doc, "pipeline") is not None


def pachyderm_references(name: str, doc: yaml.Node) -> list[Reference]:
    if not _is_pipeline(doc):
        return []
    transform = _get(doc, "transform")
    refs = []
    secrets = _get(transform, "secrets")
    if isinstance(secrets, yaml.SequenceNode):
        for item in secrets.value:
            secret = _scalar(_get(item, "name"))
            if not secret:
                raise InputError(
                    f"{name}:{_line(item)}: a transform.secrets entry has no name", "give each entry `name` (and `key` with `env_var`)"
                )
            key = _scalar(_get(item, "key"))
            env = _scalar(_get(item, "env_var")) or _scalar(_get(item, "envVar"))
            mount = _scalar(_get(item, "mount_path")) or _scalar(_get(item, "mountPath"))
            if env and not key:
                raise InputError(
                    f"{name}:{_line(item)}: transform.secrets entry {secret!r} sets env_var without key",
                    "add the Secret key the variable reads",
                )
            text = (
                f"secrets: {secret}" + (f" key {key}" if key else "") + (f" -> ${env}" if env else "") + (f" at {mount}" if mount else "")
            )
            refs.append(Reference(name, _line(item), PACHYDERM, text, secret=secret, key=key))
    elif secrets is not None and not (isinstance(secrets, yaml.ScalarNode) and secrets.value in ("", "null", "~")):
        raise InputError(f"{name}:{_line(secrets)}: transform.secrets must be a list")
    for field in ("image_pull_secrets", "imagePullSecrets"):
        pulls = _get(transform, field)
        if pulls is None:
            continue
        if not isinstance(pulls, yaml.SequenceNode):
            raise InputError(f"{name}:{_line(pulls)}: transform.{field} must be a list of Secret names")
        for item in pulls.value:
            secret = _scalar(item) or _scalar(_get(item, "name"))
            if not secret:
                raise InputError(f"{name}:{_line(item)}: a transform.{field} entry is not a Secret name")
            refs.append(Reference(name, _line(item), PACHYDERM, f"{field}: {secret}", secret=secret, pull=True))
    return refs


# ---- Flyte tasks ---------------------------------------------------------------------------------
def flyte_references(name: str, text: str) -> list[Reference]:
    """``Secret(group=..., key=...)`` calls, with module-level string constants resolved. Never imported."""
    try:
        tree = ast.parse(text, filename=name)
    except SyntaxError as err:
        raise InputError(f"{name}{f':{err.lineno}' if err.lineno else ''}: not valid Python: {err.msg}") from None
    except (RecursionError, MemoryError, ValueError) as err:  # expressions nested too deeply for the parser; NUL bytes
        raise InputError(
            f"{name}: refused: cannot be parsed as Python ({err.__class__.__name__})",
            "split deeply nested expressions; validate reads task modules, it never runs them",
        ) from None
    constants: dict[str, str] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = stmt.value.value
        elif (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str)
        ):
            constants[stmt.target.id] = stmt.value.value
    refs = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _is_secret_call(node.func)):
            continue
        src = ast.get_source_segment(text, node) or "Secret(...)"
        src = " ".join(src.split())
        if node.args:
            refs.append(Reference(name, node.lineno, FLYTE, src, unresolved="positional arguments: write Secret(group=..., key=...)"))
            continue
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        group, why_g = _string(kw.get("group"), constants)
        key, why_k = _string(kw.get("key"), constants)
        why = why_g or why_k
        if "group" not in kw or "key" not in kw:
            why = "needs both group= (the Secret) and key= (its key)"
        mount = _mount_type(kw.get("mount_requirement"))
        version, why_v = _string(kw.get("group_version"), constants)
        if "group_version" in kw and version is None and not why:
            why = why_v
        refs.append(Reference(name, node.lineno, FLYTE, src, secret=group, key=key, unresolved=why, mount=mount, group_version=version))
    return refs


def _mount_type(node: ast.expr | None) -> str | None:
    """``Secret.MountType.ENV_VAR`` -> ``ENV_VAR`` (the enum member's name); None when not given."""
    if node is None:
        return None
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return "an expression"


def _is_secret_call(func: ast.expr) -> bool:
    return (isinstance(func, ast.Name) and func.id == "Secret") or (isinstance(func, ast.Attribute) and func.attr == "Secret")


def _string(node: ast.expr | None, constants: dict[str, str]) -> tuple[str | None, str | None]:
    if node is None:
        return None, None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, None
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id], None
    try:
        shown = ast.unparse(node)
    except RecursionError:
        shown = "a deeply nested expression"
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return None, f"{shown} is not a string constant, so it cannot be checked"
