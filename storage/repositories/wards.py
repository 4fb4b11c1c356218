"""Wards of the deployment."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Ward


class WardsRepository:
    """Ward rows inside the caller's transaction; flushes, never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> Sequence[Ward]:
        return (await self.session.scalars(select(Ward).order_by(Ward.id))).all()

    async def get(self, ward_id: int) -> Ward | None:
        return await self.session.get(Ward, ward_id)

    async def by_code(self, code: str) -> Ward | None:
        return await self.session.scalar(select(Ward).where(Ward.code == code.strip().upper()))

    async def add(self, ward: Ward) -> Ward:
        self.session.add(ward)
        await self.session.flush()
        return ward
