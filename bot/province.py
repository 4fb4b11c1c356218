"""What province staff see across the wards of a deployment: reporting, standings and titles.

The reporting overview takes two queries whatever the number of wards; standings and titles are
each ward's own, scored by its own sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.assessment import Totals, results, totals
from bot.periods import Month, Period, open_months
from bot.scoring import Standing, round_score
from bot.standings import StandingsResult, compute_standings
from bot.standings_view import default_period
from bot.ward_config import BandEntry
from bot.wiring import Wiring
from storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class WardLine:
    """One ward's reporting for the month being collected and for the last closed month."""

    code: str
    name: str
    groups: int
    collecting: Month
    reported: int
    closed: Month
    closed_reported: int
    closed_on_time: int


async def ward_lines(uow: UnitOfWork, wiring: Wiring, now: datetime) -> list[WardLine]:
    """Every ward of the deployment, by code."""
    months: dict[int, tuple[Month, Month]] = {}
    for ward_id, ward in wiring.wards.items():
        tz = wiring.timezone_of(ward_id)
        collecting = open_months(now, ward.ward.report_deadline_day, tz)[-1]
        closed = default_period(now, ward.ward, tz).last
        months[ward_id] = (collecting, closed)
    wanted = sorted({str(m) for pair in months.values() for m in pair})
    groups = await uow.wards.group_counts()
    reports = await uow.wards.report_counts(wanted)
    lines = []
    for row in await uow.wards.all():
        if row.id not in months:
            continue
        collecting, closed = months[row.id]
        got, _late = reports.get((row.id, str(collecting)), (0, 0))
        closed_got, closed_on_time = reports.get((row.id, str(closed)), (0, 0))
        lines.append(
            WardLine(
                row.code, row.name, groups.get(row.id, 0), collecting, got, closed, closed_got, closed_on_time
            )
        )
    return sorted(lines, key=lambda line: line.code)


@dataclass(frozen=True)
class WardScores:
    """One ward's standings of a period, summed up for comparing wards."""

    ward_id: int
    code: str
    name: str
    result: StandingsResult

    @property
    def groups(self) -> int:
        return len(self.result.standings)

    @property
    def reported(self) -> int:
        return sum(1 for s in self.result.standings if s.score is not None)

    @property
    def average(self) -> float | None:
        """The mean score of the groups that reported, half up to one decimal (None: nobody did)."""
        scores = [s.score for s in self.result.standings if s.score is not None]
        return round_score(sum(scores) / len(scores)) if scores else None

    @property
    def top_band(self) -> BandEntry | None:
        return self.result.bands[0] if self.result.bands else None

    @property
    def in_top_band(self) -> int:
        top = self.top_band
        return sum(1 for s in self.result.standings if top is not None and s.band == top)

    @property
    def leader(self) -> Standing | None:
        return next((s for s in self.result.standings if s.rank == 1), None)


async def ward_standings(
    uow: UnitOfWork, wiring: Wiring, ward_id: int, now: datetime, period: Period | None = None
) -> StandingsResult:
    """One ward's standings of `period` (its last closed month when None), by its own sheet and clock."""
    ward, tz = wiring.ward_of(ward_id), wiring.timezone_of(ward_id)
    wanted = period or default_period(now, ward.ward, tz)
    return await compute_standings(uow, wanted, ward, ward_id=ward_id, tz=tz, now=now)


async def ward_scores(
    uow: UnitOfWork, wiring: Wiring, now: datetime, period: Period | None = None
) -> list[WardScores]:
    """Every ward's standings of `period` (each ward's last closed month when None), by ward code.

    Three queries per ward: a province compares tens of wards, each scored by its own sheet.
    """
    rows = {row.id: row for row in await uow.wards.all()}
    found = []
    for ward_id in wiring.wards:
        row = rows.get(ward_id)
        if row is None:
            continue
        result = await ward_standings(uow, wiring, ward_id, now, period)
        found.append(WardScores(ward_id, row.code, row.name, result))
    return sorted(found, key=lambda scores: scores.code)


@dataclass(frozen=True)
class WardTitles:
    """One ward's year-end assessment: its totals, and whether the decision was taken."""

    code: str
    name: str
    totals: Totals
    decided: bool


async def year_titles(uow: UnitOfWork, wiring: Wiring, year: int) -> list[WardTitles]:
    """The wards that opened the year's assessment, by code (the others have nothing to count yet)."""
    rows = {row.id: row for row in await uow.wards.all()}
    found = []
    for ward_id, ward in wiring.wards.items():
        assessment = await uow.assessments.of_year(ward_id, year)
        row = rows.get(ward_id)
        if assessment is None or row is None:
            continue
        figures = totals(await results(uow, assessment, ward))
        found.append(WardTitles(row.code, row.name, figures, assessment.decided_at is not None))
    return sorted(found, key=lambda titles: titles.code)


def province_totals(wards: list[WardTitles]) -> Totals:
    """The province's figures: the wards' totals added up."""
    return Totals(
        groups=sum(w.totals.groups for w in wards),
        qualified=sum(w.totals.qualified for w in wards),
        achieved=sum(w.totals.achieved for w in wards),
        households=sum(w.totals.households for w in wards),
    )
