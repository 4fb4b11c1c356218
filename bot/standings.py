"""Standings, completeness and export data for a period, read from the database in bulk.

The arithmetic lives in bot.scoring; this module only gathers the figures. It does so with
a fixed handful of queries (groups, then every value of the period in one joined select),
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
from bot.indicators import Indicator, asked_in
from bot.periods import Month, Period, lock_time
from bot.scoring import GroupFigures, Standing, combine, score_month
from bot.ward_config import Bands, WardSettings
from storage.models import ResidentialGroup
from storage.unit_of_work import UnitOfWork

#: Values of one report by indicator key.
Values = dict[str, float | None]


@dataclass(frozen=True)
class StandingsResult:
    """Ranked standings of a period and the catalogue they were scored with.

    `indicators` are the ward's current catalogue with any weight overrides applied, so a
    reply can say which figures counted.
    """

    period: Period
    standings: list[Standing]
    indicators: tuple[Indicator, ...]


def weighted(
    indicators: Sequence[Indicator], indicator_weights: Mapping[str, float] | None
) -> tuple[Indicator, ...]:
    """The catalogue with weights replaced by key (a campaign's criteria); 0 leaves one out.

    Keys the catalogue no longer has are ignored: a campaign may outlive a catalogue change.
    """
    if not indicator_weights:
        return tuple(indicators)
    for key, weight in indicator_weights.items():
        if weight < 0:
            raise ValueError(f"weight of {key!r} cannot be negative: {weight}")
    return tuple(
        dataclasses.replace(indicator, weight=float(indicator_weights[indicator.key]))
        if indicator.key in indicator_weights
        else indicator
        for indicator in indicators
    )


async def compute_standings(
    uow: UnitOfWork,
    period: Period,
    indicators: Sequence[Indicator],
    bands: Bands,
    *,
    ward_id: int | None,
    indicator_weights: Mapping[str, float] | None = None,
    group_ids: Collection[int] | None = None,
) -> StandingsResult:
    """Standings of `period` for every group (or only `group_ids`), not-reported last.

    Every listed group is expected every month of the period, so a month without its
    report counts as zero in a multi-month average. Reports filled in with an older
    catalogue score by key: a figure the old version lacked counts as blank.
    """
    scoring = weighted(indicators, indicator_weights)
    groups = await uow.standings.groups(ward_id, group_ids)
    scored_keys = [indicator.key for indicator in scoring if indicator.scored]
    values = await _values(uow, period, ward_id=ward_id, group_ids=group_ids, keys=scored_keys)
    return _standings(period, groups, values, scoring, bands)


async def completeness(
    uow: UnitOfWork, year: int, *, ward_id: int | None, now: datetime, ward: WardSettings, tz: ZoneInfo
) -> list[CompletenessRow]:
    """Per group, by code: months of `year` already past their deadline, reports, reports on time.

    Only locked months are expected, so the table never blames a group for a month it
    may still report.
    """
    groups = await uow.standings.groups(ward_id)
    return await _completeness(uow, groups, year, ward_id=ward_id, now=now, ward=ward, tz=tz)


async def export_data(
    uow: UnitOfWork,
    period: Period,
    *,
    ward_id: int | None,
    ward_name: str,
    indicators: Sequence[Indicator],
    bands: Bands,
    now: datetime,
    ward: WardSettings,
    tz: ZoneInfo,
) -> ExportData:
    """Everything the Excel/CSV export of `period` shows: raw values, standings, completeness.

    Completeness covers the year the period ends in. Four queries in all: the groups and
    values are read once and shared by the values sheet and the standings; free-text answers
    are read apart (standings never need them).
    """
    groups = await uow.standings.groups(ward_id)
    keys = [indicator.key for indicator in indicators]
    values = await _values(uow, period, ward_id=ward_id, group_ids=None, keys=keys)
    result = _standings(period, groups, values, tuple(indicators), bands)
    by_id = {group.id: group for group in groups}
    texts = await uow.reports.texts_of_period([str(month) for month in period.months], ward_id)
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
    )


async def _values(
    uow: UnitOfWork,
    period: Period,
    *,
    ward_id: int | None,
    group_ids: Collection[int] | None,
    keys: Collection[str],
) -> dict[tuple[int, str], Values]:
    """Submitted values (only `keys`) by (group id, month) for the period, from one query."""
    months = [str(month) for month in period.months]
    return await uow.standings.report_values(months, ward_id=ward_id, group_ids=group_ids, keys=keys)


def _standings(
    period: Period,
    groups: Sequence[ResidentialGroup],
    values: Mapping[tuple[int, str], Values],
    indicators: tuple[Indicator, ...],
    bands: Bands,
) -> StandingsResult:
    """Score each month, then average them (a single month is returned as scored)."""
    monthly: list[list[Standing]] = []
    for month in period.months:
        key = str(month)
        figures = [
            GroupFigures(
                group_id=group.id,
                code=group.code,
                name=group.name,
                households=group.households,
                values=values.get((group.id, key)),
            )
            for group in groups
        ]
        monthly.append(score_month(asked_in(indicators, month.month), figures, bands))
    standings = monthly[0] if len(monthly) == 1 else combine(monthly, bands)
    return StandingsResult(period=period, standings=standings, indicators=indicators)


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
    months = [str(month) for month in due_months(year, now=now, ward=ward, tz=tz)]
    submitted: dict[int, int] = {}
    on_time: dict[int, int] = {}
    if months:
        for group_id, _month, in_time in await uow.standings.reports(months, ward_id=ward_id):
            submitted[group_id] = submitted.get(group_id, 0) + 1
            if in_time:
                on_time[group_id] = on_time.get(group_id, 0) + 1
    rows = [
        CompletenessRow(
            code=group.code,
            name=group.name,
            expected=len(months),
            submitted=submitted.get(group.id, 0),
            on_time=on_time.get(group.id, 0),
        )
        for group in groups
    ]
    return sorted(rows, key=lambda row: row.code)
