"""The one outbox worker: sends replies and broadcasts from the database, on every platform.

Each platform gives a `Sender` that knows its API and turns its errors into a `SendFailure` of a
few kinds; everything else — claiming rows under a lease, pacing, retrying with backoff, giving
up, marking blocked chats, following migrated chats, delivery reports — is written once here.

Replies to a person's message are written in the transaction of that message and sent at once
by `send_now`; broadcasts are claimed a few at a time by the worker's loop, apart from the update
handlers, so interactive replies never wait behind a long broadcast. Every outcome is recorded as
soon as the platform answers: a kill loses nothing and resends at most what was in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.delivery import (
    ClaimedMessage,
    claim_due,
    mark_blocked,
    mark_failed,
    mark_retry,
    mark_sent,
    queue_delivery_reports,
    recover_in_flight,
    release,
    retarget,
)
from bot.membership import move_chat, set_chat_active, set_person_active
from bot.ratelimit import ChatBusy, FloodLimiter
from bot.replies import Attachment
from bot.retry import backoff
from bot.wiring import Wiring
from storage.unit_of_work import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)

BATCH = 8  # broadcast messages claimed at once, and so at most this many 'sending' per worker
POLL_INTERVAL = 1.0  # seconds between looks at the outbox when nobody wakes the worker
MAX_GROUP_WAIT = 1.0  # a group chat busier than this is handed back and skipped until it has room
MAX_RETRY_WAIT = 120.0  # seconds between attempts after a 5xx or network error, at the most
STOP_GRACE = 5.0  # seconds a stopping worker lets its in-flight sends finish
ORDER_WAIT = 5.0  # seconds a reply waits for another worker's earlier replies to the same chat
REPORT_CHECK = 5.0  # seconds between looks for finished broadcasts nobody woke the worker about

Outcome = Callable[[UnitOfWork], Awaitable[object]]


class Failure(StrEnum):
    """Why a send did not go out, as far as the outbox needs to know."""

    RATE_LIMITED = "rate_limited"  # the platform asked to wait (429)
    BLOCKED = "blocked"  # the person blocked the bot, or it left the chat (403)
    REFUSED = "refused"  # the platform will never accept this message (400)
    MIGRATED = "migrated"  # the chat has a new id; send there
    TRANSIENT = "transient"  # 5xx, network, time-out: a later attempt may work


class SendFailure(Exception):
    """A send that failed, classified by the platform's sender."""

    def __init__(
        self, kind: Failure, detail: str, *, retry_after: float | None = None, new_chat_id: str = ""
    ) -> None:
        super().__init__(detail)
        self.kind, self.detail = kind, detail
        self.retry_after, self.new_chat_id = retry_after, new_chat_id


class Sender(Protocol):
    """One platform's way of sending; raises `SendFailure` (or `ChatBusy` to hand a message back)."""

    platform: str
    limiter: FloodLimiter

    async def deliver(
        self, message: ClaimedMessage, attachment: Attachment | None, *, reply: bool
    ) -> str | None:
        """Send one message (its text, buttons and attachment); returns a new file id worth keeping."""

    async def typing(self, chat_id: str) -> None:
        """Show that an answer is being prepared (a chart, a long text)."""


@dataclass
class _Ack:
    message_id: int
    at: datetime
    file_id: str | None


def _release(message_id: int) -> Outcome:
    return lambda uow: release(uow, message_id)


