"""A Zalo Bot Platform-compatible HTTP server on 127.0.0.1 that plays Zalo for tests and the demo.

Zalo's Bot API looks like Telegram's but differs where it hurts: getUpdates has no offset and hands
out at most one update per call (then forgets it), an empty long poll answers 408, IDs are strings,
dates are in milliseconds and texts stop at 2000 characters. This server keeps those quirks, logs
every call, and can misbehave on purpose (429 with retry_after, 5xx, 403 for blocked chats, a
30-per-second send limit) so the client and the channel are tested against them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web

DEFAULT_TOKEN = "zalo-test-token-0000000000"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
TEXT_LIMIT = 2000
GLOBAL_LIMIT_PER_SECOND = 30

_DESCRIPTIONS = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    408: "Request timeout",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True, slots=True)
class ZaloUser:
    """A Zalo user as the fake server reports them in updates."""

    id: str
    display_name: str

    def to_dict(self) -> dict[str, Any]:
        """The `from` object of an update."""
        return {"id": self.id, "display_name": self.display_name, "is_bot": False}


@dataclass(slots=True)
class ZaloSent:
    """Something the bot sent, as the fake server received it."""

    message_id: str
    chat_id: str
    method: str
    text: str | None = None
    photo_url: str | None = None
    caption: str | None = None

    @property
    def shown(self) -> str:
        """What a person would see first: the text, else the caption, else the picture's URL."""
        return self.text or self.caption or self.photo_url or ""


@dataclass(slots=True)
class _PlannedFailure:
    status: int
    description: str
    retry_after: int | None
    times: int


