"""The audit log: append-only."""

from __future__ import annotations

from collections.abc import Sequence

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
