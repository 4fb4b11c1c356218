"""Months, report deadlines and the periods standings are computed over.

Deadlines are wall-clock rules of the ward ("month M locks after day 5 of M+1", in the
ward's timezone) but jobs and rows work in UTC instants; this module is the one place
that converts between the two, so the edge cases are pinned once.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, get_month_names

from bot.answers import fold
from bot.i18n import gettext as _
from bot.i18n import pick_language

_ROMAN = ("I", "II", "III", "IV")
# Years people may name: far from the ends of the calendar (9999-12 has no next month), and a period
# can span at most MAX_PERIOD_MONTHS, so no typed period makes the bot compute for minutes.
FIRST_YEAR, LAST_YEAR = 2000, 2999
MAX_PERIOD_MONTHS = 120


@dataclass(frozen=True, order=True, slots=True)
class Month:
    """A calendar month, the unit a group reports for; orders by time."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1 <= self.year <= 9999:
            raise ValueError(f"no such month: {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """The month written as "2026-10" (the form `str()` gives and storage keeps), ASCII digits only.

        For a month a person typed or a button carries, use `parse_month`, which also bounds the year.
        """
        found = re.fullmatch(r"\s*([0-9]{4})-([0-9]{1,2})\s*", text)
        if found is None:
            raise ValueError(f"not a month (expected YYYY-MM): {text[:40]!r}")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, day: date) -> Month:
        """The month `day` falls in."""
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def shifted(self, months: int) -> Month:
        """The month `months` later (earlier when negative)."""
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def next(self) -> Month:
        return self.shifted(1)

    def previous(self) -> Month:
        return self.shifted(-1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def label(self, language: str) -> str:
        """ "Tháng 10/2026" or "October 2026"."""
        if pick_language(language) == "en":
            return str(format_date(self.first_day, "MMMM y", locale="en"))
        return f"Tháng {self.month}/{self.year}"


def _named_year(year: int) -> int:
    """A year someone typed, when it is one people may name."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"the year must be from {FIRST_YEAR} to {LAST_YEAR}, not {year}")
    return year


def _named_month(year: int, month: int) -> Month:
    """A month someone typed or a button carries, within the years people may name."""
    return Month(_named_year(year), month)


def parse_month(text: str, *, today: date | None = None) -> Month:
    """A month a person typed ("2026-10", or as people write it: "10/2026", "tháng 10/2026", "October
    2026") or a button carries, in the years FIRST_YEAR to LAST_YEAR; anything else ("2026-13",
    "9999-12", "²⁰²⁶-10", a quarter) is a ValueError."""
    try:
        month = Month.parse(text)
    except ValueError:
        period = parse_period(text, today=today)  # "tháng 10": the latest October by `today`
        if period.kind is not PeriodKind.MONTH:
            raise ValueError(f"not a month: {text[:40]!r}") from None
        return period.first
    return _named_month(month.year, month.month)


# --- deadlines -------------------------------------------------------------------------------


def _check_deadline_day(deadline_day: int) -> None:
    if not 1 <= deadline_day <= 31:
        raise ValueError(f"deadline day must be 1–31, not {deadline_day}")


def _aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def deadline_date(month: Month, deadline_day: int) -> date:
    """The last local day to report for `month`: day `deadline_day` of the next month.

    A day the next month lacks (30 in February) means its last day.
    """
    _check_deadline_day(deadline_day)
    following = month.next()
    return date(following.year, following.month, min(deadline_day, following.last_day.day))


def lock_time(month: Month, deadline_day: int, tz: ZoneInfo) -> datetime:
    """The UTC instant `month` locks: 00:00 local on the day after its deadline day."""
    lock_day = deadline_date(month, deadline_day) + timedelta(days=1)
    return datetime.combine(lock_day, time(0), tzinfo=tz).astimezone(UTC)


def is_locked(month: Month, now: datetime, deadline_day: int, tz: ZoneInfo) -> bool:
    """Whether reports for `month` can no longer be changed (without staff reopening them)."""
    _aware(now)
    return now >= lock_time(month, deadline_day, tz)


def open_months(now: datetime, deadline_day: int, tz: ZoneInfo) -> list[Month]:
    """Months a head may report for at `now`, newest first: this local month, and the
    previous one until it locks."""
    _aware(now)
    current = Month.of(now.astimezone(tz).date())
    months = [current]
    if not is_locked(current.previous(), now, deadline_day, tz):
        months.append(current.previous())
    return months


def reminder_times(
    month: Month, deadline_day: int, days_before: Sequence[int], tz: ZoneInfo, hour: int = 8
) -> list[datetime]:
    """When to remind groups that have not reported for `month`, as sorted UTC instants:
    `hour`:00 local, `n` days before the deadline day, for each `n` in `days_before`."""
    if not 0 <= hour <= 23:
        raise ValueError(f"hour must be 0–23, not {hour}")
    if any(days < 0 for days in days_before):
        raise ValueError("days before the deadline cannot be negative")
    deadline = deadline_date(month, deadline_day)
    times = {
        datetime.combine(deadline - timedelta(days=days), time(hour), tzinfo=tz).astimezone(UTC)
        for days in days_before
    }
    return sorted(times)


# --- standings periods -------------------------------------------------------------------------


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    RANGE = "range"


@dataclass(frozen=True)
class Period:
    """The months one standings table covers, with a canonical key and a label.

    A YEAR period may stop before December (year to date); its key is still the year.
    """

    kind: PeriodKind
    first: Month
    last: Month

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise ValueError(f"period starts after it ends: {self.first}..{self.last}")
        same_year = self.first.year == self.last.year
        if self.kind is PeriodKind.MONTH and self.first != self.last:
            raise ValueError("a month period has one month")
        if self.kind is PeriodKind.QUARTER and (
            self.first.month % 3 != 1 or self.last != self.first.shifted(2)
        ):
            raise ValueError("a quarter period is three months from January, April, July or October")
        if self.kind is PeriodKind.YEAR and (self.first.month != 1 or not same_year):
            raise ValueError("a year period starts in January and stays within the year")

    @property
    def months(self) -> list[Month]:
        """Every month of the period, oldest first."""
        count = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month
        return [self.first.shifted(step) for step in range(count + 1)]

    def __contains__(self, month: object) -> bool:
        return isinstance(month, Month) and self.first <= month <= self.last

    @property
    def quarter(self) -> int:
        """The quarter (1–4) the period starts in."""
        return (self.first.month - 1) // 3 + 1

    @property
    def key(self) -> str:
        """Canonical text: "2026-10", "2026-Q3", "2026" or "2026-03..2026-08"; parses back."""
        if self.kind is PeriodKind.MONTH:
            return str(self.first)
        if self.kind is PeriodKind.QUARTER:
            return f"{self.first.year}-Q{self.quarter}"
        if self.kind is PeriodKind.YEAR:
            return str(self.first.year)
        return f"{self.first}..{self.last}"

    def label(self, language: str) -> str:
        """How the period is named to people, e.g. "Quý III/2026" or "Q3 2026"."""
        english = pick_language(language) == "en"
        year = self.first.year
        if self.kind is PeriodKind.MONTH:
            return self.first.label(language)
        if self.kind is PeriodKind.QUARTER:
            return f"Q{self.quarter} {year}" if english else f"Quý {_ROMAN[self.quarter - 1]}/{year}"
        if self.kind is PeriodKind.YEAR:
            return str(year) if english else f"Năm {year}"
        return f"{self.first.month:02d}/{self.first.year}–{self.last.month:02d}/{self.last.year}"


def month_period(m: Month) -> Period:
    return Period(PeriodKind.MONTH, m, m)


def quarter_period(year: int, quarter: int) -> Period:
    if not 1 <= quarter <= 4:
        raise ValueError(f"no such quarter: {quarter}")
    first = Month(year, quarter * 3 - 2)
    return Period(PeriodKind.QUARTER, first, first.shifted(2))


def year_period(year: int, *, today: date | None = None) -> Period:
    """The year so far when it is the current one (by `today`), else the whole year."""
    today = date.today() if today is None else today
    last = Month.of(today) if today.year == year else Month(year, 12)
    return Period(PeriodKind.YEAR, Month(year, 1), last)


def range_period(first: Month, last: Month) -> Period:
    return Period(PeriodKind.RANGE, first, last)


@cache
def _english_months() -> dict[str, int]:
    names: dict[str, int] = {}
    for width in ("wide", "abbreviated"):
        for number, name in get_month_names(width, locale="en").items():
            names[str(name).casefold()] = int(number)
    return names


_MONTH_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})")
_MONTH_SLASH = re.compile(r"(?:thang ?)?([0-9]{1,2})/([0-9]{4})")
_MONTH_NAMED = re.compile(r"([a-z]+)\.? ([0-9]{4})")
_QUARTER_FIRST = re.compile(r"(?:q|quy ?)([1-4]|i|ii|iii|iv) ?[/ -]? ?([0-9]{4})")
_QUARTER_LAST = re.compile(r"([0-9]{4}) ?-? ?q([1-4])")
_YEAR = re.compile(r"(?:nam )?([0-9]{4})")
_MONTH_ALONE = re.compile(r"thang ?([0-9]{1,2})")  # "tháng 10": the latest October, this year or last
_RANGE = re.compile(r"(.+?) ?(?:\.\.|–|—) ?(.+)")
_ROMAN_NUMBER = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def _month_in(text: str) -> Month | None:
    for pattern in (_MONTH_ISO, _MONTH_SLASH):
        found = pattern.fullmatch(text)
        if found:
            first, second = found.groups()
            year, month = (first, second) if pattern is _MONTH_ISO else (second, first)
            return _named_month(int(year), int(month))
    named = _MONTH_NAMED.fullmatch(text)
    if named and named.group(1) in _english_months():
        return _named_month(int(named.group(2)), _english_months()[named.group(1)])
    return None


