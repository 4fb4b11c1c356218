"""Telling someone other than the caller: directly on the caller's platform, through the outbox elsewhere."""

from __future__ import annotations

from bot.delivery import Outgoing, Recipient, enqueue_broadcast
from bot.turns import Turn
from storage.models import Person


async def notify(turn: Turn, person: Person, text: str, *, title: str) -> None:
    """A private note to `person` on their own platform (a Zalo head told by Telegram staff, say)."""
    if person.platform == turn.platform:
        turn.reply(text, chat=person.external_id)
        return
    recipient = Recipient(
        person.platform, person.external_id, person.display_name or person.external_id, False
    )
    await enqueue_broadcast(
        turn.uow,
        kind="notice",
        title=title,
        messages=[(recipient, Outgoing(text))],
        requested_by=None,
        now=turn.wiring.clock(),
    )
    turn.broadcast = True
