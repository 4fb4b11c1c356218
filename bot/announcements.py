"""Posting standings to every linked group chat and to staff when a month's deadline passes.

Each post is a broadcast with an idempotency key ("standings:2026-10"), enqueued in the persistent
outbox: a restart around the deadline neither skips the post (it is found due at start-up) nor
repeats it (the key exists).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.delivery import Outgoing, Recipient, enqueue_broadcast
from bot.i18n import gettext as _
from bot.i18n import set_ward_words, use_language
from bot.membership import language_of
from bot.periods import Month, lock_time, month_period, period_in_sentence
from bot.replies import Attachment
from bot.standings import StandingsResult, compute_standings
from bot.standings_view import chart_attachment, standings_table
from bot.ward_config import WardFile
from bot.wiring import Wiring
from storage.unit_of_work import unit_of_work

CATCH_UP = timedelta(days=7)  # a bot that was down longer posts only the newest month, late


def standings_key(ward_id: int, month: Month) -> str:
    return f"standings:{ward_id}:{month}"


def month_to_post(now: datetime, ward: WardFile, tz: ZoneInfo) -> Month | None:
    """The month whose deadline passed most recently, if that was less than a week ago."""
    month = Month.of(now.astimezone(tz).date()).previous()
    deadline_day = ward.ward.report_deadline_day
    while lock_time(month, deadline_day, tz) > now:
        month = month.previous()
    return month if now - lock_time(month, deadline_day, tz) <= CATCH_UP else None


def next_post_time(now: datetime, ward: WardFile, tz: ZoneInfo) -> datetime:
    """When the next month locks (the next standings post)."""
    month = Month.of(now.astimezone(tz).date()).previous()
    while lock_time(month, ward.ward.report_deadline_day, tz) <= now:
        month = month.next()
    return lock_time(month, ward.ward.report_deadline_day, tz)


async def post_due_standings(wiring: Wiring, *, platform: str | None = None) -> int | None:
    """Enqueue each ward's due month's standings once; returns a broadcast id, or None when none was due."""
    posted = None
    for ward_id in sorted(wiring.wards):
        posted = await _post_ward(wiring, ward_id, platform=platform) or posted
    return posted


async def _post_ward(wiring: Wiring, ward_id: int, *, platform: str | None) -> int | None:
    factory, ward, tz = wiring.factory, wiring.ward_of(ward_id), wiring.timezone_of(ward_id)
    set_ward_words(ward.ward.words())  # this job speaks in this ward's words
    now, default_language = wiring.clock(), wiring.settings.default_language
    month = month_to_post(now, ward, tz)
    if month is None:
        return None
    async with unit_of_work(factory) as uow:
        if await uow.outbox.broadcast_by_key(standings_key(ward_id, month)) is not None:
            return None
        result = await compute_standings(uow, month_period(month), ward, ward_id=ward_id, tz=tz, now=now)
        chats = [
            (chat, chat.group.code if chat.group else None) for chat in await uow.chats.linked_active(ward_id)
        ]
        staff = [person for person in await uow.people.staff(ward_id) if person.active]
    # Group chats get the public chart (no staff-only band named, no more groups than their table);
    # staff get every band.
    chart: Attachment | None = None
    staff_chart: Attachment | None = None
    if any(s.score is not None for s in result.standings):
        with use_language(default_language):
            chart = chart_attachment(result)
            staff_chart = chart_attachment(result, full=True)
    messages: list[tuple[Recipient, Outgoing]] = []
    for chat, code in chats:
        if platform is not None and chat.platform != platform:
            continue
        with use_language(default_language):
            text = _announcement(result, ward, highlight_code=code, full=False)
        messages.append(
            (Recipient(chat.platform, chat.external_id, chat.title, True), Outgoing(text, attachment=chart))
        )
    for person in staff:
        if platform is not None and person.platform != platform:
            continue
        with use_language(language_of(person, default_language)):
            text = _announcement(result, ward, highlight_code=None, full=True)
        messages.append(
            (
                Recipient(person.platform, person.external_id, person.display_name, False),
                Outgoing(text, attachment=staff_chart),
            )
        )
    async with unit_of_work(factory) as uow:
        with use_language(default_language):
            title = _("Standings {period}").format(period=period_in_sentence(result.period, default_language))
        return await enqueue_broadcast(
            uow,
            kind="standings",
            title=title,
            messages=messages,
            requested_by=None,
            key=standings_key(ward_id, month),
            now=now,
            ward_id=ward_id,
        )


def _announcement(result: StandingsResult, ward: WardFile, *, highlight_code: str | None, full: bool) -> str:
    intro = _("The reporting period is closed. Here are the standings:")
    return (
        intro
        + "\n"
        + standings_table(result, ward_name=ward.ward.name, highlight_code=highlight_code, full=full)
    )
