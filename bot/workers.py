"""This process among the bot's workers: heartbeats, the share of the flood limits, the leader.

One bot token has one set of flood limits, so each live worker paces itself at its share of them.
Scheduled work (deadline posts, reminders, idle sweeps) and setting the webhook are the leader's:
the worker that holds a PostgreSQL session lock; when it dies its session ends, the lock is free,
and another worker takes it at its next heartbeat. On SQLite the one process is the leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.wiring import Wiring
from storage.locks import LEADER, try_hold
from storage.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

HEARTBEAT = 2.0  # seconds between heartbeats: a worker joining halves the others' pace this soon
GONE_AFTER = timedelta(seconds=30)  # a worker silent this long no longer counts


class Presence:
    """Heartbeats, the live-worker count (`on_share`) and leadership (`on_leader`, called once)."""

    def __init__(
        self,
        wiring: Wiring,
        *,
        on_leader: Callable[[], Awaitable[None]],
        on_share: Callable[[float], None],
        heartbeat: float = HEARTBEAT,
    ) -> None:
        self.wiring, self.on_leader, self.on_share, self.heartbeat = wiring, on_leader, on_share, heartbeat
        self.leader = False
        self._connection: AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """The first beat now (so start-up knows whether it leads), then one every `heartbeat`."""
        await self._beat()
        self._stopping.clear()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="presence")

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.heartbeat)
            if self._stopping.is_set():
                return
            try:
                await self._beat()
            except Exception:
                log.exception("heartbeat failed; trying again")

    async def _beat(self) -> None:
        now = self.wiring.clock()
        async with unit_of_work(self.wiring.factory) as uow:
            await uow.workers.beat(self.wiring.instance, now=now)
            await uow.workers.forget_before(now - 10 * GONE_AFTER)
            live = await uow.workers.live(since=now - GONE_AFTER)
        self.on_share(1.0 / live)
        if not self.leader:
            await self._try_lead()

    async def _try_lead(self) -> None:
        if self._connection is None:
            self._connection = await self.wiring.engine.connect()
        if await try_hold(self._connection, LEADER):
            self.leader = True
            log.info("this worker (%s) leads: it runs the schedules", self.wiring.instance)
            await self.on_leader()

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        with contextlib.suppress(Exception):
            async with unit_of_work(self.wiring.factory) as uow:
                await uow.workers.leave(self.wiring.instance)
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = None
        self.leader = False