def _parse(text: str, today: date | None) -> Period:
    month = _month_in(text)
    if month is not None:
        return month_period(month)
    alone = _MONTH_ALONE.fullmatch(text)
    if alone and 1 <= int(alone.group(1)) <= 12:
        now = Month.of(date.today() if today is None else today)
        number = int(alone.group(1))
        return month_period(Month(now.year if number <= now.month else now.year - 1, number))
    found = _QUARTER_FIRST.fullmatch(text)
    if found:
        quarter, year = found.groups()
        return quarter_period(_named_year(int(year)), _ROMAN_NUMBER.get(quarter) or int(quarter))
    found = _QUARTER_LAST.fullmatch(text)
    if found:
        return quarter_period(_named_year(int(found.group(1))), int(found.group(2)))
    found = _YEAR.fullmatch(text)
    if found:
        return year_period(_named_year(int(found.group(1))), today=today)
    found = _RANGE.fullmatch(text)
    if found:
        first, last = (_month_in(part) for part in found.groups())
        if first is not None and last is not None:
            period = range_period(first, last)
            if len(period.months) > MAX_PERIOD_MONTHS:
                raise ValueError(f"a period spans at most {MAX_PERIOD_MONTHS} months")
            return period
    raise ValueError


def parse_period(text: str, *, today: date | None = None) -> Period:
    """The period someone typed or a key names.

    Accepts "2026-10", "10/2026", "2026-Q3", "Q3/2026", "2026", "2026-03..2026-08", "tháng 10" (the
    latest October by `today`), and the labels this module writes ("Tháng 10/2026", "Quý III/2026",
    "October 2026", …).
    A bare year is the year to date when it is the year of `today` (pass the ward's local
    date; the machine's date by default).
    """
    folded = " ".join(fold(text).split())
    try:
        return _parse(folded, today)
    except ValueError as error:
        detail = f" ({error})" if str(error) else ""
        raise ValueError(
            f"not a period: {text[:40]!r}{detail}; try 2026-10, 10/2026, 2026-Q3, 2026 or 2026-03..2026-08"
        ) from None


