"""The pack's reading of the regexps External Secrets matches, judged by Go's regexp package, which is what ESO
evaluates them with (``regexp.MatchString``: RE2 syntax, an unanchored search): a ClusterSecretStore's
namespaceRegexes (pkg/controllers/secretstore/client_manager.go) and an ExternalSecret's dataFrom find.name.regexp
(pkg/find/find.go). Needs ``go`` (the toolchain's); no module is fetched."""

from __future__ import annotations

from go_judge import needs_go, run_go

from secrets_platform import conventions
from secrets_platform.policies.rules.isolation.external_secrets import _find_problem, _regex_confined

pytestmark = needs_go

MAIN = """package main

import (
	"encoding/json"
	"os"
	"regexp"
)

type request struct {
	Patterns []string `json:"patterns"`
	Names    []string `json:"names"`
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		panic(err)
	}
	out := map[string][]string{}
	for _, p := range req.Patterns {
		if _, err := regexp.Compile(p); err != nil {
			out[p] = nil
			continue
		}
		matched := []string{}
		for _, n := range req.Names {
			if ok, _ := regexp.MatchString(p, n); ok {
				matched = append(matched, n)
			}
		}
		out[p] = matched
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
"""

ENV = "prd"
NAMES = [
    conventions.namespace_name(w, e, checked=False)
    for w in ("a", "dagster", "floe-jobs", "snowflake", "flyte-x", "team-data")
    for e in conventions.ENVIRONMENTS
] + ["snowflake", "prd", "x-prd-y", "evil-prd2", "dagster-prdx"]
ACCEPTED = ["^dagster-prd$", "^flyte-[a-z]+-prd$", ".*-prd$", "^(?:dagster|floe-jobs)-prd$", "-prd$", "^[a-z-]+-prd$"]
# Each admits snowflake-dev in ESO while mentioning no other environment as a whole word.
BYPASSES = ["[(]|^snowflake-dev|.*-prd$", "x[(]|snowflake-d[e]v|.*-prd$", "[(]|snowflake-d.v|.*-prd$"]
# Each admits, in Go, a namespace outside the environment.
ESCAPES = [".*", "^dagster-dev$", "^a-dev$|^b-prd$", ".*|-prd$", "-(dev|prd)$", "^dagster-prd"]
# Go reads these as confined, but Python reads them otherwise or not at all: refused, the guard cannot read them.
UNREADABLE = ["^[[:alpha:]]+-prd$", r"^\Qdagster\E-prd$"]


def go_matches(tmp_path, patterns: list[str], names: list[str] = NAMES) -> dict[str, list[str] | None]:
    return run_go(MAIN, {"patterns": patterns, "names": names}, tmp_path)


def test_what_the_pack_admits_go_confines_to_the_environment(tmp_path):
    assert all(_regex_confined(p, ENV) for p in ACCEPTED)
    matched = go_matches(tmp_path, ACCEPTED)
    for pattern in ACCEPTED:
        assert matched[pattern], f"{pattern!r} compiles in Go and matches a {ENV} namespace"
        outside = [n for n in matched[pattern] or [] if not n.endswith(f"-{ENV}")]
        assert not outside, f"the pack admits {pattern!r}, which Go matches against {outside}"


def test_patterns_go_lets_into_another_environment_are_refused(tmp_path):
    matched = go_matches(tmp_path, BYPASSES + ESCAPES)
    for pattern in BYPASSES:
        assert "snowflake-dev" in (matched[pattern] or []), f"Go does not admit snowflake-dev by {pattern!r}"
    for pattern in BYPASSES + ESCAPES:
        outside = [n for n in (matched[pattern] or []) if not n.endswith(f"-{ENV}")]
        assert outside, f"Go admits nothing outside {ENV} by {pattern!r}: move it to ACCEPTED"
        assert not _regex_confined(pattern, ENV), f"the pack admits {pattern!r}, which Go matches against {outside}"


def test_what_go_and_python_read_differently_is_refused(tmp_path):
    matched = go_matches(tmp_path, UNREADABLE)
    for pattern in UNREADABLE:
        assert matched[pattern] is not None, f"Go does not compile {pattern!r}"
        assert not _regex_confined(pattern, ENV), pattern


# dataFrom find.name.regexp: the remote keys a store may hold, every environment's.
KEYS = [conventions.credentials_name(s, e, checked=False) for s in ("snowflake", "warehouse") for e in conventions.ENVIRONMENTS] + [
    "snowflake-prdx-credentials",
    "prd",
]
FIND_ACCEPTED = ["^snowflake-prd-", "^snowflake-prd-.*", "^snowflake-prd-credentials$", "(?i)^warehouse-prd-"]
# Each mentions prd as a whole word and matches dev keys in Go: the old pack read only the words.
FIND_BYPASSES = ["-prd-|snowflake-d.v", "^(snowflake-prd-credentials|warehouse-d[e]v-credentials)$", "-prd-|-d[e]v-"]
FIND_REFUSED = ["^snowflake-.*", ".*", "^snowflake-prd", "^(snowflake)-prd-", "^snowflake-prd-[a-z]+"]


def test_find_regexps_the_pack_admits_match_only_the_environments_keys_in_go(tmp_path):
    matched = go_matches(tmp_path, FIND_ACCEPTED, KEYS)
    for pattern in FIND_ACCEPTED:
        assert _find_problem(None, pattern, ENV) is None, pattern
        assert matched[pattern], f"{pattern!r} matches no {ENV} key in Go"
        outside = [k for k in matched[pattern] or [] if conventions.reference_env_tokens(k) != {ENV}]
        assert not outside, f"the pack admits {pattern!r}, which Go matches against {outside}"


def test_find_regexps_go_lets_into_another_environment_are_refused(tmp_path):
    matched = go_matches(tmp_path, FIND_BYPASSES + FIND_REFUSED, KEYS)
    for pattern in FIND_BYPASSES:
        outside = [k for k in matched[pattern] or [] if conventions.reference_env_tokens(k) != {ENV}]
        assert outside, f"Go matches no key outside {ENV} by {pattern!r}"
        assert _find_problem(None, pattern, ENV), f"the pack admits {pattern!r}, which Go matches against {outside}"
    for pattern in FIND_REFUSED:
        assert _find_problem(None, pattern, ENV), pattern
