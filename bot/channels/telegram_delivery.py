"""The Telegram outbox worker: sends broadcasts from the database within Telegram's flood limits.

One asyncio task per application, apart from the update handlers, so interactive replies never
wait behind a long broadcast. It claims a few due messages at a time (committed as 'sending'
before any network call), paces every API call through a limiter kept below Telegram's limits
(about 30 messages/s overall, 20/min per group chat), and records each outcome in its own
transaction as soon as Telegram answers: a kill loses nothing, and resends at most what was in
flight at that instant.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from telegram import InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.channels.telegram import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    PLATFORM,
    WardApplication,
    WardContext,
    keyboard,
    mark_unreachable,
)
from bot.delivery import (
    ClaimedAttachment,
    ClaimedMessage,
    claim_due,
    mark_blocked,
    mark_failed,
    mark_retry,
    mark_sent,
    queue_delivery_reports,
    recover_in_flight,
    release,
)
from bot.replies import split_text
from bot.wiring import Wiring
from storage.unit_of_work import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)

GLOBAL_PER_SECOND = 25  # Telegram allows about 30; the rest is left to interactive replies
GROUP_PER_MINUTE = 18  # Telegram allows 20 per group chat
BATCH = 4  # messages claimed at once, and so at most this many 'sending' (resendable after a kill)
POLL_INTERVAL = 1.0  # seconds between looks at the outbox when nobody wakes the worker
MAX_GROUP_WAIT = 1.0  # a group chat busier than this is handed back and skipped until it has room
BACKOFF_BASE = 1.0  # seconds before the first retry after a 5xx or network error; doubles each time
MAX_BACKOFF = 300.0
STOP_GRACE = 5.0  # seconds a stopping worker lets its in-flight sends finish

Outcome = Callable[[UnitOfWork], Awaitable[object]]


class ChatBusy(Exception):
    """A group chat has used its messages for the minute: hand the message back, send others."""


class RollingWindow:
    """At most `limit` events in any `period` seconds."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit, self.period = limit, period
        self.events: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more event fits (0 when it fits now)."""
        while self.events and self.events[0] <= now - self.period:
            self.events.popleft()
        if len(self.events) < self.limit:
            return 0.0
        return self.events[0] + self.period - now

    def record(self, now: float) -> None:
        self.events.append(now)


class FloodLimiter:
    """Paces API calls below Telegram's global and per-group limits, on monotonic time."""

    def __init__(
        self,
        per_second: int = GLOBAL_PER_SECOND,
        per_group_minute: int = GROUP_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.per_group_minute = per_group_minute
        self.overall = RollingWindow(per_second, 1.0)
        self.groups: dict[str, RollingWindow] = {}
        self.paused_until = 0.0

    def group_wait(self, chat: str) -> float:
        """Seconds until this group chat may get one more message."""
        window = self.groups.get(chat)
        return window.wait(self.clock()) if window is not None else 0.0

    def saturated_groups(self) -> set[str]:
        """Group chats that may get nothing right now (forgetting windows that emptied)."""
        now = self.clock()
        busy = {chat for chat, window in self.groups.items() if window.wait(now) > 0}
        self.groups = {chat: w for chat, w in self.groups.items() if w.events or chat in busy}
        return busy

    def pause(self, seconds: float) -> None:
        """Telegram said 429: no call at all for `seconds`."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    def waits(self, chat: str, is_group: bool) -> tuple[float, float]:
        """Seconds to wait for the global limit (and any 429 pause), and for the group chat's."""
        now = self.clock()
        overall = max(self.paused_until - now, self.overall.wait(now))
        if not is_group:
            return overall, 0.0
        window = self.groups.setdefault(chat, RollingWindow(self.per_group_minute, 60.0))
        return overall, window.wait(now)

    async def acquire(self, chat: str, is_group: bool, *, max_group_wait: float | None = None) -> None:
        """Wait until one more call to `chat` fits every limit, and count it.

        Raises `ChatBusy` rather than wait longer than `max_group_wait` for a group chat's room.
        """
        while True:
            overall, grouped = self.waits(chat, is_group)
            if max_group_wait is not None and grouped > max_group_wait:
                raise ChatBusy(chat)
            wait = max(overall, grouped)
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        now = self.clock()
        self.overall.record(now)
        if is_group:
            self.groups[chat].record(now)


def _seconds(retry_after: timedelta | float) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)


def _file_id(message: Message) -> str | None:
    """Telegram's id of what was just uploaded, to send it again without uploading."""
    if message.photo:
        return message.photo[-1].file_id
    if message.document is not None:
        return message.document.file_id
    return None


