"""A small client for the Zalo Bot Platform, the HTTP API behind the ward bot's Zalo channel.

Zalo's API resembles Telegram's, but no Telegram library speaks it: getUpdates hands out one update
per call with no offset, an empty long poll is an error (408), IDs are strings and dates are in
milliseconds. This module turns that into plain Python values and leaves conversations to callers.
The token is part of every URL, so nothing here logs URLs or lets them into error messages.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import unicodedata
from collections import deque
from collections.abc import Awaitable, Callable
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

# Indirection so tests can observe the delays instead of waiting them out.
_sleep = asyncio.sleep


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


def parse_update(payload: Any) -> ZaloMessage | None:
    """Read an update, bare or wrapped as `{"ok": true, "result": ...}`; None when it cannot be read."""
    update = _unwrap(payload)
    if update is None:
        return None
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    chat, sender = message.get("chat"), message.get("from")
    if not isinstance(chat, dict) or not isinstance(sender, dict):
        return None
    message_id, chat_id, user_id = _id(message.get("message_id")), _id(chat.get("id")), _id(sender.get("id"))
    if message_id is None or chat_id is None or user_id is None:
        return None
    text = _str_or_none(message.get("text"))
    photo_url = _str_or_none(message.get("photo_url"))
    event = _str_or_none(update.get("event_name")) or _guess_event(text, photo_url, message)
    if event == IMAGE_EVENT and text is None:
        # A picture's words arrive as its caption; callers read them like any text.
        text = _str_or_none(message.get("caption"))
    return ZaloMessage(
        update_id=stable_update_id(event, message_id),
        event=event,
        message_id=message_id,
        chat_id=chat_id,
        is_group=str(chat.get("chat_type") or "").upper() == "GROUP",
        user_id=user_id,
        display_name=_str_or_none(sender.get("display_name")) or "",
        text=text,
        photo_url=photo_url,
        date=_date(message.get("date")),
    )


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
        # Updates that arrived together (a list result) but are handed out one per get_update.
        self._backlog: deque[ZaloMessage] = deque()

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

    async def get_update(self, timeout: int = 30) -> ZaloMessage | None:
        """Long-poll for the next update; None when none came (Zalo's 408) or it was unreadable."""
        if self._backlog:
            return self._backlog.popleft()
        try:
            result = await self.call("getUpdates", {"timeout": timeout}, timeout=timeout + LONG_POLL_MARGIN)
        except ZaloError as error:
            if error.status == 408:
                return None
            raise
        items = result if isinstance(result, list) else [result]
        for item in items:
            message = parse_update(item)
            if message is None:
                log.warning("Skipped a Zalo update that could not be read (%s)", _event_name(item))
            else:
                self._backlog.append(message)
        return self._backlog.popleft() if self._backlog else None

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        """Send one text of at most 2000 characters; split longer ones with split_for_zalo first."""
        result = await self.call("sendMessage", {"chat_id": chat_id, "text": text})
        return dict(result) if isinstance(result, dict) else {}

    async def send_photo(self, chat_id: str, photo_url: str, caption: str | None = None) -> dict[str, Any]:
        """Send a picture by public URL: Zalo does not accept uploads."""
        payload: dict[str, Any] = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            payload["caption"] = caption
        result = await self.call("sendPhoto", payload)
        return dict(result) if isinstance(result, dict) else {}

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> Any:
        """Show "typing…" while a slow answer (a chart, a report) is being prepared."""
        return await self.call("sendChatAction", {"chat_id": chat_id, "action": action})

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


async def with_retry(call: Callable[[], Awaitable[T]], *, attempts: int = 4) -> T:
    """Run `call`, retrying what a later attempt can fix: 429 after retry_after, 5xx and network errors
    after 0.5, 1, 2 s. Other 4xx (403 included) are raised at once. A send that timed out may have
    arrived, so a retried send can, rarely, be seen twice.
    """
    for attempt in range(attempts):
        last = attempt == attempts - 1
        try:
            return await call()
        except ZaloError as error:
            if last or not (error.status == 429 or error.status >= 500):
                raise
            if error.status == 429:
                delay = error.retry_after if error.retry_after is not None else 1.0
            else:
                delay = _backoff(attempt)
            log.info("Zalo answered %s; retrying in %.1f s", error.status, delay)
        except (aiohttp.ClientError, TimeoutError) as error:
            if last:
                raise
            delay = _backoff(attempt)
            log.info("Zalo unreachable (%s); retrying in %.1f s", type(error).__name__, delay)
        await _sleep(max(0.0, delay))
    raise AssertionError("unreachable: the last attempt returns or raises")


def split_for_zalo(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut a text into messages Zalo accepts, at line breaks where possible so lists stay readable.

    A line longer than `limit` is cut at its last space that fits, else hard (never between a letter
    and its combining accent). Blank-only parts are dropped, so an empty text gives no message.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    current: str | None = None
    for line in text.split("\n"):
        for piece in _cut_line(line, limit):
            if current is None:
                current = piece
            elif len(current) + 1 + len(piece) <= limit:
                current = f"{current}\n{piece}"
            else:
                parts.append(current)
                current = piece
    if current is not None:
        parts.append(current)
    return [part.strip("\n") for part in parts if part.strip()]


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


def _backoff(attempt: int) -> float:
    return 0.5 * float(2**attempt)


def _cut_line(line: str, limit: int) -> list[str]:
    pieces: list[str] = []
    while len(line) > limit:
        cut = line.rfind(" ", 0, limit + 1)
        if cut > 0:
            pieces.append(line[:cut])
            line = line[cut + 1 :]
            continue
        cut = limit
        while cut > 1 and unicodedata.combining(line[cut]):
            cut -= 1
        pieces.append(line[:cut])
        line = line[cut:]
    pieces.append(line)
    return pieces


def _unwrap(payload: Any) -> dict[str, Any] | None:
    """The update inside `{"ok": true, "result": update}` (or a one-element list), or the payload."""
    for _ in range(3):
        if isinstance(payload, list):
            payload = payload[0] if payload else None
            continue
        if not isinstance(payload, dict):
            return None
        if "message" not in payload and "result" in payload:
            if payload.get("ok") is False:
                return None
            payload = payload["result"]
            continue
        return payload
    return None


def _guess_event(text: str | None, photo_url: str | None, message: dict[str, Any]) -> str:
    """For deployments that leave out event_name: what the message's fields say it is."""
    if photo_url is not None:
        return IMAGE_EVENT
    if "sticker" in message:
        return STICKER_EVENT
    if text is not None:
        return TEXT_EVENT
    return UNSUPPORTED_EVENT


def _event_name(item: Any) -> str:
    update = _unwrap(item)
    name = update.get("event_name") if update is not None else None
    return name if isinstance(name, str) else "no event name"


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


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _date(value: Any) -> datetime:
    """Milliseconds since the epoch, as aware UTC; now when missing or absurd."""
    number = _float(value)
    if number is not None:
        try:
            return datetime.fromtimestamp(number / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return datetime.now(UTC)
