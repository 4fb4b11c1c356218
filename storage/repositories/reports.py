"""Catalogue versions, drafts, submitted reports, their audit trail and reopened months."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.dialects import insert_or_ignore
from storage.locks import lock_for_transaction
from storage.models import (
    Catalogue,
    Reopening,
    Report,
    ReportChange,
    ReportDraft,
    ReportValue,
    ResidentialGroup,
    utcnow,
)


class ReportsRepository:
    """Report rows inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def catalogue(self, catalogue_id: int) -> Catalogue | None:
        return await self.session.get(Catalogue, catalogue_id)

    async def ensure_catalogue(self, fingerprint: str, indicators_json: str) -> Catalogue:
        """The stored version with this fingerprint, created the first time it is seen."""
        query = select(Catalogue).where(Catalogue.fingerprint == fingerprint)
        found = await self.session.scalar(query)
        if found is None:  # another worker may be storing the same version at this moment
            row = {"fingerprint": fingerprint, "indicators_json": indicators_json, "created_at": utcnow()}
            await self.session.execute(insert_or_ignore(self.session, Catalogue, [row], ["fingerprint"]))
            found = await self.session.scalar(query)
        assert found is not None
        return found

    async def lock(self, group_id: int, month: str) -> None:
        """Until the transaction ends, nobody else writes this group's report for the month."""
        await lock_for_transaction(self.session, f"report:{group_id}:{month}")

    async def values_of_months(
        self, group_id: int, months: Sequence[str]
    ) -> dict[str, dict[str, float | None]]:
        """The values of the group's submitted reports for these months, by month (none: left out)."""
        rows = await self.session.execute(
            select(Report.month, ReportValue.key, ReportValue.value)
            .outerjoin(ReportValue, ReportValue.report_id == Report.id)
            .where(Report.group_id == group_id, Report.month.in_(list(months)))
        )
        found: dict[str, dict[str, float | None]] = {}
        for month, key, value in rows:
            values = found.setdefault(month, {})
            if key is not None:
                values[key] = value
        return found

    async def report(self, group_id: int, month: str) -> Report | None:
        """The submitted report with its values and submitter."""
        return await self.session.scalar(
            select(Report)
            .where(Report.group_id == group_id, Report.month == month)
            .options(selectinload(Report.values), selectinload(Report.submitter))
        )

    async def add_report(self, report: Report) -> Report:
        self.session.add(report)
        await self.session.flush()
        return report

    async def reports_for_months(self, months: Sequence[str]) -> Sequence[Report]:
        """Every submitted report of these months, values loaded (one query per table)."""
        rows = await self.session.scalars(
            select(Report).where(Report.month.in_(list(months))).options(selectinload(Report.values))
        )
        return rows.all()

    async def reported_groups(self, month: str, ward_id: int | None) -> set[int]:
        """Ids of the ward's groups that submitted a report for the month."""
        query = select(Report.group_id).where(Report.month == month)
        if ward_id is not None:
            query = query.join(ResidentialGroup, ResidentialGroup.id == Report.group_id).where(
                ResidentialGroup.ward_id == ward_id
            )
        return set((await self.session.scalars(query)).all())

    async def flagged(self, month: str, ward_id: int | None) -> list[tuple[str, str, float | None]]:
        """(group code, indicator key, value) of unusual values the heads confirmed, for staff."""
        query = (
            select(ResidentialGroup.code, ReportValue.key, ReportValue.value)
            .join(Report, Report.id == ReportValue.report_id)
            .join(ResidentialGroup, ResidentialGroup.id == Report.group_id)
            .where(Report.month == month, ReportValue.flagged)
            .order_by(ResidentialGroup.code, ReportValue.id)
        )
        if ward_id is not None:
            query = query.where(ResidentialGroup.ward_id == ward_id)
        rows = await self.session.execute(query)
        return [(code, key, value) for code, key, value in rows]

    async def draft(self, group_id: int, month: str, person_id: int) -> ReportDraft | None:
        return await self.session.scalar(
            select(ReportDraft).where(
                ReportDraft.group_id == group_id,
                ReportDraft.month == month,
                ReportDraft.person_id == person_id,
            )
        )

    async def draft_by_id(self, draft_id: int) -> ReportDraft | None:
        return await self.session.get(ReportDraft, draft_id)

    async def add_draft(self, draft: ReportDraft) -> ReportDraft:
        self.session.add(draft)
        await self.session.flush()
        return draft

    async def add_change(self, change: ReportChange) -> None:
        self.session.add(change)

    async def changes(self, report_id: int) -> Sequence[ReportChange]:
        rows = await self.session.scalars(
            select(ReportChange).where(ReportChange.report_id == report_id).order_by(ReportChange.id)
        )
        return rows.all()

    async def reopened_until(self, group_id: int, month: str) -> datetime | None:
        """The latest instant until which staff reopened this month for the group."""
        rows = await self.session.scalars(
            select(Reopening.until).where(Reopening.group_id == group_id, Reopening.month == month)
        )
        return max(rows.all(), default=None)

    async def reopened_months(self, group_id: int, after: datetime) -> Sequence[str]:
        """Months reopened for the group that are still open at `after`."""
        rows = await self.session.scalars(
            select(Reopening.month).where(Reopening.group_id == group_id, Reopening.until > after).distinct()
        )
        return rows.all()

    async def add_reopening(self, reopening: Reopening) -> None:
        self.session.add(reopening)
        await self.session.flush()
