"""/standings (everyone, anywhere), /status (who has reported) and /export (staff: an Excel workbook)."""

from __future__ import annotations

import functools

from bot.access import ChatKind, Role
from bot.answers import fold, format_value, whole_number
from bot.awards import with_awards
from bot.campaigns import campaign_standings
from bot.export import photos_zip, workbook_bytes
from bot.features import command
from bot.i18n import current_language
from bot.i18n import gettext as _
from bot.periods import (
    Month,
    Period,
    PeriodKind,
    deadline_date,
    open_months,
    parse_period,
    period_in_sentence,
    period_not_understood,
)
from bot.replies import Attachment
from bot.standings import StandingsResult, completeness, compute_standings, export_data, photo_files
from bot.standings_view import (
    block_result,
    chart_attachment,
    completeness_lines,
    default_period,
    staff_tables,
    standings_table,
)
from bot.turns import Turn
from handlers.province import acting_for_province, province_export, province_standings


def _own_group_id(turn: Turn) -> int | None:
    """The group this chat or person belongs to: the linked chat's, the one led, or the one followed."""
    caller = turn.caller
    if turn.chat is ChatKind.GROUP:
        return caller.chat_group_id
    for groups in (caller.reports_for, caller.follows):
        if groups:
            return groups[0]
    return None


async def _own_code(turn: Turn) -> str | None:
    group_id = _own_group_id(turn)
    group = await turn.uow.groups.get(group_id) if group_id is not None else None
    return group.code if group is not None else None


def _period(turn: Turn) -> Period | None:
    """The period named after the command, or the newest locked month; None after telling the user."""
    wiring = turn.wiring
    if not turn.args:
        return default_period(wiring.clock(), turn.ward.ward, turn.timezone)
    try:
        return parse_period(" ".join(turn.args), today=turn.now().date())
    except ValueError:
        turn.reply(period_not_understood())
        return None


#: "/standings khối Khu vực 1" (or "khoi", without the marks): one block's table.
BLOCK_WORDS = frozenset({"khoi", "block"})


@command("standings", "xephang", slow=True)
async def standings(turn: Turn) -> None:
    """The ranked table, the asking group marked, and a bar chart drawn after the commit.

    `/standings #3` gives campaign 3's standings over its window, with its own criteria and groups;
    `/standings khối NAME` one block's table (ranks inside the block). Staff in private see one
    table per block and then the ward's; everyone else the ward's, without staff-only bands.
    """
    if acting_for_province(turn):
        await province_standings(turn)
        return
    if turn.args and fold(turn.args[0]) in BLOCK_WORDS:
        await _block_standings(turn, list(turn.args[1:]))
        return
    if turn.args and turn.args[0].startswith("#"):
        wanted = turn.args[0].lstrip("#")
        number = whole_number(wanted)
        campaign = await turn.uow.campaigns.get(number) if number is not None else None
        if campaign is None or campaign.launched_at is None or campaign.ward_id != turn.ward_id:
            turn.reply(
                _("There is no campaign #{number}. Send /campaigns to see them.").format(number=wanted[:20])
            )
            return
        result = await campaign_standings(
            turn.uow, campaign, turn.ward, turn.now().date(), tz=turn.timezone, now=turn.wiring.clock()
        )
    else:
        period = _period(turn)
        if period is None:
            return
        result = await _ward_standings(turn, period)
    own = await _own_code(turn)
    full = turn.caller.has(Role.STAFF) and turn.chat is ChatKind.PRIVATE
    if full and result.blocks():
        table = staff_tables(result, ward_name=turn.ward.ward.name)
    else:
        table = standings_table(result, ward_name=turn.ward.ward.name, highlight_code=own, full=full)
    if not any(s.score is not None for s in result.standings):
        turn.reply(table)
        return
    turn.reply(table, render=functools.partial(chart_attachment, result, highlight_code=own, full=full))


async def _ward_standings(turn: Turn, period: Period) -> StandingsResult:
    return await compute_standings(
        turn.uow, period, turn.ward, ward_id=turn.ward_id, tz=turn.timezone, now=turn.wiring.clock()
    )


async def _block_standings(turn: Turn, words: list[str]) -> None:
    """One block's table and chart for anyone (`khối NAME [PERIOD]`); the blocks' names when the name
    is unknown."""
    wiring = turn.wiring
    period = default_period(wiring.clock(), turn.ward.ward, turn.timezone)
    if len(words) >= 2:
        try:
            period = parse_period(words[-1], today=turn.now().date())
            words = words[:-1]
        except ValueError:
            pass  # the last word is part of the name
    names = sorted({group.block for group in await turn.uow.groups.all(turn.ward_id) if group.block})
    if not names:
        turn.reply(_("This ward's groups are not divided into blocks (khối thi đua)."))
        return
    wanted = " ".join(fold(" ".join(words)).split())
    block = next((name for name in names if " ".join(fold(name).split()) == wanted), None)
    if block is None:
        turn.reply(
            _("Which block? Send /standings khối NAME, with one of: {names}.").format(
                names=", ".join(f"“{name}”" for name in names)
            )
        )
        return
    result = await _ward_standings(turn, period)
    narrowed = block_result(result, block)
    own = await _own_code(turn)
    staff = turn.caller.has(Role.STAFF) and turn.chat is ChatKind.PRIVATE
    table = standings_table(
        narrowed, ward_name=turn.ward.ward.name, highlight_code=own, full=staff, block=block
    )
    if not any(s.score is not None for s in narrowed.standings):
        turn.reply(table)
        return
    turn.reply(table, render=functools.partial(chart_attachment, narrowed, highlight_code=own, full=staff))


