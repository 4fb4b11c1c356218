"""Catalogue versions, drafts, submitted reports, their audit trail and reopened months."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.dialects import insert_or_ignore
from storage.locks import lock_for_transaction
from storage.models import (
    Catalogue,
    Person,
    Reopening,
    Report,
    ReportChange,
    ReportDraft,
    ReportPhoto,
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
            .options(selectinload(Report.values), selectinload(Report.photos), selectinload(Report.submitter))
        )

    async def add_report(self, report: Report, values: Sequence[Mapping[str, Any]] = ()) -> Report:
        """Store a new report; `values` (key, value, flagged, text of each) go in with one executemany,
        where ORM objects would cost one INSERT each on SQLite (to read back every id). The report's
        `values` are then read from the database when next asked for."""
        self.session.add(report)
        await self.session.flush()
        if values:
            await self.session.execute(
                insert(ReportValue), [{**row, "report_id": report.id} for row in values]
            )
            self.session.expire(report, ["values"])
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

    async def month_rows(self, month: str, ward_id: int) -> Sequence[tuple[int, datetime, bool, str | None]]:
        """(group id, submitted at, on time, submitter's name) of every report of the ward's month."""
        query = (
            select(Report.group_id, Report.submitted_at, Report.on_time, Person.display_name)
            .join(ResidentialGroup, ResidentialGroup.id == Report.group_id)
            .outerjoin(Person, Person.id == Report.submitted_by)
            .where(Report.month == month, ResidentialGroup.ward_id == ward_id)
        )
        return [tuple(row) for row in await self.session.execute(query)]  # type: ignore[misc]

    async def reopened_groups(self, month: str, ward_id: int, after: datetime) -> dict[int, datetime]:
        """The ward's groups whose `month` is reopened beyond `after`, with until when."""
        query = (
            select(Reopening.group_id, func.max(Reopening.until))
            .join(ResidentialGroup, ResidentialGroup.id == Reopening.group_id)
            .where(Reopening.month == month, ResidentialGroup.ward_id == ward_id, Reopening.until > after)
            .group_by(Reopening.group_id)
        )
        return {group_id: until for group_id, until in await self.session.execute(query)}

    async def of_group(self, group_id: int, months: Sequence[str]) -> Sequence[Report]:
        """A group's reports of these months, newest first, values and submitter loaded."""
        rows = await self.session.scalars(
            select(Report)
            .where(Report.group_id == group_id, Report.month.in_(list(months)))
            .options(selectinload(Report.values), selectinload(Report.submitter))
            .order_by(Report.month.desc())
        )
        return rows.all()

    async def changes_of(self, report_ids: Sequence[int]) -> Sequence[ReportChange]:
        """The audit trail of these reports (submissions, changes, reopenings), oldest first."""
        if not report_ids:
            return []
        rows = await self.session.scalars(
            select(ReportChange).where(ReportChange.report_id.in_(list(report_ids))).order_by(ReportChange.id)
        )
        return rows.all()

    async def add_reopening(self, reopening: Reopening) -> None:
        self.session.add(reopening)
        await self.session.flush()

    async def add_photo(self, photo: ReportPhoto) -> ReportPhoto:
        self.session.add(photo)
        await self.session.flush()
        return photo

    async def keep_photos(self, report: Report, key: str, photo_ids: Sequence[int]) -> None:
        """The report's photos for `key` become exactly `photo_ids` (those of its group and month);
        photos it no longer keeps are deleted."""
        await self.session.execute(
            update(ReportPhoto)
            .where(
                ReportPhoto.id.in_(list(photo_ids)),
                ReportPhoto.group_id == report.group_id,
                ReportPhoto.month == report.month,
                ReportPhoto.key == key,
            )
            .values(report_id=report.id)
        )
        await self.session.execute(
            delete(ReportPhoto).where(
                ReportPhoto.report_id == report.id,
                ReportPhoto.key == key,
                ReportPhoto.id.not_in(list(photo_ids)),
            )
        )

    async def drop_loose_photos(
        self, group_id: int, month: str, person_id: int, photo_ids: Sequence[int] | None = None
    ) -> None:
        """Delete photos this person sent for the group's month that no submitted report keeps
        (all of them, or only `photo_ids`): removed from a draft, or left over once it was sent."""
        query = delete(ReportPhoto).where(
            ReportPhoto.group_id == group_id,
            ReportPhoto.month == month,
            ReportPhoto.person_id == person_id,
            ReportPhoto.report_id.is_(None),
        )
        if photo_ids is not None:
            query = query.where(ReportPhoto.id.in_(list(photo_ids)))
        await self.session.execute(query)

    async def photos_of_period(
        self, months: Sequence[str], ward_id: int
    ) -> Sequence[tuple[str, str, str, int, str, bytes]]:
        """(group code, month, key, photo id, media type, content) of the ward's submitted photos."""
        rows = await self.session.execute(
            select(
                ResidentialGroup.code,
                ReportPhoto.month,
                ReportPhoto.key,
                ReportPhoto.id,
                ReportPhoto.media_type,
                ReportPhoto.content,
            )
            .join(ResidentialGroup, ResidentialGroup.id == ReportPhoto.group_id)
            .where(
                ReportPhoto.ward_id == ward_id,
                ReportPhoto.report_id.is_not(None),
                ReportPhoto.month.in_(list(months)),
            )
            .order_by(ResidentialGroup.code, ReportPhoto.month, ReportPhoto.key, ReportPhoto.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]

    async def texts_of_period(
        self, months: Sequence[str], ward_id: int | None
    ) -> dict[tuple[int, str], dict[str, str]]:
        """Free-text answers of the period's reports by (group id, month), then indicator key."""
        query = (
            select(Report.group_id, Report.month, ReportValue.key, ReportValue.text)
            .join(ReportValue, ReportValue.report_id == Report.id)
            .where(Report.month.in_(list(months)), ReportValue.text.is_not(None))
        )
        if ward_id is not None:
            query = query.join(ResidentialGroup, ResidentialGroup.id == Report.group_id).where(
                ResidentialGroup.ward_id == ward_id
            )
        texts: dict[tuple[int, str], dict[str, str]] = {}
        for group_id, month, key, text in await self.session.execute(query):
            if text is not None:
                texts.setdefault((group_id, month), {})[key] = text
        return texts
