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
import functools
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
    mark_all_sent,
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

BATCH = 8  # broadcast messages in flight at once, and so at most this many 'sending' per worker
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


@dataclass(frozen=True)
class Sent:
    """The platform accepted a message: recorded with the other plain sends of a batch in one statement."""

    message_id: int
    at: datetime
    file_id: str | None
    forget: bool = False  # removed rather than marked (a reply to an erased person)

    @property
    def plain(self) -> bool:
        """Recorded in the batch's one statement: no file id to keep, no row to remove."""
        return not self.file_id and not self.forget

    async def __call__(self, uow: UnitOfWork) -> None:
        await mark_sent(uow, self.message_id, now=self.at, file_id=self.file_id)


class Recorder:
    """Group commit of send outcomes: the outcomes handed in while one transaction runs share the next.

    Every caller still waits until its own outcomes are committed, so nothing is acknowledged
    earlier than before; concurrent turns and broadcast sends just share transactions (one
    BEGIN … COMMIT, one UPDATE for all plain sends) instead of taking the write lock one by one.
    A batch that fails is recorded again entry by entry, so one bad outcome harms no other.
    """

    def __init__(self, wiring: Wiring) -> None:
        self.wiring = wiring
        self._pending: list[tuple[tuple[Outcome, ...], asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def record(self, *outcomes: Outcome) -> None:
        """Commit `outcomes` (with whatever else is waiting); raises what recording them raised."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieved)  # a caller cancelled meanwhile leaves no warning behind
        self._pending.append((outcomes, future))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush(), name="outbox-recorder")
        await asyncio.shield(future)

    @property
    def busy(self) -> bool:
        """Outcomes are waiting or being committed."""
        return bool(self._pending) or (self._task is not None and not self._task.done())

    async def drain(self) -> None:
        """Until everything handed in is committed (at shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def abandon(self) -> None:
        """Drop what is not committed yet, as a killed process would; the sends go out again after a start."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._give_up(self._pending)

    def _give_up(self, waiting: list[tuple[tuple[Outcome, ...], asyncio.Future[None]]]) -> None:
        for _outcomes, future in waiting:
            _settle(future, RuntimeError("the outbox stopped before these outcomes were recorded"))
        if waiting is self._pending:
            self._pending = []

    async def _flush(self) -> None:
        batch: list[tuple[tuple[Outcome, ...], asyncio.Future[None]]] = []
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    await self._commit([outcome for outcomes, _future in batch for outcome in outcomes])
                except Exception:
                    for outcomes, future in batch:
                        try:
                            await self._commit(list(outcomes))
                        except Exception as error:
                            _settle(future, error)
                        else:
                            _settle(future, None)
                else:
                    for _outcomes, future in batch:
                        _settle(future, None)
                batch = []
        except asyncio.CancelledError:
            self._give_up(batch)
            self._give_up(self._pending)
            raise

    async def _commit(self, outcomes: list[Outcome]) -> None:
        plain = [o for o in outcomes if isinstance(o, Sent) and o.plain]
        async with unit_of_work(self.wiring.factory) as uow:
            for outcome in outcomes:
                if not (isinstance(outcome, Sent) and outcome.plain):
                    await outcome(uow)
            await mark_all_sent(uow, [(o.message_id, o.at) for o in plain])


def _retrieved(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


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
        self.recorder = Recorder(wiring)
        self._sending = 0  # broadcast messages claimed by the loop and not yet recorded
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
            await self._drain_recorder(grace)
            return
        self._stopping = True
        self._wake.set()
        done, _pending = await asyncio.wait({task}, timeout=grace) if grace > 0 else (set(), set())
        if task not in done:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await self._drain_recorder(grace)

    async def _drain_recorder(self, grace: float) -> None:
        """Outcomes already handed to the recorder are committed before the engine goes (not on a kill)."""
        if grace > 0:
            with contextlib.suppress(TimeoutError, Exception):
                await asyncio.wait_for(self.recorder.drain(), grace)
        if grace <= 0 or self.recorder.busy:
            await self.recorder.abandon()

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
        inflight: dict[str, asyncio.Task[None]] = {}  # by chat: one chat's messages go one at a time
        try:
            while not self._stopping:
                try:
                    if not recovered:
                        await self._recover()
                        recovered = True
                    worked = await self._round(inflight)
                except Exception:
                    log.exception("outbox round failed; trying again shortly")
                    worked = False
                if not worked and not self._stopping:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            await asyncio.gather(*inflight.values(), return_exceptions=True)
        except asyncio.CancelledError:
            for task in inflight.values():
                task.cancel()
            await asyncio.gather(*inflight.values(), return_exceptions=True)
            raise

    async def _recover(self) -> None:
        """Before the first claim: what this (single) process left 'sending' is sent again now."""
        async with unit_of_work(self.wiring.factory) as uow:
            recovered = await recover_in_flight(uow, instance=self.wiring.instance)
        if recovered:
            log.info(
                "%s outbox message(s) were in flight when the bot stopped; sending them again", recovered
            )

    async def _round(self, inflight: dict[str, asyncio.Task[None]]) -> bool:
        """Claim what fits beside the sends in flight and start sending it; report finished broadcasts.

        Up to `batch` messages are in flight, and more are claimed once half of them are done, so
        the pace is the platform's limit rather than claim, send, record, claim again. A chat with a
        message in flight is not claimed from: its messages go out in order. False: nothing to do.
        """
        self._wake.clear()
        if self._sending > self.batch // 2:
            await asyncio.wait(set(inflight.values()), return_when=asyncio.FIRST_COMPLETED)
            return True
        busy = set().union(*(sender.limiter.saturated_groups() for sender in self.senders.values()))
        async with unit_of_work(self.wiring.factory) as uow:
            claimed = await claim_due(
                uow,
                platforms=list(self.senders),
                now=self.now(),
                limit=self.batch - self._sending,
                claimed_by=self.wiring.instance,
                skip_chats=busy | set(inflight),
                lease=self.wiring.lease,
            )
        by_chat: dict[str, list[ClaimedMessage]] = {}
        for message in claimed:
            by_chat.setdefault(message.chat_external_id, []).append(message)
        for chat, messages in by_chat.items():
            self._sending += len(messages)
            task = asyncio.get_running_loop().create_task(self._deliver_in_order(messages))
            inflight[chat] = task
            task.add_done_callback(functools.partial(self._sent, inflight, chat, len(messages)))
        # Finished broadcasts are looked for when the sends in flight are all recorded (see `_sent`),
        # not after every claim: during a long broadcast that would be a transaction every few sends.
        if self._check_reports or time.monotonic() - self._reports_checked > REPORT_CHECK:
            self._check_reports = False
            self._reports_checked = time.monotonic()
            await self._report_finished()
        return bool(claimed)

    async def _deliver_in_order(self, messages: list[ClaimedMessage]) -> None:
        """One chat's claimed messages, one after the other, each recorded as soon as it is answered."""
        for message in messages:
            try:
                await self._deliver(self.senders[message.platform], message, reply=message.is_reply)
            except Exception as error:
                log.error("outbox message %s: outcome not recorded", message.id, exc_info=error)

    def _sent(self, inflight: dict[str, asyncio.Task[None]], chat: str, count: int, _task: object) -> None:
        """A chat's sends are recorded: room for more; when none is left, look for finished broadcasts."""
        inflight.pop(chat, None)
        self._sending -= count
        if not inflight:
            self._check_reports = True
            self._wake.set()

    async def _record(self, *outcomes: Outcome) -> None:
        await self.recorder.record(*outcomes)

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
        return Sent(message.id, self.now(), file_id, message.forget)

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
