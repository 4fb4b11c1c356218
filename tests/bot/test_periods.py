"""Months, deadlines in the ward's timezone, and standings periods."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.periods import (
    Month,
    Period,
    PeriodKind,
    deadline_date,
    is_locked,
    lock_time,
    month_period,
    open_months,
    parse_month,
    parse_period,
    quarter_period,
    range_period,
    reminder_times,
    year_period,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")  # UTC+7, no daylight saving
BERLIN = ZoneInfo("Europe/Berlin")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


# --- Month --------------------------------------------------------------------------------------


def test_month_basics() -> None:
    october = Month.parse("2026-10")
    assert october == Month(2026, 10)
    assert str(october) == "2026-10"
    assert str(Month(2026, 3)) == "2026-03"
    assert october.next() == Month(2026, 11)
    assert october.previous() == Month(2026, 9)
    assert Month(2026, 12).next() == Month(2027, 1)
    assert Month(2027, 1).previous() == Month(2026, 12)
    assert Month(2026, 10).shifted(-22) == Month(2024, 12)
    assert october.first_day == date(2026, 10, 1)
    assert october.last_day == date(2026, 10, 31)
    assert Month(2028, 2).last_day == date(2028, 2, 29)
    assert Month.of(date(2026, 10, 31)) == october
    assert Month(2026, 9) < october < Month(2027, 1)
    assert sorted([Month(2027, 1), Month(2026, 12), Month(2026, 2)]) == [
        Month(2026, 2),
        Month(2026, 12),
        Month(2027, 1),
    ]
    assert Month.parse(" 2026-3 ") == Month(2026, 3)


@pytest.mark.parametrize("text", ["", "2026", "2026-13", "2026-00", "10/2026", "2026-10-01", "abcd", "26-10"])
def test_month_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        Month.parse(text)


@pytest.mark.parametrize(("year", "month"), [(2026, 0), (2026, 13), (0, 5), (10000, 1)])
def test_no_such_month(year: int, month: int) -> None:
    with pytest.raises(ValueError):
        Month(year, month)


@pytest.mark.parametrize(
    ("month", "vi", "en"),
    [
        (Month(2026, 10), "Tháng 10/2026", "October 2026"),
        (Month(2027, 1), "Tháng 1/2027", "January 2027"),
        (Month(2026, 3), "Tháng 3/2026", "March 2026"),
    ],
)
def test_month_label(month: Month, vi: str, en: str) -> None:
    assert month.label("vi") == vi
    assert month.label("en") == en
    assert month.label("en-US") == en
    assert month.label("fr") == vi  # unknown language: the default


@given(
    st.integers(min_value=1000, max_value=8000),
    st.integers(min_value=1, max_value=12),
    st.integers(-9000, 9000),
)
def test_month_shift_and_parse_round_trip(year: int, month: int, steps: int) -> None:
    start = Month(year, month)
    assert Month.parse(str(start)) == start
    assert start.shifted(steps).shifted(-steps) == start
    assert start.next().previous() == start.previous().next() == start
    assert start.shifted(12) == Month(year + 1, month)


# --- deadlines --------------------------------------------------------------------------------------


def test_lock_time_is_midnight_after_the_deadline_day_in_the_wards_timezone() -> None:
    # October 2026 locks at the end of 5 November, Hanoi time: 6 Nov 00:00 +07 = 5 Nov 17:00 UTC.
    locked = lock_time(Month(2026, 10), 5, HCM)
    assert locked == utc(2026, 11, 5, 17, 0)
    assert locked.tzinfo is UTC
    assert locked.astimezone(HCM) == datetime(2026, 11, 6, tzinfo=HCM)


def test_the_last_second_before_lock() -> None:
    october = Month(2026, 10)
    assert not is_locked(october, utc(2026, 11, 5, 16, 59, 59), 5, HCM)
    assert not is_locked(october, utc(2026, 11, 5, 16, 59, 59, 999_999), 5, HCM)
    assert is_locked(october, utc(2026, 11, 5, 17, 0, 0), 5, HCM)
    # The same instant written in local time.
    assert not is_locked(october, datetime(2026, 11, 5, 23, 59, 59, tzinfo=HCM), 5, HCM)
    assert is_locked(october, datetime(2026, 11, 6, 0, 0, tzinfo=HCM), 5, HCM)


def test_december_locks_in_january_of_the_next_year() -> None:
    december = Month(2026, 12)
    assert deadline_date(december, 5) == date(2027, 1, 5)
    assert lock_time(december, 5, HCM) == utc(2027, 1, 5, 17)
    assert open_months(utc(2027, 1, 3, 2), 5, HCM) == [Month(2027, 1), Month(2026, 12)]
    assert open_months(utc(2027, 1, 5, 17), 5, HCM) == [Month(2027, 1)]


@pytest.mark.parametrize(
    ("month", "deadline_day", "deadline", "lock_local"),
    [
        (Month(2027, 1), 28, date(2027, 2, 28), datetime(2027, 3, 1)),
        (Month(2028, 1), 28, date(2028, 2, 28), datetime(2028, 2, 29)),  # leap year
        (Month(2027, 1), 29, date(2027, 2, 28), datetime(2027, 3, 1)),  # no 29 Feb: the last day
        (Month(2027, 1), 31, date(2027, 2, 28), datetime(2027, 3, 1)),
        (Month(2028, 1), 31, date(2028, 2, 29), datetime(2028, 3, 1)),
        (Month(2026, 3), 31, date(2026, 4, 30), datetime(2026, 5, 1)),
        (Month(2026, 10), 1, date(2026, 11, 1), datetime(2026, 11, 2)),
    ],
)
def test_deadline_days_the_next_month_may_lack(
    month: Month, deadline_day: int, deadline: date, lock_local: datetime
) -> None:
    assert deadline_date(month, deadline_day) == deadline
    assert lock_time(month, deadline_day, HCM) == lock_local.replace(tzinfo=HCM).astimezone(UTC)


def test_lock_time_follows_daylight_saving() -> None:
    # Berlin is on summer time (UTC+2) in early October and winter time (UTC+1) in early November.
    assert lock_time(Month(2026, 9), 5, BERLIN) == utc(2026, 10, 5, 22)
    assert lock_time(Month(2026, 10), 5, BERLIN) == utc(2026, 11, 5, 23)


@pytest.mark.parametrize("deadline_day", [0, 32, -1])
def test_deadline_day_out_of_range(deadline_day: int) -> None:
    with pytest.raises(ValueError):
        lock_time(Month(2026, 10), deadline_day, HCM)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2026, 11, 3, 3), [Month(2026, 11), Month(2026, 10)]),
        (utc(2026, 11, 5, 16, 59, 59), [Month(2026, 11), Month(2026, 10)]),
        (utc(2026, 11, 5, 17), [Month(2026, 11)]),
        (utc(2026, 11, 20), [Month(2026, 11)]),
        # 31 Oct 17:30 UTC is already 1 November 00:30 in Hanoi.
        (utc(2026, 10, 31, 17, 30), [Month(2026, 11), Month(2026, 10)]),
        (utc(2026, 10, 31, 16, 59), [Month(2026, 10)]),  # September locked on 5 October
        (utc(2026, 10, 20), [Month(2026, 10)]),
    ],
)
def test_open_months(now: datetime, expected: list[Month]) -> None:
    assert open_months(now, 5, HCM) == expected
    for month in expected:
        assert not is_locked(month, now, 5, HCM)


def test_older_months_are_locked_and_future_ones_are_not() -> None:
    now = utc(2026, 11, 3)
    assert is_locked(Month(2026, 9), now, 5, HCM)
    assert is_locked(Month(2025, 11), now, 5, HCM)
    assert not is_locked(Month(2026, 12), now, 5, HCM)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        open_months(datetime(2026, 11, 3), 5, HCM)
    with pytest.raises(ValueError):
        is_locked(Month(2026, 10), datetime(2026, 11, 3), 5, HCM)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_open_months_are_exactly_the_unlocked_recent_ones(now: datetime) -> None:
    months = open_months(now, 5, HCM)
    local_month = Month.of(now.astimezone(HCM).date())
    assert months[0] == local_month
    assert months in ([local_month], [local_month, local_month.previous()])
    assert (len(months) == 2) == (not is_locked(local_month.previous(), now, 5, HCM))


def test_reminder_times() -> None:
    times = reminder_times(Month(2026, 10), 5, [3, 1, 0], HCM)
    # 08:00 in Hanoi is 01:00 UTC, on 2, 4 and 5 November.
    assert times == [utc(2026, 11, 2, 1), utc(2026, 11, 4, 1), utc(2026, 11, 5, 1)]
    assert all(moment < lock_time(Month(2026, 10), 5, HCM) for moment in times)


def test_reminder_times_are_sorted_deduplicated_and_cross_years() -> None:
    times = reminder_times(Month(2026, 12), 2, [0, 3, 3], HCM, hour=18)
    assert times == [utc(2026, 12, 30, 11), utc(2027, 1, 2, 11)]
    assert reminder_times(Month(2027, 1), 30, [1], HCM) == [utc(2027, 2, 27, 1)]
    assert reminder_times(Month(2026, 10), 5, [], HCM) == []


@pytest.mark.parametrize(("days", "hour"), [([-1], 8), ([1], 24), ([1], -1)])
def test_reminder_times_refuse_nonsense(days: list[int], hour: int) -> None:
    with pytest.raises(ValueError):
        reminder_times(Month(2026, 10), 5, days, HCM, hour=hour)


# --- periods ------------------------------------------------------------------------------------------

TODAY = date(2026, 10, 15)


@pytest.mark.parametrize(
    ("text", "kind", "first", "last", "key"),
    [
        ("2026-10", PeriodKind.MONTH, Month(2026, 10), Month(2026, 10), "2026-10"),
        ("2026-3", PeriodKind.MONTH, Month(2026, 3), Month(2026, 3), "2026-03"),
        ("10/2026", PeriodKind.MONTH, Month(2026, 10), Month(2026, 10), "2026-10"),
        ("3/2026", PeriodKind.MONTH, Month(2026, 3), Month(2026, 3), "2026-03"),
        (" Tháng 10/2026 ", PeriodKind.MONTH, Month(2026, 10), Month(2026, 10), "2026-10"),
        ("thang 10/2026", PeriodKind.MONTH, Month(2026, 10), Month(2026, 10), "2026-10"),
        ("October 2026", PeriodKind.MONTH, Month(2026, 10), Month(2026, 10), "2026-10"),
        ("oct 2026", PeriodKind.MONTH, Month(2026, 10), Month(2026, 10), "2026-10"),
        ("2026-Q3", PeriodKind.QUARTER, Month(2026, 7), Month(2026, 9), "2026-Q3"),
        ("2026-q3", PeriodKind.QUARTER, Month(2026, 7), Month(2026, 9), "2026-Q3"),
        ("2026Q1", PeriodKind.QUARTER, Month(2026, 1), Month(2026, 3), "2026-Q1"),
        ("Q3/2026", PeriodKind.QUARTER, Month(2026, 7), Month(2026, 9), "2026-Q3"),
        ("q4 2026", PeriodKind.QUARTER, Month(2026, 10), Month(2026, 12), "2026-Q4"),
        ("Quý III/2026", PeriodKind.QUARTER, Month(2026, 7), Month(2026, 9), "2026-Q3"),
        ("quý 2/2026", PeriodKind.QUARTER, Month(2026, 4), Month(2026, 6), "2026-Q2"),
        ("2026", PeriodKind.YEAR, Month(2026, 1), Month(2026, 10), "2026"),
        ("Năm 2026", PeriodKind.YEAR, Month(2026, 1), Month(2026, 10), "2026"),
        ("2025", PeriodKind.YEAR, Month(2025, 1), Month(2025, 12), "2025"),
        ("2027", PeriodKind.YEAR, Month(2027, 1), Month(2027, 12), "2027"),
        ("2026-03..2026-08", PeriodKind.RANGE, Month(2026, 3), Month(2026, 8), "2026-03..2026-08"),
        ("03/2026–08/2026", PeriodKind.RANGE, Month(2026, 3), Month(2026, 8), "2026-03..2026-08"),
        ("2025-11 .. 2026-02", PeriodKind.RANGE, Month(2025, 11), Month(2026, 2), "2025-11..2026-02"),
        ("2026-05..2026-05", PeriodKind.RANGE, Month(2026, 5), Month(2026, 5), "2026-05..2026-05"),
    ],
)
def test_parse_period(text: str, kind: PeriodKind, first: Month, last: Month, key: str) -> None:
    period = parse_period(text, today=TODAY)
    assert period == Period(kind, first, last)
    assert period.key == key
    assert parse_period(period.key, today=TODAY) == period


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hôm qua",
        "2026-13",
        "13/2026",
        "2026-Q5",
        "Q0/2026",
        "20260",
        "26",
        "2026-08..2026-03",
        "2026..2027",
        "2026-10..",
        "x" * 500,
    ],
)
def test_parse_period_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a period") as caught:
        parse_period(text, today=TODAY)
    assert len(str(caught.value)) < 200


def test_parse_period_year_to_date_uses_today() -> None:
    assert parse_period("2026", today=date(2026, 1, 2)).months == [Month(2026, 1)]
    assert parse_period("2026", today=date(2026, 12, 31)).last == Month(2026, 12)
    assert year_period(2026, today=TODAY) == parse_period("2026", today=TODAY)
    current = date.today()
    assert parse_period(str(current.year)).last == Month.of(current)


@pytest.mark.parametrize(
    ("period", "vi", "en"),
    [
        (month_period(Month(2026, 10)), "Tháng 10/2026", "October 2026"),
        (quarter_period(2026, 3), "Quý III/2026", "Q3 2026"),
        (quarter_period(2026, 1), "Quý I/2026", "Q1 2026"),
        (quarter_period(2026, 4), "Quý IV/2026", "Q4 2026"),
        (year_period(2026, today=TODAY), "Năm 2026", "2026"),
        (range_period(Month(2026, 3), Month(2026, 8)), "03/2026–08/2026", "03/2026–08/2026"),
        (range_period(Month(2025, 11), Month(2026, 2)), "11/2025–02/2026", "11/2025–02/2026"),
    ],
)
def test_period_label_reads_back(period: Period, vi: str, en: str) -> None:
    assert period.label("vi") == vi
    assert period.label("en") == en
    assert parse_period(vi, today=TODAY) == period
    assert parse_period(en, today=TODAY) == period


def test_period_months_and_membership() -> None:
    assert quarter_period(2026, 4).months == [Month(2026, 10), Month(2026, 11), Month(2026, 12)]
    spanning = range_period(Month(2025, 11), Month(2026, 2))
    assert spanning.months == [Month(2025, 11), Month(2025, 12), Month(2026, 1), Month(2026, 2)]
    assert Month(2026, 1) in spanning
    assert Month(2026, 3) not in spanning
    assert "2026-01" not in spanning
    assert month_period(Month(2026, 5)).months == [Month(2026, 5)]
    assert len(year_period(2025, today=TODAY).months) == 12


@pytest.mark.parametrize(
    ("kind", "first", "last"),
    [
        (PeriodKind.RANGE, Month(2026, 8), Month(2026, 3)),
        (PeriodKind.MONTH, Month(2026, 8), Month(2026, 9)),
        (PeriodKind.QUARTER, Month(2026, 2), Month(2026, 4)),
        (PeriodKind.QUARTER, Month(2026, 1), Month(2026, 2)),
        (PeriodKind.YEAR, Month(2026, 2), Month(2026, 12)),
        (PeriodKind.YEAR, Month(2026, 1), Month(2027, 1)),
    ],
)
def test_inconsistent_periods_are_refused(kind: PeriodKind, first: Month, last: Month) -> None:
    with pytest.raises(ValueError):
        Period(kind, first, last)


def test_quarter_out_of_range() -> None:
    with pytest.raises(ValueError):
        quarter_period(2026, 5)


@given(st.integers(2000, 2100), st.integers(1, 12), st.integers(0, 40))
def test_range_keys_and_labels_read_back(year: int, month: int, length: int) -> None:
    first = Month(year, month)
    period = range_period(first, first.shifted(length))
    assert len(period.months) == length + 1
    assert parse_period(period.key) == period
    assert parse_period(period.label("vi")) == period


def test_periods_are_hashable_and_comparable_by_value() -> None:
    assert {month_period(Month(2026, 10)), parse_period("10/2026")} == {month_period(Month(2026, 10))}
    assert PeriodKind.QUARTER.value == "quarter"


@pytest.mark.parametrize("text", ["2026-10", "10/2026", "tháng 10/2026", "Tháng 10/2026", "thang 10/2026"])
def test_a_month_is_read_as_people_write_it(text: str) -> None:
    assert parse_month(text) == Month(2026, 10)


@pytest.mark.parametrize("text", ["2026-Q3", "2026", "quý III/2026", "2026-13", "10/9999", "tháng 13/2026"])
def test_what_is_not_one_month_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_month(text)


def test_a_month_without_its_year_is_the_latest_one() -> None:
    today = date(2026, 11, 3)
    assert parse_period("tháng 10", today=today) == month_period(Month(2026, 10))
    assert parse_period("Tháng 11", today=today) == month_period(Month(2026, 11))
    assert parse_period("thang 12", today=today) == month_period(Month(2025, 12))
    with pytest.raises(ValueError):
        parse_period("tháng 13", today=today)
