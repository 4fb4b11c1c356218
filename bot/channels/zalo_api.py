"""A small client for the Zalo Bot Platform, the HTTP API behind the ward bot's Zalo channel.

Zalo's API resembles Telegram's, but no Telegram library speaks it: getUpdates has no offset, an
empty long poll is an error (408), IDs are strings and dates are in milliseconds. Its docs and public
clients disagree on the shape of an update (where the sender's name and a picture are, whether
`result` is one object or a list, whether `event_name` is there), so the reader here accepts every
variant seen and skips, with one log line per shape, what it cannot read. This module turns all
that into plain Python values and leaves conversations to callers. The token is part of every URL,
so nothing here logs URLs or lets them into error messages.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiohttp

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com/bot"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
TEXT_LIMIT = 2000
REQUEST_TIMEOUT = 30.0
# getUpdates holds the request for `timeout` seconds; give the network this much on top.
LONG_POLL_MARGIN = 10.0

TEXT_EVENT = "message.text.received"
IMAGE_EVENT = "message.image.received"
STICKER_EVENT = "message.sticker.received"
UNSUPPORTED_EVENT = "message.unsupported.received"

T = TypeVar("T")


class ZaloError(Exception):
    """An error answer from Zalo (or a reply that is not Zalo's JSON at all)."""

    def __init__(self, status: int, description: str, retry_after: float | None = None) -> None:
        super().__init__(f"Zalo error {status}: {description}")
        self.status = status
        self.description = description
        self.retry_after = retry_after


class ZaloForbidden(ZaloError):
    """403: the user blocked the bot or the bot is no longer in the group; retrying cannot help."""


@dataclass(frozen=True, slots=True)
class ZaloMessage:
    """One incoming message, reduced to what the bot uses.

    Zalo updates carry no update_id; `update_id` is derived from the event and message id so a
    redelivered update can be recognised and dropped.
    """

    update_id: int
    event: str
    message_id: str
    chat_id: str
    is_group: bool
    user_id: str
    display_name: str
    text: str | None
    photo_url: str | None
    date: datetime


def stable_update_id(event: str, message_id: str) -> int:
    """A 63-bit id that fits a signed BIGINT column and is the same on every redelivery."""
    digest = hashlib.sha256(f"{event}\x00{message_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def parse_updates(payload: Any) -> list[ZaloMessage]:
    """Every update in what Zalo sent, in order: one update or a list, bare or wrapped as
    `{"ok": true, "result": ...}`. An update that cannot be read is skipped and logged once per shape,
    so one odd deployment cannot crash the bot or flood its log.
    """
    messages: list[ZaloMessage] = []
    for item in _items(payload):
        read = _read(item)
        if isinstance(read, ZaloMessage):
            messages.append(read)
        else:
            _log_unreadable(read, item)
    return messages


def parse_update(payload: Any) -> ZaloMessage | None:
    """The first update in `payload` (see parse_updates), for a webhook post, which carries one."""
    messages = parse_updates(payload)
    if len(messages) > 1:
        log.warning("A Zalo post held %d updates; only the first was read", len(messages))
    return messages[0] if messages else None


class ZaloClient:
    """The Bot API calls the Zalo channel needs, as coroutines that raise ZaloError on failure."""

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._token = token
        self._base_url = base_url
        self._session = session
        self._owns_session = session is None

    def __repr__(self) -> str:
        return f"ZaloClient(base_url={self._base_url!r})"

    async def close(self) -> None:
        """Close the HTTP session, unless the caller lent it to us."""
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None

    async def call(self, method: str, payload: dict[str, Any], *, timeout: float | None = None) -> Any:
        """POST one method and return its `result`; raises ZaloError, ZaloForbidden or aiohttp errors."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        url = f"{self._base_url}{self._token}/{method}"
        log.debug("Zalo call %s", method)
        limit = aiohttp.ClientTimeout(total=timeout if timeout is not None else REQUEST_TIMEOUT)
        try:
            async with self._session.post(url, json=payload, timeout=limit) as response:
                status = response.status
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
        except aiohttp.ClientError as error:
            # aiohttp messages may quote the URL, and the URL holds the token.
            raise aiohttp.ClientError(f"Zalo {method}: {self._redact(str(error))}") from None
        if not isinstance(body, dict):
            raise _error(status if status >= 400 else 502, f"{method}: the answer is not Zalo's JSON")
        if body.get("ok") is True:
            return body.get("result")
        code = _int(body.get("error_code")) or (status if status >= 400 else 500)
        description = self._redact(str(body.get("description") or "unknown error"))
        parameters = body.get("parameters")
        retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        raise _error(code, description, _float(retry_after))

    async def get_me(self) -> dict[str, Any]:
        """The bot's own account; also a cheap check that the token works."""
        result = await self.call("getMe", {})
        return dict(result) if isinstance(result, dict) else {}

    async def get_updates(self, timeout: int = 30) -> list[ZaloMessage]:
        """One long poll: every update it brought, in order; empty when none came (Zalo's 408)."""
        try:
            # Zalo documents `timeout` as a string of seconds.
            result = await self.call(
                "getUpdates", {"timeout": str(timeout)}, timeout=timeout + LONG_POLL_MARGIN
            )
        except ZaloError as error:
            if error.status == 408:
                return []
            raise
        return parse_updates(result)

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        """Send one text of at most 2000 characters; split longer ones with bot.replies.split_text first."""
        result = await self.call("sendMessage", {"chat_id": chat_id, "text": text})
        return dict(result) if isinstance(result, dict) else {}

    async def send_photo(self, chat_id: str, photo_url: str, caption: str | None = None) -> dict[str, Any]:
        """Send a picture by public URL: Zalo does not accept uploads."""
        payload: dict[str, Any] = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            payload["caption"] = caption
        result = await self.call("sendPhoto", payload)
        return dict(result) if isinstance(result, dict) else {}

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        """Show "typing…" while a slow answer (a chart, a report) is being prepared."""
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action})

    async def set_webhook(self, url: str, secret_token: str) -> Any:
        """Have Zalo POST updates to `url`; getUpdates stops working until delete_webhook."""
        return await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> Any:
        """Go back to long polling."""
        return await self.call("deleteWebhook", {})

    async def get_webhook_info(self) -> dict[str, Any]:
        result = await self.call("getWebhookInfo", {})
        return dict(result) if isinstance(result, dict) else {}

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "<token>") if self._token else text


