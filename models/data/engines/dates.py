"""Dates on generated pages, drawn around one fixed day rather than the day they are made.

Faker's relative dates ("-2y", "today", fake.date()) read the clock, so the same seed gave a
different page tomorrow; these draw between fixed days from the document's own Faker (seeded)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from faker import Faker

# "Today" on every generated page.
REFERENCE_DAY = date(2025, 6, 30)
YEAR = 365


def day(fake: Faker, start_days: int, end_days: int) -> date:
    """A day between REFERENCE_DAY + start_days and REFERENCE_DAY + end_days."""
    return fake.date_between_dates(
        REFERENCE_DAY + timedelta(days=start_days), REFERENCE_DAY + timedelta(days=end_days)
    )


def moment(fake: Faker, start_days: int, end_days: int) -> datetime:
    """A date and time in the same window."""
    start = datetime.combine(REFERENCE_DAY + timedelta(days=start_days), time())
    end = datetime.combine(REFERENCE_DAY + timedelta(days=end_days), time(23, 59))
    return fake.date_time_between_dates(start, end)
