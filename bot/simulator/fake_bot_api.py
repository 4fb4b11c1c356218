"""A Bot API-compatible HTTP server on 127.0.0.1 that plays Telegram for tests, benchmarks and the demo.

It speaks the wire format python-telegram-bot uses (form fields with JSON-encoded values, or multipart
when files are attached), keeps every call, and can misbehave on purpose: 429 with retry_after,
5xx, 403 for chats that blocked the bot, and Telegram's flood limits when asked to enforce them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web
from aiohttp.web_request import FileField

from bot.simulator.fake_server import FakeApiError, FakeApiServer

DEFAULT_TOKEN = "123456:TEST-token-for-the-fake-bot-api-0000"

# Values PTB sends as plain strings; everything else arrives JSON-encoded.
TEXT_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "url",
        "secret_token",
        "callback_query_id",
        "language_code",
        "description",
        "short_description",
        "ip_address",
    }
)

# A 1×1 PNG: what downloading any user-sent file returns.
USER_PHOTO = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201"
    "e221bc330000000049454e44ae426082"
)

GLOBAL_LIMIT_PER_SECOND = 30
GROUP_LIMIT_PER_MINUTE = 20
# Telegram's overall limit is for bulk notifications: an answer to a private chat that wrote to the
# bot this recently is not counted in it.
REPLY_WINDOW = 30.0


@dataclass(frozen=True, slots=True)
class FakeUser:
    """A Telegram user as the fake server reports them in updates."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The `User` object of the Bot API."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for name in ("last_name", "username", "language_code"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data


@dataclass(frozen=True, slots=True)
class Button:
    """One inline keyboard button."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(slots=True)
class SentMessage:
    """Something the bot sent or edited, as the fake server received it."""

    message_id: int
    chat_id: int
    method: str
    text: str | None = None
    buttons: list[list[Button]] = field(default_factory=list)
    photo: bytes | None = None
    document: bytes | None = None
    filename: str | None = None
    parse_mode: str | None = None
    edited_message_id: int | None = None

    @property
    def shown(self) -> str:
        """What a person would see first: the text or caption, else the file's name."""
        return self.text or self.filename or ""

    @property
    def flat_buttons(self) -> list[Button]:
        """Buttons in reading order; `:N` in the terminal and `press(..., N)` count from 1."""
        return [button for row in self.buttons for button in row]

    def button(self, which: str | int) -> Button:
        """A button by its exact text, a unique part of it, or its 1-based position."""
        buttons = self.flat_buttons
        if isinstance(which, int):
            if not 1 <= which <= len(buttons):
                raise LookupError(f"message {self.message_id} has {len(buttons)} buttons, not {which}")
            return buttons[which - 1]
        exact = [b for b in buttons if b.text == which]
        if exact:
            return exact[0]
        partial = [b for b in buttons if which in b.text]
        if len(partial) == 1:
            return partial[0]
        labels = ", ".join(repr(b.text) for b in buttons)
        raise LookupError(f"no single button {which!r} in message {self.message_id}; buttons: {labels}")


BotApiError = FakeApiError


class FakeBotApi(FakeApiServer[SentMessage]):
    """Telegram's Bot API on 127.0.0.1, with a log of what the bot did and levers to make it fail."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_id: int | None = None,
        bot_username: str = "ward_test_bot",
        bot_name: str = "Ward test bot",
        quiet_seconds: float = 0.2,
    ) -> None:
        super().__init__(token=token, quiet_seconds=quiet_seconds)
        self.bot_id = bot_id if bot_id is not None else int(token.split(":")[0])
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.commands: dict[tuple[str, str | None], list[dict[str, str]]] = {}
        self.answered_callbacks: list[dict[str, Any]] = []
        self.enforce_flood_limits = False
        self.last_update_id = 0
        self.forward_to_webhook = True
        self.migrated: dict[int, int] = {}
        self.confirmed_offset = 0  # the highest offset the bot sent: updates below it are acknowledged
        self._updates: list[dict[str, Any]] = []
        self._undelivered: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._chats: dict[int, dict[str, Any]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._recent_sends: deque[float] = deque()
        self._recent_group_sends: defaultdict[int, deque[float]] = defaultdict(deque)
        self._wrote_at: dict[int, float] = {}  # private chat → when it last sent the bot an update
        self._methods = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendChatAction": self._true,
            "deleteMessage": self._true,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getChat": self._get_chat,
            "getFile": self._get_file,
            "close": self._true,
            "logOut": self._true,
        }

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)

    @property
    def base_url(self) -> str:
        """What to give as TELEGRAM_API_BASE_URL."""
        return f"http://127.0.0.1:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/file/bot"

    # --- what users do ---------------------------------------------------------------------------

    def push_message(
        self,
        user: FakeUser,
        text: str | None,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        chat_title: str | None = None,
        kind: str = "text",
    ) -> dict[str, Any]:
        """A user writes to the bot; returns the update, which can be pushed again with push_raw."""
        chat = self._remember_chat(user, chat_id, chat_type, chat_title)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids[chat["id"]]),
            "date": int(time.time()),
            "chat": chat,
            "from": user.to_dict(),
        }
        message.update(_content(kind, text, next(self._file_ids)))
        return self._enqueue({"message": message})

    def press(self, user: FakeUser, message: SentMessage, button: str | int) -> dict[str, Any]:
        """A user taps an inline button of a message the bot sent."""
        chosen = message.button(button)
        if chosen.callback_data is None:
            raise LookupError(f"button {chosen.text!r} opens a URL, it sends nothing to the bot")
        original = self._messages.get((message.chat_id, message.message_id)) or self._message_dict(message)
        query = {
            "id": str(next(self._callback_ids)),
            "from": user.to_dict(),
            "chat_instance": str(message.chat_id),
            "data": chosen.callback_data,
            "message": original,
        }
        return self._enqueue({"callback_query": query})

    def push_my_chat_member(
        self,
        user: FakeUser,
        chat_id: int,
        *,
        chat_title: str = "Tổ dân phố",
        old_status: str = "left",
        new_status: str = "member",
        chat_type: str = "supergroup",
    ) -> dict[str, Any]:
        """Someone adds the bot to a group chat (or removes it, with new_status='left' or 'kicked')."""
        chat = self._remember_chat(user, chat_id, chat_type, chat_title)
        me = self._me()
        change = {
            "chat": chat,
            "from": user.to_dict(),
            "date": int(time.time()),
            "old_chat_member": {"status": old_status, "user": me},
            "new_chat_member": _member(new_status, me),
        }
        return self._enqueue({"my_chat_member": change})

    def push_raw(self, update: dict[str, Any]) -> dict[str, Any]:
        """Deliver an update as given, keeping its update_id (Telegram redelivering it)."""
        copy = dict(update)
        chat_id = _private_chat_of(update)
        if chat_id is not None:
            self._wrote_at[chat_id] = time.monotonic()
        self._updates.append(copy)
        self._undelivered.append(copy)
        self._touch()
        self._wake()
        self._forward_to_webhook(update)
        return update

    # --- the HTTP side ---------------------------------------------------------------------------

    def _all_handed_over(self) -> bool:
        return self.webhook is not None or not self._undelivered

    async def _parameters(self, request: web.Request) -> dict[str, Any]:
        return await _parameters(request)

    def migrate(self, old_chat_id: int, new_chat_id: int) -> None:
        """The group chat became a supergroup: sends to the old id are refused, naming the new one."""
        self.migrated[old_chat_id] = new_chat_id

    def _check_can_send(self, chat_id: int) -> None:
        if chat_id in self.migrated:
            raise BotApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                parameters={"migrate_to_chat_id": self.migrated[chat_id]},
            )
        if chat_id in self.blocked:
            if chat_id > 0:
                raise BotApiError(403, "Forbidden: bot was blocked by the user")
            raise BotApiError(403, "Forbidden: bot was kicked from the supergroup chat")
        if not self.enforce_flood_limits:
            return
        now = time.monotonic()
        if chat_id in self._wrote_at and now - self._wrote_at[chat_id] < REPLY_WINDOW:
            return  # an answer, not a bulk notification
        _forget_before(self._recent_sends, now - 1)
        if len(self._recent_sends) >= GLOBAL_LIMIT_PER_SECOND:
            self.too_many_requests += 1
            raise BotApiError(429, "Too Many Requests: retry after 1", 1)
        if chat_id < 0:
            recent = self._recent_group_sends[chat_id]
            _forget_before(recent, now - 60)
            if len(recent) >= GROUP_LIMIT_PER_MINUTE:
                self.too_many_requests += 1
                wait = max(1, int(recent[0] + 60 - now) + 1)
                raise BotApiError(429, f"Too Many Requests: retry after {wait}", wait)
            recent.append(now)
        self._recent_sends.append(now)

    # --- methods ---------------------------------------------------------------------------------

    async def _true(self, params: dict[str, Any]) -> bool:
        return True

    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._me() | {"can_join_groups": True, "can_read_all_group_messages": False}

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise BotApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        self.confirmed_offset = max(self.confirmed_offset, offset)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)

        def waiting(update: dict[str, Any]) -> bool:
            return update["update_id"] >= offset or any(update is u for u in self._undelivered)

        def pending() -> list[dict[str, Any]]:
            return [u for u in self._updates if waiting(u)][:limit]

        # Telegram forgets updates confirmed by the offset as soon as it sees the offset, before any
        # long poll waits: a bot killed during that wait gets them no more.
        self._updates = [u for u in self._updates if waiting(u)]
        if not pending() and timeout > 0 and not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    async with self._changed:
                        await self._changed.wait_for(lambda: bool(pending()) or self._stopping.is_set())
        batch = pending()  # a redelivery (push_raw) is always sent
        self._undelivered = [u for u in self._undelivered if not any(u is b for b in batch)]
        if batch:
            self._touch()
        return batch

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        self._check_can_send(chat_id)
        return self._record(
            "sendMessage",
            chat_id,
            params,
            text=str(params.get("text", "")),
            markup=params.get("reply_markup"),
        )

    async def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        self._check_can_send(chat_id)
        data, name = _file(params.get("photo"))
        return self._record(
            "sendPhoto",
            chat_id,
            params,
            text=params.get("caption"),
            markup=params.get("reply_markup"),
            photo=data,
            filename=name,
        )

    async def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        self._check_can_send(chat_id)
        data, name = _file(params.get("document"))
        return self._record(
            "sendDocument",
            chat_id,
            params,
            text=params.get("caption"),
            markup=params.get("reply_markup"),
            document=data,
            filename=name,
        )

    async def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        self._check_can_send(chat_id)
        if (chat_id, message_id) not in self._messages:
            raise BotApiError(400, "Bad Request: message to edit not found")
        return self._record(
            "editMessageText",
            chat_id,
            params,
            text=str(params.get("text", "")),
            markup=params.get("reply_markup"),
            edited=message_id,
        )

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        original = self._messages.get((chat_id, message_id))
        if original is None:
            raise BotApiError(400, "Bad Request: message to edit not found")
        return self._record(
            "editMessageReplyMarkup",
            chat_id,
            params,
            text=original.get("text") or original.get("caption"),
            markup=params.get("reply_markup"),
            edited=message_id,
        )

    async def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        self.answered_callbacks.append(params)
        return True

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands[(_scope_key(params), params.get("language_code") or None)] = list(params["commands"])
        return True

    async def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands.pop((_scope_key(params), params.get("language_code") or None), None)
        return True

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook = dict(params)
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        url = self.webhook["url"] if self.webhook else ""
        return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}

    async def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params["file_id"])
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_size": len(USER_PHOTO),
            "file_path": f"photos/{file_id}.png",
        }

    async def _download(self, request: web.Request) -> web.Response:
        """Files users sent: every one is the same small picture."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        return web.Response(body=USER_PHOTO, content_type="image/png")

    async def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        chat = self._chats.get(chat_id)
        if chat is None:
            raise BotApiError(400, "Bad Request: chat not found")
        return chat | {"accent_color_id": 0, "max_reaction_count": 11}

    # --- bookkeeping -----------------------------------------------------------------------------

    def _me(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_name, "username": self.bot_username}

    def _remember_chat(
        self, user: FakeUser, chat_id: int | None, chat_type: str, chat_title: str | None
    ) -> dict[str, Any]:
        if chat_id is None or chat_type == "private":
            chat: dict[str, Any] = {"id": user.id, "type": "private", "first_name": user.first_name}
        else:
            chat = {"id": chat_id, "type": chat_type, "title": chat_title or str(chat_id)}
        self._chats[int(chat["id"])] = chat
        return chat

    def _chat(self, chat_id: int) -> dict[str, Any]:
        known = self._chats.get(chat_id)
        if known is not None:
            return known
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": str(chat_id)}
        return {"id": chat_id, "type": "supergroup", "title": str(chat_id)}

    def _enqueue(self, body: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids)} | body
        self.last_update_id = max(self.last_update_id, update["update_id"])
        return self.push_raw(update)

    @property
    def acknowledged(self) -> bool:
        """The bot confirmed every update pushed so far (polled with an offset past them)."""
        return self.webhook is None and self.confirmed_offset > self.last_update_id

    def _record(
        self,
        method: str,
        chat_id: int,
        params: dict[str, Any],
        *,
        text: str | None,
        markup: Any,
        photo: bytes | None = None,
        document: bytes | None = None,
        filename: str | None = None,
        edited: int | None = None,
    ) -> dict[str, Any]:
        message_id = edited if edited is not None else next(self._message_ids[chat_id])
        sent = SentMessage(
            message_id=message_id,
            chat_id=chat_id,
            method=method,
            text=text,
            buttons=_buttons(markup),
            photo=photo,
            document=document,
            filename=filename,
            parse_mode=params.get("parse_mode"),
            edited_message_id=edited,
        )
        message = self._message_dict(sent)
        if markup:
            message["reply_markup"] = markup
        if photo is not None:
            file_id = f"photo-{next(self._file_ids)}"
            message["photo"] = [{"file_id": file_id, "file_unique_id": file_id, "width": 800, "height": 600}]
        if document is not None:
            file_id = f"document-{next(self._file_ids)}"
            message["document"] = {"file_id": file_id, "file_unique_id": file_id, "file_name": filename or ""}
        if edited is not None:
            message["edit_date"] = int(time.time())
        self._messages[(chat_id, message_id)] = message
        self._add_sent(sent)
        self._touch()
        self._wake()
        return message

    def _message_dict(self, sent: SentMessage) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": self._chat(sent.chat_id),
            "from": self._me(),
        }
        if sent.photo is not None or sent.document is not None:
            if sent.text:
                message["caption"] = sent.text
        elif sent.text is not None:
            message["text"] = sent.text
        return message

    def _forward_to_webhook(self, update: dict[str, Any]) -> None:
        """In webhook mode, Telegram POSTs each update to the bot with the secret header (unless a test
        posts them itself, as a reverse proxy in front of several workers would)."""
        if self.webhook is None or not self.forward_to_webhook:
            return
        hook = self.webhook

        async def post() -> None:
            if self._webhook_session is None:
                self._webhook_session = ClientSession(timeout=ClientTimeout(total=30))
            headers = {}
            if hook.get("secret_token"):
                headers["X-Telegram-Bot-Api-Secret-Token"] = str(hook["secret_token"])
            async with self._webhook_session.post(str(hook["url"]), json=update, headers=headers) as answer:
                await answer.read()

        self._spawn(post())


