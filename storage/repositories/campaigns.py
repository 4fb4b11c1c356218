"""Campaigns, the groups taking part and their pledges."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Campaign, CampaignGroup, Pledge, ResidentialGroup


class CampaignsRepository:
    """Campaign rows inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, campaign_id: int) -> Campaign | None:
        return await self.session.scalar(
            select(Campaign).where(Campaign.id == campaign_id).options(selectinload(Campaign.groups))
        )

    async def add(self, campaign: Campaign) -> Campaign:
        self.session.add(campaign)
        await self.session.flush()
        return campaign

    async def launched(self, ward_id: int | None) -> Sequence[Campaign]:
        """A ward's launched campaigns (every ward's when None), newest first, with their groups."""
        query = select(Campaign).where(Campaign.launched_at.is_not(None))
        if ward_id is not None:
            query = query.where(Campaign.ward_id == ward_id)
        rows = await self.session.scalars(
            query.options(selectinload(Campaign.groups)).order_by(Campaign.id.desc())
        )
        return rows.all()

    async def blocks(self, ward_id: int) -> list[str]:
        """The distinct emulation blocks (khối) of the ward's groups."""
        rows = await self.session.scalars(
            select(ResidentialGroup.block)
            .where(ResidentialGroup.block.is_not(None), ResidentialGroup.ward_id == ward_id)
            .distinct()
        )
        return sorted(b for b in rows.all() if b)

    async def groups_in(self, ward_id: int, block: str | None) -> Sequence[ResidentialGroup]:
        """Every group of the ward, or the groups of one block."""
        query = (
            select(ResidentialGroup)
            .where(ResidentialGroup.ward_id == ward_id)
            .order_by(ResidentialGroup.code)
        )
        if block is not None:
            query = query.where(ResidentialGroup.block == block)
        return (await self.session.scalars(query)).all()

    async def add_groups(self, campaign: Campaign, group_ids: Sequence[int]) -> None:
        self.session.add_all(CampaignGroup(campaign_id=campaign.id, group_id=g) for g in group_ids)
        await self.session.flush()

    async def pledge(self, campaign_id: int, group_id: int) -> Pledge | None:
        return await self.session.scalar(
            select(Pledge).where(Pledge.campaign_id == campaign_id, Pledge.group_id == group_id)
        )

    async def add_pledge(self, pledge: Pledge) -> None:
        self.session.add(pledge)
        await self.session.flush()

    async def pledged_groups(self, campaign_id: int) -> set[int]:
        rows = await self.session.scalars(select(Pledge.group_id).where(Pledge.campaign_id == campaign_id))
        return set(rows.all())

    async def pledge_counts(self) -> dict[int, int]:
        rows = await self.session.execute(
            select(Pledge.campaign_id, func.count()).group_by(Pledge.campaign_id)
        )
        return {campaign_id: count for campaign_id, count in rows}
