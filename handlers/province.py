"""Province staff compare wards: /wards (reporting), /standings and /export across wards, /wardtitles."""

from __future__ import annotations

from bot.access import ChatKind, Role
from bot.answers import format_number, whole_number
from bot.assessment import format_share
from bot.export import ProvinceRow, province_workbook_bytes
from bot.features import command
from bot.i18n import current_language
from bot.i18n import gettext as _
from bot.periods import Period, PeriodKind, parse_period, period_not_understood
from bot.province import (
    WardScores,
    province_totals,
    ward_lines,
    ward_scores,
    ward_standings,
    year_titles,
)
from bot.replies import Attachment
from bot.standings_view import standings_table
from bot.turns import Turn
from bot.wards import ward_code


def _no_ward() -> str:
    return _(
        "No ward yet: each ward's file goes in the folder that WARD_CONFIG names; ask whoever runs the bot."
    )


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "—"


@command("wards", "cacphuong")
async def wards(turn: Turn) -> None:
    """One line per ward: the month being collected, and the last closed month with timeliness."""
    lines = await ward_lines(turn.uow, turn.wiring, turn.wiring.clock())
    if not lines:
        turn.reply(_no_ward())
        return
    language = current_language()
    text = [_("Wards ({count}):").format(count=len(lines))]
    for line in lines:
        text.append(
            _(
                "{code} · {name} ({groups} groups)\n"
                "   {month}: {reported}/{groups} reported ({share})\n"
                "   {closed}: {closed_reported}/{groups} reported, {on_time} on time"
            ).format(
                code=line.code,
                name=line.name,
                groups=line.groups,
                month=line.collecting.label(language),
                reported=line.reported,
                share=_share(line.reported, line.groups),
                closed=line.closed.label(language),
                closed_reported=line.closed_reported,
                on_time=line.closed_on_time,
            )
        )
    turn.reply("\n".join(text))


def acting_for_province(turn: Turn) -> bool:
    """Province staff asking in a private chat for no ward of their own: they compare every ward."""
    caller = turn.caller
    return (
        caller.has(Role.PROVINCE)
        and not caller.has(Role.STAFF)
        and caller.ward_id is None
        and turn.chat is ChatKind.PRIVATE
    )


def _province_period(turn: Turn, words: list[str]) -> tuple[Period | None, bool]:
    """The period named in `words` (None: each ward's last closed month), and whether it was understood."""
    if not words:
        return None, True
    try:
        return parse_period(" ".join(words), today=turn.now().date()), True
    except ValueError:
        turn.reply(period_not_understood())
        return None, False


def _score(value: float | None, language: str) -> str:
    return format_number(value, language=language) if value is not None else "—"


def _leader(found: WardScores, language: str) -> str:
    leader = found.leader
    if leader is None or leader.score is None:
        return ""
    return f"{leader.code} {leader.name} ({_score(leader.score, language)})"


async def province_standings(turn: Turn) -> None:
    """`/standings [PERIOD]`: one line per ward; `/standings WARD [PERIOD]`: that ward's full table."""
    words = list(turn.args)
    codes = {ward_code(file): ward_id for ward_id, file in turn.wiring.wards.items()}
    if words and words[0].upper() in codes:
        ward_id = codes[words[0].upper()]
        period, understood = _province_period(turn, words[1:])
        if not understood:
            return
        result = await ward_standings(turn.uow, turn.wiring, ward_id, turn.wiring.clock(), period)
        ward_name = turn.wiring.ward_of(ward_id).ward.name
        turn.reply(standings_table(result, ward_name=ward_name, full=True))
        return
    period, understood = _province_period(turn, words)
    if not understood:
        return
    language = current_language()
    found = await ward_scores(turn.uow, turn.wiring, turn.wiring.clock(), period)
    if not found:
        turn.reply(_no_ward())
        return
    lines = [_("Standings of every ward:")]
    for scores in found:
        top = scores.top_band
        lines.append(
            _(
                "{code} · {name} · {period}: {reported}/{groups} reported, average {average}; "
                "{top_count} “{top}”; first: {leader}"
            ).format(
                code=scores.code,
                name=scores.name,
                period=scores.result.period.label(language),
                reported=scores.reported,
                groups=scores.groups,
                average=_score(scores.average, language),
                top_count=scores.in_top_band,
                top=top.name_in(language) if top is not None else "—",
                leader=_leader(scores, language) or "—",
            )
        )
    example = found[0].code
    lines.append(
        _("One ward's table: /standings {code} [PERIOD]. Every ward in Excel: /export [PERIOD].").format(
            code=example
        )
    )
    turn.reply("\n".join(lines))


