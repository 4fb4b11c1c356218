"""Standings as a picture: a horizontal bar chart sized for a phone screen.

Uses matplotlib's object-oriented API (`Figure` + `FigureCanvasAgg`) and never pyplot,
so no global figure state is shared and charts can be drawn from several threads. Every
text is set in "DejaVu Sans", which ships with matplotlib and covers Vietnamese.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.answers import format_number
from bot.i18n import current_language, ngettext
from bot.i18n import gettext as _
from bot.replies import shorten
from bot.scoring import Standing
from bot.ward_config import POINTS_BANDS, BandEntry

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.font_manager import FontProperties

FONT_FAMILY = "DejaVu Sans"
WIDTH_INCHES = 8.0
BAR_INCHES = 0.35
MARGIN_INCHES = 2.1
MAX_HEIGHT_INCHES = 16.0
MIN_HEIGHT_INCHES = 3.0
DPI = 100
NAME_MAX_CHARS = 34
TITLE_WRAP_CHARS = 60

#: Colours of the ward's bands, highest first; the lowest band is always red.
BAND_COLOURS = ("#2e7d32", "#1565c0", "#f9a825", "#ef6c00", "#6a1b9a", "#00838f")
LOWEST_COLOUR = "#c62828"
#: Bars without a band shown: below every band, or a band kept from this audience.
PLAIN_COLOUR = "#78909c"
HIGHLIGHT_EDGE = "#000000"


def band_colour(band: BandEntry | None, bands: Sequence[BandEntry], *, staff: bool) -> str:
    """A bar's colour: by the band's place among the ward's bands; grey when it is not shown."""
    if band is None or band not in bands or not (staff or band.public):
        return PLAIN_COLOUR
    place = list(bands).index(band)
    if place == len(bands) - 1 and len(bands) > 1:
        return LOWEST_COLOUR
    return BAND_COLOURS[place % len(BAND_COLOURS)]


def standings_chart(
    standings: Sequence[Standing],
    *,
    title: str,
    highlight_code: str | None = None,
    limit: int = 30,
    bands: Sequence[BandEntry] = POINTS_BANDS,
    staff: bool = True,
) -> bytes:
    """PNG of the best `limit` groups, plus the highlighted group when it ranks lower.

    Groups that did not report are not drawn; a note under the title counts them, so the picture
    never suggests that everyone took part. Without `staff`, a band that is not public is neither
    coloured nor named in the legend: its bars are grey, like the table's score-only lines.
    """
    # matplotlib is imported when the first chart is drawn: most runs (a CLI command, a bot start) draw none
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import Patch

    font = FontProperties(family=FONT_FAMILY)
    bold = FontProperties(family=FONT_FAMILY, weight="bold")
    reported = [standing for standing in standings if standing.score is not None]
    missing = [standing for standing in standings if standing.score is None]
    shown = chart_rows(standings, highlight_code=highlight_code, limit=limit)
    highlight = _find(standings, highlight_code)

    height = min(max(BAR_INCHES * len(shown) + MARGIN_INCHES, MIN_HEIGHT_INCHES), MAX_HEIGHT_INCHES)
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    figure.suptitle(
        textwrap.fill(title, TITLE_WRAP_CHARS), fontproperties=bold, fontsize=13, x=0.01, ha="left"
    )

    if shown:
        colours = [band_colour(standing.band, bands, staff=staff) for standing in shown]
        _draw_bars(axes, shown, colours, highlight, font, bold)
        language = current_language()
        named = [
            band
            for band in bands
            if (staff or band.public) and any(standing.band == band for standing in shown)
        ]
        figure.legend(
            handles=[
                Patch(facecolor=band_colour(band, bands, staff=staff), label=band.name_in(language))
                for band in named
            ],
            loc="outside lower center",
            ncols=max(len(named), 1),
            prop=font,
            frameon=False,
        )
    else:
        axes.set_axis_off()
        axes.text(0.5, 0.5, _("No reports yet"), ha="center", va="center", fontproperties=font, fontsize=12)

    notes = _notes(len(reported), missing, highlight, limit)
    if notes:
        axes.set_title("  ·  ".join(notes), fontproperties=font, fontsize=9, color="#555555", loc="left")

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def chart_rows(
    standings: Sequence[Standing], *, highlight_code: str | None = None, limit: int = 30
) -> list[Standing]:
    """The bars drawn, best first: the top `limit` reporting groups, then the highlighted one if lower."""
    reported = sorted(
        (standing for standing in standings if standing.score is not None),
        key=lambda standing: (standing.rank or 0, -(standing.score or 0.0), standing.code),
    )
    shown = reported[: max(limit, 0)]
    highlight = _find(reported, highlight_code)
    if highlight is not None and all(standing.group_id != highlight.group_id for standing in shown):
        shown.append(highlight)
    return shown


