"""Scheduled posts through PTB's JobQueue, derived from the database at every start.

Nothing about a schedule lives only in memory: at start-up the standings due since the last run are
found and posted (once, by broadcast key), and the next deadline is scheduled from the ward file.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from telegram.ext import JobQueue

from bot.announcements import next_post_time, post_due_standings
from bot.channels.telegram import WardContext
from bot.channels.telegram_delivery import wake_outbox
from bot.reminders import next_round_time, send_due_reminders
from bot.wiring import Wiring

STANDINGS_JOB = "standings-post"
REMINDER_JOB = "reminders"
CATCH_UP_DELAY = timedelta(seconds=2)
AFTER_DEADLINE = timedelta(seconds=1)


async def post_standings(context: WardContext) -> None:
    """Post the standings of a month whose deadline just passed (or passed while the bot was down)."""
    wiring = context.wiring
    broadcast = await post_due_standings(
        wiring.factory,
        wiring.ward,
        now=wiring.clock(),
        tz=wiring.timezone,
        default_language=wiring.settings.default_language,
        platform=None,
    )
    if broadcast is not None:
        wake_outbox(context)
    if context.job_queue is not None:
        schedule_next_standings(context.job_queue, wiring)


def schedule_next_standings(job_queue: JobQueue[Any], wiring: Wiring) -> None:
    """One job at the next deadline, in the ward's timezone (measured on the wiring's clock)."""
    for job in job_queue.get_jobs_by_name(STANDINGS_JOB):
        job.schedule_removal()
    now = wiring.clock()
    delay = next_post_time(now, wiring.ward, wiring.timezone) - now + AFTER_DEADLINE
    job_queue.run_once(post_standings, when=delay, name=STANDINGS_JOB)


async def send_reminders(context: WardContext) -> None:
    """Remind the groups that have not reported, at 08:00 ward time on the ward's reminder days."""
    wiring = context.wiring
    broadcast = await send_due_reminders(
        wiring.factory,
        wiring.ward,
        now=wiring.clock(),
        tz=wiring.timezone,
        default_language=wiring.settings.default_language,
        platform=None,
    )
    if broadcast is not None:
        wake_outbox(context)
    if context.job_queue is not None:
        schedule_next_reminders(context.job_queue, wiring)


def schedule_next_reminders(job_queue: JobQueue[Any], wiring: Wiring) -> None:
    for job in job_queue.get_jobs_by_name(REMINDER_JOB):
        job.schedule_removal()
    now = wiring.clock()
    at = next_round_time(now, wiring.ward, wiring.timezone)
    if at is not None:
        job_queue.run_once(send_reminders, when=at - now + AFTER_DEADLINE, name=REMINDER_JOB)


def schedule_all(job_queue: JobQueue[Any]) -> None:
    """At start-up: catch up on posts and reminders missed while the bot was down, then follow the dates."""
    job_queue.run_once(post_standings, when=CATCH_UP_DELAY, name=STANDINGS_JOB)
    job_queue.run_once(send_reminders, when=CATCH_UP_DELAY, name=REMINDER_JOB)
