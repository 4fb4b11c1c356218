"""A Zalo Bot Platform-compatible HTTP server on 127.0.0.1 that plays Zalo for tests.

Zalo's Bot API looks like Telegram's but differs where it hurts: getUpdates has no offset and forgets
what it handed out, an empty long poll answers 408, IDs are strings, dates are in milliseconds and
texts stop at 2000 characters. This server keeps those quirks, logs every call, and can misbehave on
purpose (429 with retry_after, 5xx, 403 for blocked chats, a 30-per-second send limit) so the client
and the channel are tested against them.

Zalo's docs and public clients disagree on how an update looks, so the fake can send each variant
(see ZaloStyle). It sends the documented getUpdates sample by default: real Zalo is most likely to
match its own docs, and a fixed default keeps every test's traffic predictable; tests that care
about another variant say so.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from bot.simulator.fake_server import FakeApiError, FakeApiServer

# Shaped like a real one, `{bot_id}:{access_token}`, so it passes the settings' check.
DEFAULT_TOKEN = "1234567890:zalo-test-access-token-0000"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
TEXT_LIMIT = 2000
GLOBAL_LIMIT_PER_SECOND = 30
# The only action Zalo documents; the fake refuses others so the bot cannot come to rely on them.
CHAT_ACTIONS = ("typing",)
# A 1×1 PNG, served at photo_url(...) as the picture a user sent; Zalo hands the bot only its URL.
PHOTO_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf0000020101003e4a4b0b0000000049454e44ae426082"
)

NameField = Literal["display_name", "name", "first_name", "first_and_last_name"]
PhotoField = Literal["photo", "photo_url"]


@dataclass(frozen=True, slots=True)
class ZaloStyle:
    """How the fake shapes what it hands the bot, one choice per point where sources disagree.

    name_field: where the sender's name goes: `display_name`, `name`, `first_name` (the whole
        name), or `first_and_last_name` (`first_name` and `last_name`, split at the last space).
    photo_field: where a picture's URL goes (`photo` or `photo_url`); its words are in `caption`.
    event_name: whether updates carry `event_name`; without it the bot must tell the kind itself.
    result_list: getUpdates' `result` is a list of every waiting update, not one update object.
    wrapped: webhook posts are `{"ok": true, "result": update}` instead of the bare update.
    """

    name_field: NameField = "first_name"
    photo_field: PhotoField = "photo"
    event_name: bool = False
    result_list: bool = False
    wrapped: bool = False


# The documented getUpdates sample: one object, no event_name, the name in first_name. (The sample
# shows no picture; `photo` + `caption` is what public clients read.)
DOCUMENTED = ZaloStyle()
# A public client's reading: a list result, event names, `from.name`, `photo` + `caption`.
PUBLIC_CLIENT = ZaloStyle(name_field="name", event_name=True, result_list=True)
# Another client's reading (and this project's first): `display_name`, `photo_url`, event names.
DISPLAY_NAME = ZaloStyle(name_field="display_name", photo_field="photo_url", event_name=True)
# Deployments that wrap webhook posts in {ok, result} and split the name in two.
WRAPPED = ZaloStyle(name_field="first_and_last_name", photo_field="photo_url", wrapped=True)
# Together the presets send every variant at least once; tests parametrize over them.
STYLES = {
    "documented": DOCUMENTED,
    "public_client": PUBLIC_CLIENT,
    "display_name": DISPLAY_NAME,
    "wrapped": WRAPPED,
}


@dataclass(frozen=True, slots=True)
class ZaloUser:
    """A Zalo user as the fake server reports them in updates."""

    id: str
    display_name: str

    def to_dict(self, style: ZaloStyle = DOCUMENTED) -> dict[str, Any]:
        """The `from` object of an update, with the name where `style` puts it."""
        sender: dict[str, Any] = {"id": self.id, "is_bot": False}
        if style.name_field == "first_and_last_name" and " " in self.display_name:
            first, last = self.display_name.rsplit(" ", 1)
            sender |= {"first_name": first, "last_name": last}
        elif style.name_field == "first_and_last_name":
            sender["first_name"] = self.display_name
        else:
            sender[style.name_field] = self.display_name
        return sender


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
    """Zalo's Bot API on 127.0.0.1, with a log of what the bot did and levers to make it fail.

    `style` shapes every update from now on (set it in a test, or pass `style=` to one push);
    getUpdates reads `style.result_list` when it answers.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_id: str = "1234567890",
        style: ZaloStyle = DOCUMENTED,
        quiet_seconds: float = 0.2,
    ) -> None:
        super().__init__(token=token, quiet_seconds=quiet_seconds)
        self.bot_id = bot_id
        self.style = style
        # Statuses the bot's webhook answered, in delivery order (0 when it could not be reached).
        self.webhook_statuses: list[int] = []
        # (chat_id, action) of every sendChatAction, in order.
        self.chat_actions: list[tuple[str, str]] = []
        self.enforce_limits = False
        self._pending: deque[Any] = deque()
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

    def photo_url(self, name: str = "anh-1") -> str:
        """Where a picture a user sends can be downloaded (PHOTO_BYTES), as Zalo's CDN would serve it."""
        return f"http://127.0.0.1:{self._port}/photos/{name}.png"

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_get("/photos/{name}.png", self._photo)

    async def _photo(self, request: web.Request) -> web.Response:
        return web.Response(body=PHOTO_BYTES, content_type="image/png")

    # --- what users do ---------------------------------------------------------------------------

    def push_text(
        self,
        user: ZaloUser,
        text: str,
        *,
        chat_id: str | None = None,
        group: bool = False,
        style: ZaloStyle | None = None,
    ) -> dict[str, Any]:
        """A user writes to the bot; returns the update, which can be pushed again with push_raw."""
        return self._enqueue("message.text.received", user, chat_id, group, {"text": text}, style)

    def push_image(
        self,
        user: ZaloUser,
        photo_url: str,
        caption: str | None = None,
        *,
        chat_id: str | None = None,
        group: bool = False,
        style: ZaloStyle | None = None,
    ) -> dict[str, Any]:
        """A user sends a picture; Zalo hands the bot a URL, not a file id."""
        body: dict[str, Any] = {(style or self.style).photo_field: photo_url}
        if caption is not None:
            body["caption"] = caption
        return self._enqueue("message.image.received", user, chat_id, group, body, style)

    def push_sticker(
        self,
        user: ZaloUser,
        *,
        chat_id: str | None = None,
        group: bool = False,
        style: ZaloStyle | None = None,
    ) -> dict[str, Any]:
        """A user sends a sticker, which the bot can only acknowledge."""
        body = {"sticker": "fake-sticker-1", "url": "https://stickers.invalid/fake-sticker-1.webp"}
        return self._enqueue("message.sticker.received", user, chat_id, group, body, style)

    def push_unsupported(
        self,
        user: ZaloUser,
        *,
        chat_id: str | None = None,
        group: bool = False,
        style: ZaloStyle | None = None,
    ) -> dict[str, Any]:
        """A user sends something Zalo does not pass on to bots (voice, file, location…)."""
        return self._enqueue("message.unsupported.received", user, chat_id, group, {}, style)

    def push_raw(self, update: Any, *, style: ZaloStyle | None = None) -> Any:
        """Deliver an update as given (any JSON, even a malformed one), keeping its message_id: Zalo
        redelivering it. A webhook post is wrapped when the style says so."""
        self._touch()
        if self.webhook is not None:
            # A webhook receives updates as they come; nothing waits for getUpdates.
            wrapped = (style or self.style).wrapped
            self._forward_to_webhook({"ok": True, "result": update} if wrapped else update)
        else:
            self._pending.append(dict(update) if isinstance(update, dict) else update)
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
        """The fields Zalo documents for getMe, and no more."""
        return {
            "id": self.bot_id,
            "account_name": f"bot.{self.bot_id}",
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
        # Forgotten once handed out: Zalo has no offset to confirm with. The documented sample
        # answers one update per call; a list style hands over everything waiting at once.
        self._touch()
        if self.style.result_list:
            updates = list(self._pending)
            self._pending.clear()
            return updates
        return self._pending.popleft()

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
        chat_id, action = _required(params, "chat_id"), _required(params, "action")
        if action not in CHAT_ACTIONS:
            raise ZaloApiError(400, f"Bad Request: unknown action {action!r}")
        self._check_can_send(chat_id)
        self.chat_actions.append((chat_id, action))
        self._touch()
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
        self,
        event: str,
        user: ZaloUser,
        chat_id: str | None,
        group: bool,
        body: dict[str, Any],
        style: ZaloStyle | None,
    ) -> dict[str, Any]:
        if group and chat_id is None:
            raise ValueError("a group message needs the group's chat_id")
        shape = style or self.style
        message: dict[str, Any] = {
            "message_id": self._next_message_id(),
            "date": _now_ms(),
            "chat": {"id": chat_id or user.id, "chat_type": "GROUP" if group else "PRIVATE"},
            "from": user.to_dict(shape),
        }
        message.update(body)
        update: dict[str, Any] = {"event_name": event} if shape.event_name else {}
        update["message"] = message
        pushed: dict[str, Any] = self.push_raw(update, style=shape)
        return pushed

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
        self._add_sent(ZaloSent(message_id, chat_id, method, text, photo_url, caption))
        self._touch()
        self._wake()
        return {"message_id": message_id, "date": _now_ms()}

    def _forward_to_webhook(self, body: Any) -> None:
        """In webhook mode, Zalo POSTs each update to the bot with the secret header."""
        if self.webhook is None:
            return
        hook = self.webhook
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
