"""Read-only queries behind standings, completeness and exports.

Each method is one SELECT whatever the number of groups or months, so a ward of 300 groups
costs the same number of round trips as a ward of 3. Rows come back as plain tuples of
columns rather than ORM objects: a year of a large ward is tens of thousands of values,
and building an object per value would dominate the time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Report, ReportValue, ResidentialGroup

#: Rows fetched per round trip to the database thread when values are streamed.
PARTITION_ROWS = 1000

#: (group id, month "2026-10", on time)
ReportRow = tuple[int, str, bool]


Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")


def _in_ward(query: Q, ward_id: int) -> Q:
    """Reports of one ward's groups."""
    return query.join(ResidentialGroup, ResidentialGroup.id == Report.group_id).where(
        ResidentialGroup.ward_id == ward_id
    )


class StandingsRepository:
    """Bulk reads of groups and reports inside the caller's transaction; never writes."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def groups(
        self, ward_id: int | None, group_ids: Collection[int] | None = None
    ) -> Sequence[ResidentialGroup]:
        """Every group of the ward (or only `group_ids`), by code."""
        query = select(ResidentialGroup).order_by(ResidentialGroup.code)
        if ward_id is not None:
            query = query.where(ResidentialGroup.ward_id == ward_id)
        if group_ids is not None:
            query = query.where(ResidentialGroup.id.in_(list(group_ids)))
        return (await self.session.scalars(query)).all()

    async def report_values(
        self,
        months: Sequence[str],
        *,
        ward_id: int | None = None,
        group_ids: Collection[int] | None = None,
        keys: Collection[str] | None = None,
    ) -> dict[tuple[int, str], dict[str, float | None]]:
        """Values of every report of these months by (group id, month), from one joined select.

        `keys` limits the values read (standings need only the scored ones, a third fewer
        rows with the default catalogue). The join is an outer one with the key filter in
        its condition, so a report holding none of those keys is still there, with no
        values: the group did report. Per-report facts (on time) are left to `reports`;
        repeated on every value row they would cost more than the values themselves.

        Rows are streamed in partitions and folded into dictionaries as they come, so a
        large ward's year never holds tens of thousands of row objects at once (which
        triggers full garbage collections and slows the query by half).
        """
        condition = ReportValue.report_id == Report.id
        if keys is not None:
            condition = and_(condition, ReportValue.key.in_(list(keys)))
        query = (
            select(Report.group_id, Report.month, ReportValue.key, ReportValue.value)
            .select_from(Report)
            .outerjoin(ReportValue, condition)
            .where(Report.month.in_(list(months)))
            .execution_options(yield_per=PARTITION_ROWS)
        )
        if group_ids is not None:
            query = query.where(Report.group_id.in_(list(group_ids)))
        if ward_id is not None:
            query = _in_ward(query, ward_id)
        values: dict[tuple[int, str], dict[str, float | None]] = {}
        result = await self.session.stream(query)
        try:
            async for partition in result.partitions():
                for group_id, month, key, value in partition:
                    report = values.get((group_id, month))
                    if report is None:
                        report = values[(group_id, month)] = {}
                    if key is not None:
                        report[key] = value
        finally:
            await result.close()
        return values

    async def reports(
        self, months: Sequence[str], *, ward_id: int | None = None, group_ids: Collection[int] | None = None
    ) -> Sequence[ReportRow]:
        """Which groups reported for these months, and whether on time (no values read)."""
        query = select(Report.group_id, Report.month, Report.on_time).where(Report.month.in_(list(months)))
        if group_ids is not None:
            query = query.where(Report.group_id.in_(list(group_ids)))
        if ward_id is not None:
            query = _in_ward(query, ward_id)
        return (await self.session.execute(query)).all()

    async def stamps(self, months: Sequence[str], ward_id: int) -> dict[str, tuple[int, Any]]:
        """What changes whenever a report of a month is sent or changed: by month, how many the ward's
        groups have and the newest submission (one grouped query)."""
        query = _in_ward(
            select(Report.month, func.count(Report.id), func.max(Report.submitted_at))
            .where(Report.month.in_(list(months)))
            .group_by(Report.month),
            ward_id,
        )
        return {month: (int(count), newest) for month, count, newest in await self.session.execute(query)}
