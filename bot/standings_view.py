"""How standings read in a chat: a compact ranked table that fits one message, and its chart."""

from __future__ import annotations

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


def _line(standing: Standing, own: bool) -> str:
    language = current_language()
    score = format_number(standing.score, language=language) if standing.score is not None else ""
    band = standing.band.label() if standing.band is not None else ""
    marker = "▶ " if own else ""
    return f"{marker}{standing.rank}. {standing.code} {standing.name} — {score} · {band}"


def standings_table(
    result: StandingsResult, *, ward_name: str, highlight_code: str | None = None, full: bool = False
) -> str:
    """Rank, group, score and band; the asking group marked ▶; "not reported" at the bottom.

    Outside staff chats a long table keeps the top ten and the asking group's own line.
    """
    language = current_language()
    lines = [
        _("🏆 Standings for {period} — {ward}").format(
            period=period_in_sentence(result.period, language), ward=ward_name
        )
    ]
    reported = [s for s in result.standings if s.score is not None]
    missing = [s for s in result.standings if s.score is None]
    if not reported:
        lines.append(_("No group has reported for this period yet."))
    shown = reported if full or len(reported) <= TOP + 1 else reported[:TOP]
    lines.extend(_line(s, s.code == highlight_code) for s in shown)
    if len(shown) < len(reported):
        own = next((s for s in reported[TOP:] if s.code == highlight_code), None)
        lines.append(_("… {count} more groups").format(count=len(reported) - len(shown) - (1 if own else 0)))
        if own is not None:
            lines.append(_line(own, True))
    if missing:
        codes = [("▶ " if s.code == highlight_code else "") + s.code for s in missing]
        listed = ", ".join(codes if full or len(codes) <= 20 else [*codes[:20], "…"])
        lines.append(_("Not reported ({count}): {codes}").format(count=len(missing), codes=listed))
    return "\n".join(lines)


def chart_attachment(result: StandingsResult, *, highlight_code: str | None = None) -> Attachment:
    """The bar chart as a PNG attachment (drawn when called: pass the function, not its result)."""
    title = _("Standings {period}").format(period=period_in_sentence(result.period, current_language()))
    content = standings_chart(result.standings, title=title, highlight_code=highlight_code)
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
