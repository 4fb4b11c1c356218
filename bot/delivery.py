"""Broadcast delivery: the persistent outbox every announcement goes through, platform-neutral.

A broadcast is written as rows (one per recipient) in the same transaction as whatever decided
to send it, so nothing is lost when the process stops. A channel worker claims due rows
('pending' → 'sending', committed before the network call), sends them at its platform's pace
and records each outcome at once: after a crash only the few rows that were 'sending' may go
out twice. When no row of a broadcast is left open, its requester gets a delivery report.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.i18n import DEFAULT_LANGUAGE, use_language
from bot.i18n import gettext as _
from bot.membership import DEPUTY, FOLLOWER, HEAD, language_of
from bot.replies import Attachment, Choice, Reply
from storage.models import Broadcast, OutboxAttachment, OutboxMessage
from storage.repositories.outbox import BLOCKED as BLOCKED
from storage.repositories.outbox import FAILED as FAILED
from storage.repositories.outbox import PENDING as PENDING
from storage.repositories.outbox import SENDING as SENDING
from storage.repositories.outbox import SENT as SENT
from storage.unit_of_work import UnitOfWork

STATUSES = (PENDING, SENDING, SENT, FAILED, BLOCKED)
ERROR_LENGTH = 500
LEASE = timedelta(seconds=60)  # a 'sending' row whose worker died is taken over after this
REPLY_KIND = "reply"


@dataclass(frozen=True)
class Recipient:
    """One chat a broadcast goes to: a group's chat or a person's private chat."""

    platform: str
    chat_external_id: str
    label: str
    is_group: bool


@dataclass(frozen=True)
class Outgoing:
    """What one recipient is sent."""

    text: str
    choices: tuple[tuple[Choice, ...], ...] = ()
    attachment: Attachment | None = None


@dataclass(frozen=True)
class ClaimedAttachment:
    """A stored file, with the platform's id for it once it was uploaded."""

    id: int
    filename: str
    content: bytes
    is_photo: bool
    file_id: str | None


@dataclass(frozen=True)
class ClaimedMessage:
    """A message a worker now owns: plain values, no session needed to send it."""

    id: int
    broadcast_id: int | None
    platform: str
    chat_external_id: str
    label: str
    is_group: bool
    text: str
    choices: tuple[tuple[Choice, ...], ...]
    attachment: ClaimedAttachment | None
    attempts: int
    created_at: datetime
    edit_message_id: str | None = None
    render: Callable[[], Attachment] | None = field(default=None, compare=False)  # in memory only

    @property
    def is_reply(self) -> bool:
        """An answer to someone's message (sent at once), rather than part of a broadcast."""
        return self.broadcast_id is None


@dataclass(frozen=True)
class DeliveryReport:
    """How a finished broadcast went, and whom to tell."""

    broadcast_id: int
    title: str
    requested_by: int | None
    requested_by_platform: str | None
    requested_by_external_id: str | None
    requested_by_language: str
    sent: int
    failed: list[str]
    blocked: list[str]


def _choices_json(choices: tuple[tuple[Choice, ...], ...]) -> str:
    return json.dumps(
        [[{"label": c.label, "data": c.data} for c in row] for row in choices], ensure_ascii=False
    )


def _choices(encoded: str) -> tuple[tuple[Choice, ...], ...]:
    rows = json.loads(encoded or "[]")
    return tuple(tuple(Choice(str(c["label"]), str(c["data"])) for c in row) for row in rows)


async def enqueue_broadcast(
    uow: UnitOfWork,
    *,
    kind: str,
    title: str,
    messages: Sequence[tuple[Recipient, Outgoing]],
    requested_by: int | None,
    key: str | None = None,
    now: datetime,
    ward_id: int | None = None,
) -> int | None:
    """Write a broadcast and its messages; None (and nothing written) when `key` was used before."""
    if key is not None and await uow.outbox.broadcast_by_key(key) is not None:
        return None
    broadcast = await uow.outbox.add_broadcast(
        Broadcast(kind=kind, key=key, title=title, requested_by=requested_by, created_at=now, ward_id=ward_id)
    )
    stored: dict[tuple[str, str, bool], int] = {}
    rows: list[OutboxMessage] = []
    for recipient, outgoing in messages:
        attachment_id: int | None = None
        if outgoing.attachment is not None:
            file = outgoing.attachment
            identity = (hashlib.sha256(file.content).hexdigest(), file.filename, file.is_photo)
            if identity not in stored:
                row = await uow.outbox.add_attachment(
                    OutboxAttachment(filename=file.filename, content=file.content, is_photo=file.is_photo)
                )
                stored[identity] = row.id
            attachment_id = stored[identity]
        rows.append(
            OutboxMessage(
                broadcast_id=broadcast.id,
                platform=recipient.platform,
                chat_external_id=recipient.chat_external_id,
                recipient_label=recipient.label,
                is_group=recipient.is_group,
                text=outgoing.text,
                choices_json=_choices_json(outgoing.choices),
                attachment_id=attachment_id,
                status=PENDING,
                attempts=0,
                next_attempt_at=now,
                last_error="",
                created_at=now,
            )
        )
    await uow.outbox.add_messages(rows)
    return broadcast.id


