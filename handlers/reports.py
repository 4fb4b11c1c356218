"""/myreport (a head's submitted figures) and /reopen (staff unlock one group's month)."""

from __future__ import annotations

from bot.answers import format_value
from bot.features import command
from bot.i18n import current_language
from bot.i18n import gettext as _
from bot.membership import require_group
from bot.periods import month_in_sentence, parse_month
from bot.reminders import reopening_notes
from bot.reporting import (
    ReportingError,
    change_deadline,
    month_is_open,
    reopen_month,
    reopened_last_day,
    report_view,
    reportable_months,
)
from bot.turns import Turn
from handlers.membership_texts import explained
from handlers.notices import notify


@command("myreport", "xembaocao")
async def my_report(turn: Turn) -> None:
    """The group's submitted values for a month (default: the newest open month that has a report)."""
    group = await turn.uow.groups.get(turn.caller.reports_for[0])
    if group is None:
        return
    wiring = turn.wiring
    if turn.args:
        try:
            months = [parse_month(" ".join(turn.args), today=turn.now().date())]
        except ValueError:
            turn.reply(_("Please give the month as YYYY-MM, for example /myreport 2026-10."))
            return
    else:
        months = await reportable_months(turn.uow, group.id, wiring.clock(), turn.ward.ward, turn.timezone)
    language = current_language()
    for month in months:
        view = await report_view(turn.uow, group.id, month)
        if view is None:
            continue
        moment = view.submitted_at.astimezone(turn.timezone).strftime("%H:%M %d/%m/%Y")
        lines = [
            _("Report of {group} ({code}) for {month}").format(
                group=group.name, code=group.code, month=month.label(language)
            ),
            _("Sent at {moment} by {name}.").format(moment=moment, name=view.submitted_by or "—"),
        ]
        for number, indicator in enumerate(view.indicators, start=1):
            answer = view.values.get(indicator.key)
            shown = (
                _("skipped")
                if answer is None or answer.skipped
                else format_value(indicator, answer.value, language, text=answer.text)
            )
            flag = " ⚠️" if answer is not None and answer.flagged else ""
            lines.append(f"{number}. {indicator.label_in(language)}: {shown}{flag}")
        now, ward, tz = wiring.clock(), turn.ward.ward, turn.timezone
        if await month_is_open(turn.uow, group.id, month, now, ward, tz):
            deadline = await change_deadline(turn.uow, group.id, month, now=now, ward=ward, tz=tz)
            lines.append(
                _("Change it with /report until {deadline}.").format(deadline=deadline.strftime("%d/%m/%Y"))
            )
        else:
            lines.append(
                _("This month is locked; ward staff can reopen it with /reopen {code} {key}.").format(
                    code=group.code, key=str(month)
                )
            )
        turn.reply("\n".join(lines))
        return
    turn.reply(
        _("No report sent yet for {month}. Send /report to start.").format(
            month=month_in_sentence(months[0], language)
        )
    )


@command("reopen", "molai")
@explained
async def reopen(turn: Turn) -> None:
    """Unlock one group's month for a few days and tell its head and deputy."""
    if len(turn.args) < 2:
        turn.reply(_("Which group and month? For example: /reopen TDP01 2026-10"))
        return
    try:
        group = await require_group(turn.uow, turn.args[0], turn.ward_id)
        month = parse_month(" ".join(turn.args[1:]), today=turn.now().date())
    except ValueError:
        turn.reply(_("Please give the month as YYYY-MM, for example /reopen TDP01 2026-10."))
        return
    wiring = turn.wiring
    try:
        until = await reopen_month(
            turn.uow, group, month, actor=turn.caller.person_id, now=wiring.clock(), tz=turn.timezone
        )
    except ReportingError:
        turn.reply(
            _(
                "{month} has not started yet: only a past month can be reopened, "
                "for example /reopen TDP01 2026-10."
            ).format(month=month.label(current_language()))
        )
        return
    last_day = reopened_last_day(until, turn.timezone).strftime("%d/%m/%Y")
    turn.reply(
        _("Reopened {month} for {code} until the end of {day}. Its head and deputy were told.").format(
            month=month_in_sentence(month, current_language()), code=group.code, day=last_day
        )
    )
    notes = await reopening_notes(turn.uow, wiring, group, month, reopened_last_day(until, turn.timezone))
    for person, text in notes:
        await notify(turn, person, text, title=f"reopen {group.code} {month}")