def zalo_trouble(error: BaseException) -> float | None:
    """For bot.retry: the wait Zalo asked for after a 429, 0 after a 5xx or a network error (retry with
    backoff), None for other 4xx (403 included), which a later attempt cannot fix."""
    if isinstance(error, ZaloError):
        if error.status == 429:
            return error.retry_after if error.retry_after is not None else 1.0
        return 0.0 if error.status >= 500 else None
    if isinstance(error, aiohttp.ClientError | TimeoutError):
        return 0.0
    return None


def secret_matches(given: str | None, expected: str) -> bool:
    """Check a webhook's secret header in constant time; an unset secret never matches."""
    if given is None or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


# --- helpers -------------------------------------------------------------------------------------


def _error(status: int, description: str, retry_after: float | None = None) -> ZaloError:
    if status == 403:
        return ZaloForbidden(status, description, retry_after)
    return ZaloError(status, description, retry_after)


def _items(payload: Any) -> list[Any]:
    """The updates in a getUpdates result or a webhook post: one object or a list, maybe wrapped."""
    if payload is None:
        return []
    if isinstance(payload, dict) and "message" not in payload and "result" in payload:
        if payload.get("ok") is False:
            return [payload]  # an error answer where an update was expected: logged as unreadable
        payload = payload["result"]
        if payload is None:
            return []
    return list(payload) if isinstance(payload, list) else [payload]


