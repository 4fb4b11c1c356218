"""The Telegram channel: the only module that speaks python-telegram-bot.

It receives updates (long polling, or a webhook on the bot's own web server), turns each into a
platform-neutral `Inbound` and hands it to the dispatcher — which commits it to the inbox before
this channel acknowledges it to Telegram (the next offset, the webhook's 200). It sends what the
outbox gives it, with inline buttons whose data is signed for the chat it goes to, so a pressed
button can carry only what the bot itself offered there.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import ssl
from collections.abc import Sequence
from functools import cache
from typing import Any

import httpx
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    Chat,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from bot.access import Caller, ChatKind, Role
from bot.answers import MAX_PHOTO_BYTES
from bot.delivery import ClaimedMessage
from bot.features import registry
from bot.http import HttpServer
from bot.i18n import LANGUAGES, use_language
from bot.membership import menu_owner
from bot.outbox import Failure, SendFailure
from bot.pipeline import TurnOutcome
from bot.ratelimit import FloodLimiter
from bot.replies import Attachment, Choice, Reply, split_text
from bot.retry import backoff, retry
from bot.turns import CHAT_MIGRATED, EDITED, MEMBER_CHANGE, Inbound, MemberChange, PhotoFetcher
from bot.wiring import Wiring
from storage.unit_of_work import UnitOfWork, unit_of_work

PLATFORM = "telegram"
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_LIMIT = 64  # bytes Telegram keeps of a button's data
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
PER_SECOND = 30  # Telegram's limit for one bot's bulk notifications (broadcasts)
BROADCAST_PER_SECOND = 29  # at most in any second; spaced by BROADCAST_GAP, 28.5/s on average
BROADCAST_GAP = 1 / 28.5  # even spacing: a send arriving up to one gap late still stays inside Telegram's 30
REPLY_RESERVE = 5  # while people are being answered, broadcasts leave them this many calls of each second
GROUP_PER_MINUTE = 18  # Telegram allows 20 per group chat
MAX_GROUP_WAIT = 1.0
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
GONE = (ChatMember.LEFT, ChatMember.BANNED)

log = logging.getLogger(__name__)


class StartupError(Exception):
    """Telegram refused to start the bot in a way only a person can fix; `str()` is one line."""


class Signer:
    """Button data signed for the chat it is sent to, checked when pressed: no forged payloads."""

    LENGTH = 6  # base64 characters of the signature (36 bits: guessing takes billions of presses)

    def __init__(self, token: str) -> None:
        self._key = hashlib.sha256(b"wardbot button data\x00" + token.encode()).digest()

    def _mac(self, chat_id: str, data: str) -> str:
        digest = hmac.new(self._key, f"{chat_id}\x00{data}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[: self.LENGTH]

    def sign(self, chat_id: str, data: str) -> str:
        signed = f"{data}|{self._mac(chat_id, data)}"
        if len(signed.encode()) > CALLBACK_LIMIT:
            raise ValueError(f"button data too long for Telegram: {data!r}")
        return signed

    def verify(self, chat_id: str, signed: str) -> str | None:
        """The data, when the bot signed it for this chat; None otherwise."""
        data, _sep, mac = signed.rpartition("|")
        if not data or not hmac.compare_digest(mac, self._mac(chat_id, data)):
            return None
        return data


def chat_kind(chat: Chat) -> ChatKind | None:
    """Private or group; None for channels, which the bot does not serve."""
    if chat.type == Chat.PRIVATE:
        return ChatKind.PRIVATE
    if chat.type in (Chat.GROUP, Chat.SUPERGROUP):
        return ChatKind.GROUP
    return None


def _network_trouble(error: BaseException) -> float | None:
    """How long to wait before calling Telegram again after `error`, or None when waiting cannot help."""
    if isinstance(error, RetryAfter):
        delay = error.retry_after
        return delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay)
    if isinstance(error, InvalidToken | BadRequest | Forbidden | Conflict):
        return None
    if isinstance(error, NetworkError):
        return 0.0
    return None


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context for the process, as httpx would build it: building one loads the CA bundle
    (about 40 ms of CPU), and every start of the channel makes two HTTP clients."""
    return httpx.create_ssl_context()


