"""Read-only queries behind standings, completeness and exports.

Each method is one SELECT whatever the number of groups or months, so a ward of 300 groups
costs the same number of round trips as a ward of 3. Rows come back as plain tuples of
columns rather than ORM objects: a year of a large ward is tens of thousands of values,
and building an object per value would dominate the time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Report, ReportValue, ResidentialGroup

#: (group id, month "2026-10", key, value, on time, first submitted at); key is None for a
#: report without any value row.
ReportValueRow = tuple[int, str, str | None, float | None, bool, datetime]

#: (group id, month "2026-10", on time)
ReportRow = tuple[int, str, bool]


class StandingsRepository:
    """Bulk reads of groups and reports inside the caller's transaction; never writes."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def groups(self, group_ids: Collection[int] | None = None) -> Sequence[ResidentialGroup]:
        """Every group (or only `group_ids`), by code."""
        query = select(ResidentialGroup).order_by(ResidentialGroup.code)
        if group_ids is not None:
            query = query.where(ResidentialGroup.id.in_(list(group_ids)))
        return (await self.session.scalars(query)).all()

    async def report_rows(
        self, months: Sequence[str], group_ids: Collection[int] | None = None
    ) -> list[ReportValueRow]:
        """Every value of every report of these months, one row per value, in one joined select.

        An outer join, so a report whose values are all missing still shows the group reported.
        """
        query = (
            select(
                Report.group_id,
                Report.month,
                ReportValue.key,
                ReportValue.value,
                Report.on_time,
                Report.first_submitted_at,
            )
            .select_from(Report)
            .outerjoin(ReportValue, ReportValue.report_id == Report.id)
            .where(Report.month.in_(list(months)))
        )
        if group_ids is not None:
            query = query.where(Report.group_id.in_(list(group_ids)))
        result = await self.session.execute(query)
        return list(result.tuples())

    async def reports(
        self, months: Sequence[str], group_ids: Collection[int] | None = None
    ) -> list[ReportRow]:
        """Which groups reported for these months, and whether on time (no values read)."""
        query = select(Report.group_id, Report.month, Report.on_time).where(Report.month.in_(list(months)))
        if group_ids is not None:
            query = query.where(Report.group_id.in_(list(group_ids)))
        result = await self.session.execute(query)
        return list(result.tuples())
