"""Bonus and penalty points per group and month: set, removed, and read in bulk for standings."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Bonus


class BonusesRepository:
    """Reads and writes bonuses inside the caller's transaction; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, group_id: int, month: str) -> Bonus | None:
        """The group's bonus for the month, if any."""
        return await self.session.scalar(
            select(Bonus).where(Bonus.group_id == group_id, Bonus.month == month)
        )

    async def put(self, bonus: Bonus) -> None:
        """Store a new bonus row."""
        self.session.add(bonus)
        await self.session.flush()

    async def remove(self, bonus: Bonus) -> None:
        """Delete a bonus row."""
        await self.session.delete(bonus)
        await self.session.flush()

    async def points(
        self, months: Sequence[str], *, ward_id: int | None, group_ids: Collection[int] | None = None
    ) -> dict[tuple[int, str], float]:
        """Points by (group id, month) for these months, from one query whatever the number of groups."""
        query = select(Bonus.group_id, Bonus.month, Bonus.points).where(Bonus.month.in_(list(months)))
        if ward_id is not None:
            query = query.where(Bonus.ward_id == ward_id)
        if group_ids is not None:
            query = query.where(Bonus.group_id.in_(list(group_ids)))
        return {(group_id, month): points for group_id, month, points in await self.session.execute(query)}
