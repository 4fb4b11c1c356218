"""Benchmark of the standings service on a generated ward: time and SQL statements per computation.

Run `python -m bench.standings [--groups 300 --months 36] [--quick]`. It builds a fresh
SQLite database with the project's migrations, fills it with random but plausible reports
(seeded, so every run sees the same ward) and measures month, quarter and year standings
and the chart, best of several runs. The same computations on a small ward show that the
number of statements does not grow with the number of groups, and a naive version (one
query per group per month) shows what the bulk queries save.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.charts import standings_chart
from bot.indicators import (
    DEFAULT_INDICATORS,
    Indicator,
    Kind,
    asked_in,
    catalogue_fingerprint,
    catalogue_json,
)
from bot.periods import Month, Period, lock_time, month_period, quarter_period, year_period
from bot.sample_figures import plausible_value
from bot.scoring import GroupFigures, Standing, combine, score_month
from bot.standings import compute_standings
from bot.ward_config import Bands
from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import Catalogue, Report, ReportValue, ResidentialGroup, Ward
from storage.unit_of_work import unit_of_work

SEED = 7
RUNS = 5
LAST_MONTH = Month(2025, 12)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEADLINE_DAY = 5
MISSING_SHARE = 0.04
LATE_SHARE = 0.10
YEAR_TARGET_MS = 200.0
SMALL_WARD = 30
QUICK_SMALL_WARD = 3

T = TypeVar("T")

WARD_ID = 1


# --- the generated ward ---------------------------------------------------------------------


def ward_months(count: int) -> list[Month]:
    """The `count` months ending with LAST_MONTH, oldest first."""
    return [LAST_MONTH.shifted(step - count + 1) for step in range(count)]


async def build_ward(
    folder: Path, name: str, groups: int, months: int, indicators: Sequence[Indicator]
) -> AsyncEngine:
    """A migrated SQLite database with `groups` groups and their reports, inserted in bulk."""
    engine = create_engine(f"sqlite+aiosqlite:///{folder / f'{name}.sqlite3'}")
    await upgrade(engine)
    rng = random.Random(SEED)
    created = datetime(2020, 1, 1, tzinfo=UTC)
    group_rows: list[dict[str, Any]] = [
        {
            "id": number,
            "ward_id": WARD_ID,
            "code": f"TDP{number:03d}",
            "name": f"Tổ dân phố số {number}",
            "households": rng.randint(80, 900),
            "block": f"Khu vực {(number - 1) // 25 + 1}",
            "created_at": created,
        }
        for number in range(1, groups + 1)
    ]
    quality = {row["id"]: rng.random() for row in group_rows}
    report_rows: list[dict[str, Any]] = []
    value_rows: list[dict[str, Any]] = []
    for month in ward_months(months):
        deadline = lock_time(month, DEADLINE_DAY, TZ)
        for group in group_rows:
            if rng.random() < MISSING_SHARE:
                continue
            late = rng.random() < LATE_SHARE
            at = deadline + timedelta(hours=rng.randint(1, 200) * (1 if late else -1))
            report_id = len(report_rows) + 1
            report_rows.append(
                {
                    "id": report_id,
                    "group_id": group["id"],
                    "month": str(month),
                    "catalogue_id": 1,
                    "first_submitted_at": at,
                    "submitted_at": at,
                    "submitted_by": None,
                    "on_time": not late,
                }
            )
            households = int(group["households"])
            value_rows.extend(
                {
                    "report_id": report_id,
                    "key": indicator.key,
                    "value": plausible_value(indicator.key, rng, households, quality[group["id"]]),
                    "flagged": False,
                }
                for indicator in asked_in(indicators, month.month)
                if indicator.kind not in (Kind.TEXT, Kind.PHOTO)
            )
    async with engine.begin() as connection:
        await connection.execute(
            insert(Catalogue),
            [
                {
                    "id": 1,
                    "fingerprint": catalogue_fingerprint(indicators),
                    "indicators_json": catalogue_json(indicators),
                    "created_at": created,
                }
            ],
        )
        await connection.execute(
            insert(Ward), [{"id": WARD_ID, "code": "P1", "name": "Phường", "created_at": created}]
        )
        await connection.execute(insert(ResidentialGroup), group_rows)
        if report_rows:
            await connection.execute(insert(Report), report_rows)
            await connection.execute(insert(ReportValue), value_rows)
    return engine


# --- measuring ---------------------------------------------------------------------------------


class StatementCounter:
    """Counts SQL statements sent to the database, BEGIN excluded (it is per transaction)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            self.count += 1

    @contextmanager
    def measure(self) -> Iterator[list[int]]:
        """Yields a one-item list that holds the statements run inside the block when it ends."""
        box = [0]
        start = self.count
        try:
            yield box
        finally:
            box[0] = self.count - start


