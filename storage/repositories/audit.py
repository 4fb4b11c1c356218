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

    async def last(self, count: int) -> Sequence[AuditEntry]:
        """The newest `count` entries, oldest first."""
        rows = await self.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(count))
        return list(reversed(rows.all()))
