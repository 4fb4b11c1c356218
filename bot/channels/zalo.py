"""The Zalo Bot Platform channel: the same features as Telegram, through the same pipeline and outbox.

Zalo has no buttons and no edits: choices become numbered options the person answers with a number
(kept in the database, so a restart keeps them), edits become new messages, long texts are split
at line boundaries under 2000 characters, and a chart is a photo only when the bot has a public URL
to serve it from (PUBLIC_BASE_URL); otherwise the text table stands alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohttp import web

from bot.access import ChatKind
from bot.answers import MAX_PHOTO_BYTES
from bot.channels.zalo_api import (
    SECRET_HEADER,
    ZaloClient,
    ZaloError,
    ZaloForbidden,
    ZaloMessage,
    parse_updates,
    secret_matches,
    zalo_trouble,
)
from bot.delivery import ClaimedMessage
from bot.http import HttpServer
from bot.i18n import gettext as _
from bot.outbox import Failure, SendFailure
from bot.pipeline import TurnOutcome
from bot.ratelimit import FloodLimiter
from bot.replies import Attachment, Choice, Reply, split_text
from bot.retry import backoff, retry
from bot.turns import Inbound, PhotoFetcher
from bot.wiring import Wiring
from storage.models import PendingChoices, utcnow
from storage.unit_of_work import UnitOfWork, unit_of_work

PLATFORM = "zalo"
TEXT_LIMIT = 2000
POLL_TIMEOUT = 30
PER_SECOND = 20  # Zalo does not publish its limits; stay well below Telegram's
NUMBER = re.compile(r"^\s*([0-9]{1,2})\s*[.)]?\s*$")

log = logging.getLogger(__name__)


def render(
    text: str, choices: Sequence[Sequence[Choice]], attachment: Attachment | None = None
) -> tuple[str, list[str]]:
    """The text with numbered options (and words to type), and the data each number stands for."""
    numbered: list[Choice] = []
    words: list[Choice] = []
    for row in choices:
        for choice in row:
            (words if choice.word else numbered).append(choice)
    lines = [text] if text else []
    if numbered:
        lines.extend(f"{number} {choice.label}" for number, choice in enumerate(numbered, start=1))
        lines.append(_("(reply with a number)"))
    lines.extend(_("Type “{word}”: {label}").format(word=c.word, label=c.label) for c in words)
    if attachment is not None and not attachment.is_photo:
        lines.append(_("Files are sent on Telegram only; ward staff can also use: wardbot export"))
    return "\n".join(lines), [choice.data for choice in numbered]


class MediaStore:
    """Pictures served at PUBLIC_BASE_URL/media/… for Zalo, which sends photos only by URL.

    Kept in the database under an unguessable name, so whichever worker Zalo asks can serve it.
    """

    def __init__(self, wiring: Wiring) -> None:
        self.wiring = wiring
        self.public_base_url = wiring.settings.public_base_url

    async def url_for(self, content: bytes) -> str | None:
        if self.public_base_url is None:
            return None
        name = secrets.token_urlsafe(16)
        async with unit_of_work(self.wiring.factory) as uow:
            await uow.workers.add_media(name, content, now=self.wiring.clock())
        return f"{self.public_base_url}/media/{name}.png"

    async def serve(self, request: web.Request) -> web.Response:
        async with unit_of_work(self.wiring.factory) as uow:
            content = await uow.workers.media(request.match_info["name"][:40])
        if content is None:
            return web.Response(status=404)
        return web.Response(body=content, content_type="image/png")


async def save_choices(uow: UnitOfWork, chat_id: str, options: list[str]) -> None:
    """What a number typed next in this chat stands for."""
    pending = await uow.session.get(PendingChoices, (PLATFORM, chat_id))
    if pending is None:
        pending = PendingChoices(platform=PLATFORM, chat_external_id=chat_id)
        uow.session.add(pending)
    pending.data_json = json.dumps(options)
    pending.updated_at = utcnow()


class ZaloSender:
    """Sends one outbox message through the Zalo Bot API."""

    platform = PLATFORM

    def __init__(self, wiring: Wiring, client: ZaloClient, media: MediaStore) -> None:
        self.wiring, self.client, self.media = wiring, client, media
        self.limiter = FloodLimiter(PER_SECOND)

    async def typing(self, chat_id: str) -> None:
        with contextlib.suppress(ZaloError, aiohttp.ClientError, TimeoutError):
            await self.client.send_chat_action(chat_id, "typing")

    async def deliver(
        self, message: ClaimedMessage, attachment: Attachment | None, *, reply: bool
    ) -> str | None:
        text, options = render(message.text, message.choices, attachment)
        chat = message.chat_external_id
        try:
            if attachment is not None and attachment.is_photo:
                url = await self.media.url_for(attachment.content)
                if url is not None:
                    await self.limiter.acquire(chat, False, broadcast=not reply)
                    await self.client.send_photo(chat, url)
            for part in split_text(text, TEXT_LIMIT):
                await self.limiter.acquire(chat, False, broadcast=not reply)
                await self.client.send_message(chat, part)
        except ZaloForbidden as error:
            raise SendFailure(Failure.BLOCKED, str(error)) from None
        except ZaloError as error:
            if error.status == 429:
                raise SendFailure(
                    Failure.RATE_LIMITED, str(error), retry_after=error.retry_after or 1.0
                ) from None
            kind = Failure.REFUSED if 400 <= error.status < 500 else Failure.TRANSIENT
            raise SendFailure(kind, str(error)) from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise SendFailure(Failure.TRANSIENT, f"{type(error).__name__}: {error}") from None
        if options and not reply:
            async with unit_of_work(self.wiring.factory) as uow:
                if not await self._in_conversation(uow, chat):
                    await save_choices(uow, chat, options)
        return None

    @staticmethod
    async def _in_conversation(uow: UnitOfWork, chat_id: str) -> bool:
        """A person in the middle of a flow types numbers as answers: a broadcast's options must not
        take them over."""
        person = await uow.people.find(PLATFORM, chat_id)
        return person is not None and await uow.conversations.get(person.id) is not None


class ZaloChannel:
    """Receives Zalo updates (long polling or webhook) and sends through the Zalo Bot API."""

    platform = PLATFORM
    username = ""

    def __init__(self, wiring: Wiring, client: ZaloClient) -> None:
        self.wiring, self.client = wiring, client
        self.media = MediaStore(wiring)
        self.sender = ZaloSender(wiring, client, self.media)
        self._receive: Any = None
        self._poller: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self, receive: Any, http: HttpServer) -> None:
        """Webhook when ZALO_WEBHOOK_URL is set, long polling otherwise; pictures served when public."""
        self._receive = receive
        settings = self.wiring.settings
        port = settings.zalo_webhook_port
        if settings.public_base_url is not None:
            http.route(port, "GET", "/media/{name}.png", self.media.serve)
        if settings.zalo_webhook_url is not None:
            hook = settings.zalo_webhook_url
            http.route(port, "POST", "/" + hook.split("://", 1)[1].partition("/")[2], self._webhook)
        else:
            with contextlib.suppress(ZaloError, aiohttp.ClientError, TimeoutError):
                await self.client.delete_webhook()
            self._stopping.clear()
            self._poller = asyncio.get_running_loop().create_task(self._poll(), name="zalo-poller")

    async def set_webhook(self) -> None:
        settings = self.wiring.settings
        await retry(
            lambda: self.client.set_webhook(
                settings.zalo_webhook_url or "", settings.zalo_webhook_secret or ""
            ),
            classify=zalo_trouble,
            what="Zalo setWebhook",
            attempts=None,
        )
        log.info("Zalo webhook set")

    async def stop(self) -> None:
        self._stopping.set()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poller
            self._poller = None

    async def close(self) -> None:
        await self.client.close()

    # --- receiving -------------------------------------------------------------------------------

    async def _poll(self) -> None:
        """Long polling (Zalo has no offset): what a call brings is in the inbox before the next call."""
        failures = 0
        while not self._stopping.is_set():
            try:
                messages = await self.client.get_updates(timeout=POLL_TIMEOUT)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                delay = backoff(failures, cap=30.0)
                log.warning(
                    "Zalo getUpdates failed (%s); trying again in %.0f s", type(error).__name__, delay
                )
                await asyncio.sleep(delay)
                continue
            failures = 0
            await self._receive([self.parse(message) for message in messages])

    async def _webhook(self, request: web.Request) -> web.Response:
        """Refuse requests without the secret (compared in constant time); 200 once in the inbox."""
        expected = self.wiring.settings.zalo_webhook_secret or ""
        if not secret_matches(request.headers.get(SECRET_HEADER), expected):
            return web.Response(status=403)
        try:
            payload = await request.json()
        except ValueError:
            return web.Response(status=400)
        await self._receive([self.parse(message) for message in parse_updates(payload)])
        return web.json_response({"ok": True})

    def parse(self, message: ZaloMessage) -> Inbound:
        kind = ChatKind.GROUP if message.is_group else ChatKind.PRIVATE
        text = (message.text or "").strip()
        if kind is ChatKind.GROUP and text.startswith("@"):
            text = text.split(maxsplit=1)[1] if " " in text else ""
        return Inbound(
            platform=PLATFORM,
            update_id=message.update_id,
            user_id=message.user_id,
            user_name=message.display_name,
            chat_id=message.chat_id,
            chat=kind,
            text=text,
            has_attachment=message.text is None or message.photo_url is not None,
            photo_ref=message.photo_url or "",
        )

    # --- what the pipeline asks ------------------------------------------------------------------

    async def resolve(self, uow: UnitOfWork, inbound: Inbound) -> Inbound:
        """A number standing for one of the options last shown in this chat becomes that choice."""
        found = NUMBER.match(inbound.text) if not inbound.data else None
        if found is None:
            return inbound
        pending = await uow.session.get(PendingChoices, (PLATFORM, inbound.chat_id))
        options: list[str] = json.loads(pending.data_json) if pending is not None else []
        number = int(found.group(1))
        if not 1 <= number <= len(options):
            return inbound
        from dataclasses import replace

        return replace(inbound, data=options[number - 1], text="")

    async def remember(self, uow: UnitOfWork, inbound: Inbound, replies: Sequence[Reply]) -> None:
        """The options of the last reply to this chat are what a number typed next refers to."""
        here = [reply for reply in replies if reply.chat in (None, inbound.chat_id)]
        if here:
            _text, options = render(here[-1].text, here[-1].choices)
            await save_choices(uow, inbound.chat_id, options)

    def photo_fetcher(self, inbound: Inbound) -> PhotoFetcher | None:
        url = inbound.photo_ref
        if not url:
            return None

        async def fetch() -> bytes | None:
            try:
                async with aiohttp.ClientSession() as session, session.get(url) as response:
                    if response.status != 200:
                        return None
                    content = await response.content.read(MAX_PHOTO_BYTES + 1)
                    return content if len(content) <= MAX_PHOTO_BYTES else None  # never held unbounded
            except aiohttp.ClientError:
                return None

        return fetch

    async def after_turn(self, inbound: Inbound, outcome: TurnOutcome) -> None:
        """Nothing: Zalo has no button toasts and no command menus."""
