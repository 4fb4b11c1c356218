"""From the channels to the pipeline: received updates are written to the inbox, then handled in order.

`receive` returns only once the updates are committed to the inbox, so a channel tells its platform
an update arrived (the next getUpdates offset, a webhook's 200) only when a crash can no longer
lose it. Updates of one chat are handled one at a time in the order received; different chats
run concurrently. At start-up whatever a stopped process left unhandled is handled first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Protocol

from bot.features import registry
from bot.outbox import OutboxWorker
from bot.pipeline import ChannelHooks, TurnOutcome, chat_key, decode, encode, give_up_turn, run_turn
from bot.turns import Inbound
from bot.wiring import Wiring
from storage.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

CONCURRENT_CHATS = 64  # SQLite: writers queue on a lock, the rest is waiting on the network
POOL_SPARE = 4  # PostgreSQL: each turn holds a connection; these stay for intake, outbox and heartbeats


class Channel(ChannelHooks, Protocol):
    """A chat platform as the dispatcher sees it."""

    async def after_turn(self, inbound: Inbound, outcome: TurnOutcome) -> None:
        """Platform chores after the commit: answer a pressed button, refresh command menus."""


class Dispatcher:
    """Durable intake and ordered, concurrent handling of every channel's updates."""

    def __init__(
        self,
        wiring: Wiring,
        outbox: OutboxWorker,
        *,
        concurrency: int | None = None,
    ) -> None:
        self.wiring, self.outbox = wiring, outbox
        if concurrency is None:
            several = wiring.engine.dialect.name == "postgresql"
            pool = wiring.settings.database_pool_size
            concurrency = max(1, pool - POOL_SPARE) if several else CONCURRENT_CHATS
        self.channels: dict[str, Channel] = {}
        self._queues: dict[str, deque[tuple[int, Inbound]]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._idle = asyncio.Event()
        self._idle.set()

    def add_channel(self, channel: Channel) -> None:
        self.channels[channel.platform] = channel

    @property
    def platforms(self) -> Mapping[str, Channel]:
        return self.channels

    async def receive(self, inbounds: Sequence[Inbound]) -> None:
        """Commit updates to the inbox (a redelivery is dropped there), then queue them for handling."""
        if not inbounds:
            return
        rows = [(i.platform, i.update_id, chat_key(i), encode(i)) for i in inbounds]
        async with unit_of_work(self.wiring.factory) as uow:
            new = await uow.inbox.add_many(rows, now=self.wiring.clock())
        for inbound in inbounds:
            inbox_id = new.get((inbound.platform, inbound.update_id))
            if inbox_id is not None:
                self._enqueue(inbox_id, inbound)

    async def recover(self) -> int:
        """Queue what was received but not handled before the last stop; returns how many."""
        async with unit_of_work(self.wiring.factory) as uow:
            rows = [(row.id, row.payload) for row in await uow.inbox.unhandled()]
        count = 0
        for inbox_id, payload in rows:
            try:
                inbound = decode(payload)
            except (ValueError, TypeError, KeyError):
                log.error("inbox entry %s cannot be read; skipping it", inbox_id)
                continue
            if inbound.platform in self.channels:
                self._enqueue(inbox_id, inbound)
                count += 1
        if count:
            log.info("%s update(s) received before the last stop are handled now", count)
        return count

    def _enqueue(self, inbox_id: int, inbound: Inbound) -> None:
        key = chat_key(inbound)
        self._queues.setdefault(key, deque()).append((inbox_id, inbound))
        if key not in self._tasks:
            self._idle.clear()
            self._tasks[key] = asyncio.get_running_loop().create_task(self._drain(key), name=f"chat {key}")

    async def _drain(self, key: str) -> None:
        """Handle one chat's queue in order."""
        try:
            async with self._slots:
                queue = self._queues.get(key)
                while queue:
                    inbox_id, inbound = queue.popleft()
                    await self._handle(inbox_id, inbound)
        finally:
            self._tasks.pop(key, None)
            if not self._queues.get(key):
                self._queues.pop(key, None)
            if not self._tasks:
                self._idle.set()

    async def _handle(self, inbox_id: int, inbound: Inbound) -> None:
        channel = self.channels.get(inbound.platform)
        if channel is None:
            return
        route = registry.route(inbound) if inbound.command else None
        if route is not None and route.slow:  # a chart or a file takes a moment: say so at once
            await self.outbox.typing(inbound.platform, inbound.chat_id)
        again = True
        while again:  # with several workers, an earlier update of the chat may be handled first
            try:
                outcome = await run_turn(self.wiring, channel, inbound, inbox_id=inbox_id)
            except Exception:
                log.exception("error while handling a %s update", inbound.platform)
                try:
                    outcome = await give_up_turn(self.wiring, inbound, inbox_id=inbox_id)
                except Exception:
                    log.exception("could not record the failed update")
                    return
            again = outcome.again
            try:
                await channel.after_turn(outcome.handled or inbound, outcome)
            except Exception:
                log.exception("after-turn chores failed")
            if outcome.broadcast:
                self.outbox.wake()
            await self.outbox.send_now(outcome.replies)

    @property
    def idle(self) -> bool:
        """No update is queued or being handled."""
        return self._idle.is_set()

    async def wait_idle(self) -> None:
        """Until every queued update is handled (tests, shutdown)."""
        await self._idle.wait()

    async def stop(self, *, grace: float = 5.0) -> None:
        """Let the updates being handled finish for `grace` seconds; the rest stay in the inbox."""
        tasks = list(self._tasks.values())
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=grace) if grace > 0 else (set(), set(tasks))
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._queues.clear()
