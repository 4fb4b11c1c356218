"""The standings service on a real migrated database: ranks, averages, completeness, query count, export."""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import event

from bot.export import workbook_bytes
from bot.i18n import use_language
from bot.indicators import DEFAULT_INDICATORS, Direction, Frequency, Indicator, Kind
from bot.periods import Month, Period, lock_time, month_period, quarter_period, year_period
from bot.reporting import current_catalogue
from bot.standings import StandingsResult, completeness, compute_standings, export_data
from bot.ward_config import Bands, Scoring, WardFile, WardSettings, default_ward_file
from bot.wiring import Wiring
from storage.models import Bonus, Report, ReportValue, ResidentialGroup
from storage.unit_of_work import UnitOfWork, unit_of_work
from tests.wards import WARD

ROOT = Path(__file__).resolve().parents[2]
BANDS = Bands()
OCTOBER = Month(2026, 10)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: Groups of these tests existed long before the months they report (see the creation tests).
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def relative_ward(indicators: Sequence[Indicator]) -> WardFile:
    """A ward file of the older format: relative scoring with today's bands."""
    return dataclasses.replace(
        default_ward_file(),
        ward=WardSettings(name="Phường", scoring=Scoring.RELATIVE),
        indicators=tuple(indicators),
        bands=BANDS.entries(),
    )


async def standings_of(
    uow: UnitOfWork, period: Period, indicators: Sequence[Indicator], **options: Any
) -> StandingsResult:
    """Relative standings of the ward's groups, as the older ward files score them."""
    return await compute_standings(uow, period, relative_ward(indicators), ward_id=WARD, tz=TZ, **options)


def indicator(key: str, *, direction: Direction = Direction.HIGHER, weight: float = 10) -> Indicator:
    return Indicator(
        key=key,
        label={"vi": key, "en": key},
        help={},
        unit="%",
        kind=Kind.PERCENT,
        min=0,
        max=100,
        direction=direction,
        weight=weight,
    )


WASTE = indicator("waste_sorting_pct")
MEETING = indicator("meeting_attendance_pct")
NOTES = indicator("notes_pct", direction=Direction.NEUTRAL, weight=0)
CATALOGUE = (WASTE, MEETING)


async def add_group(
    uow: UnitOfWork,
    number: int,
    households: int = 100,
    *,
    created_at: datetime = LONG_AGO,
    block: str | None = None,
) -> ResidentialGroup:
    return await uow.groups.add(
        WARD, f"TDP{number:02d}", f"Tổ dân phố số {number}", households, block, created_at=created_at
    )


