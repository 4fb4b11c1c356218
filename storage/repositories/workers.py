"""Live worker processes and the pictures they serve."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Media, Worker


class WorkersRepository:
    """Heartbeats and media inside the caller's transaction; flushes, never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def beat(self, name: str, *, now: datetime) -> None:
        worker = await self.session.get(Worker, name)
        if worker is None:
            self.session.add(Worker(name=name, started_at=now, heartbeat_at=now))
        else:
            worker.heartbeat_at = now
        await self.session.flush()

    async def live(self, *, since: datetime) -> int:
        """How many workers have beaten since `since` (at least this one)."""
        count = await self.session.scalar(select(func.count()).where(Worker.heartbeat_at >= since))
        return max(1, int(count or 0))

    async def leave(self, name: str) -> None:
        await self.session.execute(delete(Worker).where(Worker.name == name))

    async def forget_before(self, moment: datetime) -> None:
        await self.session.execute(delete(Worker).where(Worker.heartbeat_at < moment))

    async def add_media(self, name: str, content: bytes, *, now: datetime) -> None:
        self.session.add(Media(name=name, content=content, created_at=now))
        await self.session.flush()

    async def media(self, name: str) -> bytes | None:
        found = await self.session.get(Media, name)
        return found.content if found is not None else None

    async def forget_media_before(self, moment: datetime) -> int:
        result = await self.session.execute(delete(Media).where(Media.created_at < moment))
        return int(getattr(result, "rowcount", 0) or 0)