async def _parameters(request: web.Request) -> dict[str, Any]:
    """Form, multipart or JSON parameters, with PTB's JSON-encoded values decoded."""
    if request.content_type == "application/json":
        body = await request.json()
        return dict(body) if isinstance(body, dict) else {}
    form = await request.post()
    params: dict[str, Any] = {}
    for name, value in form.items():
        if isinstance(value, FileField):
            params[name] = (value.file.read(), value.filename)
        elif isinstance(value, str) and name not in TEXT_FIELDS:
            try:
                params[name] = json.loads(value)
            except ValueError:
                params[name] = value
        else:
            params[name] = value
    params.update({k: v for k, v in request.query.items() if k not in params})
    return params


def _scope_key(params: dict[str, Any]) -> str:
    """ "all_private_chats", or "chat:501" for one chat's own menu."""
    scope = params.get("scope") or {"type": "default"}
    if scope.get("chat_id") is not None:
        return f"{scope['type']}:{scope['chat_id']}"
    return str(scope["type"])


def _file(value: Any) -> tuple[bytes | None, str | None]:
    if isinstance(value, tuple):
        data, name = value
        return bytes(data), str(name) if name else None
    if isinstance(value, str) and value.startswith("attach://"):
        return None, None
    return None, None


def _buttons(markup: Any) -> list[list[Button]]:
    if not isinstance(markup, dict):
        return []
    rows = markup.get("inline_keyboard") or []
    return [
        [Button(str(b.get("text", "")), b.get("callback_data"), b.get("url")) for b in row] for row in rows
    ]


