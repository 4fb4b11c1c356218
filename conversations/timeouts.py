"""Conversations left idle for the ward's timeout end with a short note; what was typed is kept."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.channels.telegram import PLATFORM, WardContext, send_text
from bot.i18n import gettext as _
from bot.i18n import use_language
from bot.membership import language_of
from bot.wiring import Wiring
from conversations.router import FLOWS
from storage.unit_of_work import unit_of_work

IDLE_CHECK = timedelta(minutes=1)


async def close_idle_conversations(wiring: Wiring, platform: str, now: datetime) -> list[tuple[str, str]]:
    """Close one platform's conversations idle longer than the ward's timeout; (chat, note) to send."""
    minutes = wiring.ward.ward.conversation_timeout_minutes
    cutoff = now - timedelta(minutes=minutes)
    notices: list[tuple[str, str]] = []
    closed: list[int] = []
    async with unit_of_work(wiring.factory) as uow:
        for conversation in await uow.conversations.idle_since(cutoff):
            person = await uow.people.get(conversation.person_id)
            if person is None or person.platform != platform:
                continue
            closed.append(conversation.person_id)
            if not person.active:
                continue
            flow = FLOWS.get(conversation.flow)
            command = flow.command if flow is not None else "help"
            with use_language(language_of(person, wiring.settings.default_language)):
                notices.append(
                    (
                        conversation.chat_external_id,
                        _(
                            "I stopped waiting after {minutes} minutes without an answer. "
                            "Everything you typed is kept: send /{command} to continue."
                        ).format(minutes=minutes, command=command),
                    )
                )
        await uow.conversations.end_many(closed)
    return notices


async def end_idle_conversations(context: WardContext) -> None:
    """A job: close idle Telegram conversations, then tell each person."""
    wiring = context.wiring
    for chat, text in await close_idle_conversations(wiring, PLATFORM, wiring.clock()):
        await send_text(context.bot, wiring, chat, text)