def _find(standings: Sequence[Standing], code: str | None) -> Standing | None:
    if code is None:
        return None
    wanted = code.strip().upper()
    return next((standing for standing in standings if standing.code.upper() == wanted), None)


def _draw_bars(
    axes: Axes,
    shown: Sequence[Standing],
    colours: Sequence[str],
    highlight: Standing | None,
    font: FontProperties,
    bold: FontProperties,
) -> None:
    """Bars best at the top, coloured by band; the highlighted one outlined, hatched and bold."""
    positions = list(range(len(shown)))
    scores = [standing.score or 0.0 for standing in shown]
    bars = axes.barh(positions, scores, color=colours, height=0.7)
    for bar, standing in zip(bars, shown, strict=True):
        is_highlight = highlight is not None and standing.group_id == highlight.group_id
        if is_highlight:
            bar.set_edgecolor(HIGHLIGHT_EDGE)
            bar.set_linewidth(2.5)
            bar.set_hatch("//")
        axes.text(
            bar.get_width() + 1,
            bar.get_y() + bar.get_height() / 2,
            score_label(standing.score or 0.0),
            va="center",
            ha="left",
            fontproperties=bold if is_highlight else font,
            fontsize=9,
        )
    labels = [f"{standing.rank}. {shorten(standing.name, NAME_MAX_CHARS)}" for standing in shown]
    axes.set_yticks(positions, labels=labels)
    for tick, standing in zip(axes.get_yticklabels(), shown, strict=True):
        is_highlight = highlight is not None and standing.group_id == highlight.group_id
        tick.set_fontproperties(bold if is_highlight else font)
        tick.set_fontsize(9)
    axes.invert_yaxis()
    axes.set_xlim(0, max(109.0, max(scores, default=0.0) + 9))  # a bonus may lift a score past 100
    ticks = [0, 20, 40, 60, 80, 100]
    axes.set_xticks(ticks, labels=[str(tick) for tick in ticks], fontproperties=font)
    axes.set_xlabel(_("Score"), fontproperties=font)
    axes.set_ylim(len(shown) - 0.5, -0.5)
    ranks = [standing.rank or 0 for standing in shown]
    if len(ranks) >= 2 and ranks[-1] > ranks[-2] + 1:
        # The highlighted group was appended below the top list: mark the gap.
        axes.axhline(len(shown) - 1.5, color="#888888", linestyle=":", linewidth=1)
    axes.grid(axis="x", color="#dddddd", linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _notes(reported: int, missing: Sequence[Standing], highlight: Standing | None, limit: int) -> list[str]:
    notes: list[str] = []
    if reported > limit:
        notes.append(_("Top {shown} of {total} groups").format(shown=min(limit, reported), total=reported))
    if missing:
        notes.append(
            ngettext("{count} group did not report", "{count} groups did not report", len(missing)).format(
                count=len(missing)
            )
        )
    if highlight is not None and highlight.score is None:
        notes.append(_("{name}: not reported").format(name=highlight.name))
    return notes


def score_label(score: float) -> str:
    """As the text beside the chart writes it, in the reader's language: 9,1 in Vietnamese, 9.1 in English."""
    return format_number(score, language=current_language())
