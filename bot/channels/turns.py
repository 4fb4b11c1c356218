"""The seam between chat platforms and the features: one update, as plain values, on any platform.

Handlers and flows read a `Turn` and reply through it; each channel (Telegram, Zalo) builds turns
from its own updates and sends the replies its own way, so no feature is written twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.access import Caller, ChatKind
from bot.replies import Choice, Outgoing
from bot.wiring import Wiring
from storage.unit_of_work import UnitOfWork


@dataclass
class Turn:
    """One update being handled: who sent what where, its transaction, and the replies it will send."""

    uow: UnitOfWork
    caller: Caller
    chat: ChatKind
    out: Outgoing
    wiring: Wiring
    platform: str
    chat_id: str
    chat_title: str = ""
    text: str = ""  # the text or caption, stripped; empty for stickers, button presses and the like
    data: str = ""  # the data of a pressed choice
    args: list[str] = field(default_factory=list)  # the words after a command
    has_attachment: bool = False  # a sticker, photo, voice… came with the message
    addressed: bool = True  # in a group: the command named this bot explicitly
    bot_username: str = ""
    event: Any = None  # the platform's own update, for the few platform-only handlers
    fetch_photo: Callable[[], Awaitable[bytes | None]] | None = None
    notice: str | None = None  # a short toast for a pressed button
    menus_changed: set[int] = field(default_factory=set)  # people whose roles changed in this turn
    broadcast: bool = False  # this turn queued a broadcast: wake the outbox after the commit

    async def photo(self) -> bytes | None:
        """The photo sent with this message, downloaded; None without one."""
        return await self.fetch_photo() if self.fetch_photo is not None else None

    def invite_link(self, code: str) -> str:
        """How an invited head redeems `code`: Telegram's deep link, or the message to send elsewhere."""
        if self.platform == "telegram":
            return f"https://t.me/{self.bot_username}?start={code}"
        return f"/start {code}"

    def reply(self, text: str, choices: Sequence[Sequence[Choice]] = (), **kwargs: Any) -> None:
        """Queue a reply, sent once the transaction has committed."""
        self.out.add(text, choices, **kwargs)


TurnHandler = Callable[[Turn], Awaitable[None]]