async def queue_replies(
    uow: UnitOfWork,
    *,
    platform: str,
    chat_id: str,
    is_group: bool,
    replies: Sequence[Reply],
    edit_message_id: str | None,
    claimed_by: str,
    now: datetime,
    lease: timedelta = LEASE,
    forget: bool = False,
) -> list[ClaimedMessage]:
    """Write a turn's replies in its own transaction, already claimed by this worker to send at once.

    Written with the update's effects, a reply lost in a crash is sent after the restart. `forget`
    (a person just erased) deletes each row once the platform has answered, keeping no chat id.
    """
    rows: list[tuple[OutboxMessage, Reply, ClaimedAttachment | None]] = []
    for reply in replies:
        attachment: ClaimedAttachment | None = None
        attachment_id: int | None = None
        if reply.attachment is not None:
            file = reply.attachment
            stored = await uow.outbox.add_attachment(
                OutboxAttachment(filename=file.filename, content=file.content, is_photo=file.is_photo)
            )
            attachment_id = stored.id
            attachment = ClaimedAttachment(stored.id, file.filename, file.content, file.is_photo, None)
        elsewhere = reply.chat is not None and reply.chat != chat_id
        row = OutboxMessage(
            broadcast_id=None,
            platform=platform,
            chat_external_id=reply.chat if reply.chat is not None else chat_id,
            recipient_label="",
            is_group=is_group and not elsewhere,
            text=reply.text,
            choices_json=_choices_json(reply.choices),
            attachment_id=attachment_id,
            status=SENDING,
            attempts=1,
            next_attempt_at=now,
            last_error="",
            edit_message_id=edit_message_id if reply.edit and not elsewhere else None,
            created_at=now,
            claimed_by=claimed_by,
            lease_until=now + lease,
            forget_when_done=forget,
        )
        rows.append((row, reply, attachment))
    if not rows:
        return []
    await uow.outbox.add_messages([row for row, _reply, _file in rows])
    return [
        ClaimedMessage(
            id=row.id,
            broadcast_id=None,
            platform=platform,
            chat_external_id=row.chat_external_id,
            label="",
            is_group=row.is_group,
            text=row.text,
            choices=reply.choices,
            attachment=attachment,
            attempts=1,
            created_at=now,
            edit_message_id=row.edit_message_id,
            render=reply.render,
        )
        for row, reply, attachment in rows
    ]


async def recipients(
    uow: UnitOfWork,
    group_ids: Collection[int] | None,
    *,
    ward_id: int | None = None,
    chats: bool = True,
    leaders: bool = False,
    followers: bool = False,
    staff: bool = False,
    platform: str | None = None,
) -> list[Recipient]:
    """Who a broadcast to these groups (all of the ward when None) reaches: active chats and people."""
    found: dict[tuple[str, str], Recipient] = {}

    def add(recipient: Recipient) -> None:
        found.setdefault((recipient.platform, recipient.chat_external_id), recipient)

    if chats:
        for chat in await uow.outbox.active_group_chats(group_ids, platform, ward_id=ward_id):
            add(Recipient(chat.platform, chat.external_id, chat.title or chat.external_id, True))
    roles = [*((HEAD, DEPUTY) if leaders else ()), *((FOLLOWER,) if followers else ())]
    people = (
        list(await uow.outbox.active_members(group_ids, roles, platform, ward_id=ward_id)) if roles else []
    )
    if staff:
        people += await uow.outbox.active_staff(platform, ward_id=ward_id)
    for person in people:
        add(Recipient(person.platform, person.external_id, person.display_name or person.external_id, False))
    return list(found.values())


async def recover_in_flight(uow: UnitOfWork, *, instance: str = "") -> int:
    """At start-up: what a stopped process left 'sending' is sent again (it may have gone out once).

    Rows this process (`instance`) already claimed are its own replies in flight, not left-overs.
    """
    return await uow.outbox.reset_sending(keep_claimed_by=instance)