class OutboxWorker:
    """Sends the outbox of one application within Telegram's limits; start once, stop at shutdown."""

    def __init__(
        self,
        *,
        batch: int = BATCH,
        poll_interval: float = POLL_INTERVAL,
        limiter: FloodLimiter | None = None,
    ) -> None:
        self.batch, self.poll_interval = batch, poll_interval
        self.limiter = limiter or FloodLimiter()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._check_reports = True
        self._file_ids: dict[int, str] = {}
        self._uploads: dict[int, asyncio.Lock] = {}
        self._wiring: Wiring | None = None
        self._bot: ExtBot[None] | None = None
        self._anchor: tuple[datetime, float] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, application: WardApplication) -> None:
        """Run as a task of the current event loop, beside the update handlers."""
        if self.running:
            return
        self._wiring, self._bot = application.bot_data.wiring, application.bot
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox-worker")

    def wake(self) -> None:
        """New work was committed: look at the outbox now rather than at the next poll."""
        self._check_reports = True
        self._wake.set()

    async def stop(self, *, grace: float = STOP_GRACE) -> None:
        """Claim nothing more, let in-flight sends finish for `grace` seconds, then cancel.

        What is cancelled stays 'sending' and goes out again at the next start (`grace=0` is a kill).
        """
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        done, _pending = await asyncio.wait({task}, timeout=grace) if grace > 0 else (set(), set())
        if task not in done:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    # --- the loop --------------------------------------------------------------------------------

    @property
    def wiring(self) -> Wiring:
        assert self._wiring is not None, "the worker was not started"
        return self._wiring

    @property
    def bot(self) -> ExtBot[None]:
        assert self._bot is not None, "the worker was not started"
        return self._bot

    def now(self) -> datetime:
        """The wiring's clock, kept moving with real time so retries come due even when tests freeze it."""
        clock = self.wiring.clock()
        mono = time.monotonic()
        if self._anchor is None or self._anchor[0] != clock:
            self._anchor = (clock, mono)
        return self._anchor[0] + timedelta(seconds=mono - self._anchor[1])

    async def _run(self) -> None:
        recovered = False
        while not self._stopping:
            try:
                if not recovered:
                    await self._recover()
                    recovered = True
                worked = await self._round()
            except Exception:
                log.exception("outbox round failed; trying again shortly")
                worked = False
            if not worked and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    async def _recover(self) -> None:
        """Before the first claim: what a stopped process left 'sending' becomes 'pending' again."""
        async with unit_of_work(self.wiring.factory) as uow:
            recovered = await recover_in_flight(uow)
        if recovered:
            log.info(
                "%s outbox message(s) were in flight when the bot stopped; sending them again", recovered
            )

    async def _round(self) -> bool:
        """Claim a batch, send it, report finished broadcasts; False when there was nothing to do."""
        self._wake.clear()
        async with unit_of_work(self.wiring.factory) as uow:
            claimed = await claim_due(
                uow,
                platform=PLATFORM,
                now=self.now(),
                limit=self.batch,
                skip_chats=self.limiter.saturated_groups(),
            )
        if claimed:
            outcomes = await asyncio.gather(*(self._deliver(m) for m in claimed), return_exceptions=True)
            for message, outcome in zip(claimed, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    log.error("outbox message %s: outcome not recorded", message.id, exc_info=outcome)
            self._check_reports = True
        if self._check_reports:
            self._check_reports = False
            await self._report_finished()
        return bool(claimed)

    async def _record(self, outcome: Outcome) -> None:
        async with unit_of_work(self.wiring.factory) as uow:
            await outcome(uow)

    async def _deliver(self, message: ClaimedMessage) -> None:
        """Send one claimed message and record what happened, in its own transaction."""
        chat = message.chat_external_id
        try:
            file_id = await self._send(message)
        except ChatBusy:
            await self._record(lambda uow: release(uow, message.id))
            return
        except Exception as error:
            await self._record(self._after_failure(message, error))
            if isinstance(error, Forbidden):
                await mark_unreachable(self.wiring, chat)
            return
        now = self.now()
        await self._record(lambda uow: mark_sent(uow, message.id, now=now, file_id=file_id))

    def _after_failure(self, message: ClaimedMessage, error: Exception) -> Outcome:
        """What a failed send means for its row: retry later, or stop for good."""
        chat, reason = message.chat_external_id, str(error)
        if isinstance(error, RetryAfter):
            delay = _seconds(error.retry_after)
            self.limiter.pause(delay)
            log.warning("Telegram asked to slow down for %.0f s", delay)
            at = self.now() + timedelta(seconds=delay)
            return lambda uow: mark_retry(uow, message.id, at=at, error=reason, counts=False)
        if isinstance(error, Forbidden):
            log.info("chat %s does not accept messages from the bot: %s", chat, error)
            return lambda uow: mark_blocked(uow, message.id, error=reason)
        if isinstance(error, ChatMigrated):
            moved = f"chat moved to {error.new_chat_id}"
            return lambda uow: mark_failed(uow, message.id, error=moved)
        if isinstance(error, BadRequest):  # a NetworkError in PTB, but resending cannot help
            log.warning("outbox message %s to %s refused: %s", message.id, chat, error)
            return lambda uow: mark_failed(uow, message.id, error=reason)
        if isinstance(error, TelegramError):  # 5xx, network errors, time-outs: back off and retry
            delay = min(MAX_BACKOFF, BACKOFF_BASE * 2 ** max(0, message.attempts - 1))
            at = self.now() + timedelta(seconds=delay)

            async def retry(uow: UnitOfWork) -> None:
                if not await mark_retry(uow, message.id, at=at, error=reason):
                    log.warning("outbox message %s to %s failed for good: %s", message.id, chat, reason)

            return retry
        log.error("outbox message %s could not be sent", message.id, exc_info=error)
        return lambda uow: mark_failed(uow, message.id, error=repr(error)[:500])

    # --- sending ---------------------------------------------------------------------------------

    async def _send(self, message: ClaimedMessage) -> str | None:
        """Send one message as `send_reply` does; returns a newly learnt file_id of its attachment."""
        markup = keyboard(message.choices)
        file_id: str | None = None
        if message.attachment is not None:
            caption = message.text if message.text and len(message.text) <= CAPTION_LIMIT else None
            file_id = await self._send_file(message, message.attachment, caption, markup if caption else None)
            if caption is not None or not message.text:
                return file_id
        parts = split_text(message.text, MESSAGE_LIMIT)
        for index, part in enumerate(parts):
            await self._pace(message, first=index == 0 and message.attachment is None)
            last = index == len(parts) - 1
            await self.bot.send_message(
                int(message.chat_external_id), part, reply_markup=markup if last else None
            )
        return file_id

    async def _pace(self, message: ClaimedMessage, *, first: bool) -> None:
        """Wait for room under the limits; before its first call a message may be handed back instead."""
        await self.limiter.acquire(
            message.chat_external_id, message.is_group, max_group_wait=MAX_GROUP_WAIT if first else None
        )

    async def _send_file(
        self,
        message: ClaimedMessage,
        attachment: ClaimedAttachment,
        caption: str | None,
        markup: InlineKeyboardMarkup | None,
    ) -> str | None:
        """Upload once, then send Telegram's file_id; a refused file_id is uploaded afresh."""
        known = self._file_ids.get(attachment.id) or attachment.file_id
        if known is not None:
            try:
                await self._call_file(message, attachment, known, caption, markup)
                return None
            except BadRequest as error:
                log.info("file_id of attachment %s refused (%s); uploading again", attachment.id, error)
                self._file_ids.pop(attachment.id, None)
        async with self._uploads.setdefault(attachment.id, asyncio.Lock()):
            known = self._file_ids.get(attachment.id)
            if known is not None:
                await self._call_file(message, attachment, known, caption, markup)
                return None
            upload = InputFile(attachment.content, filename=attachment.filename)
            sent = await self._call_file(message, attachment, upload, caption, markup)
            file_id = _file_id(sent)
            if file_id is not None:
                self._file_ids[attachment.id] = file_id
            return file_id

    async def _call_file(
        self,
        message: ClaimedMessage,
        attachment: ClaimedAttachment,
        media: str | InputFile,
        caption: str | None,
        markup: InlineKeyboardMarkup | None,
    ) -> Message:
        await self._pace(message, first=True)
        chat = int(message.chat_external_id)
        if attachment.is_photo:
            return await self.bot.send_photo(chat, media, caption=caption, reply_markup=markup)
        return await self.bot.send_document(chat, media, caption=caption, reply_markup=markup)

    # --- delivery reports ------------------------------------------------------------------------

    async def _report_finished(self) -> None:
        """Queue a report to whoever launched each finished broadcast, in the same transaction."""
        async with unit_of_work(self.wiring.factory) as uow:
            queued = await queue_delivery_reports(
                uow, now=self.now(), default_language=self.wiring.settings.default_language
            )
        if queued:
            self._wake.set()


def _worker_of(target: WardContext | WardApplication) -> OutboxWorker | None:
    return getattr(target.bot_data, "outbox", None)


def wake_outbox(target: WardContext | WardApplication) -> None:
    """Call after committing a broadcast so it starts at once (handlers pass their context, jobs too)."""
    worker = _worker_of(target)
    if worker is not None:
        worker.wake()


def start_outbox(application: WardApplication) -> OutboxWorker:
    """Start the application's outbox worker (once) and keep it in bot_data."""
    worker = _worker_of(application)
    if worker is None:
        worker = OutboxWorker()
        application.bot_data.outbox = worker
    worker.start(application)
    return worker


async def stop_outbox(application: WardApplication, *, grace: float = STOP_GRACE) -> None:
    """Stop the outbox worker, if one runs; what it was sending goes out after the next start."""
    worker = _worker_of(application)
    if worker is not None:
        await worker.stop(grace=grace)
