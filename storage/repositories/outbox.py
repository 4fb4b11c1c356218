"""The broadcast outbox: broadcasts, their messages and attachments, and who a broadcast can reach."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Broadcast,
    Chat,
    Membership,
    OutboxAttachment,
    OutboxMessage,
    Person,
    ResidentialGroup,
)

PENDING, SENDING, SENT, FAILED, BLOCKED = "pending", "sending", "sent", "failed", "blocked"
OPEN_STATUSES = (PENDING, SENDING)
FINAL_STATUSES = (SENT, FAILED, BLOCKED)


class OutboxRepository:
    """Outbox rows inside the caller's transaction; flushes, never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- broadcasts ------------------------------------------------------------------------------

    async def broadcast(self, broadcast_id: int) -> Broadcast | None:
        return await self.session.get(Broadcast, broadcast_id)

    async def broadcast_by_key(self, key: str) -> Broadcast | None:
        return await self.session.scalar(select(Broadcast).where(Broadcast.key == key))

    async def add_broadcast(self, broadcast: Broadcast) -> Broadcast:
        self.session.add(broadcast)
        await self.session.flush()
        return broadcast

    async def add_attachment(self, attachment: OutboxAttachment) -> OutboxAttachment:
        self.session.add(attachment)
        await self.session.flush()
        return attachment

    async def add_messages(self, messages: Sequence[OutboxMessage]) -> None:
        self.session.add_all(messages)
        await self.session.flush()

    async def unreported_finished(self) -> Sequence[Broadcast]:
        """Broadcasts with nothing left to send whose report was not made yet, oldest first."""
        still_open = exists().where(
            OutboxMessage.broadcast_id == Broadcast.id, OutboxMessage.status.in_(OPEN_STATUSES)
        )
        rows = await self.session.scalars(
            select(Broadcast).where(Broadcast.reported.is_(False), ~still_open).order_by(Broadcast.id)
        )
        return rows.all()

    async def status_counts(self, broadcast_ids: Collection[int]) -> dict[int, dict[str, int]]:
        """How many messages of each broadcast are in each status."""
        rows = await self.session.execute(
            select(OutboxMessage.broadcast_id, OutboxMessage.status, func.count())
            .where(OutboxMessage.broadcast_id.in_(list(broadcast_ids)))
            .group_by(OutboxMessage.broadcast_id, OutboxMessage.status)
        )
        counts: dict[int, dict[str, int]] = {}
        for broadcast_id, status, count in rows:
            counts.setdefault(int(broadcast_id or 0), {})[status] = int(count)
        return counts

    async def labels(
        self, broadcast_ids: Collection[int], statuses: Collection[str]
    ) -> Sequence[tuple[int, str, str]]:
        """(broadcast id, status, recipient label) of the messages in `statuses`, in sending order."""
        rows = await self.session.execute(
            select(OutboxMessage.broadcast_id, OutboxMessage.status, OutboxMessage.recipient_label)
            .where(
                OutboxMessage.broadcast_id.in_(list(broadcast_ids)),
                OutboxMessage.status.in_(list(statuses)),
            )
            .order_by(OutboxMessage.id)
        )
        return [(int(b or 0), str(s), str(label)) for b, s, label in rows]

    # --- messages --------------------------------------------------------------------------------

    async def forget_finished_before(self, moment: datetime, *, limit: int | None = None) -> int:
        """Delete messages created before `moment` that are done with (sent, failed for good, refused) —
        at most `limit` of them; broadcasts themselves are kept (their keys stop an announcement from
        going out twice)."""
        old = select(OutboxMessage.id).where(
            OutboxMessage.status.in_(FINAL_STATUSES), OutboxMessage.created_at < moment
        )
        result = await self.session.execute(
            delete(OutboxMessage).where(OutboxMessage.id.in_(old.limit(limit)))
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def forget_unneeded_attachments(self) -> int:
        """Delete the stored files no message needs any more."""
        needed = select(OutboxMessage.attachment_id).where(OutboxMessage.attachment_id.is_not(None))
        result = await self.session.execute(
            delete(OutboxAttachment).where(OutboxAttachment.id.not_in(needed))
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def remove(self, message: OutboxMessage) -> None:
        """Delete one message row (a finished message to someone erased)."""
        await self.session.delete(message)
        await self.session.flush()

    async def message(self, message_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, message_id)

    async def replies_in_flight_before(self, platform: str, chat_id: str, message_id: int) -> bool:
        """Whether an earlier reply to this chat is still being sent (by another worker, an earlier turn)."""
        earlier = select(OutboxMessage.id).where(
            OutboxMessage.platform == platform,
            OutboxMessage.chat_external_id == chat_id,
            OutboxMessage.broadcast_id.is_(None),
            OutboxMessage.id < message_id,
            OutboxMessage.status == SENDING,
        )
        return bool(await self.session.scalar(select(exists(earlier))))

    async def due(
        self, platforms: Collection[str], now: datetime, limit: int, *, skip_chats: Collection[str] = ()
    ) -> Sequence[OutboxMessage]:
        """Messages of `platforms` whose time has come (or whose worker's lease ran out), oldest first.

        On PostgreSQL the rows are locked and rows another worker is claiming are skipped.
        """
        due = or_(
            and_(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.status == SENDING, OutboxMessage.lease_until < now),
        )
        query = select(OutboxMessage).where(due, OutboxMessage.platform.in_(list(platforms)))
        if skip_chats:
            query = query.where(OutboxMessage.chat_external_id.not_in(list(skip_chats)))
        query = query.order_by(OutboxMessage.id).limit(limit).with_for_update(skip_locked=True)
        rows = await self.session.scalars(query)
        return rows.all()

    async def retarget(self, platform: str, old_chat: str, new_chat: str) -> int:
        """Unsent messages to `old_chat` go to `new_chat` instead."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.platform == platform,
                OutboxMessage.chat_external_id == old_chat,
                OutboxMessage.status.in_(OPEN_STATUSES),
            )
            .values(chat_external_id=new_chat)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def reset_sending(self, *, keep_claimed_by: str = "") -> int:
        """Messages left 'sending' by a stopped process go back to 'pending' (but this process's own)."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == SENDING,
                or_(OutboxMessage.claimed_by.is_(None), OutboxMessage.claimed_by != keep_claimed_by),
            )
            .values(status=PENDING, claimed_by=None, lease_until=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # --- attachments -----------------------------------------------------------------------------

    async def attachments(self, attachment_ids: Collection[int]) -> Sequence[OutboxAttachment]:
        if not attachment_ids:
            return []
        rows = await self.session.scalars(
            select(OutboxAttachment).where(OutboxAttachment.id.in_(list(attachment_ids)))
        )
        return rows.all()

    async def attachment(self, attachment_id: int) -> OutboxAttachment | None:
        return await self.session.get(OutboxAttachment, attachment_id)

    # --- who a broadcast can reach ---------------------------------------------------------------

    async def active_group_chats(
        self, group_ids: Collection[int] | None, platform: str | None, *, ward_id: int | None = None
    ) -> Sequence[Chat]:
        """Active chats linked to these groups (all the ward's groups when None), by group code."""
        query = (
            select(Chat)
            .join(ResidentialGroup, ResidentialGroup.id == Chat.group_id)
            .where(Chat.active.is_(True))
            .order_by(ResidentialGroup.code, Chat.id)
        )
        if group_ids is not None:
            query = query.where(Chat.group_id.in_(list(group_ids)))
        if ward_id is not None:
            query = query.where(ResidentialGroup.ward_id == ward_id)
        if platform is not None:
            query = query.where(Chat.platform == platform)
        return (await self.session.scalars(query)).all()

    async def active_members(
        self,
        group_ids: Collection[int] | None,
        roles: Collection[str],
        platform: str | None,
        *,
        ward_id: int | None = None,
    ) -> Sequence[Person]:
        """Active people holding one of `roles` in these groups (all groups when None), by name."""
        query = (
            select(Person)
            .where(
                Person.active.is_(True),
                exists().where(
                    Membership.person_id == Person.id,
                    Membership.role.in_(list(roles)),
                    *([Membership.group_id.in_(list(group_ids))] if group_ids is not None else []),
                    *(
                        [
                            Membership.group_id.in_(
                                select(ResidentialGroup.id).where(ResidentialGroup.ward_id == ward_id)
                            )
                        ]
                        if ward_id is not None
                        else []
                    ),
                ),
            )
            .order_by(Person.display_name, Person.id)
        )
        if platform is not None:
            query = query.where(Person.platform == platform)
        return (await self.session.scalars(query)).all()

    async def active_staff(self, platform: str | None, *, ward_id: int | None = None) -> Sequence[Person]:
        """Active ward staff (of one ward, when given), by name."""
        query = (
            select(Person)
            .where(Person.is_staff.is_(True), Person.active.is_(True))
            .order_by(Person.display_name, Person.id)
        )
        if ward_id is not None:
            query = query.where(Person.ward_id == ward_id)
        if platform is not None:
            query = query.where(Person.platform == platform)
        return (await self.session.scalars(query)).all()
