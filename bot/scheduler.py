"""The one scheduler, owned by the application whichever channels run (APScheduler).

Nothing about a schedule lives only in memory: at start-up whatever fell due while the bot was
down is found and queued (once, by broadcast key), and each dated job computes its next time from
the ward file. Periodic chores — idle conversations, the nightly backup, pruning old rows — run here too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.announcements import next_post_time, post_due_standings
from bot.housekeeping import next_backup_time, prune_old_rows, run_due_backups
from bot.reminders import next_round_time, send_due_reminders
from bot.ward_config import WardFile
from bot.wiring import Wiring
from conversations.timeouts import IDLE_CHECK, end_idle_conversations
from storage.models import utcnow
from storage.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

CATCH_UP_DELAY = timedelta(seconds=2)
AFTER_DUE = timedelta(seconds=1)
PRUNE_EVERY = timedelta(hours=6)
MEDIA_MEMORY = timedelta(days=7)  # Zalo fetches a picture when it is sent
WEB_MEMORY = timedelta(days=1)  # a web page's sign-in link or session this long past its end is dropped


@dataclass(frozen=True)
class Schedule:
    """A dated broadcast: what queues it when due, and when it is next due."""

    name: str
    queue_due: Callable[[Wiring], Awaitable[int | None]]
    next_time: Callable[[datetime, WardFile, ZoneInfo], datetime | None]


SCHEDULES = (
    Schedule("standings-post", post_due_standings, next_post_time),  # when a month's deadline passes
    Schedule("reminders", send_due_reminders, next_round_time),  # 08:00 on the ward's reminder days
    Schedule("nightly-backup", run_due_backups, next_backup_time),  # 02:00, into each backup_dir
)


class Scheduler:
    """Dated broadcasts and periodic chores; `wake` is called when something was queued to send."""

    def __init__(self, wiring: Wiring, wake: Callable[[], None]) -> None:
        self.wiring, self.wake = wiring, wake
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._catching_up = {schedule.name for schedule in SCHEDULES}
        self.caught_up = asyncio.Event()  # set once every start-up catch-up has run (tests wait on it)

    def start(self) -> None:
        """Catch up on what fell due while the bot was down, then follow the dates."""
        self._scheduler.start()
        for schedule in SCHEDULES:
            self._at(schedule, utcnow() + CATCH_UP_DELAY)
        self._every(IDLE_CHECK, self.close_idle, "idle-conversations", first=timedelta(seconds=5))
        self._every(PRUNE_EVERY, self.prune, "prune", first=timedelta(minutes=1))

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def _every(
        self, interval: timedelta, job: Callable[[], Awaitable[None]], name: str, *, first: timedelta
    ) -> None:
        trigger = IntervalTrigger(seconds=interval.total_seconds(), start_date=utcnow() + first)
        self._scheduler.add_job(job, trigger, id=name, replace_existing=True, misfire_grace_time=None)

    def _at(self, schedule: Schedule, when: datetime) -> None:
        self._scheduler.add_job(
            self.run_schedule,
            DateTrigger(run_date=when),
            args=[schedule],
            id=schedule.name,
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def run_schedule(self, schedule: Schedule) -> None:
        """Queue what is due now (for every platform), then schedule the next time."""
        try:
            if await schedule.queue_due(self.wiring) is not None:
                self.wake()
        except Exception:
            log.exception("scheduled %s failed", schedule.name)
        self._catching_up.discard(schedule.name)
        if not self._catching_up:
            self.caught_up.set()
        now = self.wiring.clock()
        at = schedule.next_time(now, self.wiring.ward, self.wiring.timezone)
        if at is not None:  # measured on the wiring's clock, waited in real time
            self._at(schedule, utcnow() + (at - now) + AFTER_DUE)

    async def close_idle(self) -> None:
        """Conversations left idle end with a short note (sent through the outbox)."""
        try:
            if await end_idle_conversations(self.wiring):
                self.wake()
        except Exception:
            log.exception("closing idle conversations failed")

    async def prune(self) -> None:
        """Handled updates and finished messages older than the ward file's `prune_after_days` are
        dropped, pictures Zalo has fetched, and the web page's sign-in links and sessions that expired
        (the audit log keeps who signed in when)."""
        try:
            async with unit_of_work(self.wiring.factory) as uow:
                await uow.workers.forget_media_before(self.wiring.clock() - MEDIA_MEMORY)
                await uow.web.forget_expired_before(self.wiring.clock() - WEB_MEMORY)
            pruned = await prune_old_rows(self.wiring)
        except Exception:
            log.exception("pruning old rows failed")
            return
        if pruned.received or pruned.sent:
            log.info("pruned %d received updates and %d sent messages", pruned.received, pruned.sent)