class OutboxWorker:
    """Sends the outbox of every platform it has a sender for; start once, stop at shutdown."""

    def __init__(
        self,
        wiring: Wiring,
        senders: Mapping[str, Sender],
        *,
        batch: int = BATCH,
        poll_interval: float = POLL_INTERVAL,
        recover: bool = True,
    ) -> None:
        self.wiring, self.senders = wiring, dict(senders)
        self.batch, self.poll_interval, self.recover = batch, poll_interval, recover
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._check_reports = True
        self._reports_checked = 0.0
        self._anchor: tuple[datetime, float] | None = None
        self.retry_base, self.retry_cap = 1.0, MAX_RETRY_WAIT  # seconds: 1, 2, 4 … up to 2 minutes

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def recover_now(self) -> None:
        """Take back what a stopped process left 'sending', before this one handles any update."""
        if self.recover:
            await self._recover()
            self.recover = False

    def start(self) -> None:
        """Run as a task of the current event loop, beside the update handlers."""
        if self.running or not self.senders:
            return
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox-worker")

    def wake(self) -> None:
        """New work was committed: look at the outbox now rather than at the next poll."""
        self._check_reports = True
        self._wake.set()

    async def stop(self, *, grace: float = STOP_GRACE) -> None:
        """Claim nothing more, let in-flight sends finish for `grace` seconds, then cancel.

        What is cancelled stays 'sending' and goes out again after the next start (`grace=0` is a kill).
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

    def now(self) -> datetime:
        """The wiring's clock, kept moving with real time so retries come due even when tests freeze it."""
        clock = self.wiring.clock()
        mono = time.monotonic()
        if self._anchor is None or self._anchor[0] != clock:
            self._anchor = (clock, mono)
        return self._anchor[0] + timedelta(seconds=mono - self._anchor[1])

    async def typing(self, platform: str, chat_id: str) -> None:
        """Show "typing…" in a chat while a slow answer is prepared (nothing when the platform can't)."""
        sender = self.senders.get(platform)
        if sender is not None:
            await sender.typing(chat_id)

    # --- replies, sent at once -------------------------------------------------------------------

    async def send_now(self, replies: Collection[ClaimedMessage]) -> None:
        """Send a turn's replies in order, right after its commit, and record them in one transaction.

        Failures are handed to the worker's retries; nothing waits on the database between two replies.
        """
        outcomes: list[Outcome] = []
        if replies and self.wiring.engine.dialect.name == "postgresql":
            await self._after_earlier_replies(next(iter(replies)))
        for message in replies:
            sender = self.senders.get(message.platform)
            if sender is None:  # that platform is not served by this process: the worker's peers send it
                outcomes.append(_release(message.id))
                continue
            outcomes.append(await self._attempt(sender, message, reply=True))
        if outcomes:
            await self._record(*outcomes)

    async def _after_earlier_replies(self, first: ClaimedMessage) -> None:
        """Several workers: the previous turn of this chat may be another worker's, its replies still
        on their way; they go first, so a person never reads question 3 before question 2."""
        deadline = time.monotonic() + ORDER_WAIT
        while time.monotonic() < deadline:
            async with unit_of_work(self.wiring.factory) as uow:
                if not await uow.outbox.replies_in_flight_before(
                    first.platform, first.chat_external_id, first.id
                ):
                    return
            await asyncio.sleep(0.02)

    # --- the loop --------------------------------------------------------------------------------

    async def _run(self) -> None:
        recovered = not self.recover
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
        """Before the first claim: what this (single) process left 'sending' is sent again now."""
        async with unit_of_work(self.wiring.factory) as uow:
            recovered = await recover_in_flight(uow, instance=self.wiring.instance)
        if recovered:
            log.info(
                "%s outbox message(s) were in flight when the bot stopped; sending them again", recovered
            )

    async def _round(self) -> bool:
        """Claim a batch, send it, report finished broadcasts; False when there was nothing to do."""
        self._wake.clear()
        busy = set().union(*(sender.limiter.saturated_groups() for sender in self.senders.values()))
        async with unit_of_work(self.wiring.factory) as uow:
            claimed = await claim_due(
                uow,
                platforms=list(self.senders),
                now=self.now(),
                limit=self.batch,
                claimed_by=self.wiring.instance,
                skip_chats=busy,
                lease=self.wiring.lease,
            )
        if claimed:
            outcomes = await asyncio.gather(
                *(self._deliver(self.senders[m.platform], m, reply=m.is_reply) for m in claimed),
                return_exceptions=True,
            )
            for message, outcome in zip(claimed, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    log.error("outbox message %s: outcome not recorded", message.id, exc_info=outcome)
            self._check_reports = True
        if self._check_reports or time.monotonic() - self._reports_checked > REPORT_CHECK:
            self._check_reports = False
            self._reports_checked = time.monotonic()
            await self._report_finished()
        return bool(claimed)

    async def _record(self, *outcomes: Outcome) -> None:
        async with unit_of_work(self.wiring.factory) as uow:
            for outcome in outcomes:
                await outcome(uow)

    async def _deliver(self, sender: Sender, message: ClaimedMessage, *, reply: bool) -> None:
        """Send one claimed message and record what happened, in its own transaction."""
        await self._record(await self._attempt(sender, message, reply=reply))

    async def _attempt(self, sender: Sender, message: ClaimedMessage, *, reply: bool) -> Outcome:
        """Send one claimed message; returns how to record what happened."""
        attachment: Attachment | None = None
        try:
            if message.render is not None and message.attachment is None:
                await sender.typing(message.chat_external_id)
                attachment = await asyncio.to_thread(message.render)  # drawing is CPU work
            elif message.attachment is not None:
                file = message.attachment
                attachment = Attachment(file.content, file.filename, file.is_photo)
            file_id = await sender.deliver(message, attachment, reply=reply)
        except ChatBusy:
            return _release(message.id)
        except SendFailure as failure:
            return self._failed(sender, message, failure)
        except Exception as error:
            log.error("outbox message %s could not be sent", message.id, exc_info=error)
            reason = repr(error)[:500]
            return lambda uow: mark_failed(uow, message.id, error=reason)
        now = self.now()
        return lambda uow: mark_sent(uow, message.id, now=now, file_id=file_id)

    def _failed(self, sender: Sender, message: ClaimedMessage, failure: SendFailure) -> Outcome:
        """What a failed send means for its row: retry later, follow the chat, or stop for good."""
        chat, reason = message.chat_external_id, failure.detail
        platform = message.platform
        if failure.kind is Failure.RATE_LIMITED:
            delay = failure.retry_after or 1.0
            sender.limiter.pause(delay)
            log.warning("%s asked to slow down for %.0f s", platform, delay)
            at = self.now() + timedelta(seconds=delay)
            return lambda uow: mark_retry(uow, message.id, at=at, error=reason, counts=False)
        if failure.kind is Failure.BLOCKED:
            log.info("chat %s does not accept messages from the bot", chat)

            async def blocked(uow: UnitOfWork) -> None:
                await mark_blocked(uow, message.id, error=reason)
                if message.is_group:
                    await set_chat_active(uow, platform, chat, False)
                else:
                    await set_person_active(uow, platform, chat, False)

            return blocked
        if failure.kind is Failure.MIGRATED and failure.new_chat_id:
            new_chat = failure.new_chat_id
            log.info("chat %s moved to %s; sending there from now on", chat, new_chat)

            async def migrated(uow: UnitOfWork) -> None:
                await move_chat(uow, platform, chat, new_chat)
                await retarget(uow, platform, chat, new_chat)
                await mark_retry(uow, message.id, at=self.now(), error=reason, counts=False)
                self.wake()

            return migrated
        self._check_reports = True
        if failure.kind in (Failure.REFUSED, Failure.MIGRATED):
            log.warning("outbox message %s to %s refused: %s", message.id, chat, reason)
            return lambda uow: mark_failed(uow, message.id, error=reason)
        delay = backoff(max(0, message.attempts - 1), base=self.retry_base, cap=self.retry_cap)
        at = self.now() + timedelta(seconds=delay)
        hours = self.wiring.ward.ward.broadcast_give_up_hours
        give_up = self.now() - timedelta(hours=hours)

        async def retry(uow: UnitOfWork) -> None:
            if not await mark_retry(uow, message.id, at=at, error=reason, give_up_before=give_up):
                log.warning(
                    "outbox message %s to %s given up after %s hours: %s", message.id, chat, hours, reason
                )

        return retry

    # --- delivery reports ------------------------------------------------------------------------

    async def _report_finished(self) -> None:
        """Queue a report to whoever launched each finished broadcast, in the same transaction."""
        async with unit_of_work(self.wiring.factory) as uow:
            queued = await queue_delivery_reports(
                uow, now=self.now(), default_language=self.wiring.settings.default_language
            )
        if queued:
            self._wake.set()
