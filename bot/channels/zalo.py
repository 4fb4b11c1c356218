"""The Zalo Bot Platform channel: the same handlers and flows as Telegram, through the same `Turn`.

Zalo has no buttons and no edits: choices become numbered options the person answers with a number
(kept in the database, so a restart keeps them), edits become new messages, long texts are split at
line boundaries under 2000 characters, and a chart is a photo only when the bot has a public URL to
serve it from (PUBLIC_BASE_URL); otherwise the text table stands alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp
from aiohttp import web
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.access import ChatKind, authorize
from bot.channels.turns import Turn, TurnHandler
from bot.channels.zalo_api import (
    SECRET_HEADER,
    ZaloClient,
    ZaloError,
    ZaloForbidden,
    ZaloMessage,
    parse_update,
    secret_matches,
    split_for_zalo,
    with_retry,
)
from bot.delivery import (
    ClaimedMessage,
    claim_due,
    mark_blocked,
    mark_failed,
    mark_retry,
    mark_sent,
    queue_delivery_reports,
    recover_in_flight,
)
from bot.i18n import gettext as _
from bot.i18n import set_language
from bot.membership import identify, set_chat_active, set_person_active
from bot.replies import Attachment, Choice, Outgoing, Reply
from bot.wiring import Wiring
from storage.models import PendingChoices, utcnow
from storage.unit_of_work import UnitOfWork, unit_of_work

PLATFORM = "zalo"
POLL_TIMEOUT = 30
PER_SECOND = 20  # Zalo does not publish its limits; stay well below Telegram's
BATCH = 4
PERIODIC = timedelta(minutes=1)
NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    """A feature reached from Zalo: its policy entry and its platform-neutral handler."""

    policy: str
    handler: TurnHandler


@dataclass
class Routes:
    """Commands, choice data and the fallback, read from the very handler tables Telegram uses."""

    commands: dict[str, Route] = field(default_factory=dict)
    choices: list[tuple[re.Pattern[str], Route]] = field(default_factory=list)
    fallback: Route | None = None

    def for_data(self, data: str) -> Route | None:
        return next((route for pattern, route in self.choices if pattern.match(data)), None)


def build_routes() -> Routes:
    """Every feature's commands and choices, so no flow is written twice."""
    import conversations
    import handlers
    from handlers import fallback

    routes = Routes()
    tables = [module.HANDLERS for module in (*handlers.FEATURES, *conversations.FLOWS)]
    for table in tables:
        for handler in table:
            callback = getattr(handler, "callback", None)
            policy = getattr(callback, "policy", None)
            plain = getattr(callback, "__wrapped__", None)
            if policy is None or plain is None:
                continue
            route = Route(policy, plain)
            if isinstance(handler, CommandHandler):
                for command in handler.commands:
                    routes.commands[command] = route
            elif isinstance(handler, CallbackQueryHandler) and isinstance(handler.pattern, re.Pattern):
                routes.choices.append((handler.pattern, route))
    fallback_callback = fallback.not_understood
    routes.fallback = Route("fallback", fallback_callback.__wrapped__)  # type: ignore[attr-defined]
    return routes


def render(reply: Reply) -> tuple[str, list[str]]:
    """The text with numbered options (and words to type), and the data each number stands for."""
    numbered: list[Choice] = []
    words: list[Choice] = []
    for row in reply.choices:
        for choice in row:
            (words if choice.word else numbered).append(choice)
    lines = [reply.text] if reply.text else []
    if numbered:
        lines.extend(f"{number} {choice.label}" for number, choice in enumerate(numbered, start=1))
        lines.append(_("(reply with a number)"))
    lines.extend(_("Type “{word}”: {label}").format(word=c.word, label=c.label) for c in words)
    if reply.attachment is not None and not reply.attachment.is_photo:
        lines.append(_("Files are sent on Telegram only; ward staff can also use: wardbot export"))
    return "\n".join(lines), [choice.data for choice in numbered]


class MediaStore:
    """Pictures served at PUBLIC_BASE_URL/media/… for Zalo, which sends photos only by URL."""

    def __init__(self, public_base_url: str | None, limit: int = 200) -> None:
        self.public_base_url = public_base_url
        self.limit = limit
        self.files: dict[str, bytes] = {}

    def url_for(self, content: bytes) -> str | None:
        if self.public_base_url is None:
            return None
        name = secrets.token_urlsafe(16)
        self.files[name] = content
        while len(self.files) > self.limit:
            self.files.pop(next(iter(self.files)))
        return f"{self.public_base_url}/media/{name}.png"

    async def serve(self, request: web.Request) -> web.Response:
        content = self.files.get(request.match_info["name"])
        if content is None:
            return web.Response(status=404)
        return web.Response(body=content, content_type="image/png")


