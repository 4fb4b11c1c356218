"""Invite codes, stored as hashes so a leaked database does not leak usable codes."""

from __future__ import annotations

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
        """The invite with this code hash, its group loaded."""
        return await self.session.scalar(
            select(Invite).options(joinedload(Invite.group)).where(Invite.code_hash == code_hash)
        )
