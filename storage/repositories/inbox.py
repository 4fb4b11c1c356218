"""The durable inbox: updates as received, until handled exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialects import insert_or_ignore
from storage.models import InboxUpdate


class InboxRepository:
    """Inbox rows inside the caller's transaction; flushes, never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_many(
        self, rows: Sequence[tuple[str, int, str, str]], *, now: datetime
    ) -> dict[tuple[str, int], int]:
        """Record (platform, update_id, chat_key, payload) rows; a redelivered update is not added again.

        Returns the inbox id of each update that is new.
        """
        if not rows:
            return {}
        values = [
            {"platform": p, "update_id": u, "chat_key": c, "payload": body, "received_at": now}
            for p, u, c, body in rows
        ]
        statement = insert_or_ignore(self.session, InboxUpdate, values, ["platform", "update_id"]).returning(
            InboxUpdate.id, InboxUpdate.platform, InboxUpdate.update_id
        )
        result = await self.session.execute(statement)
        return {(platform, int(update_id)): int(inbox_id) for inbox_id, platform, update_id in result}

    async def claim(self, inbox_id: int, *, now: datetime) -> bool:
        """Mark an update handled, in the transaction of its effects; False when it already was."""
        result = await self.session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.id == inbox_id, InboxUpdate.handled_at.is_(None))
            .values(handled_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def unhandled(self, *, limit: int = 10_000) -> Sequence[InboxUpdate]:
        """Updates received but not handled (a crash, a stop), oldest first."""
        rows = await self.session.scalars(
            select(InboxUpdate).where(InboxUpdate.handled_at.is_(None)).order_by(InboxUpdate.id).limit(limit)
        )
        return rows.all()

    async def earlier_unhandled(self, chat_key: str, inbox_id: int) -> Sequence[InboxUpdate]:
        """Updates of the same chat received before this one and not yet handled (another worker's)."""
        rows = await self.session.scalars(
            select(InboxUpdate)
            .where(
                InboxUpdate.chat_key == chat_key,
                InboxUpdate.handled_at.is_(None),
                InboxUpdate.id < inbox_id,
            )
            .order_by(InboxUpdate.id)
        )
        return rows.all()

    async def forget_handled_before(self, moment: datetime, *, limit: int | None = None) -> int:
        """Drop updates handled before `moment` (at most `limit` of them); `moment` must be older than any
        redelivery could be (Telegram keeps updates 24 hours)."""
        old = select(InboxUpdate.id).where(
            InboxUpdate.handled_at.is_not(None), InboxUpdate.handled_at < moment
        )
        result = await self.session.execute(delete(InboxUpdate).where(InboxUpdate.id.in_(old.limit(limit))))
        return int(getattr(result, "rowcount", 0) or 0)
