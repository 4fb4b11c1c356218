"""Standings, completeness and export data for a period, read from the database in bulk.

The arithmetic lives in bot.scoring; this module only gathers the figures. It does so with
a fixed handful of queries (groups, every value of the period in one joined select, bonuses),
never one per group or month, so a year of a 300-group ward costs the same round trips as
a month of a 3-group one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.export import CompletenessRow, ExportData, PhotoFile, ValueRow
from bot.i18n import current_language
from bot.indicators import Indicator
from bot.periods import Month, Period, lock_time
from bot.scoring import GroupFigures, Standing, by_block, combine, score_month, value_keys
from bot.ward_config import POINTS_BANDS, BandEntry, Scoring, WardFile, WardSettings
from storage.models import ResidentialGroup
from storage.unit_of_work import UnitOfWork

#: Values of one report by indicator key.
Values = dict[str, float | None]


@dataclass(frozen=True)
class StandingsResult:
    """Ranked standings of a period and the rules they were scored with.

    `indicators` are the ward's current catalogue with any campaign overrides applied, so a
    reply can say which figures counted; `bands` and `scoring` are the ward's. `provisional`
    is True while a month of the period may still be reported (its deadline has not passed).
    """

    period: Period
    standings: list[Standing]
    indicators: tuple[Indicator, ...]
    bands: tuple[BandEntry, ...] = POINTS_BANDS
    scoring: Scoring = Scoring.POINTS
    provisional: bool = False

    def blocks(self) -> list[tuple[str, list[Standing]]]:
        """One ranked table per block (khối thi đua), by name; empty when no group has a block."""
        return by_block(self.standings, self.bands)


def weighted(
    indicators: Sequence[Indicator],
    indicator_weights: Mapping[str, float] | None,
    scoring: Scoring = Scoring.RELATIVE,
) -> tuple[Indicator, ...]:
    """The catalogue with weights replaced by key (a campaign's criteria); 0 leaves one out.

    On a points sheet a campaign's weight stands for the indicator's points (scores stay out of
    100, as they are shares of the points possible). Keys the catalogue no longer has are
    ignored: a campaign may outlive a catalogue change.
    """
    if not indicator_weights:
        return tuple(indicators)
    for key, weight in indicator_weights.items():
        if weight < 0:
            raise ValueError(f"weight of {key!r} cannot be negative: {weight}")

    def override(indicator: Indicator, weight: float) -> Indicator:
        if scoring is Scoring.POINTS:
            return dataclasses.replace(indicator, weight=weight, points=weight if weight > 0 else None)
        return dataclasses.replace(indicator, weight=weight)

    return tuple(
        override(indicator, float(indicator_weights[indicator.key]))
        if indicator.key in indicator_weights
        else indicator
        for indicator in indicators
    )


def provisional(period: Period, *, now: datetime, deadline_day: int, tz: ZoneInfo) -> bool:
    """Whether a month of the period is still open at `now`: its standings may still change."""
    return any(lock_time(month, deadline_day, tz) > now for month in period.months)


async def compute_standings(
    uow: UnitOfWork,
    period: Period,
    ward: WardFile,
    *,
    ward_id: int | None,
    tz: ZoneInfo,
    now: datetime | None = None,
    indicator_weights: Mapping[str, float] | None = None,
    group_ids: Collection[int] | None = None,
) -> StandingsResult:
    """Standings of `period` for every group (or only `group_ids`), not-reported last.

    A group is expected in a month when it existed before that month locked (or reported for
    it anyway), so a month without its report counts as zero in a multi-month average only
    from its creation on. Reports filled in with an older catalogue score by key: a figure
    the old version lacked counts as blank. With `now`, the result says whether it is
    provisional. Three queries whatever the number of groups and months.
    """
    scoring = ward.ward.scoring
    indicators = weighted(ward.indicators, indicator_weights, scoring)
    groups = await uow.standings.groups(ward_id, group_ids)
    months = [str(month) for month in period.months]
    keys = value_keys(indicators, scoring)
    values = await uow.standings.report_values(months, ward_id=ward_id, group_ids=group_ids, keys=keys)
    bonuses = await uow.bonuses.points(months, ward_id=ward_id, group_ids=group_ids)
    result = _standings(period, groups, values, indicators, ward, bonuses, tz)
    if now is None:
        return result
    late = provisional(period, now=now, deadline_day=ward.ward.report_deadline_day, tz=tz)
    return dataclasses.replace(result, provisional=late)


async def completeness(
    uow: UnitOfWork, year: int, *, ward_id: int | None, now: datetime, ward: WardSettings, tz: ZoneInfo
) -> list[CompletenessRow]:
    """Per group, by code: months of `year` already past their deadline, reports, reports on time.

    Only locked months are expected, and only those that locked after the group was created,
    so the table never blames a group for a month it may still report or could not have.
    """
    groups = await uow.standings.groups(ward_id)
    return await _completeness(uow, groups, year, ward_id=ward_id, now=now, ward=ward, tz=tz)


async def export_data(
    uow: UnitOfWork,
    period: Period,
    *,
    ward_id: int | None,
    ward_name: str,
    ward_file: WardFile,
    now: datetime,
    tz: ZoneInfo,
) -> ExportData:
    """Everything the Excel/CSV export of `period` shows: raw values, standings, completeness.

    Completeness covers the year the period ends in. Five queries in all: the groups and
    values are read once and shared by the values sheet and the standings; bonuses and
    free-text answers are read apart (standings never need the texts).
    """
    ward, indicators = ward_file.ward, ward_file.indicators
    groups = await uow.standings.groups(ward_id)
    months = [str(month) for month in period.months]
    keys = [indicator.key for indicator in indicators]
    values = await uow.standings.report_values(months, ward_id=ward_id, group_ids=None, keys=keys)
    bonuses = await uow.bonuses.points(months, ward_id=ward_id)
    result = _standings(period, groups, values, tuple(indicators), ward_file, bonuses, tz)
    by_id = {group.id: group for group in groups}
    texts = await uow.reports.texts_of_period(months, ward_id)
    value_rows: list[ValueRow] = [
        (month, by_id[group_id].code, by_id[group_id].name, {**report, **texts.get((group_id, month), {})})
        for (group_id, month), report in sorted(values.items(), key=lambda item: (item[0][1], item[0][0]))
        if group_id in by_id
    ]
    return ExportData(
        ward_name=ward_name,
        period_key=period.key,
        period_label=period.label(current_language()),
        indicators=tuple(indicators),
        value_rows=value_rows,
        standings=result.standings,
        completeness=await _completeness(
            uow, groups, period.last.year, ward_id=ward_id, now=now, ward=ward, tz=tz
        ),
        blocks=result.blocks(),
        provisional=provisional(period, now=now, deadline_day=ward.report_deadline_day, tz=tz),
    )


def expected_in(group: ResidentialGroup, month: Month, deadline_day: int, tz: ZoneInfo) -> bool:
    """Whether a group was expected to report a month: it existed before the month locked."""
    return group.created_at < lock_time(month, deadline_day, tz)


def _standings(
    period: Period,
    groups: Sequence[ResidentialGroup],
    values: Mapping[tuple[int, str], Values],
    indicators: tuple[Indicator, ...],
    ward: WardFile,
    bonuses: Mapping[tuple[int, str], float],
    tz: ZoneInfo,
) -> StandingsResult:
    """Score each month among the groups expected in it, then average (one month is returned as scored)."""
    monthly = score_months(
        period.months, groups, values, indicators, ward, bonuses, tz, ranked=len(period.months) == 1
    )
    standings = monthly[0] if len(monthly) == 1 else combine(monthly, ward.bands)
    return StandingsResult(
        period=period, standings=standings, indicators=indicators, bands=ward.bands, scoring=ward.ward.scoring
    )


def score_months(
    months: Sequence[Month],
    groups: Sequence[ResidentialGroup],
    values: Mapping[tuple[int, str], Values],
    indicators: Sequence[Indicator],
    ward: WardFile,
    bonuses: Mapping[tuple[int, str], float],
    tz: ZoneInfo,
    *,
    ranked: bool = True,
) -> list[list[Standing]]:
    """Each month scored on its own: what the standings of a longer period combine (`combine`)."""
    deadline_day, scoring, bands = ward.ward.report_deadline_day, ward.ward.scoring, ward.bands
    monthly: list[list[Standing]] = []
    for month in months:
        key, locked = str(month), lock_time(month, deadline_day, tz)
        figures = [
            GroupFigures(
                group_id=group.id,
                code=group.code,
                name=group.name,
                households=group.households,
                values=values.get((group.id, key)),
                block=group.block,
            )
            for group in groups
            if group.created_at < locked or (group.id, key) in values  # see `expected_in`
        ]
        extra = {group_id: points for (group_id, at), points in bonuses.items() if at == key}
        monthly.append(
            score_month(
                tuple(indicators),
                figures,
                bands,
                scoring=scoring,
                month=month.month,
                bonuses=extra,
                ranked=ranked,
            )
        )
    return monthly


async def photo_files(uow: UnitOfWork, period: Period, *, ward_id: int) -> list[PhotoFile]:
    """The ward's submitted photo answers of `period`, by group, month and question."""
    rows = await uow.reports.photos_of_period([str(month) for month in period.months], ward_id)
    return [
        PhotoFile(code, month, key, media_type, content)
        for code, month, key, _id, media_type, content in rows
    ]


def due_months(year: int, *, now: datetime, ward: WardSettings, tz: ZoneInfo) -> list[Month]:
    """Months of `year` whose deadline has passed at `now` (a group is expected to have reported)."""
    return [
        month
        for month in (Month(year, number) for number in range(1, 13))
        if lock_time(month, ward.report_deadline_day, tz) <= now
    ]


async def _completeness(
    uow: UnitOfWork,
    groups: Sequence[ResidentialGroup],
    year: int,
    *,
    ward_id: int | None,
    now: datetime,
    ward: WardSettings,
    tz: ZoneInfo,
) -> list[CompletenessRow]:
    due = due_months(year, now=now, ward=ward, tz=tz)
    submitted: dict[int, set[str]] = {}
    on_time: dict[int, int] = {}
    if due:
        for group_id, month, in_time in await uow.standings.reports([str(m) for m in due], ward_id=ward_id):
            submitted.setdefault(group_id, set()).add(month)
            if in_time:
                on_time[group_id] = on_time.get(group_id, 0) + 1
    rows = [
        CompletenessRow(
            code=group.code,
            name=group.name,
            expected=sum(
                1
                for month in due
                if str(month) in submitted.get(group.id, ())
                or expected_in(group, month, ward.report_deadline_day, tz)
            ),
            submitted=len(submitted.get(group.id, ())),
            on_time=on_time.get(group.id, 0),
        )
        for group in groups
    ]
    return sorted(rows, key=lambda row: row.code)
