"""Sign-in links and sessions of the ward's web page (only hashes of their secrets are stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WebLink, WebSession


class WebRepository:
    """Reads and writes `web_links` and `web_sessions` inside the caller's transaction; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_link(self, link: WebLink) -> WebLink:
        self.session.add(link)
        await self.session.flush()
        return link

    async def link(self, code_hash: str) -> WebLink | None:
        """The link with this code hash, locked so that two presses of one link cannot both sign in."""
        return await self.session.scalar(
            select(WebLink).where(WebLink.code_hash == code_hash).with_for_update()
        )

    async def add_session(self, web_session: WebSession) -> WebSession:
        self.session.add(web_session)
        await self.session.flush()
        return web_session

    async def live_session(self, token_hash: str, now: datetime) -> WebSession | None:
        """The session with this token hash while it has neither expired nor ended."""
        return await self.session.scalar(
            select(WebSession).where(
                WebSession.token_hash == token_hash,
                WebSession.ended_at.is_(None),
                WebSession.expires_at > now,
            )
        )

    async def forget_expired_before(self, moment: datetime) -> None:
        """Drop sign-in links and sessions that expired before `moment`: nothing can use them again."""
        await self.session.execute(delete(WebLink).where(WebLink.expires_at < moment))
        await self.session.execute(delete(WebSession).where(WebSession.expires_at < moment))
