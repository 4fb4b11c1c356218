"""Personal data: everything stored about one person, found and removed (Decree 13/2023).

The erasure rules live in bot/privacy.py; this only knows where a person's name and chat id are kept.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AuditEntry,
    Broadcast,
    Conversation,
    InboxUpdate,
    Membership,
    OutboxMessage,
    PendingChoices,
    ReportDraft,
)


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class PrivacyRepository:
    """Finds and removes one person's traces inside the caller's transaction; flushes, never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def drop_memberships(self, person_id: int) -> int:
        """Every role the person holds in a group (follows, head, deputy)."""
        return _count(await self.session.execute(delete(Membership).where(Membership.person_id == person_id)))

    async def drop_work_in_progress(self, person_id: int) -> None:
        """Their open conversation and unsent report drafts."""
        await self.session.execute(delete(Conversation).where(Conversation.person_id == person_id))
        await self.session.execute(delete(ReportDraft).where(ReportDraft.person_id == person_id))

    async def drop_chat(self, platform: str, chat_id: str) -> int:
        """Everything kept of a private chat: the options last shown there and every message to it."""
        await self.session.execute(
            delete(PendingChoices).where(
                PendingChoices.platform == platform, PendingChoices.chat_external_id == chat_id
            )
        )
        return _count(
            await self.session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.platform == platform, OutboxMessage.chat_external_id == chat_id
                )
            )
        )

    async def drop_received(self, platform: str, user_id: str, chat_key: str) -> int:
        """The raw updates received from the person, in their private chat and in group chats (handled
        ones: an unhandled update is still to be answered)."""
        sender = f'"user_id":{_json_string(user_id)}'  # as bot.pipeline.encode writes it
        return _count(
            await self.session.execute(
                delete(InboxUpdate).where(
                    InboxUpdate.platform == platform,
                    InboxUpdate.handled_at.is_not(None),
                    or_(
                        InboxUpdate.chat_key == chat_key,
                        InboxUpdate.payload.contains(sender, autoescape=True),
                    ),
                )
            )
        )

    async def outbox_mentioning(self, text: str, *, about: int | None = None) -> Sequence[OutboxMessage]:
        """Messages whose text, recipient or error names `text` (with `about`: of their broadcasts)."""
        columns = (OutboxMessage.text, OutboxMessage.recipient_label, OutboxMessage.last_error)
        query = select(OutboxMessage).where(or_(*(c.contains(text, autoescape=True) for c in columns)))
        if about is not None:
            theirs = select(Broadcast.id).where(Broadcast.requested_by == about)
            query = query.where(OutboxMessage.broadcast_id.in_(theirs))
        return (await self.session.scalars(query)).all()

    async def audit_mentioning(self, text: str, *, about: int | None = None) -> Sequence[AuditEntry]:
        """Audit entries whose label or detail names `text` (with `about`: that person did or underwent)."""
        columns = (AuditEntry.actor_label, AuditEntry.detail)
        query = select(AuditEntry).where(or_(*(c.contains(text, autoescape=True) for c in columns)))
        if about is not None:
            query = query.where(or_(AuditEntry.actor_id == about, AuditEntry.subject_id == about))
        return (await self.session.scalars(query)).all()

    async def broadcasts_mentioning(self, text: str, *, about: int | None = None) -> Sequence[Broadcast]:
        """Broadcasts whose title names `text` (with `about`: that person asked for)."""
        query = select(Broadcast).where(Broadcast.title.contains(text, autoescape=True))
        if about is not None:
            query = query.where(Broadcast.requested_by == about)
        return (await self.session.scalars(query)).all()


def _json_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)
