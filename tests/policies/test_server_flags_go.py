"""The pack's reading of ``vault server``/``bao server`` flags (policies.argv), judged by Go's flag package, which is
what both servers parse them with (one ``flag.FlagSet``, ContinueOnError; bool flags say IsBoolFlag). Go gets the
pack's table of flags (bools, value flags, the dev-mode ones); a flag the pack does not know is declared once as a
bool and once as a string, and the pack must find dev mode where either declaration does. Needs ``go`` (the
toolchain's); no module is fetched."""

from __future__ import annotations

import itertools

import pytest
from go_judge import needs_go, run_go
from test_policy_hygiene import _run_child, server_container, vault_statefulset

from secrets_platform.policies import argv

pytestmark = needs_go

MAIN = """package main

import (
	"encoding/json"
	"flag"
	"io"
	"os"
)

type parse struct {
	Bools  []string `json:"bools"`
	Values []string `json:"values"`
	Dev    []string `json:"dev"`
	Args   []string `json:"args"`
}

type decision struct {
	Dev   bool   `json:"dev"`
	Error string `json:"error"`
}

func main() {
	var parses []parse
	if err := json.NewDecoder(os.Stdin).Decode(&parses); err != nil {
		panic(err)
	}
	out := []decision{}
	for _, p := range parses {
		fs := flag.NewFlagSet("server", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		bools := map[string]*bool{}
		for _, name := range p.Bools {
			bools[name] = fs.Bool(name, false, "")
		}
		for _, name := range p.Values {
			fs.String(name, "", "")
		}
		if err := fs.Parse(p.Args); err != nil {
			out = append(out, decision{Error: err.Error()})
			continue
		}
		dev := false
		for _, name := range p.Dev {
			dev = dev || *bools[name]
		}
		out = append(out, decision{Dev: dev})
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
"""

# Go reads each of these as dev mode.
DEV = (
    [["-dev"], ["--dev"], ["-dev=true"], ["--dev=True"], ["-config", "/x", "-dev"], ["-config=/x", "-dev-ha"], ["-dev-ha", "-dev=false"]]
    + [[f"-dev={v}"] for v in ("1", "t", "T", "TRUE", "true", "True")]
    + [[f"-{flag}"] for flag in sorted(argv.DEV_MODE_FLAGS)]
    + [["-log-level", "debug", "-dev"], ["-dev-root-token-id=root", "-dev-tls"], ["-dev=false", "-dev"], ["-dev", "x", "-dev=false"]]
)
# Go reads none of these as dev mode: false values, flags after the first argument or after '--', a value flag's value.
NOT_DEV = [
    [],
    ["-config=/tmp/storageconfig.hcl"],
    ["-config", "/tmp/storageconfig.hcl"],
    ["-dev=false"],
    ["-dev=0"],
    ["-dev=F"],
    ["--dev=FALSE"],
    ["-dev", "-dev=f"],
    ["-dev-no-store-token", "-dev-skip-init", "-dev-plugin-init=true"],
    ["-dev-root-token-id", "-dev"],
    ["-config", "-dev"],
    ["-config=/x", "x", "-dev"],
    ["-config=/x", "--", "-dev"],
    ["-config=/x", "-", "-dev"],
    ["", "-dev"],
    ["x", "-dev"],
    ["-recovery", "-config=/x"],
]
# Go refuses these (the server prints the error and exits): the pack refuses them too.
ERRORS = [
    ["-dev=maybe"],
    ["-dev="],
    ["-dev=tRUE"],
    ["-dev=yes"],
    ["-dev-ha=2"],
    ["---dev"],
    ["-=dev"],
    ["--=x"],
    ["-config"],
    ["-h"],
    ["-help"],
    ["--help"],
    ["-config=/x", "-dev=on"],
]
# Flags the pack does not know, read both ways.
UNKNOWN = [
    ["-nope", "-dev"],
    ["-nope", "x", "-dev"],
    ["-nope=1", "-dev"],
    ["-nope", "-dev=maybe"],
    ["-nope"],
    ["-nope", "-config=/x"],
    ["-a", "-b", "-dev-tls"],
    ["-a", "-dev", "-b", "-dev=false"],
]


