"""Read-only queries behind standings, completeness and exports.

Each method is one SELECT whatever the number of groups or months, so a ward of 300 groups
costs the same number of round trips as a ward of 3. Rows come back as plain tuples of
columns rather than ORM objects: a year of a large ward is tens of thousands of values,
and building an object per value would dominate the time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Report, ReportValue, ResidentialGroup

#: (group id, month "2026-10", key, value); key is None for a report with none of the keys asked for.
ValueRow = tuple[int, str, str | None, float | None]

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
        self,
        months: Sequence[str],
        *,
        group_ids: Collection[int] | None = None,
        keys: Collection[str] | None = None,
    ) -> Sequence[ValueRow]:
        """The values of every report of these months, one row per value, in one joined select.

        `keys` limits the values read (standings need only the scored ones, a third fewer
        rows with the default catalogue). The join is an outer one with the key filter in
        its condition, so a report holding none of those keys still shows that the group
        reported, as one row whose key is None. Per-report facts (on time, submission
        time) are left to `reports`: repeated on every value row they cost more than the
        values themselves.
        """
        condition = ReportValue.report_id == Report.id
        if keys is not None:
            condition = and_(condition, ReportValue.key.in_(list(keys)))
        query = (
            select(Report.group_id, Report.month, ReportValue.key, ReportValue.value)
            .select_from(Report)
            .outerjoin(ReportValue, condition)
            .where(Report.month.in_(list(months)))
        )
        if group_ids is not None:
            query = query.where(Report.group_id.in_(list(group_ids)))
        return (await self.session.execute(query)).all()

    async def reports(
        self, months: Sequence[str], *, group_ids: Collection[int] | None = None
    ) -> Sequence[ReportRow]:
        """Which groups reported for these months, and whether on time (no values read)."""
        query = select(Report.group_id, Report.month, Report.on_time).where(Report.month.in_(list(months)))
        if group_ids is not None:
            query = query.where(Report.group_id.in_(list(group_ids)))
        return (await self.session.execute(query)).all()
