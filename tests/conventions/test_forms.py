"""A Form declares a name once: what it builds is what it parses, and its error quotes the same template."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from secrets_platform import conventions as c

CREDS = c.Form("creds path", "{mount}/creds/{role}", mount=r"[a-z]+", role=r"[a-z]+")
ANNOTATION = c.Form("annotation", "example.com/inject-{kind}-{file}", kind=("secret", "template"), file=r"[a-z.]+")


@hsettings(max_examples=60, deadline=None, database=None)
@given(st.from_regex(r"[a-z]{1,6}", fullmatch=True), st.from_regex(r"[a-z]{1,6}", fullmatch=True))
def test_a_form_parses_what_it_builds(mount: str, role: str) -> None:
    assert CREDS.parse(CREDS.build(mount=mount, role=role)) == {"mount": mount, "role": role}


@pytest.mark.parametrize("bad", ["", "db/creds/", "db/creds/r/x", "db/creds/r\n", "Db/creds/r", "db/cred/r"])
def test_a_form_refuses_other_values_quoting_its_template(bad: str) -> None:
    with pytest.raises(c.ConventionError) as e:
        CREDS.parse(bad)
    assert str(e.value) == f"creds path {bad!r} is not of the form '<mount>/creds/<role>'"


def test_a_field_of_given_words_is_only_one_of_them_and_shows_them_all() -> None:
    assert ANNOTATION.parse("example.com/inject-template-a.txt") == {"kind": "template", "file": "a.txt"}
    with pytest.raises(c.ConventionError, match=r"is not of the form 'example\.com/inject-<secret\|template>-<file>'$"):
        ANNOTATION.parse("example.com/inject-other-a.txt")
    # the template's literal text is literal, not a pattern: '.' is a dot
    with pytest.raises(c.ConventionError):
        ANNOTATION.parse("exampleXcom/inject-secret-a")


@pytest.mark.parametrize("template", ["{mount}/creds/{role}", "{mount!r}/creds", "{mount:>5}/creds"])
def test_a_template_field_needs_its_pattern_and_takes_no_format(template: str) -> None:
    with pytest.raises(ValueError, match="needs a pattern"):
        c.Form("creds path", template, mount=r"[a-z]+")