class ZaloApiError(Exception):
    """An error answer the fake server sends instead of a result."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class FakeZaloApi:
    """Zalo's Bot API on 127.0.0.1, with a log of what the bot did and levers to make it fail."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_id: str = "bot-1",
        bot_name: str = "Phường bot",
        quiet_seconds: float = 0.2,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.quiet_seconds = quiet_seconds
        self.sent: list[ZaloSent] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.webhook: dict[str, Any] | None = None
        # Statuses the bot's webhook answered, in delivery order (0 when it could not be reached).
        self.webhook_statuses: list[int] = []
        # Some deployments wrap updates: getUpdates then answers a one-element list, webhooks
        # receive {"ok": true, "result": update}.
        self.wrap_updates = False
        self.enforce_limits = False
        self.too_many_requests = 0
        self.blocked: set[str] = set()
        self._pending: deque[dict[str, Any]] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._message_ids = itertools.count(1)
        self._failures: defaultdict[str, deque[_PlannedFailure]] = defaultdict(deque)
        self._recent_sends: deque[float] = deque()
        self._changed = asyncio.Condition()
        self._in_flight = 0
        self._last_activity = time.monotonic()
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._webhook_session: ClientSession | None = None
        self._methods: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
        }

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self._port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Wake every long poll, drop undelivered webhook posts and close the server."""
        self._stopping.set()
        async with self._changed:
            self._changed.notify_all()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._webhook_session is not None:
            await self._webhook_session.close()
            self._webhook_session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeZaloApi:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """What to give the client as its base URL; it appends `<TOKEN>/<method>`."""
        return f"http://127.0.0.1:{self._port}/bot"

    # --- what users do ---------------------------------------------------------------------------

    def push_text(
        self, user: ZaloUser, text: str, *, chat_id: str | None = None, group: bool = False
    ) -> dict[str, Any]:
        """A user writes to the bot; returns the update, which can be pushed again with push_raw."""
        return self._enqueue("message.text.received", user, chat_id, group, {"text": text})

    def push_image(
        self,
        user: ZaloUser,
        photo_url: str,
        caption: str | None = None,
        *,
        chat_id: str | None = None,
        group: bool = False,
    ) -> dict[str, Any]:
        """A user sends a picture; Zalo hands the bot a URL, not a file id."""
        body: dict[str, Any] = {"photo_url": photo_url}
        if caption is not None:
            body["caption"] = caption
        return self._enqueue("message.image.received", user, chat_id, group, body)

    def push_sticker(
        self, user: ZaloUser, *, chat_id: str | None = None, group: bool = False
    ) -> dict[str, Any]:
        """A user sends a sticker, which the bot can only acknowledge."""
        body = {"sticker": "fake-sticker-1", "url": "https://stickers.invalid/fake-sticker-1.webp"}
        return self._enqueue("message.sticker.received", user, chat_id, group, body)

    def push_unsupported(
        self, user: ZaloUser, *, chat_id: str | None = None, group: bool = False
    ) -> dict[str, Any]:
        """A user sends something Zalo does not pass on to bots (voice, file, location…)."""
        return self._enqueue("message.unsupported.received", user, chat_id, group, {})

    def push_raw(self, update: dict[str, Any]) -> dict[str, Any]:
        """Deliver an update as given, keeping its message_id (Zalo redelivering it)."""
        self._touch()
        if self.webhook is not None:
            # A webhook receives updates as they come; nothing waits for getUpdates.
            self._forward_to_webhook(update)
        else:
            self._pending.append(dict(update))
            self._wake()
        return update

    # --- levers ----------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 502,
        *,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` fail with this status; plans queue up in order."""
        text = description or _DESCRIPTIONS.get(status, "Error")
        self._failures[method].append(_PlannedFailure(status, text, retry_after, times))

    def block(self, chat_id: str) -> None:
        """The user blocked the bot (or removed it from the group): sends to this chat answer 403."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: str) -> None:
        self.blocked.discard(chat_id)

    # --- what tests wait for ---------------------------------------------------------------------

    def mark(self) -> int:
        """A position in `sent`, for `wait_for(since=...)`."""
        return len(self.sent)

    def messages_to(self, chat_id: str) -> list[ZaloSent]:
        return [m for m in self.sent if m.chat_id == chat_id]

    async def wait_for(
        self, count: int, *, chat_id: str | None = None, timeout: float = 15.0, since: int = 0
    ) -> list[ZaloSent]:
        """Wait until `count` messages (to `chat_id`, when given) were sent after `since`; returns them."""

        def matching() -> list[ZaloSent]:
            return [m for m in self.sent[since:] if chat_id is None or m.chat_id == chat_id]

        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(lambda: len(matching()) >= count)
        except TimeoutError:
            seen = "; ".join(f"{m.chat_id}: {m.shown[:80]!r}" for m in self.sent[since:])
            raise TimeoutError(
                f"waited {timeout}s for {count} message(s) to {chat_id}; got {len(matching())}. Sent: {seen}"
            ) from None
        return matching()

    async def wait_idle(self, timeout: float = 15.0) -> None:
        """Wait until every update was fetched or posted and the bot has been quiet for a short spell."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fetched = not self._pending
            quiet = time.monotonic() - self._last_activity >= self.quiet_seconds
            if fetched and quiet and self._in_flight == 0:
                return
            await asyncio.sleep(0.02)
        raise TimeoutError(f"the bot did not go idle within {timeout}s")

    # --- the HTTP side ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _parameters(request)
        self.calls.append((method, params))
        handler = self._methods.get(method)
        if handler is None:
            return _error(404, "Not Found: method not found")
        counted = method != "getUpdates"
        if counted:
            self._in_flight += 1
            self._touch()
        try:
            self._check_planned_failure(method)
            result = await handler(params)
        except ZaloApiError as error:
            return _error(error.status, error.description, error.retry_after)
        finally:
            if counted:
                self._in_flight -= 1
                self._touch()
        return web.json_response({"ok": True, "result": result})

    def _check_planned_failure(self, method: str) -> None:
        planned = self._failures.get(method)
        if not planned:
            return
        failure = planned[0]
        failure.times -= 1
        if failure.times <= 0:
            planned.popleft()
        if failure.status == 429:
            self.too_many_requests += 1
        raise ZaloApiError(failure.status, failure.description, failure.retry_after)

    def _check_can_send(self, chat_id: str) -> None:
        if chat_id in self.blocked:
            raise ZaloApiError(403, "Forbidden: the user blocked the bot or the bot left the group")
        if not self.enforce_limits:
            return
        now = time.monotonic()
        while self._recent_sends and self._recent_sends[0] < now - 1:
            self._recent_sends.popleft()
        if len(self._recent_sends) >= GLOBAL_LIMIT_PER_SECOND:
            self.too_many_requests += 1
            raise ZaloApiError(429, "Too Many Requests: retry after 1", 1)
        self._recent_sends.append(now)

    # --- methods ---------------------------------------------------------------------------------

    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "account_name": f"bot.{self.bot_id}",
            "display_name": self.bot_name,
            "account_type": "BASIC",
            "can_join_groups": True,
        }

    async def _get_updates(self, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise ZaloApiError(409, "Conflict: getUpdates is not available while a webhook is set")
        timeout = float(params.get("timeout") or 0)
        if not self._pending and timeout > 0 and not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    async with self._changed:
                        await self._changed.wait_for(lambda: bool(self._pending) or self._stopping.is_set())
        if not self._pending:
            raise ZaloApiError(408, "Request timeout")
        # At most one update per call, forgotten once handed out: Zalo has no offset to confirm with.
        update = self._pending.popleft()
        self._touch()
        return [update] if self.wrap_updates else update

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _required(params, "chat_id")
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise ZaloApiError(400, "Bad Request: text is empty")
        if len(text) > TEXT_LIMIT:
            raise ZaloApiError(400, "Bad Request: text too long")
        self._check_can_send(chat_id)
        return self._record("sendMessage", chat_id, text=text)

    async def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _required(params, "chat_id")
        photo = params.get("photo")
        if not isinstance(photo, str) or not photo.startswith(("http://", "https://")):
            raise ZaloApiError(400, "Bad Request: photo must be a public URL")
        caption = params.get("caption")
        self._check_can_send(chat_id)
        return self._record(
            "sendPhoto", chat_id, photo_url=photo, caption=str(caption) if caption is not None else None
        )

    async def _send_chat_action(self, params: dict[str, Any]) -> bool:
        self._check_can_send(_required(params, "chat_id"))
        return True

    async def _set_webhook(self, params: dict[str, Any]) -> dict[str, Any]:
        url = _required(params, "url")
        self.webhook = {"url": url, "secret_token": params.get("secret_token"), "updated_at": _now_ms()}
        return {"url": url, "updated_at": self.webhook["updated_at"]}

    async def _delete_webhook(self, params: dict[str, Any]) -> dict[str, Any]:
        self.webhook = None
        return {"url": "", "updated_at": _now_ms()}

    async def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.webhook is None:
            return {"url": "", "updated_at": 0}
        return {"url": self.webhook["url"], "updated_at": self.webhook["updated_at"]}

    # --- bookkeeping -----------------------------------------------------------------------------

    def _next_message_id(self) -> str:
        """Zalo message ids look like 32 hex digits; a counter keeps them predictable in tests."""
        return f"{next(self._message_ids):032x}"

    def _enqueue(
        self, event: str, user: ZaloUser, chat_id: str | None, group: bool, body: dict[str, Any]
    ) -> dict[str, Any]:
        if group and chat_id is None:
            raise ValueError("a group message needs the group's chat_id")
        message: dict[str, Any] = {
            "message_id": self._next_message_id(),
            "date": _now_ms(),
            "chat": {"id": chat_id or user.id, "chat_type": "GROUP" if group else "PRIVATE"},
            "from": user.to_dict(),
        }
        message.update(body)
        return self.push_raw({"event_name": event, "message": message})

    def _record(
        self,
        method: str,
        chat_id: str,
        *,
        text: str | None = None,
        photo_url: str | None = None,
        caption: str | None = None,
    ) -> dict[str, Any]:
        message_id = self._next_message_id()
        self.sent.append(ZaloSent(message_id, chat_id, method, text, photo_url, caption))
        self._touch()
        self._wake()
        return {"message_id": message_id, "date": _now_ms()}

    def _touch(self) -> None:
        self._last_activity = time.monotonic()

    def _wake(self) -> None:
        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        self._spawn(notify())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _forward_to_webhook(self, update: dict[str, Any]) -> None:
        """In webhook mode, Zalo POSTs each update to the bot with the secret header."""
        if self.webhook is None:
            return
        hook = self.webhook
        body = {"ok": True, "result": update} if self.wrap_updates else update
        # Counted as in flight so wait_idle waits for the bot to answer its webhook.
        self._in_flight += 1

        async def post() -> None:
            try:
                if self._webhook_session is None:
                    self._webhook_session = ClientSession(timeout=ClientTimeout(total=30))
                headers = {}
                if hook.get("secret_token"):
                    headers[SECRET_HEADER] = str(hook["secret_token"])
                try:
                    async with self._webhook_session.post(
                        str(hook["url"]), json=body, headers=headers
                    ) as answer:
                        await answer.read()
                        self.webhook_statuses.append(answer.status)
                except (ClientError, TimeoutError):
                    self.webhook_statuses.append(0)
            finally:
                self._in_flight -= 1
                self._touch()

        self._spawn(post())


async def _parameters(request: web.Request) -> dict[str, Any]:
    """JSON parameters as Zalo expects them; form fields and the query string are accepted too."""
    params: dict[str, Any] = {}
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            params.update(body)
    elif request.method == "POST":
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    params.update({k: v for k, v in request.query.items() if k not in params})
    return params


def _required(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise ZaloApiError(400, f"Bad Request: {name} is required")
    return str(value)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)
