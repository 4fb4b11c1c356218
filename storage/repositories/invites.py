"""Invite codes, stored as hashes so a leaked database does not leak usable codes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.models import Invite


class InvitesRepository:
    """Reads and writes `invites` inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, invite: Invite) -> Invite:
        self.session.add(invite)
        await self.session.flush()
        return invite

    async def by_hash(self, code_hash: str) -> Invite | None:
        """The invite with this code hash, its group loaded (none for staff invites); locked, so two
        people opening one link at the same instant cannot both use it (PostgreSQL)."""
        return await self.session.scalar(
            select(Invite)
            .options(joinedload(Invite.group))
            .where(Invite.code_hash == code_hash)
            .with_for_update(of=Invite)
        )

    async def open_setup(self, ward_id: int | None, now: datetime) -> Sequence[Invite]:
        """The ward's setup codes (the province's when `ward_id` is None) still unused and unexpired."""
        ward = Invite.ward_id.is_(None) if ward_id is None else Invite.ward_id == ward_id
        query = select(Invite).where(
            ward, Invite.setup.is_(True), Invite.used_at.is_(None), Invite.expires_at > now
        )
        return (await self.session.scalars(query)).all()
