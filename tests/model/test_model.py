"""secrets_platform.model: Pulumi-free, resolved once, and never a secret in what it prints."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields, is_dataclass

import pytest
from support import ROOT, base_config, pem, stack_settings

from secrets_platform import settings
from secrets_platform.model import resolve
from secrets_platform.model import stack as stack_mod
from secrets_platform.model.descriptors import Sensitive

PASSWORD = "registry-pw-canary-93c1"
TLS_KEY = pem("PRIVATE KEY")
DB_PASSWORD = "db-admin-canary-27d4"
IMPORTED = "xoxb-imported-canary-8b1f"


def _loaded(script: str) -> list[str]:
    """The modules a fresh interpreter holds after ``script``."""
    code = f"{script}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def _pulumi(modules: list[str]) -> list[str]:
    return [m for m in modules if m == "pulumi" or m.startswith(("pulumi.", "pulumi_"))]


def test_the_model_imports_no_pulumi_sdk():
    """Importing the model, every module of it, loads no pulumi, pulumi_kubernetes or other pulumi_* module (nor the program)."""
    script = (
        "import importlib, pkgutil\n"
        "import secrets_platform.model as m\n"
        "for info in pkgutil.iter_modules(m.__path__):\n"
        "    importlib.import_module(f'secrets_platform.model.{info.name}')\n"
    )
    modules = _loaded(script)
    assert {"secrets_platform.model.stack", "secrets_platform.model.outputs", "secrets_platform.model.vault"} <= set(modules)
    assert _pulumi(modules) == []
    assert not [m for m in modules if m.startswith("secrets_platform.components")]


@pytest.mark.parametrize(
    "script",
    [
        "import secrets_platform.cli.main, secrets_platform.cli.audit, secrets_platform.cli.plan_export, secrets_platform.cli.catalog",
        "import secrets_platform.policies.cross_stack as c\nfrom secrets_platform import settings\nfrom pathlib import Path\n"
        "c.claims(settings.from_stack_file(Path('Pulumi.prd.yaml'), {}))",
    ],
    ids=["cli", "cross-stack"],
)
def test_the_cli_and_the_cross_stack_check_read_the_model_without_the_program(script):
    modules = _loaded(script)
    assert not [m for m in modules if m.startswith("secrets_platform.components")]


def _with_secrets() -> settings.Settings:
    cfg = base_config(
        "prd",
        vault={"enabled": True, "chartVersion": "0.34.1", "mount": "floe", "address": "https://vault.prd.example.internal:8200"},
        registries=[{"service": "ghcr", "server": "ghcr.io", "username": "bot", "password": PASSWORD, "namespaces": ["dagster"]}],
        tlsSecrets=[{"service": "dagster-web", "certificate": pem("CERTIFICATE"), "privateKey": TLS_KEY, "namespaces": ["dagster"]}],
    )
    cfg["credentials"].append(
        {"service": "warehouse", "backend": "vault-database", "namespaces": ["dagster"], "properties": {"U": "username", "P": "password"}}
    )
    cfg["databaseConnections"] = {
        "warehouse": {"url": "postgresql://db.internal:5432/a?sslmode=verify-full", "username": "vault_admin", "password": DB_PASSWORD}
    }
    keys = {"registries", "tlsSecrets", "databaseConnections"}
    return settings.from_mapping(cfg, keys, "prd", {"DAGSTER_SECRET_SLACK_TOKEN": IMPORTED})


def _walk(value, seen=None):
    """Every Sensitive reachable from ``value`` (dataclasses, mappings, sequences)."""
    if isinstance(value, Sensitive):
        yield value
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from _walk(getattr(value, f.name))
    elif isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _walk(v)


def test_the_model_holds_secret_config_only_as_sensitive_values_that_never_print():
    model = resolve(_with_secrets())
    revealed = {s.reveal() for s in _walk(model)}
    assert {PASSWORD, TLS_KEY, DB_PASSWORD, IMPORTED} <= revealed, "the specs carry the values the components write"
    shown = repr(model) + str(model) + json.dumps(model.outputs, default=str)
    for canary in (PASSWORD, TLS_KEY, DB_PASSWORD, IMPORTED):
        assert canary not in shown
    assert repr(Sensitive(PASSWORD)) == "Sensitive('[secret]')" and PASSWORD not in f"{Sensitive(PASSWORD)}"


def test_specs_carry_no_config_object():
    """A component reads its spec and nothing else: no pydantic model of the stack config is reachable from a spec."""
    from pydantic import BaseModel

    def config_objects(value):
        if isinstance(value, BaseModel):
            yield value
        elif is_dataclass(value) and not isinstance(value, type):
            for f in fields(value):
                yield from config_objects(getattr(value, f.name))
        elif isinstance(value, dict):
            for v in value.values():
                yield from config_objects(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                yield from config_objects(v)

    for stack in ("local", "dev", "stg", "prd"):
        assert list(config_objects(resolve(stack_settings(stack)))) == [], stack
    assert list(config_objects(resolve(_with_secrets()))) == []


@pytest.mark.parametrize("stack", ["local", "dev", "stg", "prd"])
def test_each_name_is_resolved_once(stack, monkeypatch):
    """Vault's names are built once per resolve, and each operator's namespace once (no second spelling downstream)."""
    names_built: list[object] = []
    namespaces: list[str] = []
    real_names, real_ns = stack_mod.vault_names, stack_mod.namespace_spec

    def counting_names(s):
        names_built.append(s)
        return real_names(s)

    def counting_ns(workload, *args, **kwargs):
        namespaces.append(workload)
        return real_ns(workload, *args, **kwargs)

    monkeypatch.setattr(stack_mod, "vault_names", counting_names)
    monkeypatch.setattr(stack_mod, "namespace_spec", counting_ns)
    s = stack_settings(stack)
    model = resolve(s)
    assert len(names_built) == 1
    assert len(namespaces) == len(set(namespaces)), namespaces
    if model.external_secrets is not None:
        assert model.outputs["externalSecrets"]["namespace"] == model.external_secrets.namespace.name
        assert model.environment_store is not None and model.environment_store.operator_namespace == model.external_secrets.namespace.name
    if model.vault_server is not None:
        assert model.outputs["vault"]["namespace"] == model.vault_server.namespace.name


def test_outputs_functions_take_the_model_and_never_resolve_again(monkeypatch):
    from secrets_platform.model import outputs

    model = resolve(stack_settings("local"))
    monkeypatch.setattr(stack_mod, "resolve", lambda *_: pytest.fail("resolved again"))
    assert outputs.vault_outputs(model) == model.outputs["vault"]
    assert outputs.external_secrets_outputs(model) == model.outputs["externalSecrets"]
    outputs.vault_outputs(model)["policies"].clear()
    assert model.outputs["vault"]["policies"], "callers get a copy; the model stays as resolved"


def test_components_read_their_specs_not_the_settings():
    """Only build() (components/platform.py) receives Settings, to resolve them; no component imports the settings package."""
    import ast

    readers = []
    for path in sorted((ROOT / "secrets_platform" / "components").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in getattr(node, "names", [])]
            if isinstance(node, (ast.Import, ast.ImportFrom)) and any(n.startswith("secrets_platform.settings") for n in names):
                readers.append(path.name)
    assert readers == ["platform.py"]
