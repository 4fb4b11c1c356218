"""The database-backed conversation state: one open flow per person, saved with each step's data."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, utcnow


class ConversationsRepository:
    """Read and write conversation states inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, person_id: int) -> Conversation | None:
        return await self.session.get(Conversation, person_id)

    async def save(
        self,
        person_id: int,
        flow: str,
        state: str,
        data: dict[str, Any],
        chat_external_id: str,
        *,
        now: datetime | None = None,
        still_fresh: timedelta = timedelta(0),
    ) -> Conversation:
        """Create or move the person's conversation to `state` with `data`.

        A step that leaves everything as it was keeps a stored time younger than `still_fresh`: most
        steps of a flow then write nothing, and the idle clock runs at most that much early.
        """
        at = now or utcnow()
        data_json = json.dumps(data, ensure_ascii=False, sort_keys=True)
        conversation = await self.get(person_id)
        if conversation is None:
            conversation = Conversation(person_id=person_id, flow=flow, chat_external_id=chat_external_id)
            self.session.add(conversation)
        else:
            c = conversation
            stored = (c.flow, c.state, c.data_json, c.chat_external_id)
            unchanged = stored == (flow, state, data_json, chat_external_id)
            if unchanged and timedelta(0) <= at - conversation.updated_at < still_fresh:
                return conversation
        conversation.flow, conversation.state = flow, state
        conversation.data_json = data_json
        conversation.chat_external_id = chat_external_id
        conversation.updated_at = at
        await self.session.flush()
        return conversation

    async def end(self, person_id: int) -> Conversation | None:
        """Close the person's conversation; returns what it was."""
        conversation = await self.get(person_id)
        if conversation is not None:
            await self.session.delete(conversation)
            await self.session.flush()
        return conversation

    async def idle_since(self, cutoff: datetime) -> Sequence[Conversation]:
        rows = await self.session.scalars(select(Conversation).where(Conversation.updated_at < cutoff))
        return rows.all()

    async def end_many(self, person_ids: Sequence[int]) -> None:
        await self.session.execute(delete(Conversation).where(Conversation.person_id.in_(list(person_ids))))


def conversation_data(conversation: Conversation) -> dict[str, Any]:
    """The step data of a conversation."""
    data = json.loads(conversation.data_json or "{}")
    return data if isinstance(data, dict) else {}
