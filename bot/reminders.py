"""Reminders before each month's deadline, only to the heads and deputies of groups that have not reported.

Each reminder round is a broadcast keyed by month and day ("reminder:2026-10:3"), so a restart
neither repeats nor (within CATCH_UP) skips one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.delivery import Outgoing, Recipient, enqueue_broadcast
from bot.i18n import gettext as _
from bot.i18n import set_ward_words, use_language
from bot.membership import DEPUTY, HEAD, language_of
from bot.periods import Month, deadline_date, month_in_sentence
from bot.replies import Choice
from bot.reporting import change_deadline
from bot.ward_config import WardFile
from bot.wiring import Wiring
from storage.models import Person, ResidentialGroup
from storage.unit_of_work import UnitOfWork, unit_of_work

REMINDER_HOUR = 8
CATCH_UP = timedelta(hours=12)  # a reminder more than half a day late is no longer useful
REPORT_NOW = "report:start"  # the report flow's entry button


def _rounds(now: datetime, ward: WardFile, tz: ZoneInfo) -> list[tuple[datetime, Month, int]]:
    """Every reminder instant of the months due around `now`: (when, month, days before)."""
    current = Month.of(now.astimezone(tz).date())
    rounds = []
    for month in (current.previous().previous(), current.previous(), current):
        deadline = deadline_date(month, ward.ward.report_deadline_day)
        for days in ward.ward.reminder_days_before:
            local = datetime(
                deadline.year, deadline.month, deadline.day, REMINDER_HOUR, tzinfo=tz
            ) - timedelta(days=days)
            rounds.append((local.astimezone(ZoneInfo("UTC")), month, days))
    return sorted(rounds)


def due_round(now: datetime, ward: WardFile, tz: ZoneInfo) -> tuple[Month, int] | None:
    """The latest reminder round that fell due within CATCH_UP before `now`."""
    due = [(month, days) for when, month, days in _rounds(now, ward, tz) if when <= now < when + CATCH_UP]
    return due[-1] if due else None


def next_round_time(now: datetime, ward: WardFile, tz: ZoneInfo) -> datetime | None:
    upcoming = [when for when, _month, _days in _rounds(now, ward, tz) if when > now]
    return upcoming[0] if upcoming else None


async def send_due_reminders(wiring: Wiring, *, platform: str | None = None) -> int | None:
    """Queue each ward's due round once; returns a broadcast id, or None when nothing was due."""
    queued = None
    for ward_id in sorted(wiring.wards):
        queued = await _remind_ward(wiring, ward_id, platform=platform) or queued
    return queued


async def _remind_ward(wiring: Wiring, ward_id: int, *, platform: str | None) -> int | None:
    ward, tz = wiring.ward_of(ward_id), wiring.timezone_of(ward_id)
    set_ward_words(ward.ward.words())  # this job speaks in this ward's words
    due = due_round(wiring.clock(), ward, tz)
    if due is None:
        return None
    month, days = due
    async with unit_of_work(wiring.factory) as uow:
        return await remind_missing(
            uow, wiring, ward_id, month, key=f"reminder:{ward_id}:{month}:{days}", platform=platform
        )


async def remind_missing(
    uow: UnitOfWork,
    wiring: Wiring,
    ward_id: int,
    month: Month,
    *,
    key: str,
    requested_by: int | None = None,
    platform: str | None = None,
) -> int | None:
    """Queue a reminder to the heads and deputies of the ward's groups that have not reported `month`
    (the scheduled rounds, and "remind the missing groups now" on the web page); None when `key` was
    used before. The staff member who asked gets the delivery report."""
    ward, tz = wiring.ward_of(ward_id), wiring.timezone_of(ward_id)
    now, default_language = wiring.clock(), wiring.settings.default_language
    if await uow.outbox.broadcast_by_key(key) is not None:
        return None
    reported = await uow.reports.reported_groups(str(month), ward_id)
    groups = {group.id: group for group in await uow.groups.all(ward_id)}
    messages: list[tuple[Recipient, Outgoing]] = []
    for membership in await uow.groups.leaders(ward_id):
        person = membership.person
        group = groups.get(membership.group_id)
        if (
            group is None
            or group.id in reported
            or not person.active
            or (platform is not None and person.platform != platform)
        ):
            continue
        language = language_of(person, default_language)
        last_day = await change_deadline(uow, group.id, month, now=now, ward=ward.ward, tz=tz)
        deadline = last_day.strftime("%d/%m/%Y")
        with use_language(language):
            text = _(
                "⏰ Reminder: {group} has not sent its report for {month} yet. "
                "The deadline is the end of {deadline}."
            ).format(group=group.name, month=month_in_sentence(month, language), deadline=deadline)
            button = Choice(_("📝 Report now"), REPORT_NOW)
        messages.append(
            (
                Recipient(person.platform, person.external_id, person.display_name, False),
                Outgoing(text, ((button,),)),
            )
        )
    with use_language(default_language):
        title = _("Reminders for {month}").format(month=month_in_sentence(month, default_language))
    return await enqueue_broadcast(
        uow,
        kind="reminder",
        title=title,
        messages=messages,
        requested_by=requested_by,
        key=key,
        now=now,
        ward_id=ward_id,
    )


async def reopening_notes(
    uow: UnitOfWork, wiring: Wiring, group: ResidentialGroup, month: Month, last_day: date
) -> list[tuple[Person, str]]:
    """What the head and deputy of a group are told when staff reopen its month (in chat or on the web),
    each in their own language."""
    notes = []
    for role in (HEAD, DEPUTY):
        holder = await uow.groups.holder(group.id, role)
        if holder is None or not holder.person.active:
            continue
        person = holder.person
        language = language_of(person, wiring.settings.default_language)
        with use_language(language):
            text = _(
                "Ward staff reopened {month} for your group until {day}. Send /report to change it."
            ).format(month=month_in_sentence(month, language), day=last_day.strftime("%d/%m/%Y"))
        notes.append((person, text))
    return notes