def _content(kind: str, text: str | None, file_number: int) -> dict[str, Any]:
    """The message fields of one kind of user message."""
    file_id = f"user-file-{file_number}"
    if kind == "text":
        body: dict[str, Any] = {"text": text or ""}
        if text and text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return body
    if kind == "sticker":
        return {
            "sticker": {
                "file_id": file_id,
                "file_unique_id": file_id,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
            }
        }
    if kind == "photo":
        body = {"photo": [{"file_id": file_id, "file_unique_id": file_id, "width": 640, "height": 480}]}
    elif kind == "voice":
        body = {"voice": {"file_id": file_id, "file_unique_id": file_id, "duration": 3}}
    elif kind == "document":
        body = {"document": {"file_id": file_id, "file_unique_id": file_id, "file_name": "file.pdf"}}
    elif kind == "location":
        return {"location": {"latitude": 21.0285, "longitude": 105.8542}}
    elif kind == "contact":
        return {"contact": {"phone_number": "0900000000", "first_name": "Lan"}}
    else:
        raise ValueError(f"unknown message kind {kind!r}")
    if text:
        body["caption"] = text
    return body


def _member(status: str, user: dict[str, Any]) -> dict[str, Any]:
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "administrator":
        member |= {
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": True,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": False,
            "can_edit_stories": False,
            "can_delete_stories": False,
        }
    elif status == "kicked":
        member["until_date"] = 0
    elif status == "restricted":
        raise ValueError("restricted members are not simulated")
    return member


def _private_chat_of(update: dict[str, Any]) -> int | None:
    """The private chat an update came from (a message there, or a button pressed there)."""
    message = update.get("message") or (update.get("callback_query") or {}).get("message") or {}
    chat = message.get("chat") or {}
    return int(chat["id"]) if chat.get("type") == "private" else None


def _forget_before(times: deque[float], cutoff: float) -> None:
    while times and times[0] < cutoff:
        times.popleft()
