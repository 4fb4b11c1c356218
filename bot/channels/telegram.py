"""The Telegram channel: turns PTB updates into turns of our flows and sends their replies.

This is the one seam between python-telegram-bot and the rest of the bot. Each update gets one
unit of work (one transaction, committed once): it is claimed by id so a redelivery has no
second effect, the caller is identified, their language set, the policy consulted, and only then
does the handler run. Replies are sent after the commit, so no transaction waits on the network.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, BaseUpdateProcessor, CallbackContext, ExtBot

from bot.access import Caller, ChatKind, allowed_commands, authorize
from bot.channels.turns import Turn, TurnHandler
from bot.i18n import gettext as _
from bot.i18n import set_language, use_language
from bot.membership import identify, menu_owner, set_chat_active, set_person_active
from bot.replies import Choice, Outgoing, Reply, split_text
from bot.wiring import Wiring
from storage.unit_of_work import UnitOfWork, unit_of_work

if TYPE_CHECKING:
    from bot.channels.telegram_delivery import OutboxWorker
    from bot.channels.zalo import ZaloChannel

PLATFORM = "telegram"
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
SEND_ATTEMPTS = 3

log = logging.getLogger(__name__)


class BotData:
    """Typed `bot_data`: the wiring of the running bot and its outbox worker."""

    wiring: Wiring
    outbox: OutboxWorker | None = None
    zalo: ZaloChannel | None = None  # the Zalo channel, when ZALO_BOT_TOKEN is set


class WardContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """PTB's callback context with typed access to our wiring."""

    @property
    def wiring(self) -> Wiring:
        return self.bot_data.wiring


WardApplication = Application[ExtBot[None], WardContext, dict[Any, Any], dict[Any, Any], BotData, Any]


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Handles different chats concurrently, but the updates of one chat strictly in order."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._waiting[chat.id] = self._waiting.get(chat.id, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[chat.id] -= 1
            if not self._waiting[chat.id]:
                del self._waiting[chat.id]
                del self._locks[chat.id]

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""


def chat_kind(chat: Chat) -> ChatKind | None:
    """Private or group; None for channels, which the bot does not serve."""
    if chat.type == Chat.PRIVATE:
        return ChatKind.PRIVATE
    if chat.type in (Chat.GROUP, Chat.SUPERGROUP):
        return ChatKind.GROUP
    return None


PTBCallback = Callable[[Update, WardContext], Coroutine[Any, Any, None]]


def turn(command: str) -> Callable[[TurnHandler], PTBCallback]:
    """Make a PTB callback of a turn handler, guarded by the policy entry `command`.

    The callback keeps the plain handler (`__wrapped__`) and its policy entry (`policy`), so other
    channels route to the same function.
    """

    def decorate(handler: TurnHandler) -> PTBCallback:
        @functools.wraps(handler)
        async def callback(update: Update, context: WardContext) -> None:
            await run_turn(command, handler, update, context)

        callback.policy = command  # type: ignore[attr-defined]
        return callback

    return decorate


def telegram_turn(
    update: Update, context: WardContext, uow: UnitOfWork, caller: Caller, kind: ChatKind, out: Outgoing
) -> Turn:
    """A Telegram update as a platform-neutral turn."""
    message = update.effective_message
    query = update.callback_query
    chat = update.effective_chat
    text = "" if message is None or query is not None else (message.text or message.caption or "").strip()
    username = context.bot.username or ""
    first_word = text.split(maxsplit=1)[0].lower() if text else ""
    fetch_photo = None
    if message is not None and query is None and message.photo:
        largest = message.photo[-1]

        async def fetch_photo() -> bytes | None:
            file = await largest.get_file()
            return bytes(await file.download_as_bytearray())

    return Turn(
        uow=uow,
        caller=caller,
        chat=kind,
        out=out,
        wiring=context.wiring,
        platform=PLATFORM,
        chat_id=str(chat.id) if chat else "",
        chat_title=chat.title or "" if chat else "",
        text=text,
        data=query.data or "" if query is not None else "",
        args=list(context.args or []),
        has_attachment=message is not None and query is None and not message.text,
        addressed=kind is ChatKind.PRIVATE or first_word.endswith(f"@{username}".lower()),
        bot_username=username,
        event=update,
        fetch_photo=fetch_photo,
    )


async def run_turn(command: str, handler: TurnHandler, update: Update, context: WardContext) -> None:
    """Claim, identify, authorize, handle, commit, then reply."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or user.is_bot:
        return
    kind = chat_kind(chat)
    if kind is None:
        return
    wiring = context.wiring
    out = Outgoing()
    notice: str | None = None
    menus_changed: set[int] = set()
    broadcast = False
    async with unit_of_work(wiring.factory) as uow:
        if not await uow.updates.claim(PLATFORM, update.update_id):
            log.info("update %s was already handled; ignoring the redelivery", update.update_id)
            return
        caller = await identify(
            uow,
            PLATFORM,
            str(user.id),
            display_name=user.full_name,
            client_language=user.language_code,
            default_language=wiring.settings.default_language,
            chat_external_id=str(chat.id),
            chat_kind=kind,
            chat_title=chat.title or "",
        )
        set_language(caller.language)
        refusal = authorize(command, caller, kind)
        if refusal is not None:
            out.add(refusal)
        else:
            current = telegram_turn(update, context, uow, caller, kind, out)
            await handler(current)
            notice = current.notice
            menus_changed = current.menus_changed
            broadcast = current.broadcast
    if update.callback_query is not None:
        await _answer_callback(update, notice)
    if broadcast:
        for worker in (context.bot_data.outbox, context.bot_data.zalo):
            if worker is not None:
                worker.wake()
    await send_replies(context.bot, update, out.replies, wiring)
    for person_id in menus_changed:
        await publish_menu(context.bot, wiring, person_id)


async def publish_menu(bot: ExtBot[None], wiring: Wiring, person_id: int) -> None:
    """The command menu of one person's private chat, from their roles (staff, heads)."""
    async with unit_of_work(wiring.factory) as uow:
        owner = await menu_owner(uow, person_id, wiring.settings.default_language)
    if owner is None or owner.platform != PLATFORM:
        return
    caller = Caller(person_id=person_id, name="", language=owner.language, roles=owner.roles)
    with use_language(owner.language):
        commands = [BotCommand(name, text) for name, text in allowed_commands(caller, ChatKind.PRIVATE)]
    try:
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(int(owner.external_id)))
    except TelegramError as error:
        log.info("could not publish the command menu of %s: %s", owner.external_id, error)


