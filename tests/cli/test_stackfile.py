"""The rotation edit is a targeted line edit: comments, quoting and order survive."""

from __future__ import annotations

import datetime as dt

import pytest

from secrets_platform.cli.errors import InputError
from secrets_platform.cli.stackfile import bump_rotation, next_rotation

TEXT = """# header comment
config:
  secrets-platform:credentials:
    # the warehouse
    - service: snowflake
      namespaces: [dagster]
      rotation: '2026-11-01'  # last: November
      generated:
        - key: SNOWFLAKE_PASSWORD
    - namespaces: [dagster]
      service: minio
      generated:
        - key: MINIO_ROOT_PASSWORD
  secrets-platform:other: x
"""


def test_quoting_and_trailing_comment_kept():
    out = bump_rotation(TEXT, "snowflake", "2026-12-01", "f")
    assert "      rotation: '2026-12-01'  # last: November\n" in out
    assert out.replace("2026-12-01", "2026-11-01") == TEXT


def test_missing_rotation_is_inserted_after_service():
    out = bump_rotation(TEXT, "minio", "2", "f")
    assert '      service: minio\n      rotation: "2"\n' in out


def test_unknown_service_and_flow_style_refused():
    with pytest.raises(InputError, match="no credential bundle with service 'oracle'"):
        bump_rotation(TEXT, "oracle", "2", "f")
    with pytest.raises(InputError, match="flow style"):
        bump_rotation("config:\n  secrets-platform:credentials: [{service: a}]\n", "a", "2", "f")


@pytest.mark.parametrize(
    "current, expected",
    [
        ("1", "2026-11-25"),
        ("41", "2026-11-25"),
        ("2026-11-01", "2026-11-25"),
        ("2026-11-25", "2026-11-25-2"),
        ("2026-11-25-2", "2026-11-25-3"),
        ("v1", "2026-11-25"),
    ],
)
def test_next_rotation(current, expected):
    assert next_rotation(current, dt.date(2026, 11, 25)) == expected