async def add_report(
    uow: UnitOfWork,
    group: ResidentialGroup,
    month: Month,
    values: Mapping[str, float | None],
    *,
    catalogue_id: int,
    on_time: bool = True,
) -> None:
    """A submitted report, written directly (the report conversation is tested elsewhere)."""
    at = lock_time(month, 5, ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(hours=5 if not on_time else -5)
    uow.session.add(
        Report(
            group_id=group.id,
            month=str(month),
            catalogue_id=catalogue_id,
            first_submitted_at=at,
            submitted_at=at,
            submitted_by=None,
            on_time=on_time,
            values=[ReportValue(key=key, value=value) for key, value in values.items()],
        )
    )
    await uow.session.flush()


def table(standings: Sequence[Any]) -> list[tuple[str, float | None, int | None]]:
    return [(s.code, s.score, s.rank) for s in standings]


@contextmanager
def counting(wiring: Wiring) -> Iterator[list[int]]:
    """Counts the SQL statements run inside the block (BEGIN left out: one per transaction)."""
    seen = [0]

    def listener(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            seen[0] += 1

    event.listen(wiring.engine.sync_engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(wiring.engine.sync_engine, "before_cursor_execute", listener)


async def test_month_ranks_two_groups_by_their_values(wiring: Wiring) -> None:
    async with unit_of_work(wiring.factory) as uow:
        catalogue = await current_catalogue(uow, CATALOGUE)
        weak, strong = await add_group(uow, 1), await add_group(uow, 2)
        await add_report(
            uow,
            weak,
            OCTOBER,
            {"waste_sorting_pct": 40, "meeting_attendance_pct": 60},
            catalogue_id=catalogue,
        )
        await add_report(
            uow,
            strong,
            OCTOBER,
            {"waste_sorting_pct": 90, "meeting_attendance_pct": 80},
            catalogue_id=catalogue,
        )
        result = await standings_of(uow, month_period(OCTOBER), CATALOGUE)

    assert table(result.standings) == [("TDP02", 100.0, 1), ("TDP01", 0.0, 2)]
    assert result.standings[0].band == BANDS.entries()[0]
    assert result.standings[1].band == BANDS.entries()[-1]
    assert result.period == month_period(OCTOBER)
    assert result.indicators == CATALOGUE


async def test_a_group_without_a_report_is_last_and_not_reported(wiring: Wiring) -> None:
    async with unit_of_work(wiring.factory) as uow:
        catalogue = await current_catalogue(uow, CATALOGUE)
        silent = await add_group(uow, 1)  # first by code, still listed last
        second, third = await add_group(uow, 2), await add_group(uow, 3)
        await add_report(
            uow,
            second,
            OCTOBER,
            {"waste_sorting_pct": 50, "meeting_attendance_pct": 50},
            catalogue_id=catalogue,
        )
        await add_report(
            uow,
            third,
            OCTOBER,
            {"waste_sorting_pct": 70, "meeting_attendance_pct": 70},
            catalogue_id=catalogue,
        )
        result = await standings_of(uow, month_period(OCTOBER), CATALOGUE)

    last = result.standings[-1]
    assert last.group_id == silent.id
    assert (last.score, last.rank, last.band, last.reported) == (None, None, None, False)
    assert (last.months_reported, last.months_expected) == (0, 1)
    assert [s.code for s in result.standings] == ["TDP03", "TDP02", "TDP01"]


async def test_quarter_averages_months_and_a_missing_month_counts_zero(wiring: Wiring) -> None:
    july, august, september = Month(2026, 7), Month(2026, 8), Month(2026, 9)
    async with unit_of_work(wiring.factory) as uow:
        catalogue = await current_catalogue(uow, (WASTE,))
        steady, patchy, silent = await add_group(uow, 1), await add_group(uow, 2), await add_group(uow, 3)
        for month in (july, august, september):
            await add_report(uow, steady, month, {"waste_sorting_pct": 90}, catalogue_id=catalogue)
        await add_report(uow, patchy, july, {"waste_sorting_pct": 50}, catalogue_id=catalogue)
        await add_report(uow, patchy, august, {"waste_sorting_pct": 90}, catalogue_id=catalogue)
        # September: patchy did not report.
        result = await standings_of(uow, quarter_period(2026, 3), (WASTE,))

    # July: steady 100, patchy 0. August: both 100 (equal values). September: steady alone, 100.
    assert table(result.standings) == [("TDP01", 100.0, 1), ("TDP02", 33.3, 2), ("TDP03", None, None)]
    by_code = {s.code: s for s in result.standings}
    assert (by_code["TDP02"].months_reported, by_code["TDP02"].months_expected) == (2, 3)
    assert (by_code["TDP03"].months_reported, by_code["TDP03"].months_expected) == (0, 3)
    assert silent.id == by_code["TDP03"].group_id


async def test_a_quarterly_question_counts_only_in_the_month_it_is_asked(wiring: Wiring) -> None:
    """Nobody answers a quarterly question in July: it must not cost anyone points that month."""
    quarterly = dataclasses.replace(MEETING, frequency=Frequency.QUARTERLY)
    july, september = Month(2026, 7), Month(2026, 9)
    async with unit_of_work(wiring.factory) as uow:
        catalogue = await current_catalogue(uow, (WASTE, quarterly))
        first, second = await add_group(uow, 1), await add_group(uow, 2)
        await add_report(uow, first, july, {"waste_sorting_pct": 90}, catalogue_id=catalogue)
        await add_report(uow, second, july, {"waste_sorting_pct": 50}, catalogue_id=catalogue)
        values = {"waste_sorting_pct": 90, "meeting_attendance_pct": 40}
        await add_report(uow, first, september, values, catalogue_id=catalogue)
        values = {"waste_sorting_pct": 90, "meeting_attendance_pct": 80}
        await add_report(uow, second, september, values, catalogue_id=catalogue)
        in_july = await standings_of(uow, month_period(july), (WASTE, quarterly))
        in_september = await standings_of(uow, month_period(september), (WASTE, quarterly))

    assert table(in_july.standings) == [("TDP01", 100.0, 1), ("TDP02", 0.0, 2)]
    assert table(in_september.standings) == [("TDP02", 100.0, 1), ("TDP01", 50.0, 2)]


async def test_weights_groups_and_an_older_catalogue(wiring: Wiring) -> None:
    """Overrides by key (0 removes one), a restricted set of groups, and reports of an old catalogue."""
    async with unit_of_work(wiring.factory) as uow:
        old = await current_catalogue(uow, (WASTE, NOTES))  # before "meeting" was added
        new = await current_catalogue(uow, CATALOGUE)
        assert old != new
        first, second, third = await add_group(uow, 1), await add_group(uow, 2), await add_group(uow, 3)
        await add_report(uow, first, OCTOBER, {"waste_sorting_pct": 90, "notes_pct": 3}, catalogue_id=old)
        await add_report(
            uow, second, OCTOBER, {"waste_sorting_pct": 60, "meeting_attendance_pct": 100}, catalogue_id=new
        )
        await add_report(uow, third, OCTOBER, {"waste_sorting_pct": 10}, catalogue_id=new)
        period = month_period(OCTOBER)
        both = await standings_of(uow, period, CATALOGUE)
        waste_only = await standings_of(
            uow, period, CATALOGUE, indicator_weights={"meeting_attendance_pct": 0}
        )
        pair = await standings_of(uow, period, CATALOGUE, group_ids=[first.id, second.id])

    # The old report scores waste by key; meeting, absent from it, counts as blank (0).
    assert table(both.standings) == [("TDP02", 81.3, 1), ("TDP01", 50.0, 2), ("TDP03", 0.0, 3)]
    assert table(waste_only.standings) == [("TDP01", 100.0, 1), ("TDP02", 62.5, 2), ("TDP03", 0.0, 3)]
    assert [i.weight for i in waste_only.indicators] == [10, 0]
    # Without the third group, waste is normalised between 60 and 90 alone: a tie, listed by code.
    assert table(pair.standings) == [("TDP01", 50.0, 1), ("TDP02", 50.0, 1)]


async def test_completeness_counts_on_time_late_and_missing(wiring: Wiring) -> None:
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    ward = wiring.ward.ward
    async with unit_of_work(wiring.factory) as uow:
        catalogue = await current_catalogue(uow, CATALOGUE)
        punctual, late, silent = await add_group(uow, 3), await add_group(uow, 1), await add_group(uow, 2)
        for number in range(1, 11):  # January to October; October is not due yet
            await add_report(uow, punctual, Month(2026, number), {}, catalogue_id=catalogue)
        for number, on_time in ((1, True), (2, False), (4, True), (5, False), (9, True)):
            await add_report(uow, late, Month(2026, number), {}, catalogue_id=catalogue, on_time=on_time)
        await add_report(uow, late, Month(2025, 12), {}, catalogue_id=catalogue)  # another year
        september_locks = lock_time(Month(2026, 9), ward.report_deadline_day, tz)
        rows = await completeness(uow, 2026, ward_id=WARD, now=september_locks, ward=ward, tz=tz)
        before = await completeness(
            uow, 2026, ward_id=WARD, now=september_locks - timedelta(seconds=1), ward=ward, tz=tz
        )

    assert [(r.code, r.expected, r.submitted, r.on_time) for r in rows] == [
        ("TDP01", 9, 5, 3),
        ("TDP02", 9, 0, 0),
        ("TDP03", 9, 9, 9),
    ]
    assert [r.expected for r in before] == [8, 8, 8]
    assert silent.code == rows[1].code


async def test_query_count_does_not_grow_with_groups(wiring: Wiring) -> None:
    period = year_period(2026, today=datetime(2027, 1, 10, tzinfo=UTC).date())

    async def add_groups(numbers: range) -> None:
        async with unit_of_work(wiring.factory) as uow:
            catalogue = await current_catalogue(uow, DEFAULT_INDICATORS)
            for number in numbers:
                group = await add_group(uow, number)
                for month in period.months:
                    values = {i.key: float((number * month.month) % 50) for i in DEFAULT_INDICATORS}
                    await add_report(uow, group, month, values, catalogue_id=catalogue)

    async def year_queries() -> tuple[int, int]:
        async with unit_of_work(wiring.factory) as uow:
            with counting(wiring) as seen:
                result = await standings_of(uow, period, DEFAULT_INDICATORS)
        return seen[0], len(result.standings)

    await add_groups(range(1, 4))
    few, listed_few = await year_queries()
    await add_groups(range(4, 31))
    many, listed_many = await year_queries()

    assert (listed_few, listed_many) == (3, 30)
    assert few == many
    assert many <= 4


async def test_export_data_round_trips_into_the_workbook(wiring: Wiring) -> None:
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    ward = wiring.ward.ward
    indicators = wiring.ward.indicators
    keys = [i.key for i in indicators]
    async with unit_of_work(wiring.factory) as uow:
        catalogue = await current_catalogue(uow, indicators)
        first, second, _silent = (
            await add_group(uow, 1, 312),
            await add_group(uow, 2, 120),
            await add_group(uow, 3),
        )
        values_1: dict[str, float | None] = {key: 5.0 for key in keys}
        values_1.update(waste_sorting_pct=92.5, fund_contributions=1_500_000)
        values_2: dict[str, float | None] = {key: 3.0 for key in keys}
        values_2.update(waste_sorting_pct=None, fund_contributions=300_000)
        await add_report(uow, first, OCTOBER, values_1, catalogue_id=catalogue)
        await add_report(uow, second, OCTOBER, values_2, catalogue_id=catalogue, on_time=False)
        now = lock_time(OCTOBER, ward.report_deadline_day, tz) + timedelta(days=1)
        with use_language("en"), counting(wiring) as seen:
            data = await export_data(
                uow,
                month_period(OCTOBER),
                ward_id=WARD,
                ward_name=ward.name,
                ward_file=relative_ward(indicators),
                now=now,
                tz=tz,
            )

    assert seen[0] <= 5  # groups, values, bonuses, free-text answers, completeness: never per group
    assert (data.period_key, data.period_label) == ("2026-10", "October 2026")
    assert [(row[0], row[1]) for row in data.value_rows] == [("2026-10", "TDP01"), ("2026-10", "TDP02")]
    assert [s.code for s in data.standings] == ["TDP01", "TDP02", "TDP03"]
    assert [(r.code, r.expected, r.submitted, r.on_time) for r in data.completeness] == [
        ("TDP01", 10, 1, 1),
        ("TDP02", 10, 1, 0),
        ("TDP03", 10, 0, 0),
    ]

    book = load_workbook(io.BytesIO(workbook_bytes(data, "en")))
    values_sheet, standings_sheet, completeness_sheet = book.worksheets
    rows = list(values_sheet.iter_rows(min_row=2, values_only=True))
    waste = 3 + keys.index("waste_sorting_pct")
    fund = 3 + keys.index("fund_contributions")
    assert [row[:3] for row in rows] == [
        ("2026-10", "TDP01", "Tổ dân phố số 1"),
        ("2026-10", "TDP02", "Tổ dân phố số 2"),
    ]
    assert (rows[0][waste], rows[0][fund]) == (92.5, 1_500_000)
    assert (rows[1][waste], rows[1][fund]) == (None, 300_000)
    ranked = list(standings_sheet.iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[1], row[5]) for row in ranked] == [(s.rank, s.code, s.score) for s in data.standings]
    assert ranked[-1][7] == "Not reported"
    done = list(completeness_sheet.iter_rows(min_row=2, max_row=4, values_only=True))
    assert [row[:5] for row in done] == [
        ("TDP01", "Tổ dân phố số 1", 10, 1, 1),
        ("TDP02", "Tổ dân phố số 2", 10, 1, 0),
        ("TDP03", "Tổ dân phố số 3", 10, 0, 0),
    ]


def test_benchmark_quick_run() -> None:
    """The benchmark runs end to end on a small ward (the CI smoke test)."""
    finished = subprocess.run(
        [sys.executable, "-m", "bench.standings", "--quick", "--runs", "1"],  # as bench.web's smoke test
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "year" in finished.stdout
    assert "| what" in finished.stdout


async def test_months_before_a_group_existed_are_not_expected_of_it(wiring: Wiring) -> None:
    """A group created on 15 September owes September (locked 6 October) and October, not the year;
    its year averages only those months, a missed one counting zero."""
    created = datetime(2026, 9, 15, 3, 0, tzinfo=UTC)
    now = lock_time(OCTOBER, 5, TZ) + timedelta(days=1)
    async with unit_of_work(wiring.factory) as uow:
        catalogue = await current_catalogue(uow, CATALOGUE)
        old, new = await add_group(uow, 1), await add_group(uow, 2, created_at=created)
        for number in range(1, 11):
            await add_report(uow, old, Month(2026, number), {"waste_sorting_pct": 90}, catalogue_id=catalogue)
        await add_report(uow, new, OCTOBER, {"waste_sorting_pct": 90}, catalogue_id=catalogue)
        rows = await completeness(uow, 2026, ward_id=WARD, now=now, ward=wiring.ward.ward, tz=TZ)
        year = await standings_of(uow, year_period(2026, today=OCTOBER.last_day), (WASTE,), now=now)
        august = await standings_of(uow, month_period(Month(2026, 8)), (WASTE,))

    assert [(r.code, r.expected, r.submitted) for r in rows] == [("TDP01", 10, 10), ("TDP02", 2, 1)]
    by_code = {s.code: s for s in year.standings}
    assert (by_code["TDP02"].months_reported, by_code["TDP02"].months_expected) == (1, 2)
    assert by_code["TDP02"].score == 50.0 and by_code["TDP01"].score == 100.0
    assert [s.code for s in august.standings] == ["TDP01"]  # not listed, not "not reported"
    assert not year.provisional


async def test_a_month_before_its_deadline_is_provisional(wiring: Wiring) -> None:
    async with unit_of_work(wiring.factory) as uow:
        before = await standings_of(uow, month_period(OCTOBER), CATALOGUE, now=lock_time(OCTOBER, 5, TZ))
        after = await standings_of(
            uow, month_period(OCTOBER), CATALOGUE, now=lock_time(OCTOBER, 5, TZ) - timedelta(seconds=1)
        )
    assert (before.provisional, after.provisional) == (False, True)


async def test_bonuses_are_read_in_bulk_and_added_per_month(wiring: Wiring) -> None:
    async with unit_of_work(wiring.factory) as uow:
        catalogue = await current_catalogue(uow, CATALOGUE)
        group = await add_group(uow, 1)
        await add_report(
            uow,
            group,
            OCTOBER,
            {"waste_sorting_pct": 90, "meeting_attendance_pct": 90},
            catalogue_id=catalogue,
        )
        uow.session.add(Bonus(ward_id=WARD, group_id=group.id, month="2026-10", points=-7.5, reason="r"))
        uow.session.add(Bonus(ward_id=WARD, group_id=group.id, month="2026-09", points=4, reason="r"))
        await uow.session.flush()
        with counting(wiring) as seen:
            month = await standings_of(uow, month_period(OCTOBER), CATALOGUE)
        quarter = await standings_of(uow, quarter_period(2026, 4), CATALOGUE)
    assert (month.standings[0].score, month.standings[0].bonus) == (92.5, -7.5)
    assert seen[0] == 3  # groups, values, bonuses
    # October to December, from a group that existed all along: (92,5 + 0 + 0) / 3.
    assert quarter.standings[0].score == 30.8


async def test_a_campaigns_weights_stand_for_points_on_a_points_sheet(wiring: Wiring) -> None:
    sheet = tuple(dataclasses.replace(i, points=10.0, target=80.0) for i in CATALOGUE)
    ward = dataclasses.replace(default_ward_file(), indicators=sheet)  # scoring = "points"
    async with unit_of_work(wiring.factory) as uow:
        catalogue = await current_catalogue(uow, sheet)
        group = await add_group(uow, 1)
        values = {"waste_sorting_pct": 80, "meeting_attendance_pct": 40}
        await add_report(uow, group, OCTOBER, values, catalogue_id=catalogue)
        period = month_period(OCTOBER)
        plain = await compute_standings(uow, period, ward, ward_id=WARD, tz=TZ)
        weighted = await compute_standings(
            uow, period, ward, ward_id=WARD, tz=TZ, indicator_weights={"waste_sorting_pct": 30}
        )
        waste_only = await compute_standings(
            uow, period, ward, ward_id=WARD, tz=TZ, indicator_weights={"meeting_attendance_pct": 0}
        )
    # 10 + 5 of 20 = 75; waste worth 30: 30 + 5 of 40 = 87,5; meeting left out: 10 of 10.
    assert [r.standings[0].score for r in (plain, weighted, waste_only)] == [75.0, 87.5, 100.0]