def _read(update: Any) -> ZaloMessage | str:
    """One update as a ZaloMessage, or why it cannot be read (field names only, never values)."""
    if not isinstance(update, dict):
        return "not an object"
    message = update.get("message")
    if not isinstance(message, dict):
        return "no message"
    chat, sender = message.get("chat"), message.get("from")
    if not isinstance(chat, dict):
        return "no message.chat"
    if not isinstance(sender, dict):
        return "no message.from"
    message_id, chat_id, user_id = _id(message.get("message_id")), _id(chat.get("id")), _id(sender.get("id"))
    if message_id is None:
        return "no message.message_id"
    if chat_id is None:
        return "no message.chat.id"
    if user_id is None:
        return "no message.from.id"
    text = _str_or_none(message.get("text"))
    photo_url = _nonblank(message.get("photo")) or _nonblank(message.get("photo_url"))
    event = _nonblank(update.get("event_name")) or _classify(text, photo_url, message)
    if text is None and (photo_url is not None or event == IMAGE_EVENT):
        # A picture's words arrive as its caption; callers read them like any text.
        text = _str_or_none(message.get("caption"))
    return ZaloMessage(
        update_id=stable_update_id(event, message_id),
        event=event,
        message_id=message_id,
        chat_id=chat_id,
        is_group=str(chat.get("chat_type") or "").upper() == "GROUP",
        user_id=user_id,
        display_name=_sender_name(sender),
        text=text,
        photo_url=photo_url,
        date=_date(message.get("date")),
    )


def _sender_name(sender: dict[str, Any]) -> str:
    """The name people know the sender by, from whichever field this deployment fills; "" when none
    is there (callers then fall back to the id, never before)."""
    for field in ("display_name", "name"):
        name = _nonblank(sender.get(field))
        if name is not None:
            return name
    parts = (_nonblank(sender.get("first_name")), _nonblank(sender.get("last_name")))
    return " ".join(part for part in parts if part is not None)


def _classify(text: str | None, photo_url: str | None, message: dict[str, Any]) -> str:
    """For updates without event_name: what the message's fields say it is. A picture comes first,
    since its caption may also be sent as text; a sticker next, since it is not words to answer."""
    if photo_url is not None:
        return IMAGE_EVENT
    if message.get("sticker") is not None:
        return STICKER_EVENT
    if text is not None:
        return TEXT_EVENT
    return UNSUPPORTED_EVENT


# Shapes of unreadable updates already logged, so each is logged once; bounded so that a stream of
# ever-different junk cannot grow it without end.
_logged_shapes: set[str] = set()
_LOGGED_SHAPES_LIMIT = 100
_SHAPE_LENGTH = 300


def _log_unreadable(reason: str, update: Any) -> None:
    """One warning per distinct (reason, shape); texts, names and ids are never logged."""
    shape = _shape(update)
    if len(shape) > _SHAPE_LENGTH:
        shape = shape[: _SHAPE_LENGTH - 1] + "…"
    key = f"{reason}|{shape}"
    if key in _logged_shapes:
        log.debug("Skipped another Zalo update of a shape already logged (%s)", reason)
        return
    if len(_logged_shapes) < _LOGGED_SHAPES_LIMIT:
        _logged_shapes.add(key)
    log.warning(
        "Zalo update not understood, skipped (%s); its shape: %s. Later updates of this shape are "
        "skipped without this line.",
        reason,
        shape,
    )


def _shape(value: Any, depth: int = 0) -> str:
    """A value's structure without its contents: the keys of objects, nested a few levels deep."""
    if isinstance(value, dict):
        if depth >= 3:
            return "{…}"
        fields = sorted(((str(key), inner) for key, inner in value.items()), key=lambda pair: pair[0])
        return "{" + ", ".join(key + _shape(inner, depth + 1) for key, inner in fields) + "}"
    if isinstance(value, list):
        return "[" + (_shape(value[0], depth + 1) if value else "") + "]"
    return "" if depth else ("null" if value is None else type(value).__name__)


def _id(value: Any) -> str | None:
    """Zalo ids are strings; numbers are accepted in case a deployment sends them bare."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int):
        return str(value)
    return None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _nonblank(value: Any) -> str | None:
    """A string with something in it, stripped; None for blanks and non-strings."""
    return (value.strip() or None) if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,18}", value):
        return int(value)
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    number: float | None = None
    if isinstance(value, int | float):
        number = float(value) if abs(value) < 1e300 else None
    elif isinstance(value, str) and len(value) < 40:
        try:
            number = float(value)
        except ValueError:
            number = None
    return number if number is not None and math.isfinite(number) else None


def _date(value: Any) -> datetime:
    """Milliseconds since the epoch, as aware UTC; now when missing or absurd."""
    number = _float(value)
    if number is not None:
        try:
            return datetime.fromtimestamp(number / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return datetime.now(UTC)