def period_not_understood() -> str:
    """The refusal of a period that `parse_period` cannot read, with examples, in the reader's language."""
    return _(
        "I do not understand that period. Examples: 2026-10 (a month), 2026-Q3 (a quarter), 2026 (a year)."
    )


def month_in_sentence(month: Month, language: str) -> str:
    """The month's name inside a sentence: "tháng 10/2026" in Vietnamese, "October 2026" in English."""
    return period_in_sentence(month_period(month), language)


def period_in_sentence(period: Period, language: str) -> str:
    """The period's name inside a sentence ("quý III/2026", "năm 2026"; English unchanged)."""
    label = period.label(language)
    return label[:1].lower() + label[1:] if language == "vi" else label


_DAY = re.compile(r"^\s*([0-9]{1,2})\s*[/.-]\s*([0-9]{1,2})\s*[/.-]\s*([0-9]{4})\s*$")


def parse_day(text: str) -> date | None:
    """A date typed as dd/mm/yyyy (or with . or -); None for anything else or a day that does not
    exist, such as 31/02/2026."""
    found = _DAY.match(text)
    if found is None:
        return None
    day, month, year = (int(part) for part in found.groups())
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def day_refusal(text: str) -> str:
    """Why `text` is not a date `parse_day` takes, in the current language: a day the calendar does not
    have (31/11/2026) is named as such, since its format is right and "type dd/mm/yyyy" would not help."""
    found = _DAY.match(text)
    if found is not None:
        day, month, year = (int(part) for part in found.groups())
        if FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12:
            last = calendar.monthrange(year, month)[1]
            if day > last:
                return _("{month}/{year} has {days} days, so there is no {date}. Type another date.").format(
                    month=f"{month:02d}", year=year, days=last, date=text.strip()
                )
        elif 1 <= day <= 31 and not 1 <= month <= 12:
            refusal = _("There is no month {month}: months go from 1 to 12. Type the date as dd/mm/yyyy.")
            return refusal.format(month=month)
    return _("Please type the date as dd/mm/yyyy, for example 01/12/2026.")
