"""secrets_platform/policies/analyzer.py answers exactly as pulumi_policy's own servicer does.

The corpus is what the engine sends the pack: every registration of the real
program for each stack (components included) as an ``AnalyzeRequest``, plus, so
that rules have something to report, each custom resource again under another
environment's URN, with every string unknown (preview), and with a provider.
Both servicers answer every request; their responses must be byte for byte the
same, under the default config and under a policy config that disables one rule,
exempts resources and sets one rule to ``remediate``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

import mocks
from secrets_platform.policies import analyzer
from secrets_platform.policies.rules import ALL_POLICIES

SIGNATURE = "4dabf18193072939515e22adb298388d"  # the wire form's special-value key
STACKS = ("local", "dev", "stg", "prd")
OTHER = {"local": "prd", "dev": "prd", "stg": "dev", "prd": "dev"}


def _program_requests(stack: str) -> list[Any]:
    import support  # tests/support.py
    from secrets_platform.components.platform import build

    settings = support.stack_settings(stack)
    monitor = mocks.evaluate(lambda: build(settings).outputs(), settings.stack)
    provider = proto.AnalyzerProviderResource(
        type="pulumi:providers:kubernetes",
        urn=f"urn:pulumi:{stack}::secrets-platform::pulumi:providers:kubernetes::kubernetes-{stack}",
        name=f"kubernetes-{stack}",
        properties=_struct({"renderYamlToDirectory": "rendered/local", "enableServerSideApply": "true"}),
    )
    out = []
    for r in monitor.registered:
        options = proto.AnalyzerResourceOptions(protect=r.protect, parent=r.parent)
        out.append(proto.AnalyzeRequest(type=r.type, properties=r.object, urn=r.urn, name=r.name, options=options))
        if not r.custom:
            continue
        wrong = r.urn.replace(f"urn:pulumi:{stack}::", f"urn:pulumi:{OTHER[stack]}::", 1)
        out.append(proto.AnalyzeRequest(type=r.type, properties=r.object, urn=wrong, name=r.name, options=options))
        unknown = _struct(_unknown_strings(json_format.MessageToDict(r.object)))
        out.append(proto.AnalyzeRequest(type=r.type, properties=unknown, urn=r.urn, name=r.name, options=options))
        out.append(proto.AnalyzeRequest(type=r.type, properties=r.object, urn=r.urn, name=r.name, options=options, provider=provider))
    return out


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(value)
    return s


def _unknown_strings(value: Any) -> Any:
    if isinstance(value, dict) and SIGNATURE in value:  # a secret or asset: unknown as a whole
        return UNKNOWN_STRING_VALUE
    if isinstance(value, dict):
        return {k: _unknown_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknown_strings(v) for v in value]
    return UNKNOWN_STRING_VALUE if isinstance(value, str) else value


@pytest.fixture(scope="module")
def corpus() -> list[Any]:
    return [request for stack in STACKS for request in _program_requests(stack)]


def _servicers(config: dict[str, Any] | None):
    import pulumi_policy.policy as upstream

    assert analyzer.WRITTEN_FOR == upstream.VERSION, "re-check secrets_platform/policies/analyzer.py against this pulumi_policy"
    args = ("secrets-platform", "0.1.0", ALL_POLICIES, EnforcementLevel.MANDATORY)
    theirs, ours = upstream._PolicyAnalyzerServicer(*args), analyzer.filtered_servicer_class()(*args)
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
            properties=_struct({"exemptResources": ["dagster-warehouse", "floe-jobs"]}),
        ),
    }


@pytest.mark.parametrize("configured", [False, True], ids=["default-config", "policy-config"])
def test_every_response_is_pulumi_policys(corpus, configured):
    theirs, ours = _servicers(_policy_config() if configured else None)
    reported: Counter[str] = Counter()
    for request in corpus:
        expected = theirs.Analyze(request, None)
        got = ours.Analyze(request, None)
        assert got.SerializeToString(deterministic=True) == expected.SerializeToString(deterministic=True), request.urn
        reported.update(d.policyName for d in expected.diagnostics)
        remediate = proto.AnalyzeRequest()
        remediate.CopyFrom(request)
        assert ours.Remediate(remediate, None).SerializeToString(deterministic=True) == theirs.Remediate(remediate, None).SerializeToString(
            deterministic=True
        ), request.urn
    # The corpus makes rules report, so the comparison covers diagnostics, not only empty answers.
    assert sum(reported.values()) > 100 and len(reported) >= 8, reported


def test_a_resource_no_policy_concerns_is_not_decoded(corpus, monkeypatch):
    import pulumi_policy.policy as upstream

    _, ours = _servicers(None)
    component = next(r for r in corpus if r.type.startswith("secrets-platform:"))
    calls = []

    def message_to_dict(*a, **k):
        calls.append(a)
        return {}

    monkeypatch.setattr(upstream.json_format, "MessageToDict", message_to_dict)
    assert ours.Analyze(component, None) == proto.AnalyzeResponse()
    assert ours.Remediate(component, None) == proto.RemediateResponse()
    assert calls == []


def test_policies_without_a_type_filter_always_run():
    from pulumi_policy import ResourceValidationPolicy

    seen = []
    unfiltered = ResourceValidationPolicy("unfiltered", "no type filter", lambda args, report: seen.append(args.resource_type))
    ours = analyzer.filtered_servicer_class()("p", "0.1.0", [unfiltered], EnforcementLevel.MANDATORY)
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
    assert upstream._PolicyAnalyzerServicer.__name__ == "FilteredAnalyzerServicer"
