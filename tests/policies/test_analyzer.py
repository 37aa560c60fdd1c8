"""secrets_platform/policies/analyzer.py answers exactly as pulumi_policy's own servicer does.

The corpus (tests/policies/analyzer_corpus.py) is what the engine sends the pack:
every registration of the real program for each stack, variants of each custom
resource (another environment's URN, every string unknown, with a provider), and
resources of the kinds the program does not register, so that every rule of the
pack reports at least once. Both servicers answer every ``Analyze``, ``Remediate``
and ``AnalyzeStack`` request; their responses must be byte for byte the same, under
the default config and under a policy config that disables one rule, exempts
resources and sets one rule to ``remediate``. A servicer that skipped any one rule
fails that comparison (checked for each rule).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import analyzer_corpus as corpus_
import pytest
from google.protobuf import json_format
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.deserialize import SPECIAL_ARCHIVE_SIG, SPECIAL_ASSET_SIG, SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY

from secrets_platform.policies import analyzer, wire
from secrets_platform.policies.rules import ALL_POLICIES

ARGS = ("secrets-platform", "0.1.0", ALL_POLICIES, EnforcementLevel.MANDATORY)


@pytest.fixture(scope="module")
def program() -> dict[str, list[Any]]:
    return {stack: corpus_.program_requests(stack) for stack in corpus_.STACKS}


@pytest.fixture(scope="module")
def corpus(program) -> list[Any]:
    return [request for requests in program.values() for request in requests] + corpus_.fixture_requests()


@pytest.fixture(scope="module")
def stacks(program) -> list[Any]:
    return corpus_.stack_requests(program, corpus_.fixture_requests())


def _servicers(config: dict[str, Any] | None, policies: list[Any] = ALL_POLICIES):
    import pulumi_policy.policy as upstream

    assert analyzer.WRITTEN_FOR == upstream.VERSION, "re-check secrets_platform/policies/analyzer.py against this pulumi_policy"
    args = (ARGS[0], ARGS[1], policies, ARGS[3])
    theirs, ours = upstream._PolicyAnalyzerServicer(*args), analyzer.servicer_class()(*args)
    if config:
        request = proto.ConfigureAnalyzerRequest(policyConfig=config)
        theirs.Configure(request, None)
        ours.Configure(request, None)
    return theirs, ours


def _policy_config() -> dict[str, Any]:
    names = [p.name for p in ALL_POLICIES]
    return {
        names[0]: proto.PolicyConfig(enforcementLevel=proto.EnforcementLevel.DISABLED),
        names[1]: proto.PolicyConfig(enforcementLevel=proto.EnforcementLevel.REMEDIATE),
        names[2]: proto.PolicyConfig(
            enforcementLevel=proto.EnforcementLevel.ADVISORY,
            properties=corpus_.struct({"exemptResources": ["dagster-warehouse", "floe-jobs"]}),
        ),
        "isolation-stack-single-env": proto.PolicyConfig(properties=corpus_.struct({"exemptResources": ["secrets-platform-dev"]})),
    }


def _bytes(message: Any) -> bytes:
    return message.SerializeToString(deterministic=True)


def _differences(theirs: Any, ours: Any, requests: list[Any], stacks: list[Any]) -> Counter[str]:
    """Requests whose answers differ, by method; the policies pulumi_policy reported are counted under ``reported:``."""
    seen: Counter[str] = Counter()
    for request in requests:
        expected = theirs.Analyze(request, None)
        seen.update(f"reported:{d.policyName}" for d in expected.diagnostics)
        seen["Analyze"] += _bytes(ours.Analyze(request, None)) != _bytes(expected)
        seen["Remediate"] += _bytes(ours.Remediate(request, None)) != _bytes(theirs.Remediate(request, None))
    for request in stacks:
        expected = theirs.AnalyzeStack(request, None)
        seen.update(f"reported:{d.policyName}" for d in expected.diagnostics)
        seen["AnalyzeStack"] += _bytes(ours.AnalyzeStack(request, None)) != _bytes(expected)
    return seen


@pytest.mark.parametrize("configured", [False, True], ids=["default-config", "policy-config"])
def test_every_response_is_pulumi_policys(corpus, stacks, configured):
    theirs, ours = _servicers(_policy_config() if configured else None)
    seen = _differences(theirs, ours, corpus, stacks)
    assert (seen["Analyze"], seen["Remediate"], seen["AnalyzeStack"]) == (0, 0, 0)
    # The corpus makes every rule report (but the one the config disables), so every rule's answers are compared.
    reported = {key.removeprefix("reported:") for key in seen if key.startswith("reported:")}
    disabled = {ALL_POLICIES[0].name} if configured else set()
    assert reported == {p.name for p in ALL_POLICIES} - disabled


@pytest.fixture(scope="module")
def reports(corpus, stacks) -> dict[str, tuple[list[Any], list[Any]]]:
    """Per policy, the requests (resource, stack) on which pulumi_policy reports it."""
    theirs, _ = _servicers(None)
    out: dict[str, tuple[list[Any], list[Any]]] = {p.name: ([], []) for p in ALL_POLICIES}
    for request in corpus:
        for name in {d.policyName for d in theirs.Analyze(request, None).diagnostics}:
            out[name][0].append(request)
    for request in stacks:
        for name in {d.policyName for d in theirs.AnalyzeStack(request, None).diagnostics}:
            out[name][1].append(request)
    return out


@pytest.mark.parametrize("dropped", [p.name for p in ALL_POLICIES])
def test_a_servicer_that_skips_any_one_rule_fails_the_comparison(reports, dropped):
    theirs, ours = _servicers(None)
    ours._resource_policies = [p for p in ours._resource_policies if p.name != dropped]
    ours._stack_policies = [p for p in ours._stack_policies if p.name != dropped]
    requests, stacks = reports[dropped]
    seen = _differences(theirs, ours, requests, stacks)
    assert seen["Analyze"] + seen["AnalyzeStack"] > 0


def _by_upstream(report_on: str):
    """Policies that are not the pack's rules (no ``judge``), so pulumi_policy's own loop answers for them."""

    def resource(args, report):
        props = args.props
        if "metadata" in props and report_on in str(props["metadata"].get("name", "")):
            report(f"named {report_on}")
        if args.resource_type.endswith(":Namespace"):
            args.not_applicable("not for namespaces")

    def stack(args, report):
        report(f"{len(args.resources)} resources", args.resources[0].urn if args.resources else None)

    return [
        ResourceValidationPolicy("upstream-resource", "answered by pulumi_policy", resource, EnforcementLevel.ADVISORY),
        StackValidationPolicy("upstream-stack", "answered by pulumi_policy", stack, EnforcementLevel.MANDATORY),
    ]


def test_other_policies_between_the_packs_are_answered_in_order(corpus, stacks):
    policies = ALL_POLICIES[:3] + _by_upstream("credentials") + ALL_POLICIES[3:]
    theirs, ours = _servicers(None, policies)
    seen = _differences(theirs, ours, corpus, stacks)
    assert (seen["Analyze"], seen["Remediate"], seen["AnalyzeStack"]) == (0, 0, 0)
    assert seen["reported:upstream-resource"] > 0 and seen["reported:upstream-stack"] == len(stacks)


# --------------------------------------------------------------------------- the decoding


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1.0 is not 1, nor True) and dict keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if hasattr(a, "__dict__"):
        return _same(vars(a), vars(b))
    return a == b


def test_the_view_is_pulumi_policys_decoding_made_plain(corpus):
    structs = [r.properties for r in corpus] + [r.provider.properties for r in corpus if r.HasField("provider")]
    for s in structs:
        assert _same(wire.plain_struct(s), wire.upstream_plain(s)), json_format.MessageToDict(s)
    assert any(wire.SENTINELS & set(str(json_format.MessageToDict(s)).split("'")) for s in structs)


SIG, SECRET, ASSET, ARCHIVE = SPECIAL_SIG_KEY, SPECIAL_SECRET_SIG, SPECIAL_ASSET_SIG, SPECIAL_ARCHIVE_SIG


@pytest.mark.parametrize(
    "props",
    [
        {"a": {SIG: SECRET, "value": {"b": [1, 2.5, True, None, {SIG: SECRET, "value": "x"}]}}},
        {"asset": {SIG: ASSET, "text": "hello"}, "n": 3},
        {"archive": {SIG: ARCHIVE, "assets": {"f": {SIG: ASSET, "path": "/tmp/f"}}}},
        {SIG: SECRET, "value": "the top level is a map"},
        {"list": [[], {}, "", 0, -0.0, 1e300]},
    ],
    ids=["secrets", "asset", "archive", "top-level-signature", "edges"],
)
def test_uncommon_values_decode_as_pulumi_policy_decodes_them(props):
    s = corpus_.struct(props)
    assert _same(wire.plain_struct(s), wire.upstream_plain(s))


@pytest.mark.parametrize(
    "props",
    [{"n": math.inf}, {"n": [math.nan]}, {"x": {SIG: "not-a-known-signature"}}, {"x": {SIG: SECRET}}],
    ids=["inf", "nan", "sig", "secret"],
)
def test_what_pulumi_policy_refuses_raises_its_own_error(props):
    s = corpus_.struct(props)
    with pytest.raises(Exception) as theirs:
        wire.upstream_plain(s)
    with pytest.raises(Exception) as ours:
        wire.plain_struct(s)
    assert (type(ours.value), str(ours.value)) == (type(theirs.value), str(theirs.value))


def test_a_resource_no_policy_concerns_is_not_decoded(corpus, monkeypatch):
    import pulumi_policy.policy as upstream

    _, ours = _servicers(None)
    component = next(r for r in corpus if r.type.startswith("secrets-platform:"))
    calls = []

    def decode(*a, **k):
        calls.append(a)
        return {}

    monkeypatch.setattr(upstream.json_format, "MessageToDict", decode)
    monkeypatch.setattr(wire, "plain_struct", decode)
    assert ours.Analyze(component, None) == proto.AnalyzeResponse()
    assert ours.Remediate(component, None) == proto.RemediateResponse()
    assert calls == []


def test_each_request_is_decoded_once_for_all_its_rules(corpus, monkeypatch):
    _, ours = _servicers(None)
    secret = next(r for r in corpus if r.type == "kubernetes:core/v1:Secret" and not r.HasField("provider"))
    assert len(ours._policies_for(secret.type)) > 5
    real, calls = wire.plain_struct, []

    def counted(s):
        calls.append(s)
        return real(s)

    monkeypatch.setattr(wire, "plain_struct", counted)
    assert ours.Analyze(secret, None).diagnostics is not None
    assert len(calls) == 1


# --------------------------------------------------------------------------- filters, settings, installation
def test_policies_without_a_type_filter_always_run():

    seen = []
    unfiltered = ResourceValidationPolicy("unfiltered", "no type filter", lambda args, report: seen.append(args.resource_type))
    ours = analyzer.servicer_class()("p", "0.1.0", [unfiltered], EnforcementLevel.MANDATORY)
    ours.Analyze(proto.AnalyzeRequest(type="any:module:Type", urn="urn:pulumi:dev::p::any:module:Type::x", name="x"), None)
    assert seen == ["any:module:Type"]
    assert analyzer.type_filter(unfiltered) is None
    assert all(analyzer.type_filter(p) is not None for p in ALL_POLICIES if isinstance(p, ResourceValidationPolicy))


def test_runtime_settings_are_reread_only_when_their_variables_change(monkeypatch):
    import pulumi
    import pulumi_policy.policy as upstream

    monkeypatch.setattr(pulumi.runtime.settings, "SETTINGS", pulumi.runtime.settings.SETTINGS)  # restored after
    parsed = []
    real = upstream.pulumi.runtime.get_config_env

    def get_config_env():
        parsed.append(1)
        return real()

    monkeypatch.setattr(upstream.pulumi.runtime, "get_config_env", get_config_env)
    monkeypatch.setenv("PULUMI_CONFIG", '{"test-analyzer:unread": "1"}')
    monkeypatch.setenv("PULUMI_PROJECT", "secrets-platform")
    monkeypatch.setenv("PULUMI_STACK", "dev")
    monkeypatch.setenv("PULUMI_DRY_RUN", "true")
    _, ours = _servicers(None)
    request = proto.AnalyzeRequest(
        type="kubernetes:core/v1:Namespace", urn="urn:pulumi:dev::secrets-platform::kubernetes:core/v1:Namespace::ns", name="ns"
    )
    ours.Analyze(request, None)
    ours.Analyze(request, None)
    assert len(parsed) == 1 and pulumi.get_stack() == "dev"
    monkeypatch.setenv("PULUMI_STACK", "stg")
    ours.Analyze(request, None)
    assert len(parsed) == 2 and pulumi.get_stack() == "stg"
    pulumi.runtime.config.CONFIG.get().pop("test-analyzer:unread", None)


def test_another_pulumi_policy_version_keeps_its_own_analyzer(monkeypatch, capsys):
    import pulumi_policy.policy as upstream

    original = upstream._PolicyAnalyzerServicer
    monkeypatch.setattr(upstream, "VERSION", "9.9.9")
    assert analyzer.install() is False
    assert upstream._PolicyAnalyzerServicer is original
    assert "pulumi_policy 9.9.9 is installed" in capsys.readouterr().err


def test_install_swaps_the_servicer_pulumi_policy_serves(monkeypatch):
    import pulumi_policy.policy as upstream

    monkeypatch.setattr(upstream, "_PolicyAnalyzerServicer", upstream._PolicyAnalyzerServicer)
    assert analyzer.install() is True
    assert upstream._PolicyAnalyzerServicer.__name__ == "SharedViewAnalyzerServicer"