def _unknown_names(args: list[str]) -> list[str]:
    names = []
    for word in args:
        name = word.lstrip("-").partition("=")[0]
        known = argv.BOOL_FLAGS | argv.VALUE_FLAGS | {"h", "help"}  # Go answers -h/-help itself when they are not defined
        if word.startswith("-") and name and name not in known and name not in names:
            names.append(name)
    return names


def _declarations(args: list[str]) -> list[dict[str, list[str]]]:
    """The FlagSets Go parses ``args`` with: the pack's flags, and each way of declaring the flags it does not know."""
    unknown = _unknown_names(args)
    return [
        {
            "bools": sorted(argv.BOOL_FLAGS) + [n for n, is_bool in zip(unknown, kinds) if is_bool],
            "values": sorted(argv.VALUE_FLAGS) + [n for n, is_bool in zip(unknown, kinds) if not is_bool],
            "dev": sorted(argv.DEV_MODE_FLAGS),
            "args": args,
        }
        for kinds in itertools.product([True, False], repeat=len(unknown))
    ]


@pytest.fixture(scope="module")
def go_decisions(tmp_path_factory) -> dict[tuple[str, ...], list[dict]]:
    """Go's decisions for every corpus argv (one per declaration), from one ``go run``."""
    corpora = dict.fromkeys(tuple(args) for args in DEV + NOT_DEV + ERRORS + UNKNOWN)
    parses = [(args, declaration) for args in corpora for declaration in _declarations(list(args))]
    answers = run_go(MAIN, [p for _, p in parses], tmp_path_factory.mktemp("goflags"))
    decisions: dict[tuple[str, ...], list[dict]] = {}
    for (args, _), decision in zip(parses, answers, strict=True):
        decisions.setdefault(args, []).append(decision)
    return decisions


def pack_decision(args: list[str]) -> str:
    try:
        return "dev" if argv.dev_flags(args) else "not dev"
    except argv.FlagError:
        return "error"


def go_decision(decisions: list[dict]) -> str:
    """Dev mode if any declaration reads it; an error only if every one is an error."""
    if any(d["dev"] for d in decisions):
        return "dev"
    return "error" if all(d["error"] for d in decisions) else "not dev"


@pytest.mark.parametrize(
    ("corpus", "expected"),
    [(DEV, "dev"), (NOT_DEV, "not dev"), (ERRORS, "error")],
    ids=["dev", "not-dev", "errors"],
)
def test_the_pack_reads_the_servers_flags_as_go_does(go_decisions, corpus, expected):
    for args in corpus:
        [decision] = go_decisions[tuple(args)]
        assert go_decision([decision]) == expected, f"Go reads {args} as {decision}: move it"
        assert pack_decision(args) == expected, f"Go reads {args} as {decision}, the pack as {pack_decision(args)}"


def test_the_rule_judges_a_server_started_with_these_flags_as_go_reads_them(go_decisions):
    """Through the policy: a StatefulSet running ``vault server <flags>`` fails as dev mode, is refused, or passes."""
    verdicts = {"dev": "runs Vault in dev mode", "error": "cannot read", "not dev": None}
    for args in DEV + NOT_DEV + ERRORS + UNKNOWN:
        expected = verdicts[go_decision(go_decisions[tuple(args)])]
        messages = _run_child(vault_statefulset("prd", dev=False, container=server_container(["vault", "server"], args)), "prd")
        if expected is None:
            assert messages == [], (args, messages)
        else:
            assert len(messages) == 1 and expected in messages[0], (args, messages)


def test_a_flag_the_pack_does_not_know_is_read_both_ways(go_decisions):
    for args in UNKNOWN:
        assert len(go_decisions[tuple(args)]) > 1, args
        assert pack_decision(args) == go_decision(go_decisions[tuple(args)]), (args, go_decisions[tuple(args)])


def test_the_dev_mode_flags_are_bool_flags_the_pack_knows():
    assert argv.DEV_MODE_FLAGS <= argv.BOOL_FLAGS and "dev" in argv.DEV_MODE_FLAGS
    assert not argv.BOOL_FLAGS & argv.VALUE_FLAGS
    assert all(name == "dev" or name.startswith("dev-") for name in argv.DEV_MODE_FLAGS)