async def claim_due(
    uow: UnitOfWork,
    *,
    platforms: Collection[str],
    now: datetime,
    limit: int,
    claimed_by: str,
    skip_chats: Collection[str] = (),
    lease: timedelta = LEASE,
) -> list[ClaimedMessage]:
    """Take up to `limit` due messages, oldest first: 'sending' under a lease, one more attempt."""
    rows = await uow.outbox.due(platforms, now, limit, skip_chats=skip_chats)
    wanted = {row.attachment_id for row in rows if row.attachment_id is not None}
    files = {
        a.id: ClaimedAttachment(a.id, a.filename, a.content, a.is_photo, a.telegram_file_id)
        for a in await uow.outbox.attachments(wanted)
    }
    claimed = []
    for row in rows:
        row.status = SENDING
        row.attempts += 1
        row.claimed_by, row.lease_until = claimed_by, now + lease
        claimed.append(
            ClaimedMessage(
                id=row.id,
                broadcast_id=row.broadcast_id,
                platform=row.platform,
                chat_external_id=row.chat_external_id,
                label=row.recipient_label,
                is_group=row.is_group,
                text=row.text,
                choices=_choices(row.choices_json),
                attachment=files.get(row.attachment_id) if row.attachment_id is not None else None,
                attempts=row.attempts,
                created_at=row.created_at,
                edit_message_id=row.edit_message_id,
            )
        )
    await uow.session.flush()
    return claimed


async def _claimed(uow: UnitOfWork, message_id: int) -> OutboxMessage | None:
    """The message if it is still this worker's ('sending')."""
    row = await uow.outbox.message(message_id)
    return row if row is not None and row.status == SENDING else None


async def _forgotten(uow: UnitOfWork, row: OutboxMessage) -> bool:
    """A finished message to an erased person leaves nothing behind (see `queue_replies(forget=…)`)."""
    if not row.forget_when_done:
        return False
    await uow.outbox.remove(row)
    return True


async def mark_sent(uow: UnitOfWork, message_id: int, *, now: datetime, file_id: str | None = None) -> None:
    """The platform confirmed the send; `file_id` lets later sends reuse the uploaded attachment."""
    row = await _claimed(uow, message_id)
    if row is None:
        return
    row.status, row.sent_at, row.last_error = SENT, now, ""
    if await _forgotten(uow, row):
        return
    if file_id and row.attachment_id is not None:
        attachment = await uow.outbox.attachment(row.attachment_id)
        if attachment is not None and attachment.telegram_file_id is None:
            attachment.telegram_file_id = file_id


async def mark_retry(
    uow: UnitOfWork,
    message_id: int,
    *,
    at: datetime,
    error: str,
    counts: bool = True,
    give_up_before: datetime | None = None,
) -> bool:
    """Try again at `at`; False when the message is older than `give_up_before` and 'failed' instead.

    `counts=False` is for waits the platform asked for (429): they are no fault of the message.
    """
    row = await _claimed(uow, message_id)
    if row is None:
        return False
    row.last_error = error[:ERROR_LENGTH]
    if not counts:
        row.attempts = max(0, row.attempts - 1)
    elif give_up_before is not None and row.created_at < give_up_before:
        row.status = FAILED
        await _forgotten(uow, row)
        return False
    row.status, row.next_attempt_at, row.claimed_by = PENDING, at, None
    return True


async def retarget(uow: UnitOfWork, platform: str, old_chat: str, new_chat: str) -> int:
    """A chat got a new id (a group upgraded to a supergroup): its unsent messages follow it."""
    return await uow.outbox.retarget(platform, old_chat, new_chat)


async def release(uow: UnitOfWork, message_id: int) -> None:
    """Hand a claimed message back unsent (e.g. its chat is at its rate limit); no attempt counted."""
    row = await _claimed(uow, message_id)
    if row is not None:
        row.status, row.attempts, row.claimed_by = PENDING, max(0, row.attempts - 1), None


async def mark_failed(uow: UnitOfWork, message_id: int, *, error: str) -> None:
    """A permanent failure (bad request, attempts used up): never retried."""
    row = await _claimed(uow, message_id)
    if row is not None:
        row.status, row.last_error = FAILED, error[:ERROR_LENGTH]
        await _forgotten(uow, row)