async def _answer_callback(update: Update, notice: str | None) -> None:
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(notice)
    except TelegramError as error:  # an answer that comes too late is harmless
        log.info("could not answer callback query: %s", error)


def keyboard(choices: Sequence[Sequence[Choice]]) -> InlineKeyboardMarkup | None:
    """Inline buttons for a reply's choices."""
    if not choices:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(choice.label, callback_data=choice.data) for choice in row] for row in choices]
    )


async def _with_retry(call: Callable[[], Awaitable[Any]]) -> Any:
    """Retry a send after a 429 (as long as Telegram asks) or a 5xx/network error (with backoff)."""
    for attempt in range(SEND_ATTEMPTS):
        try:
            return await call()
        except RetryAfter as error:
            if attempt == SEND_ATTEMPTS - 1:
                raise
            delay = error.retry_after
            await asyncio.sleep(delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay))
        except BadRequest:
            raise
        except NetworkError:
            if attempt == SEND_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.5 * 2**attempt)
    return None


async def send_reply(
    bot: ExtBot[None], chat_id: int | str, reply: Reply, edit_message: Message | None = None
) -> None:
    """Send one reply to one chat: text split to Telegram's limit, buttons on the last part."""
    markup = keyboard(reply.choices)
    attachment = reply.attachment
    if attachment is None and reply.render is not None:
        attachment = await asyncio.to_thread(reply.render)  # drawing is CPU work: off the event loop
    if attachment is not None:
        caption = reply.text if len(reply.text) <= CAPTION_LIMIT else None
        content = InputFile(attachment.content, filename=attachment.filename)
        if attachment.is_photo:
            await _with_retry(
                lambda: bot.send_photo(
                    chat_id, content, caption=caption, reply_markup=markup if caption else None
                )
            )
        else:
            await _with_retry(
                lambda: bot.send_document(
                    chat_id, content, caption=caption, reply_markup=markup if caption else None
                )
            )
        if caption is not None or not reply.text:
            return
    if reply.edit and edit_message is not None and len(reply.text) <= MESSAGE_LIMIT:
        try:
            await _with_retry(
                lambda: bot.edit_message_text(
                    reply.text,
                    chat_id=edit_message.chat_id,
                    message_id=edit_message.message_id,
                    reply_markup=markup,
                )
            )
            return
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return
            log.info("could not edit message %s, sending anew: %s", edit_message.message_id, error)
    parts = split_text(reply.text, MESSAGE_LIMIT)
    for index, part in enumerate(parts):
        part_markup = markup if index == len(parts) - 1 else None

        async def send_part(text: str = part, buttons: InlineKeyboardMarkup | None = part_markup) -> Message:
            return await bot.send_message(chat_id, text, reply_markup=buttons)

        await _with_retry(send_part)


async def mark_unreachable(wiring: Wiring, chat_id: int | str) -> None:
    """A 403: the person blocked the bot or the bot left the chat; no more sends until they come back."""
    async with unit_of_work(wiring.factory) as uow:
        if int(chat_id) > 0:
            await set_person_active(uow, PLATFORM, str(chat_id), False)
        else:
            await set_chat_active(uow, PLATFORM, str(chat_id), False)


async def send_replies(bot: ExtBot[None], update: Update, replies: Sequence[Reply], wiring: Wiring) -> None:
    """Send a turn's replies in order; a chat that refuses the bot (403) is marked inactive."""
    chat = update.effective_chat
    query = update.callback_query
    edit_message = query.message if query is not None and isinstance(query.message, Message) else None
    for reply in replies:
        target: int | str = reply.chat if reply.chat is not None else (chat.id if chat else 0)
        await deliver(bot, wiring, target, reply, edit_message if reply.chat is None else None)


async def deliver(
    bot: ExtBot[None], wiring: Wiring, target: int | str, reply: Reply, edit_message: Message | None = None
) -> bool:
    """Send one reply; True when it went out. A 403 marks the chat or person inactive."""
    try:
        await send_reply(bot, target, reply, edit_message)
    except Forbidden as error:
        log.info("chat %s does not accept messages from the bot: %s", target, error)
        await mark_unreachable(wiring, target)
        return False
    except TelegramError as error:
        log.warning("could not send a message to chat %s: %s", target, error)
        return False
    return True


async def send_text(bot: ExtBot[None], wiring: Wiring, chat: int | str, text: str) -> bool:
    """A plain message outside any update (jobs): retried, and a 403 marks the chat inactive."""
    return await deliver(bot, wiring, chat, Reply(text))


async def on_error(update: object, context: WardContext) -> None:
    """Log the failure and tell the user that nothing was saved, so they can simply try again."""
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(
                update.effective_chat.id,
                _("Sorry, something went wrong and nothing was saved. Please try again in a moment."),
            )
        except TelegramError:
            log.warning("could not tell chat %s about the error", update.effective_chat.id)
