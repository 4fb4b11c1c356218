"""Processed update ids, so that a redelivered update has no second effect."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate, utcnow


class UpdatesRepository:
    """Remembers which updates were handled, inside the same transaction as their effects."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, platform: str, update_id: int) -> bool:
        """True the first time an update id is seen; False for a redelivery."""
        result = await self.session.execute(
            insert(ProcessedUpdate)
            .values(platform=platform, update_id=update_id, handled_at=utcnow())
            .on_conflict_do_nothing()
        )
        return bool(getattr(result, "rowcount", 0))

    async def forget_before(self, moment: datetime) -> None:
        """Drop ids older than any redelivery could be (Telegram keeps updates 24 hours)."""
        await self.session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.handled_at < moment))