class TelegramSender:
    """Sends one outbox message through the Bot API, within Telegram's flood limits."""

    platform = PLATFORM

    def __init__(self, bot: Bot, signer: Signer) -> None:
        self.bot, self.signer = bot, signer
        self.limiter = FloodLimiter(
            PER_SECOND,
            GROUP_PER_MINUTE,
            broadcast_per_second=BROADCAST_PER_SECOND,
            reply_reserve=REPLY_RESERVE,
            broadcast_gap=BROADCAST_GAP,
            pace_replies=False,
        )
        self._file_ids: dict[int, str] = {}
        self._uploads: dict[int, asyncio.Lock] = {}

    def keyboard(self, chat_id: str, choices: Sequence[Sequence[Choice]]) -> InlineKeyboardMarkup | None:
        if not choices:
            return None
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(choice.label, callback_data=self.signer.sign(chat_id, choice.data))
                    for choice in row
                ]
                for row in choices
            ]
        )

    async def typing(self, chat_id: str) -> None:
        with contextlib.suppress(TelegramError):
            await self.bot.send_chat_action(int(chat_id), "typing")

    async def deliver(
        self, message: ClaimedMessage, attachment: Attachment | None, *, reply: bool
    ) -> str | None:
        try:
            return await self._deliver(message, attachment, reply=reply)
        except RetryAfter as error:
            delay = error.retry_after
            seconds = delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay)
            raise SendFailure(Failure.RATE_LIMITED, str(error), retry_after=seconds) from None
        except Forbidden as error:
            raise SendFailure(Failure.BLOCKED, str(error)) from None
        except ChatMigrated as error:
            raise SendFailure(Failure.MIGRATED, str(error), new_chat_id=str(error.new_chat_id)) from None
        except BadRequest as error:  # a NetworkError in PTB, but resending cannot help
            raise SendFailure(Failure.REFUSED, str(error)) from None
        except TelegramError as error:  # 5xx, network errors, time-outs
            raise SendFailure(Failure.TRANSIENT, str(error)) from None

    async def _pace(self, message: ClaimedMessage, *, first: bool, reply: bool) -> None:
        await self.limiter.acquire(
            message.chat_external_id,
            message.is_group,
            max_group_wait=MAX_GROUP_WAIT if first and not reply else None,
            broadcast=not reply,
        )

    async def _deliver(
        self, message: ClaimedMessage, attachment: Attachment | None, *, reply: bool
    ) -> str | None:
        chat = message.chat_external_id
        markup = self.keyboard(chat, message.choices)
        file_id: str | None = None
        if attachment is not None:
            caption = message.text if message.text and len(message.text) <= CAPTION_LIMIT else None
            file_id = await self._send_file(
                message, attachment, caption, markup if caption else None, reply=reply
            )
            if caption is not None or not message.text:
                return file_id
        if message.edit_message_id and len(message.text) <= MESSAGE_LIMIT:
            try:
                await self._pace(message, first=True, reply=reply)
                await self.bot.edit_message_text(
                    message.text,
                    chat_id=int(chat),
                    message_id=int(message.edit_message_id),
                    reply_markup=markup,
                )
                return file_id
            except BadRequest as error:
                if "not modified" in str(error).lower():
                    return file_id
                log.info("could not edit message %s, sending anew: %s", message.edit_message_id, error)
        parts = split_text(message.text, MESSAGE_LIMIT)
        for index, part in enumerate(parts):
            await self._pace(message, first=index == 0 and attachment is None, reply=reply)
            last = index == len(parts) - 1
            await self.bot.send_message(int(chat), part, reply_markup=markup if last else None)
        return file_id

    async def _send_file(
        self,
        message: ClaimedMessage,
        attachment: Attachment,
        caption: str | None,
        markup: InlineKeyboardMarkup | None,
        *,
        reply: bool,
    ) -> str | None:
        """Upload once, then send Telegram's file_id; a refused file_id is uploaded afresh."""
        stored = message.attachment
        if stored is None:  # drawn for this message only
            sent = await self._call_file(
                message,
                attachment,
                InputFile(attachment.content, filename=attachment.filename),
                caption,
                markup,
                reply=reply,
            )
            return None
        known = self._file_ids.get(stored.id) or stored.file_id
        if known is not None:
            try:
                await self._call_file(message, attachment, known, caption, markup, reply=reply)
                return None
            except BadRequest as error:
                log.info("file_id of attachment %s refused (%s); uploading again", stored.id, error)
                self._file_ids.pop(stored.id, None)
        async with self._uploads.setdefault(stored.id, asyncio.Lock()):
            known = self._file_ids.get(stored.id)
            if known is not None:
                await self._call_file(message, attachment, known, caption, markup, reply=reply)
                return None
            upload = InputFile(attachment.content, filename=attachment.filename)
            sent = await self._call_file(message, attachment, upload, caption, markup, reply=reply)
            file_id = _file_id(sent)
            if file_id is not None:
                self._file_ids[stored.id] = file_id
            return file_id

    async def _call_file(
        self,
        message: ClaimedMessage,
        attachment: Attachment,
        media: str | InputFile,
        caption: str | None,
        markup: InlineKeyboardMarkup | None,
        *,
        reply: bool,
    ) -> Message:
        await self._pace(message, first=True, reply=reply)
        chat = int(message.chat_external_id)
        if attachment.is_photo:
            return await self.bot.send_photo(chat, media, caption=caption, reply_markup=markup)
        return await self.bot.send_document(chat, media, caption=caption, reply_markup=markup)