@dataclass(frozen=True)
class Measurement:
    what: str
    groups: int
    millis: float
    queries: int
    median: float = 0.0


@dataclass(frozen=True)
class Timing:
    """Milliseconds of repeated runs: the best is the table's figure, the median shows the spread."""

    best: float
    median: float


async def best_of(runs: int, action: Callable[[], Awaitable[T]]) -> tuple[Timing, T]:
    """Timings of `runs` runs in milliseconds, and the last result."""
    times: list[float] = []
    result: T | None = None
    for _ in range(runs):
        start = time.perf_counter()
        result = await action()
        times.append((time.perf_counter() - start) * 1000)
    assert result is not None
    return Timing(min(times), statistics.median(times)), result


async def naive_year_standings(
    factory: async_sessionmaker[AsyncSession], period: Period, indicators: Sequence[Indicator], bands: Bands
) -> list[Standing]:
    """The obvious way, for comparison: loop over groups and months, one query each."""
    async with unit_of_work(factory) as uow:
        groups = await uow.groups.all(WARD_ID)
        monthly: list[list[Standing]] = []
        for month in period.months:
            figures: list[GroupFigures] = []
            for group in groups:
                rows = (
                    await uow.session.execute(
                        select(ReportValue.key, ReportValue.value)
                        .join(Report, Report.id == ReportValue.report_id)
                        .where(Report.group_id == group.id, Report.month == str(month))
                    )
                ).all()
                values = {key: value for key, value in rows} if rows else None
                figures.append(GroupFigures(group.id, group.code, group.name, group.households, values))
            monthly.append(score_month(asked_in(indicators, month.month), figures, bands))
    return monthly[0] if len(monthly) == 1 else combine(monthly, bands)


async def measure_ward(
    engine: AsyncEngine, groups: int, indicators: Sequence[Indicator], bands: Bands, runs: int
) -> tuple[list[Measurement], list[Standing]]:
    """Month, quarter, year standings and the chart on one ward; returns the year standings too."""
    factory = create_session_factory(engine)
    counter = StatementCounter(engine)
    periods = [
        ("month", month_period(LAST_MONTH)),
        ("quarter", quarter_period(LAST_MONTH.year, 4)),
        ("year", year_period(LAST_MONTH.year, today=date(LAST_MONTH.year + 1, 1, 15))),
    ]
    rows: list[Measurement] = []
    year: list[Standing] = []
    for label, period in periods:

        async def run(period: Period = period) -> list[Standing]:
            async with unit_of_work(factory) as uow:
                return (await compute_standings(uow, period, indicators, bands, ward_id=WARD_ID)).standings

        with counter.measure() as queries:
            await run()
        timing, standings = await best_of(runs, run)
        what = f"{label} standings ({len(period.months)} mo)"
        rows.append(Measurement(what, groups, timing.best, queries[0], timing.median))
        if label == "year":
            year = standings

    async def chart() -> bytes:
        return standings_chart(year, title=f"Năm {LAST_MONTH.year}")

    timing, _png = await best_of(runs, chart)
    rows.append(Measurement("year chart (PNG)", groups, timing.best, 0, timing.median))
    return rows, year