@command("status", "tiendo")
async def status(turn: Turn) -> None:
    """Staff: who has reported for the open months and the year so far; others: their own group."""
    wiring = turn.wiring
    now, tz, ward = wiring.clock(), turn.timezone, turn.ward.ward
    language = current_language()
    rows = await completeness(
        turn.uow, now.astimezone(tz).year, ward_id=turn.ward_id, now=now, ward=ward, tz=tz
    )
    own = await _own_code(turn)
    if turn.caller.has(Role.STAFF) and turn.chat is ChatKind.PRIVATE:
        groups = await turn.uow.groups.all(turn.ward_id)
        lines = []
        for month in sorted(open_months(now, ward.report_deadline_day, tz)):
            reported = await turn.uow.reports.reported_groups(str(month), turn.ward_id)
            waiting = [g for g in groups if g.id not in reported]
            deadline = deadline_date(month, ward.report_deadline_day).strftime("%d/%m/%Y")
            lines.append(
                _("📋 {month} (deadline {deadline}): {done}/{total} groups have reported.").format(
                    month=Month.label(month, language),
                    deadline=deadline,
                    done=len(reported),
                    total=len(groups),
                )
            )
            if waiting:
                names = ", ".join(f"{g.code} {g.name}" for g in waiting)
                lines.append(_("Not yet: {groups}").format(groups=names))
            for code, indicator_key, value in await turn.uow.reports.flagged(str(month), turn.ward_id):
                indicator = next((i for i in turn.ward.indicators if i.key == indicator_key), None)
                if indicator is not None:
                    lines.append(
                        _("⚠️ {code}: {label} = {value} (unusual, confirmed by the head)").format(
                            code=code,
                            label=indicator.label_in(language),
                            value=format_value(indicator, value, language),
                        )
                    )
        if rows and rows[0].expected:
            lines.append(_("Reports this year (months past their deadline):"))
            lines.extend(completeness_lines(rows))
        turn.reply("\n".join(lines))
        return
    mine = [row for row in rows if row.code == own]
    if not mine:
        turn.reply(_("Send /follow GROUP-CODE first, or use /status in your group's chat."))
        return
    row = mine[0]
    if not row.expected:
        turn.reply(_("No month of this year has passed its deadline yet."))
        return
    turn.reply(
        _("{code} this year: {submitted} of {expected} monthly reports sent, {on_time} on time.").format(
            code=row.code, submitted=row.submitted, expected=row.expected, on_time=row.on_time
        )
    )


@command("export", "xuatfile", slow=True)
async def export(turn: Turn) -> None:
    """An .xlsx with the raw values, the standings and the completeness of a period."""
    if acting_for_province(turn):
        await province_export(turn)
        return
    period = _period(turn)
    if period is None:
        return
    wiring = turn.wiring
    data = await export_data(
        turn.uow,
        period,
        ward_id=turn.ward_id,
        ward_name=turn.ward.ward.name,
        ward_file=turn.ward,
        now=wiring.clock(),
        tz=turn.timezone,
    )
    if period.kind is PeriodKind.YEAR:
        data = await with_awards(turn.uow, data, turn.ward_id, period.first.year)
    language = current_language()
    content = workbook_bytes(data, language)
    said = _("Figures of {period}: {count} reports.").format(
        period=period_in_sentence(period, language),
        count=len(data.value_rows),
    )
    if data.provisional:
        said += " " + _("(provisional: the deadline has not passed)")
    turn.reply(said, attachment=Attachment(content, f"bao-cao-{period.key}.xlsx"))


#: Above this a zip is not sent in chat (Telegram takes files up to 50 MB); the CLI has no limit.
MAX_CHAT_ZIP_BYTES = 45 * 1024 * 1024


@command("photos", "xemanh", slow=True)
async def photos(turn: Turn) -> None:
    """Staff: the photos groups sent with their reports of a period, as a zip (never to anyone else)."""
    period = _period(turn)
    if period is None:
        return
    language = current_language()
    files = await photo_files(turn.uow, period, ward_id=turn.ward_id)
    if not files:
        turn.reply(
            _("No photos were sent with the reports of {period}.").format(
                period=period_in_sentence(period, language)
            )
        )
        return
    content = photos_zip(files)
    if len(content) > MAX_CHAT_ZIP_BYTES:
        turn.reply(
            _(
                "The photos of {period} are too many to send here. On the server, run: "
                "wardbot export --photos --period {key}"
            ).format(period=period_in_sentence(period, language), key=period.key)
        )
        return
    turn.reply(
        _("Photos sent with the reports of {period}: {count}.").format(
            period=period_in_sentence(period, language), count=len(files)
        ),
        attachment=Attachment(content, f"anh-{period.key}.zip"),
    )
