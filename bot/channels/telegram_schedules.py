"""Scheduled posts through PTB's JobQueue, derived from the database at every start.

Nothing about a schedule lives only in memory: at start-up whatever fell due while the bot was down
is found and sent (once, by broadcast key), and the next time is computed from the ward file.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import JobQueue

from bot.announcements import next_post_time, post_due_standings
from bot.channels.telegram import WardContext
from bot.channels.telegram_delivery import wake_outbox
from bot.reminders import next_round_time, send_due_reminders
from bot.ward_config import WardFile
from bot.wiring import Wiring

CATCH_UP_DELAY = timedelta(seconds=2)
AFTER_DUE = timedelta(seconds=1)


@dataclass(frozen=True)
class Schedule:
    """A dated broadcast: what queues it when due, and when it is next due."""

    name: str
    queue_due: Callable[[Wiring], Awaitable[int | None]]
    next_time: Callable[[datetime, WardFile, ZoneInfo], datetime | None]


SCHEDULES = (
    Schedule("standings-post", post_due_standings, next_post_time),  # when a month's deadline passes
    Schedule("reminders", send_due_reminders, next_round_time),  # 08:00 on the ward's reminder days
)


async def run_schedule(context: WardContext) -> None:
    """Queue what is due now (for every platform), then schedule the next time."""
    schedule: Schedule = context.job.data  # type: ignore[union-attr,assignment]
    wiring = context.wiring
    if await schedule.queue_due(wiring) is not None:
        wake_outbox(context)
    if context.job_queue is not None:
        schedule_next(context.job_queue, wiring, schedule)


def schedule_next(job_queue: JobQueue[Any], wiring: Wiring, schedule: Schedule) -> None:
    """One job at the next due time in the ward's timezone (measured on the wiring's clock)."""
    for job in job_queue.get_jobs_by_name(schedule.name):
        job.schedule_removal()
    now = wiring.clock()
    at = schedule.next_time(now, wiring.ward, wiring.timezone)
    if at is not None:
        job_queue.run_once(run_schedule, when=at - now + AFTER_DUE, name=schedule.name, data=schedule)


def schedule_all(job_queue: JobQueue[Any]) -> None:
    """At start-up: catch up on whatever fell due while the bot was down, then follow the dates."""
    for schedule in SCHEDULES:
        job_queue.run_once(run_schedule, when=CATCH_UP_DELAY, name=schedule.name, data=schedule)
