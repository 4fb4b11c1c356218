"""Conversations left idle for the ward's timeout end with a short note; what was typed is kept."""

from __future__ import annotations

from datetime import timedelta

from bot.delivery import Outgoing, Recipient, enqueue_broadcast
from bot.i18n import gettext as _
from bot.i18n import use_language, use_ward_words
from bot.membership import language_of
from bot.wiring import Wiring
from conversations.router import FLOWS
from storage.unit_of_work import unit_of_work

IDLE_CHECK = timedelta(minutes=1)
TOUCH_SLACK = timedelta(minutes=1)


def idle_clock_slack(wiring: Wiring) -> timedelta:
    """How old a conversation's stored time may be before a step that changes nothing else writes it
    again: a minute, and at most a sixtieth of the shortest timeout, so an idle conversation ends at
    most that much early (this check itself runs once a minute, so it may end that much late)."""
    shortest = min(file.ward.conversation_timeout_minutes for file in wiring.all_ward_files)
    return min(TOUCH_SLACK, timedelta(minutes=shortest) / 60)


async def end_idle_conversations(wiring: Wiring) -> bool:
    """Close conversations idle longer than the ward's timeout and queue a note to each person.

    Returns True when a note was queued (the outbox should look now).
    """
    minutes = wiring.ward.ward.conversation_timeout_minutes
    now = wiring.clock()
    cutoff = now - timedelta(minutes=minutes)
    notes = []
    async with unit_of_work(wiring.factory) as uow:
        idle = await uow.conversations.idle_since(cutoff)
        if not idle:
            return False
        for conversation in idle:
            person = await uow.people.get(conversation.person_id)
            if person is None or not person.active:
                continue
            flow = FLOWS.get(conversation.flow)
            command = flow.command if flow is not None else "help"
            language = language_of(person, wiring.settings.default_language)
            with use_language(language), use_ward_words(wiring.ward_of(person.ward_id).ward.words()):
                text = _(
                    "I stopped waiting after {minutes} minutes without an answer. "
                    "Everything you typed is kept: send /{command} to continue."
                ).format(minutes=minutes, command=command)
            recipient = Recipient(person.platform, conversation.chat_external_id, person.display_name, False)
            notes.append((recipient, Outgoing(text)))
        await uow.conversations.end_many([c.person_id for c in idle])
        if notes:
            await enqueue_broadcast(
                uow, kind="notice", title="idle", messages=notes, requested_by=None, now=now
            )
    return bool(notes)
