"""Scheduled posts through PTB's JobQueue, derived from the database at every start.

Nothing about a schedule lives only in memory: at start-up the standings due since the last run are
found and posted (once, by broadcast key), and the next deadline is scheduled from the ward file.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from telegram.ext import JobQueue

from bot.announcements import next_post_time, post_due_standings
from bot.channels.telegram import PLATFORM, WardContext
from bot.channels.telegram_delivery import wake_outbox
from bot.wiring import Wiring

STANDINGS_JOB = "standings-post"
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
        platform=PLATFORM,
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


def schedule_all(job_queue: JobQueue[Any]) -> None:
    """At start-up: catch up on a post missed while the bot was down, then follow the deadlines."""
    job_queue.run_once(post_standings, when=CATCH_UP_DELAY, name=STANDINGS_JOB)