def _file_id(message: Message) -> str | None:
    """Telegram's id of what was just uploaded, to send it again without uploading."""
    if message.photo:
        return message.photo[-1].file_id
    if message.document is not None:
        return message.document.file_id
    return None


class TelegramChannel:
    """Receives Telegram updates and sends through the Bot API."""

    platform = PLATFORM

    def __init__(
        self,
        wiring: Wiring,
        *,
        token: str,
        base_url: str | None = None,
        base_file_url: str | None = None,
        poll_timeout: int = 30,
    ) -> None:
        self.wiring = wiring
        self.poll_timeout = poll_timeout
        tls = {"verify": _tls()}
        request = HTTPXRequest(
            connection_pool_size=64, read_timeout=15.0, write_timeout=30.0, httpx_kwargs=tls
        )
        updates_request = HTTPXRequest(connection_pool_size=2, read_timeout=5.0, httpx_kwargs=tls)
        kwargs: dict[str, Any] = {}
        if base_url:
            kwargs["base_url"] = base_url
            kwargs["base_file_url"] = base_file_url or base_url.replace("/bot", "/file/bot", 1)
        self.bot = Bot(token, request=request, get_updates_request=updates_request, **kwargs)
        self.signer = Signer(token)
        self.sender = TelegramSender(self.bot, self.signer)
        self.username = ""
        self._receive: Any = None
        self._poller: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._secret = ""

    # --- lifecycle -------------------------------------------------------------------------------

    async def connect(self) -> None:
        """getMe, retried while the network is down (one line per attempt); a refused token is final."""
        try:
            await retry(
                self.bot.initialize,
                classify=_network_trouble,
                what="Connecting to Telegram (getMe)",
                attempts=None,
            )
        except InvalidToken:
            raise StartupError(
                "TELEGRAM_BOT_TOKEN: Telegram refused this token. Copy it again from @BotFather "
                "(or revoke it there and use the new one)."
            ) from None
        self.username = self.bot.username or ""

    async def start(self, receive: Any, http: HttpServer, *, webhook_secret: str | None) -> None:
        """Publish commands, then receive by webhook (when WEBHOOK_URL is set) or by long polling."""
        self._receive = receive
        await self.publish_commands()
        settings = self.wiring.settings
        if settings.webhook_url is not None:
            self._secret = webhook_secret or ""
            path = "/" + settings.webhook_url.split("://", 1)[1].partition("/")[2]
            http.route(settings.webhook_port, "POST", path, self._webhook)
        else:
            await retry(
                self.bot.delete_webhook, classify=_network_trouble, what="deleteWebhook", attempts=None
            )
            self._stopping.clear()
            self._poller = asyncio.get_running_loop().create_task(self._poll(), name="telegram-poller")

    async def set_webhook(self) -> None:
        """Tell Telegram where to post updates (after the web server listens)."""
        settings = self.wiring.settings
        assert settings.webhook_url is not None
        await retry(
            lambda: self.bot.set_webhook(
                settings.webhook_url or "", secret_token=self._secret, allowed_updates=ALLOWED_UPDATES
            ),
            classify=_network_trouble,
            what="setWebhook",
            attempts=None,
        )

    async def stop(self) -> None:
        self._stopping.set()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poller
            self._poller = None

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.bot.shutdown()

    # --- receiving -------------------------------------------------------------------------------

    async def _poll(self) -> None:
        """Long polling: the next offset (Telegram's acknowledgement) only after the inbox has them."""
        offset: int | None = None
        failures = 0
        while not self._stopping.is_set():
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES
                )
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                delay = max(_network_trouble(error) or 0.0, backoff(failures, cap=30.0))
                log.warning("getUpdates failed (%s); trying again in %.0f s", type(error).__name__, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            if not updates:
                continue
            inbounds = [inbound for update in updates if (inbound := self.parse(update)) is not None]
            await self._receive(inbounds)
            offset = max(update.update_id for update in updates) + 1

    async def _webhook(self, request: web.Request) -> web.Response:
        """Refuse requests without the secret; answer 200 only once the update is in the inbox."""
        given = request.headers.get(SECRET_HEADER, "")
        if not self._secret or not hmac.compare_digest(given.encode(), self._secret.encode()):
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), self.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400)
        inbound = self.parse(update) if update is not None else None
        if inbound is not None:
            await self._receive([inbound])
        return web.Response(status=200)

    def parse(self, update: Update) -> Inbound | None:
        """An update as plain values; None for what the bot does not serve."""
        try:
            return self._parse(update)
        except Exception:
            log.warning("could not read update %s; skipping it", update.update_id, exc_info=True)
            return None

    def _parse(self, update: Update) -> Inbound | None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None or user.is_bot:
            return None
        kind = chat_kind(chat)
        if kind is None:
            return None
        common: dict[str, Any] = {
            "platform": PLATFORM,
            "update_id": update.update_id,
            "user_id": str(user.id),
            "user_name": user.full_name,
            "user_language": user.language_code,
            "chat_id": str(chat.id),
            "chat": kind,
            "chat_title": chat.title or "",
        }
        if update.my_chat_member is not None:
            change = update.my_chat_member
            present = change.new_chat_member.status not in GONE
            was_present = change.old_chat_member.status not in GONE
            return Inbound(**common, event=MEMBER_CHANGE, member_change=MemberChange(present, was_present))
        query = update.callback_query
        if query is not None:
            if not isinstance(query.message, Message):
                return None
            data = self.signer.verify(str(chat.id), query.data or "")
            return Inbound(
                **common,
                data=data or "",
                forged=data is None,
                pressed_message=str(query.message.message_id),
                callback_id=query.id,
            )
        message = update.effective_message
        if message is None:
            return None
        if message.migrate_to_chat_id is not None:
            return Inbound(**common, event=CHAT_MIGRATED, migrated_to=str(message.migrate_to_chat_id))
        if message.migrate_from_chat_id is not None:
            common["chat_id"] = str(message.migrate_from_chat_id)
            return Inbound(**common, event=CHAT_MIGRATED, migrated_to=str(chat.id))
        if message.new_chat_members or message.left_chat_member or message.new_chat_title:
            return None  # service messages: the bot's own membership comes as my_chat_member
        text = (message.text or message.caption or "").strip()
        first_word = text.split(maxsplit=1)[0].lower() if text else ""
        mention = f"@{self.username}".lower()
        other_bot = (
            kind is ChatKind.GROUP
            and first_word.startswith("/")
            and "@" in first_word
            and not first_word.endswith(mention)
        )
        return Inbound(
            **common,
            text=text,
            has_attachment=not message.text,
            addressed=kind is ChatKind.PRIVATE or first_word.endswith(mention),
            other_bot=other_bot,
            event=EDITED if update.edited_message is not None else "",
            photo_ref=message.photo[-1].file_id if message.photo else "",
        )

    # --- what the pipeline asks ------------------------------------------------------------------

    async def resolve(self, uow: UnitOfWork, inbound: Inbound) -> Inbound:
        return inbound

    async def remember(self, uow: UnitOfWork, inbound: Inbound, replies: Sequence[Reply]) -> None:
        """Nothing: button data is signed, so Telegram needs no record of the options offered."""

    def photo_fetcher(self, inbound: Inbound) -> PhotoFetcher | None:
        if not inbound.photo_ref:
            return None

        async def fetch() -> bytes | None:
            try:
                file = await self.bot.get_file(inbound.photo_ref)
                if file.file_size is not None and file.file_size > MAX_PHOTO_BYTES:
                    log.info("a photo of %d bytes was not downloaded", file.file_size)
                    return None
                return bytes(await file.download_as_bytearray())
            except TelegramError as error:
                log.info("could not download a photo: %s", error)
                return None

        return fetch

    async def after_turn(self, inbound: Inbound, outcome: TurnOutcome) -> None:
        """Answer a pressed button (its toast), then refresh the menus of people whose roles changed."""
        if inbound.callback_id:
            try:
                await self.bot.answer_callback_query(inbound.callback_id, outcome.notice)
            except TelegramError as error:  # an answer that comes too late is harmless
                log.info("could not answer callback query: %s", error)
        for person_id in outcome.menus_changed:
            await self.publish_menu(person_id)

    # --- command menus ---------------------------------------------------------------------------

    async def publish_commands(self) -> None:
        """setMyCommands for private and group chats, in every language, then each staff member's menu."""
        default = self.wiring.settings.default_language
        for kind, scope in (
            (ChatKind.PRIVATE, BotCommandScopeAllPrivateChats()),
            (ChatKind.GROUP, BotCommandScopeAllGroupChats()),
        ):
            for language in (None, *LANGUAGES):
                caller = Caller(
                    person_id=0,
                    name="",
                    language=language or default,
                    roles=frozenset({Role.ANYONE}),
                    chat_group_id=0 if kind is ChatKind.GROUP else None,
                )
                with use_language(language or default):
                    commands = [BotCommand(name, text) for name, text in registry.menu(caller, kind)]
                await self._set_commands(commands, scope, language)
        async with unit_of_work(self.wiring.factory) as uow:
            staff = [person.id for person in await uow.people.staff(None) if person.platform == PLATFORM]
        for person_id in staff:
            await self.publish_menu(person_id)

    async def _set_commands(
        self, commands: list[BotCommand], scope: BotCommandScope, language: str | None
    ) -> None:
        async def call() -> bool:
            return await self.bot.set_my_commands(commands, scope=scope, language_code=language)

        await retry(call, classify=_network_trouble, what="setMyCommands")

    async def publish_menu(self, person_id: int) -> None:
        """The command menu of one person's private chat, from their roles (staff, heads)."""
        async with unit_of_work(self.wiring.factory) as uow:
            owner = await menu_owner(uow, person_id, self.wiring.settings.default_language)
        if owner is None or owner.platform != PLATFORM:
            return
        caller = Caller(person_id=person_id, name="", language=owner.language, roles=owner.roles)
        with use_language(owner.language):
            commands = [BotCommand(name, text) for name, text in registry.menu(caller, ChatKind.PRIVATE)]
        try:
            await self.bot.set_my_commands(commands, scope=BotCommandScopeChat(int(owner.external_id)))
        except TelegramError as error:
            log.info("could not publish the command menu of %s: %s", owner.external_id, error)
