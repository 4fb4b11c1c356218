"""The seam between chat platforms and the features: one update, as plain values, on any platform.

A channel turns its platform's update into an `Inbound`; the pipeline gives features a `Turn` to
read and reply through. Features never see a platform object, so no flow is written twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.access import Caller, ChatKind
from bot.replies import Choice, Replies
from bot.ward_config import WardFile
from bot.wiring import Wiring
from storage.unit_of_work import UnitOfWork

PhotoFetcher = Callable[[], Awaitable[bytes | None]]

# Events that are not a message or a button (see `Inbound.event`)
MEMBER_CHANGE = "member_change"  # the bot was added to or removed from a chat, or blocked
CHAT_MIGRATED = "chat_migrated"  # a group chat got a new id (Telegram's upgrade to a supergroup)
EDITED = "edited"  # a message already sent was edited


@dataclass(frozen=True)
class MemberChange:
    """The bot's own membership of a chat changed: added, removed, blocked or unblocked."""

    present: bool
    was_present: bool


@dataclass(frozen=True)
class Inbound:
    """One received update as plain values; made by a channel, handled by the pipeline."""

    platform: str
    update_id: int
    user_id: str
    chat_id: str
    chat: ChatKind
    user_name: str = ""
    user_language: str | None = None
    chat_title: str = ""
    text: str = ""  # the text or caption, stripped; empty for stickers, button presses and the like
    data: str = ""  # the data of a pressed choice (already checked by the channel)
    forged: bool = False  # a pressed choice whose data this bot never sent to this chat
    has_attachment: bool = False
    addressed: bool = True  # in a group: a command that names this bot, or any text in private
    other_bot: bool = False  # a command addressed to another bot in a group (ignored)
    event: str = ""  # MEMBER_CHANGE, CHAT_MIGRATED, EDITED or "" for messages and choices
    member_change: MemberChange | None = None
    migrated_to: str = ""  # with CHAT_MIGRATED: the chat's new id (chat_id is the old one)
    pressed_message: str = ""  # the message whose button was pressed, for replies that replace it
    callback_id: str = ""  # to answer a pressed button (a short toast), where the platform needs it
    photo_ref: str = ""  # the platform's reference to an attached photo

    @property
    def command(self) -> str | None:
        """The command word (lower case, without / and @bot), or None for other text."""
        if not self.text.startswith("/") or self.data:
            return None
        word = self.text.split(maxsplit=1)[0][1:]
        return word.split("@", 1)[0].lower() or None

    @property
    def args(self) -> list[str]:
        """The words after a command."""
        return self.text.split()[1:] if self.command is not None else []


@dataclass
class Turn:
    """One update being handled: who sent what where, its transaction, and the replies it will send."""

    uow: UnitOfWork
    caller: Caller
    chat: ChatKind
    out: Replies
    wiring: Wiring
    ward_id: int  # the ward the caller acts in (the deployment's first when theirs is not known)
    ward: WardFile  # that ward's file
    platform: str
    chat_id: str
    chat_title: str = ""
    text: str = ""
    data: str = ""
    args: list[str] = field(default_factory=list)
    command: str = ""  # the command word as typed (an alias such as "baocao" included), "" for other text
    has_attachment: bool = False
    addressed: bool = True
    bot_username: str = ""
    member_change: MemberChange | None = None
    migrated_to: str = ""
    fetch_photo: PhotoFetcher | None = None
    notice: str | None = None  # a short toast for a pressed button
    menus_changed: set[int] = field(default_factory=set)  # people whose roles changed in this turn
    broadcast: bool = False  # this turn queued a broadcast: wake the outbox after the commit
    erased: bool = False  # the caller was erased: their replies leave no chat id behind once sent

    async def photo(self) -> bytes | None:
        """The photo sent with this message, downloaded; None without one."""
        return await self.fetch_photo() if self.fetch_photo is not None else None

    @property
    def timezone(self) -> ZoneInfo:
        """The ward's timezone."""
        return self.wiring.timezone_of(self.ward_id)

    def now(self) -> datetime:
        """The current time in the ward's timezone."""
        return self.wiring.clock().astimezone(self.timezone)

    def invite_link(self, code: str) -> str:
        """How an invited person redeems `code`: Telegram's deep link, or the message to send elsewhere."""
        if self.platform == "telegram" and self.bot_username:
            return f"https://t.me/{self.bot_username}?start={code}"
        return f"/start {code}"

    def reply(self, text: str, choices: Sequence[Sequence[Choice]] = (), **kwargs: Any) -> None:
        """Queue a reply, sent once the transaction has committed."""
        self.out.add(text, choices, **kwargs)


TurnHandler = Callable[[Turn], Awaitable[None]]
