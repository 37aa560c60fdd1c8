"""The names the audit reads a ServiceAccount from: the API server's user and GCP's Workload Identity principals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from secrets_platform import conventions as c

PROPERTY = hsettings(max_examples=120, deadline=None, database=None)
LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True)
PROJECT = st.from_regex(r"[a-z][a-z0-9-]{4,20}[a-z0-9]", fullmatch=True)
NUMBER = st.from_regex(r"[1-9][0-9]{5,12}", fullmatch=True)


@PROPERTY
@given(namespace=LABEL, name=LABEL)
def test_a_service_account_user_round_trips(namespace: str, name: str) -> None:
    user = c.kubernetes_service_account_user(namespace, name)
    assert c.parse_kubernetes_service_account_user(user) == c.ObjectKey(namespace, name)


@PROPERTY
@given(number=NUMBER, project=PROJECT, namespace=LABEL, name=LABEL)
def test_both_spellings_of_a_workload_identity_principal_name_the_service_account(number, project, namespace, name) -> None:
    principal = c.workload_identity_principal(number, project, namespace, name)
    member = c.workload_identity_member(project, namespace, name)
    assert c.parse_workload_identity_principal(principal) == c.ObjectKey(namespace, name)
    assert c.parse_workload_identity_principal(member) == c.ObjectKey(namespace, name)


@pytest.mark.parametrize(
    "parse, bad",
    [
        (c.parse_kubernetes_service_account_user, "system:serviceaccount:dagster-prd"),
        (c.parse_kubernetes_service_account_user, "alice@example.com"),
        (c.parse_workload_identity_principal, "serviceAccount:eso-prd@p.iam.gserviceaccount.com"),
        (
            c.parse_workload_identity_principal,
            "principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p.svc.id.goog/subject/ns/a",
        ),
    ],
)
def test_what_names_no_service_account_is_refused_naming_the_value(parse, bad: str) -> None:
    with pytest.raises(c.ConventionError, match="is not of the form") as err:
        parse(bad)
    assert repr(bad) in str(err.value)