def table(rows: Sequence[Measurement]) -> str:
    """A markdown table: what, groups, time ms, queries."""
    width = max(len("what"), *(len(row.what) for row in rows))
    lines = [
        f"| {'what':<{width}} | groups | time ms | queries |",
        f"|{'-' * (width + 2)}|-------:|--------:|--------:|",
    ]
    lines.extend(
        f"| {row.what:<{width}} | {row.groups:>6} | {row.millis:>7.1f} | {row.queries:>7} |" for row in rows
    )
    return "\n".join(lines)


def _scores(standings: Sequence[Standing]) -> list[tuple[int, float | None, int | None]]:
    return [(standing.group_id, standing.score, standing.rank) for standing in standings]


async def main_async(groups: int, months: int, runs: int) -> int:
    indicators = DEFAULT_INDICATORS
    bands = Bands()
    small = SMALL_WARD if groups > SMALL_WARD else QUICK_SMALL_WARD
    with tempfile.TemporaryDirectory(prefix="wardbench-") as folder:
        start = time.perf_counter()
        big_engine = await build_ward(Path(folder), "ward", groups, months, indicators)
        small_engine = await build_ward(Path(folder), "small", small, months, indicators)
        built = time.perf_counter() - start
        print(
            f"Generated ward: {groups} groups × {months} months × {len(indicators)} indicators "
            f"(+ a {small}-group ward) in {built:.1f} s; best of {runs} runs."
        )
        try:
            big_rows, year = await measure_ward(big_engine, groups, indicators, bands, runs)
            small_rows, _small_year = await measure_ward(small_engine, small, indicators, bands, runs)

            period = year_period(LAST_MONTH.year, today=date(LAST_MONTH.year + 1, 1, 15))
            factory = create_session_factory(big_engine)
            counter = StatementCounter(big_engine)
            with counter.measure() as queries:
                naive = await naive_year_standings(factory, period, indicators, bands)

            async def naive_run() -> list[Standing]:
                return await naive_year_standings(factory, period, indicators, bands)

            naive_timing, _ = await best_of(runs, naive_run)
        finally:
            await big_engine.dispose()
            await small_engine.dispose()

    ours = next(row for row in big_rows if row.what.startswith("year standings"))
    ratio = naive_timing.best / ours.millis if ours.millis > 0 else float("inf")
    what = f"baseline: naive year, 1 query/group/month ({ratio:.1f}× ours)"
    baseline = Measurement(what, groups, naive_timing.best, queries[0], naive_timing.median)
    print()
    print(table([*big_rows, *small_rows, baseline]))
    print()

    same_queries = [row.queries for row in big_rows] == [row.queries for row in small_rows]
    same_result = _scores(naive) == _scores(year)
    print(f"naive/ours (year): {ratio:.1f}×")
    print(f"year standings, median of {runs} runs: {ours.median:.1f} ms (best {ours.millis:.1f} ms)")
    independent = "yes" if same_queries else "NO"
    print(f"queries independent of the number of groups ({small} vs {groups}): {independent}")
    print(f"naive and bulk standings agree: {'yes' if same_result else 'NO'}")
    verdict = "met" if ours.millis < YEAR_TARGET_MS else "missed"
    print(f"target: year standings under {YEAR_TARGET_MS:.0f} ms for {groups} groups: {verdict}")
    return 0 if same_queries and same_result else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.standings", description=__doc__)
    parser.add_argument("--groups", type=int, default=300, help="groups in the ward (default 300)")
    parser.add_argument("--months", type=int, default=36, help="months of reports (default 36)")
    parser.add_argument("--runs", type=int, default=RUNS, help=f"runs per measurement (default {RUNS})")
    parser.add_argument("--quick", action="store_true", help="30 groups × 6 months, for a CI smoke test")
    args = parser.parse_args(argv)
    groups, months = (30, 6) if args.quick else (args.groups, args.months)
    if groups < 1 or months < 1 or args.runs < 1:
        parser.error("groups, months and runs must be at least 1")
    return asyncio.run(main_async(groups, months, args.runs))


if __name__ == "__main__":
    sys.exit(main())