async def province_export(turn: Turn) -> None:
    """`/export [PERIOD]`: a workbook with one row per ward, then each ward's standings."""
    period, understood = _province_period(turn, list(turn.args))
    if not understood:
        return
    language = current_language()
    found = await ward_scores(turn.uow, turn.wiring, turn.wiring.clock(), period)
    if not found:
        turn.reply(_no_ward())
        return
    titles: dict[str, str] = {}
    if period is not None and period.kind is PeriodKind.YEAR:
        for ward in await year_titles(turn.uow, turn.wiring, period.first.year):
            figures = ward.totals
            titles[ward.code] = _(
                "{qualified}/{groups} groups · {achieved}/{households} households ({share}%)"
            ).format(
                qualified=figures.qualified,
                groups=figures.groups,
                achieved=format_number(figures.achieved, language=language),
                households=format_number(figures.households, language=language),
                share=format_share(figures.share, language),
            )
    rows = [
        ProvinceRow(
            code=scores.code,
            name=scores.name,
            groups=scores.groups,
            reported=scores.reported,
            average=scores.average,
            in_top_band=scores.in_top_band,
            leader=_leader(scores, language),
            titles=titles.get(scores.code, ""),
        )
        for scores in found
    ]
    label = period.label(language) if period is not None else found[0].result.period.label(language)
    top = found[0].top_band
    content = province_workbook_bytes(
        _("Every ward – {period}").format(period=label),
        rows,
        [(scores.code, scores.result.standings) for scores in found],
        top_band=top.name_in(language) if top is not None else "—",
        language=language,
    )
    key = period.key if period is not None else found[0].result.period.key
    turn.reply(
        _("Every ward's standings of {period}: {count} wards.").format(period=label, count=len(found)),
        attachment=Attachment(content, f"cac-phuong-{key}.xlsx"),
    )


@command("wardtitles", "danhhieucacphuong")
async def ward_titles(turn: Turn) -> None:
    """Province staff: the year-end titles of every ward that opened the year's assessment, and the total."""
    language = current_language()
    year = whole_number(turn.args[0]) if turn.args else turn.now().year
    if year is None or not 2000 <= year <= 2100:
        turn.reply(_("Which year? For example: /wardtitles 2026"))
        return
    found = await year_titles(turn.uow, turn.wiring, year)
    if not found:
        turn.reply(_("No ward has opened the year-end assessment of {year} yet.").format(year=year))
        return
    lines = [_("Year-end titles of {year}:").format(year=year)]
    for ward in found:
        figures = ward.totals
        state = _("decided") if ward.decided else _("not decided yet")
        lines.append(
            _(
                "{code} · {name}: {qualified}/{groups} groups, {achieved}/{households} households "
                "({share}%), {state}"
            ).format(
                code=ward.code,
                name=ward.name,
                qualified=figures.qualified,
                groups=figures.groups,
                achieved=format_number(figures.achieved, language=language),
                households=format_number(figures.households, language=language),
                share=format_share(figures.share, language),
                state=state,
            )
        )
    total = province_totals(found)
    lines.append(
        _(
            "In the province: {qualified}/{groups} groups hold the group title; "
            "{achieved}/{households} households ({share}%) the family title."
        ).format(
            qualified=format_number(total.qualified, language=language),
            groups=format_number(total.groups, language=language),
            achieved=format_number(total.achieved, language=language),
            households=format_number(total.households, language=language),
            share=format_share(total.share, language),
        )
    )
    turn.reply("\n".join(lines))
