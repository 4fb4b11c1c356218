"""The audit log: append-only."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


class AuditRepository:
    """Appends and reads audit entries inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entry: AuditEntry) -> None:
        self.session.add(entry)
        await self.session.flush()

    async def last(self, count: int, ward_id: int | None = None) -> Sequence[AuditEntry]:
        """The newest `count` entries (of one ward, when given), oldest first."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(count)
        if ward_id is not None:
            query = query.where(AuditEntry.ward_id == ward_id)
        rows = await self.session.scalars(query)
        return list(reversed(rows.all()))

    async def latest(self, action: str, subjects: Iterable[int], ward_id: int) -> dict[int, AuditEntry]:
        """Each subject's newest entry of `action` in the ward (e.g. when and by whom they became staff)."""
        wanted = set(subjects)
        if not wanted:
            return {}
        query = (
            select(AuditEntry)
            .where(
                AuditEntry.action == action,
                AuditEntry.subject_id.in_(wanted),
                AuditEntry.ward_id == ward_id,
            )
            .order_by(AuditEntry.id)
        )
        return {entry.subject_id: entry for entry in await self.session.scalars(query) if entry.subject_id}
