"""How old a credential bundle is, from its rotation value, against its maxAge.

The rotation value is a date when it is ``YYYY-MM-DD`` (optionally ``-N`` for the Nth
rotation of that day, what ``rotate`` writes). Anything else (a counter such as ``"1"``)
says nothing about time: the age is *unknown*, reported as such, never as fresh. So is a
date after tomorrow (UTC): no bundle was rotated then, and a typo such as ``2062-11-01``
must not read as fresh for decades.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from secrets_platform.settings.model import parse_duration

_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(-\d+)?\Z")


@dataclass(frozen=True)
class Age:
    rotated: dt.date | None
    days: int | None
    max_age: str | None
    overdue: bool | None
    """None when the age is unknown or there is no target."""
    future: bool = False
    """The rotation value is a date after tomorrow: age unknown."""

    @property
    def age_text(self) -> str:
        return "unknown" if self.days is None else f"{self.days}d"

    @property
    def overdue_text(self) -> str:
        if self.max_age is None:
            return "-"
        if self.overdue is None:
            return "unknown"
        return "OVERDUE" if self.overdue else "no"

    def as_json(self) -> dict:
        return {
            "rotated": self.rotated.isoformat() if self.rotated else None,
            "ageDays": self.days,
            "maxAge": self.max_age,
            "overdue": self.overdue,
        }


def rotation_date(value: str | None) -> dt.date | None:
    m = _DATE.match(value or "")
    if not m:
        return None
    try:
        return dt.date.fromisoformat(m.group(1))
    except ValueError:
        return None


def age(rotation: str | None, max_age: str | None, now: dt.datetime | None = None) -> Age:
    now = now or dt.datetime.now(dt.timezone.utc)
    day = rotation_date(rotation)
    if day is None:
        return Age(None, None, max_age, None)
    since = now - dt.datetime.combine(day, dt.time(), dt.timezone.utc)
    if since < -dt.timedelta(days=1):  # a day of slack: a date written in a timezone ahead of UTC
        return Age(day, None, max_age, None, future=True)
    overdue = since > parse_duration(max_age) if max_age else None
    return Age(day, max(since.days, 0), max_age, overdue)


def bundle_ages(settings, now: dt.datetime | None = None) -> dict[str, Age]:
    """service -> Age of every bundle whose values the platform generates (others rotate at their source)."""
    return {c.service: age(c.rotation, c.effective_max_age(settings.environment), now) for c in settings.config.credentials if c.generated}
