"""Wards of the deployment."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Report, ResidentialGroup, Ward


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

    async def group_counts(self) -> dict[int, int]:
        """Groups per ward."""
        rows = await self.session.execute(
            select(ResidentialGroup.ward_id, func.count()).group_by(ResidentialGroup.ward_id)
        )
        return {int(ward_id): int(count) for ward_id, count in rows}

    async def report_counts(self, months: Sequence[str]) -> dict[tuple[int, str], tuple[int, int]]:
        """(reports, reports on time) per ward and month."""
        rows = await self.session.execute(
            select(
                ResidentialGroup.ward_id,
                Report.month,
                func.count(),
                func.sum(case((Report.on_time, 1), else_=0)),
            )
            .join(ResidentialGroup, ResidentialGroup.id == Report.group_id)
            .where(Report.month.in_(list(months)))
            .group_by(ResidentialGroup.ward_id, Report.month)
        )
        return {(int(w), str(m)): (int(n), int(on_time or 0)) for w, m, n, on_time in rows}

    async def add(self, ward: Ward) -> Ward:
        self.session.add(ward)
        await self.session.flush()
        return ward
