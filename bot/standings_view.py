"""How standings read in a chat: a compact ranked table that fits one message, and its chart."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.answers import format_number
from bot.charts import standings_chart
from bot.export import CompletenessRow
from bot.i18n import current_language
from bot.i18n import gettext as _
from bot.periods import Month, Period, is_locked, month_period, period_in_sentence
from bot.replies import Attachment
from bot.scoring import Standing
from bot.standings import StandingsResult
from bot.ward_config import WardSettings

TOP = 10


def default_period(now: datetime, ward: WardSettings, tz: ZoneInfo) -> Period:
    """The newest month whose deadline has passed: its standings no longer change."""
    month = Month.of(now.astimezone(tz).date()).previous()
    while not is_locked(month, now, ward.report_deadline_day, tz):
        month = month.previous()
    return month_period(month)


def _line(standing: Standing, own: bool, *, staff: bool) -> str:
    """ "rank. code name — score · band"; a band kept from this audience is left out, and staff
    also see the bonus included in the score."""
    language = current_language()
    score = format_number(standing.score, language=language) if standing.score is not None else ""
    marker = "▶ " if own else ""
    line = f"{marker}{standing.rank}. {standing.code} {standing.name} — {score}"
    band = standing.band
    if band is not None and (staff or band.public):
        line += f" · {band.name_in(language)}"
    if staff and standing.bonus > 0:
        line += " · " + _("bonus {points}").format(
            points="+" + format_number(standing.bonus, language=language)
        )
    elif staff and standing.bonus < 0:
        line += " · " + _("penalty {points}").format(points=format_number(-standing.bonus, language=language))
    return line


def _title(result: StandingsResult, ward_name: str, block: str | None = None) -> list[str]:
    language = current_language()
    period = period_in_sentence(result.period, language)
    if block is None:
        title = _("🏆 Standings for {period} — {ward}").format(period=period, ward=ward_name)
    else:
        title = _("🏆 Standings for {period} — block “{block}”").format(period=period, block=block)
    lines = [title]
    if result.provisional:
        lines.append(_("⏳ Provisional: the deadline has not passed, so reports may still change this."))
    return lines


def shown_rows(result: StandingsResult, *, highlight_code: str | None = None, full: bool = False) -> int:
    """How many reporting groups the table lists (the chart draws no more than that)."""
    reported = sum(1 for s in result.standings if s.score is not None)
    if full or reported <= TOP + 1:
        return reported
    return TOP


def standings_table(
    result: StandingsResult,
    *,
    ward_name: str,
    highlight_code: str | None = None,
    full: bool = False,
    staff: bool | None = None,
    block: str | None = None,
) -> str:
    """Rank, group, score and band; the asking group marked ▶; "not reported" at the bottom.

    Outside staff chats (`full` False) a long table keeps the top ten and the asking group's own
    line. `staff` (default: `full`) names every band and shows bonuses; otherwise a band that is
    not public is left out of the line, which then shows rank and score only.
    """
    staff = full if staff is None else staff
    lines = _title(result, ward_name, block)
    reported = [s for s in result.standings if s.score is not None]
    missing = [s for s in result.standings if s.score is None]
    if not reported:
        lines.append(_("No group has reported for this period yet."))
    shown = reported[: shown_rows(result, highlight_code=highlight_code, full=full)]
    lines.extend(_line(s, s.code == highlight_code, staff=staff) for s in shown)
    if len(shown) < len(reported):
        own = next((s for s in reported[TOP:] if s.code == highlight_code), None)
        lines.append(_("… {count} more groups").format(count=len(reported) - len(shown) - (1 if own else 0)))
        if own is not None:
            lines.append(_line(own, True, staff=staff))
    if missing:
        codes = [("▶ " if s.code == highlight_code else "") + s.code for s in missing]
        listed = ", ".join(codes if full or len(codes) <= 20 else [*codes[:20], "…"])
        lines.append(_("Not reported ({count}): {codes}").format(count=len(missing), codes=listed))
    return "\n".join(lines)


def staff_tables(result: StandingsResult, *, ward_name: str) -> str:
    """For staff: one table per block (ranks inside the block), then the ward's table."""
    tables = [
        standings_table(block_result(result, name), ward_name=ward_name, full=True, block=name)
        for name, _members in result.blocks()
    ]
    tables.append(standings_table(result, ward_name=ward_name, full=True))
    return "\n\n".join(tables)


def block_result(result: StandingsResult, block: str) -> StandingsResult:
    """The result narrowed to one block's groups, ranked inside the block."""
    members = next((members for name, members in result.blocks() if name == block), [])
    return dataclasses.replace(result, standings=members)


def chart_attachment(
    result: StandingsResult,
    *,
    highlight_code: str | None = None,
    full: bool = False,
    staff: bool | None = None,
) -> Attachment:
    """The bar chart as a PNG attachment (drawn when called: pass the function, not its result).

    It draws no more groups than the table beside it, and names bands as that table does.
    """
    staff = full if staff is None else staff
    title = _("Standings {period}").format(period=period_in_sentence(result.period, current_language()))
    if result.provisional:
        title += " " + _("(provisional)")
    content = standings_chart(
        result.standings,
        title=title,
        highlight_code=highlight_code,
        limit=shown_rows(result, highlight_code=highlight_code, full=full) if not full else 30,
        bands=result.bands,
        staff=staff,
    )
    return Attachment(content, f"xep-hang-{result.period.key}.png", is_photo=True)


def completeness_lines(rows: Sequence[CompletenessRow], *, highlight_code: str | None = None) -> list[str]:
    """One line per group: reports on time / expected over the year so far."""
    lines = []
    for row in rows:
        marker = "▶ " if row.code == highlight_code else ""
        lines.append(
            _("{marker}{code}: {submitted}/{expected} sent, {on_time} on time").format(
                marker=marker,
                code=row.code,
                submitted=row.submitted,
                expected=row.expected,
                on_time=row.on_time,
            )
        )
    return lines