async def mark_blocked(uow: UnitOfWork, message_id: int, *, error: str) -> None:
    """The recipient refuses the bot (403): never retried."""
    row = await _claimed(uow, message_id)
    if row is not None:
        row.status, row.last_error = BLOCKED, error[:ERROR_LENGTH]
        await _forgotten(uow, row)


async def finished_broadcasts(
    uow: UnitOfWork, *, now: datetime, default_language: str = DEFAULT_LANGUAGE
) -> list[DeliveryReport]:
    """Broadcasts with nothing left to send and no report yet: marked reported, their reports returned."""
    broadcasts = await uow.outbox.unreported_finished()
    if not broadcasts:
        return []
    ids = [b.id for b in broadcasts]
    counts = await uow.outbox.status_counts(ids)
    names: dict[tuple[int, str], list[str]] = {}
    for broadcast_id, status, label in await uow.outbox.labels(ids, (FAILED, BLOCKED)):
        names.setdefault((broadcast_id, status), []).append(label)
    people = {p.id: p for p in await uow.people.by_ids(b.requested_by for b in broadcasts)}
    reports = []
    for broadcast in broadcasts:
        broadcast.reported, broadcast.finished_at = True, now
        person = people.get(broadcast.requested_by) if broadcast.requested_by is not None else None
        if person is not None and person.erased:  # nobody to tell any more
            person = None
        reports.append(
            DeliveryReport(
                broadcast_id=broadcast.id,
                title=broadcast.title,
                requested_by=broadcast.requested_by,
                requested_by_platform=person.platform if person else None,
                requested_by_external_id=person.external_id if person else None,
                requested_by_language=language_of(person, default_language) if person else default_language,
                sent=counts.get(broadcast.id, {}).get(SENT, 0),
                failed=names.get((broadcast.id, FAILED), []),
                blocked=names.get((broadcast.id, BLOCKED), []),
            )
        )
    await uow.session.flush()
    return reports


async def broadcast_status(uow: UnitOfWork, broadcast_id: int) -> dict[str, int]:
    """How many messages of a broadcast are in each status (every status present, zero or more)."""
    counts = (await uow.outbox.status_counts([broadcast_id])).get(broadcast_id, {})
    return {status: counts.get(status, 0) for status in STATUSES}


def _joined(names: list[str], budget: int) -> str:
    """Names separated by commas, cut with “…” to fit `budget` characters."""
    shown: list[str] = []
    used = 0
    for name in names:
        cost = len(name) + (2 if shown else 0)
        if used + cost > budget - 3:
            return ", ".join(shown) + (", …" if shown else "…")
        shown.append(name)
        used += cost
    return ", ".join(shown)


def report_text(report: DeliveryReport) -> str:
    """The delivery report in the current language, under Telegram's message limit."""
    head = _("Delivery of “{title}” finished: {sent} sent, {failed} failed, {blocked} blocked.").format(
        title=report.title, sent=report.sent, failed=len(report.failed), blocked=len(report.blocked)
    )
    lists = [
        (_("Not delivered: {names}"), report.failed),
        (_("Blocked the bot or removed it: {names}"), report.blocked),
    ]
    lists = [(template, names) for template, names in lists if names]
    lines = [head]
    room = REPORT_LIMIT - len(head) - 1
    for index, (template, names) in enumerate(lists):
        share = room // (len(lists) - index) - len(template) - 1
        line = template.format(names=_joined(names, max(share, 1)))
        lines.append(line)
        room -= len(line) + 1
    return "\n".join(lines)


REPORT_KIND = "delivery_report"
REPORT_LIMIT = 2000  # the smallest message limit of the platforms (Zalo)


async def queue_delivery_reports(uow: UnitOfWork, *, now: datetime, default_language: str) -> bool:
    """Queue, once, a report to whoever launched each finished broadcast; True when any was queued.

    Whichever platform's worker notices first does it; the key keeps it to one report.
    """
    queued = False
    for report in await finished_broadcasts(uow, now=now, default_language=default_language):
        if report.requested_by_platform is None or report.requested_by_external_id is None:
            continue
        with use_language(report.requested_by_language):
            text = report_text(report)
        recipient = Recipient(
            report.requested_by_platform,
            report.requested_by_external_id,
            report.requested_by_external_id,
            False,
        )
        await enqueue_broadcast(
            uow,
            kind=REPORT_KIND,
            title=report.title,
            messages=[(recipient, Outgoing(text))],
            requested_by=None,
            key=f"{REPORT_KIND}:{report.broadcast_id}",
            now=now,
        )
        queued = True
    return queued