class ZaloChannel:
    """Receives Zalo updates (polling or webhook), runs them as turns, sends the outbox's Zalo part."""

    def __init__(self, wiring: Wiring, client: ZaloClient, *, runs_schedules: bool = False) -> None:
        self.wiring = wiring
        self.client = client
        self.routes = build_routes()
        self.media = MediaStore(wiring.settings.public_base_url)
        self.runs_schedules = runs_schedules
        self.locks: dict[str, asyncio.Lock] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.outbox_wake = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.stopping = asyncio.Event()
        self.pace: list[float] = []

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Webhook when ZALO_WEBHOOK_URL is set, long polling otherwise; plus the outbox and periodic work."""
        settings = self.wiring.settings
        if settings.zalo_webhook_url is not None or settings.public_base_url is not None:
            await self._serve_http()
        if settings.zalo_webhook_url is not None:
            secret = settings.zalo_webhook_secret or ""
            await with_retry(lambda: self.client.set_webhook(settings.zalo_webhook_url or "", secret))
            log.info("Zalo webhook set")
        else:
            with contextlib.suppress(ZaloError):
                await self.client.delete_webhook()
            self._spawn(self._poll())
        if self.runs_schedules:
            async with unit_of_work(self.wiring.factory) as uow:
                await recover_in_flight(uow)
        self._spawn(self._deliver_outbox())
        self._spawn(self._periodic())

    async def stop(self) -> None:
        self.stopping.set()
        self.outbox_wake.set()
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.runner is not None:
            await self.runner.cleanup()
        await self.client.close()

    def wake(self) -> None:
        self.outbox_wake.set()

    def _spawn(self, work: object) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)  # type: ignore[arg-type]
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _serve_http(self) -> None:
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_get("/media/{name}.png", self.media.serve)
        hook = self.wiring.settings.zalo_webhook_url
        if hook is not None:
            path = "/" + hook.split("://", 1)[1].split("/", 1)[1] if "/" in hook.split("://", 1)[1] else "/"
            app.router.add_post(path, self._webhook)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(
            self.runner, self.wiring.settings.webhook_listen, self.wiring.settings.zalo_webhook_port
        )
        await site.start()

    # --- receiving ---------------------------------------------------------------------------------

    async def _poll(self) -> None:
        """Long polling: each call brings one update or a list; a failing API is retried with a pause."""
        while not self.stopping.is_set():
            try:
                messages = await self.client.get_updates(timeout=POLL_TIMEOUT)
            except (ZaloError, aiohttp.ClientError, TimeoutError) as error:
                log.warning("Zalo getUpdates failed: %s", error)
                await asyncio.sleep(2)
                continue
            for message in messages:
                self._spawn(self.handle(message))

    async def _webhook(self, request: web.Request) -> web.Response:
        """Refuse requests without the secret (compared in constant time); accept and handle the rest."""
        expected = self.wiring.settings.zalo_webhook_secret or ""
        if not secret_matches(request.headers.get(SECRET_HEADER), expected):
            return web.Response(status=403)
        try:
            payload = await request.json()
        except ValueError:
            return web.Response(status=400)
        message = parse_update(payload)
        if message is not None:
            self._spawn(self.handle(message))
        return web.json_response({"ok": True})

    async def handle(self, message: ZaloMessage) -> None:
        """One update as one turn, strictly in order within its chat."""
        lock = self.locks.setdefault(message.chat_id, asyncio.Lock())
        async with lock:
            try:
                await self._turn(message)
            except Exception:
                log.exception("error while handling a Zalo update")
                await self._send_text(
                    message.chat_id,
                    _("Sorry, something went wrong and nothing was saved. Please try again in a moment."),
                )

    async def _turn(self, message: ZaloMessage) -> None:
        wiring = self.wiring
        kind = ChatKind.GROUP if message.is_group else ChatKind.PRIVATE
        text = (message.text or "").strip()
        if kind is ChatKind.GROUP and text.startswith("@"):
            text = text.split(maxsplit=1)[1] if " " in text else ""
        out = Outgoing()
        broadcast = False
        async with unit_of_work(wiring.factory) as uow:
            if not await uow.updates.claim(PLATFORM, message.update_id):
                log.info("Zalo update already handled; ignoring the redelivery")
                return
            caller = await identify(
                uow,
                PLATFORM,
                message.user_id,
                display_name=message.display_name,
                client_language=None,
                default_language=wiring.settings.default_language,
                chat_external_id=message.chat_id,
                chat_kind=kind,
                chat_title="",
            )
            set_language(caller.language)
            route, data, args = await self._route(uow, message.chat_id, text)
            turn = Turn(
                uow=uow,
                caller=caller,
                chat=kind,
                out=out,
                wiring=wiring,
                platform=PLATFORM,
                chat_id=message.chat_id,
                text="" if data else text,
                data=data,
                args=args,
                has_attachment=message.text is None or message.photo_url is not None,
                addressed=True,
                event=message,
                fetch_photo=self._photo_fetcher(message.photo_url),
            )
            refusal = authorize(route.policy, caller, kind)
            if refusal is not None:
                out.add(refusal)
            else:
                await route.handler(turn)
                broadcast = turn.broadcast
            await self._remember_choices(uow, message.chat_id, out.replies)
        if broadcast:
            self.wake()
        for reply in out.replies:
            await self.send_reply(reply.chat or message.chat_id, reply)

    async def _route(self, uow: UnitOfWork, chat_id: str, text: str) -> tuple[Route, str, list[str]]:
        """A command, a number standing for one of the options last shown, or the fallback."""
        assert self.routes.fallback is not None
        if text.startswith("/"):
            word, *args = text.split()
            command = word[1:].split("@", 1)[0].lower()
            return self.routes.commands.get(command, self.routes.fallback), "", args
        found = NUMBER.match(text)
        if found is not None:
            pending = await uow.session.get(PendingChoices, (PLATFORM, chat_id))
            options: list[str] = json.loads(pending.data_json) if pending is not None else []
            number = int(found.group(1))
            if 1 <= number <= len(options):
                data = options[number - 1]
                route = self.routes.for_data(data)
                if route is not None:
                    return route, data, []
        return self.routes.fallback, "", []

    async def _remember_choices(self, uow: UnitOfWork, chat_id: str, replies: Sequence[Reply]) -> None:
        """The options of the last reply to this chat are what a number typed next refers to."""
        here = [reply for reply in replies if reply.chat in (None, chat_id)]
        if not here:
            return
        _text, options = render(here[-1])
        await self._save_choices(uow, chat_id, options)

    @staticmethod
    async def _save_choices(uow: UnitOfWork, chat_id: str, options: list[str]) -> None:
        pending = await uow.session.get(PendingChoices, (PLATFORM, chat_id))
        if pending is None:
            pending = PendingChoices(platform=PLATFORM, chat_external_id=chat_id)
            uow.session.add(pending)
        pending.data_json = json.dumps(options)
        pending.updated_at = utcnow()

    def _photo_fetcher(self, url: str | None) -> Callable[[], Awaitable[bytes | None]] | None:
        if url is None:
            return None

        async def fetch() -> bytes | None:
            try:
                async with aiohttp.ClientSession() as session, session.get(url) as response:
                    return await response.read() if response.status == 200 else None
            except aiohttp.ClientError:
                return None

        return fetch

    # --- sending -----------------------------------------------------------------------------------

    async def send_reply(self, chat_id: str, reply: Reply) -> bool:
        """Text split under 2000 characters, options numbered, a photo only when it can be served."""
        text, _options = render(reply)
        attachment = reply.attachment
        if attachment is None and reply.render is not None:
            attachment = await asyncio.to_thread(reply.render)
        try:
            if attachment is not None and attachment.is_photo:
                url = self.media.url_for(attachment.content)
                if url is not None:
                    await with_retry(lambda: self.client.send_photo(chat_id, url))
            for part in split_for_zalo(text):
                await self._paced()
                await with_retry(functools.partial(self.client.send_message, chat_id, part))
        except ZaloForbidden:
            await self._unreachable(chat_id)
            return False
        except (ZaloError, aiohttp.ClientError, TimeoutError) as error:
            log.warning("could not send a Zalo message: %s", error)
            return False
        return True

    async def _send_text(self, chat_id: str, text: str) -> None:
        await self.send_reply(chat_id, Reply(text))

    async def _unreachable(self, chat_id: str) -> None:
        """A 403: the person blocked the bot or it left the group; no more sends until they come back."""
        async with unit_of_work(self.wiring.factory) as uow:
            chat = await uow.chats.find(PLATFORM, chat_id)
            if chat is not None and chat.kind != "private":
                await set_chat_active(uow, PLATFORM, chat_id, False)
            else:
                await set_person_active(uow, PLATFORM, chat_id, False)

    async def _paced(self) -> None:
        """At most PER_SECOND calls in any second."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        self.pace = [t for t in self.pace if t > now - 1]
        if len(self.pace) >= PER_SECOND:
            await asyncio.sleep(self.pace[0] + 1 - now)
        self.pace.append(loop.time())

    # --- the outbox's Zalo messages ----------------------------------------------------------------

    async def _deliver_outbox(self) -> None:
        """Send the outbox's Zalo messages; an error is logged and the loop goes on."""
        while not self.stopping.is_set():
            claimed: list[ClaimedMessage] = []
            try:
                async with unit_of_work(self.wiring.factory) as uow:
                    claimed = await claim_due(uow, platform=PLATFORM, now=self.wiring.clock(), limit=BATCH)
                for message in claimed:
                    await self._deliver(message)
                async with unit_of_work(self.wiring.factory) as uow:
                    await queue_delivery_reports(
                        uow, now=self.wiring.clock(), default_language=self.wiring.settings.default_language
                    )
            except Exception:
                log.exception("the Zalo outbox round failed; trying again")
                await asyncio.sleep(1)
                continue
            if not claimed:
                self.outbox_wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.outbox_wake.wait(), 1.0)

    async def _deliver(self, message: ClaimedMessage) -> None:
        reply = Reply(
            message.text,
            message.choices,
            Attachment(message.attachment.content, message.attachment.filename, message.attachment.is_photo)
            if message.attachment is not None
            else None,
        )
        text, options = render(reply)
        try:
            if reply.attachment is not None and reply.attachment.is_photo:
                url = self.media.url_for(reply.attachment.content)
                if url is not None:
                    await self._paced()
                    await self.client.send_photo(message.chat_external_id, url)
            for part in split_for_zalo(text):
                await self._paced()
                await self.client.send_message(message.chat_external_id, part)
        except ZaloForbidden as error:
            async with unit_of_work(self.wiring.factory) as uow:
                await mark_blocked(uow, message.id, error=str(error))
            await self._unreachable(message.chat_external_id)
            return
        except ZaloError as error:
            async with unit_of_work(self.wiring.factory) as uow:
                if error.status == 429:
                    wait = error.retry_after or 1.0
                    await mark_retry(
                        uow,
                        message.id,
                        at=self.wiring.clock() + timedelta(seconds=wait),
                        error=str(error),
                        counts=False,
                    )
                elif 400 <= error.status < 500:
                    await mark_failed(uow, message.id, error=str(error))
                else:
                    backoff = timedelta(seconds=2 ** min(message.attempts, 8))
                    await mark_retry(uow, message.id, at=self.wiring.clock() + backoff, error=str(error))
            return
        except (aiohttp.ClientError, TimeoutError) as error:
            async with unit_of_work(self.wiring.factory) as uow:
                backoff = timedelta(seconds=2 ** min(message.attempts, 8))
                await mark_retry(uow, message.id, at=self.wiring.clock() + backoff, error=str(error))
            return
        async with unit_of_work(self.wiring.factory) as uow:
            await mark_sent(uow, message.id, now=self.wiring.clock())
            if options and not await self._in_conversation(uow, message.chat_external_id):
                await self._save_choices(uow, message.chat_external_id, options)

    @staticmethod
    async def _in_conversation(uow: UnitOfWork, chat_id: str) -> bool:
        """A person in the middle of a flow types numbers as answers: a broadcast's options must not
        take them over."""
        person = await uow.people.find(PLATFORM, chat_id)
        return person is not None and await uow.conversations.get(person.id) is not None

    # --- periodic work -----------------------------------------------------------------------------

    async def _periodic(self) -> None:
        """Idle Zalo conversations end with a note; without Telegram, also deadline posts and reminders."""
        from bot.announcements import post_due_standings
        from bot.reminders import send_due_reminders
        from conversations.timeouts import close_idle_conversations

        while not self.stopping.is_set():
            try:
                now = self.wiring.clock()
                for chat, text in await close_idle_conversations(self.wiring, PLATFORM, now):
                    await self._send_text(chat, text)
                if self.runs_schedules:
                    for queue_due in (post_due_standings, send_due_reminders):
                        if await queue_due(self.wiring) is not None:
                            self.wake()
            except Exception:
                log.exception("periodic Zalo work failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), PERIODIC.total_seconds())
