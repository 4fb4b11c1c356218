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
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from bot.simulator.fake_server import FakeApiError, FakeApiServer

DEFAULT_TOKEN = "zalo-test-token-0000000000"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
TEXT_LIMIT = 2000
GLOBAL_LIMIT_PER_SECOND = 30


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


ZaloApiError = FakeApiError


class FakeZaloApi(FakeApiServer[ZaloSent]):
    """Zalo's Bot API on 127.0.0.1, with a log of what the bot did and levers to make it fail."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_id: str = "bot-1",
        bot_name: str = "Phường bot",
        quiet_seconds: float = 0.2,
    ) -> None:
        super().__init__(token=token, quiet_seconds=quiet_seconds)
        self.bot_id = bot_id
        self.bot_name = bot_name
        # Statuses the bot's webhook answered, in delivery order (0 when it could not be reached).
        self.webhook_statuses: list[int] = []
        # Some deployments wrap updates: getUpdates then answers a one-element list, webhooks
        # receive {"ok": true, "result": update}.
        self.wrap_updates = False
        self.enforce_limits = False
        self._pending: deque[dict[str, Any]] = deque()
        self._message_ids = itertools.count(1)
        self._recent_sends: deque[float] = deque()
        self._methods = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
        }

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

    # --- the HTTP side ---------------------------------------------------------------------------

    def _all_handed_over(self) -> bool:
        return not self._pending  # a webhook post counts as in flight until the bot answers it

    async def _parameters(self, request: web.Request) -> dict[str, Any]:
        return await _parameters(request)

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
