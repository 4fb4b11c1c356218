"""The standings chart: a PNG that renders Vietnamese and shows the highlighted group."""

from __future__ import annotations

import struct
import warnings

from bot.charts import LOWEST_COLOUR, PLAIN_COLOUR, band_colour, chart_rows, score_label, standings_chart
from bot.i18n import use_language
from bot.scoring import Standing, band_for
from bot.ward_config import POINTS_BANDS

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
VIETNAMESE_NAME = "Tổ dân phố số 1 – Phường Tràng Cát"
TITLE = "Bảng xếp hạng thi đua tháng 10/2026 – Phường Tràng Cát"


def standings(count: int, *, missing: int = 0) -> list[Standing]:
    """`count` reporting groups with strictly falling scores, then `missing` that did not report."""
    rows = [
        Standing(
            index,
            f"TDP{index:02d}",
            VIETNAMESE_NAME if index == 1 else f"Tổ dân phố số {index} – Khu phố Ấp Đông",
            100 + index,
            round(100 - index * 1.5, 1),
            index,
            band_for(100 - index * 1.5, POINTS_BANDS),
        )
        for index in range(1, count + 1)
    ]
    rows += [
        Standing(count + index, f"TDP{count + index:02d}", f"Tổ {count + index}", 100, None, None, None)
        for index in range(1, missing + 1)
    ]
    return rows


def png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def glyph_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(item.message) for item in caught if "missing from font" in str(item.message)]


def test_chart_is_a_png() -> None:
    data = standings_chart(standings(5, missing=2), title=TITLE)
    assert data.startswith(PNG_MAGIC)
    width, height = png_size(data)
    assert width == 800
    assert 300 <= height <= 1600


def test_vietnamese_names_render_without_missing_glyphs() -> None:
    rows = standings(3)
    rows[1] = Standing(2, "TDP02", "Tổ Ắ Ằ Ẳ Ẵ Ặ Ứ Ừ Ử Ữ Ự ỹ ỵ đ Đ ơ ư", 90, 95.0, 2, POINTS_BANDS[0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = standings_chart(rows, title=TITLE, highlight_code="TDP02")
    assert data.startswith(PNG_MAGIC)
    assert glyph_warnings(caught) == []


def test_the_glyph_check_does_catch_missing_glyphs() -> None:
    rows = [Standing(1, "TDP01", "東京", 100, 90.0, 1, POINTS_BANDS[0])]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        standings_chart(rows, title="x")
    assert glyph_warnings(caught)


def test_top_limit_and_highlight_outside_it() -> None:
    rows = standings(40, missing=3)
    top = chart_rows(rows, limit=10)
    assert [row.code for row in top] == [f"TDP{index:02d}" for index in range(1, 11)]
    highlighted = chart_rows(rows, highlight_code="tdp35", limit=10)
    assert [row.code for row in highlighted][-2:] == ["TDP10", "TDP35"]
    assert len(highlighted) == 11
    assert chart_rows(rows, highlight_code="TDP05", limit=10) == top

    plain = standings_chart(rows, title=TITLE, limit=10)
    with_highlight = standings_chart(rows, title=TITLE, highlight_code="TDP35", limit=10)
    assert with_highlight.startswith(PNG_MAGIC)
    assert png_size(with_highlight)[1] > png_size(plain)[1]


def test_highlight_inside_the_top_changes_the_picture() -> None:
    rows = standings(5)
    assert standings_chart(rows, title=TITLE, highlight_code="TDP03") != standings_chart(rows, title=TITLE)


def test_groups_without_a_report_are_not_drawn() -> None:
    rows = standings(2, missing=4)
    assert [row.code for row in chart_rows(rows, highlight_code="TDP05")] == ["TDP01", "TDP02"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = standings_chart(rows, title=TITLE, highlight_code="TDP05")
    assert data.startswith(PNG_MAGIC)
    assert glyph_warnings(caught) == []


def test_no_reports_still_gives_a_picture() -> None:
    assert standings_chart(standings(0, missing=3), title=TITLE).startswith(PNG_MAGIC)
    assert standings_chart([], title=TITLE).startswith(PNG_MAGIC)


def test_height_is_capped_for_phones() -> None:
    data = standings_chart(standings(80), title=TITLE, limit=80)
    assert png_size(data)[1] <= 1600


def test_a_staff_only_band_is_grey_outside_staff_chats() -> None:
    """The chart names bands as the table beside it: a band that is not public is neither coloured
    nor in the legend for residents, heads and group chats."""
    hidden, top = POINTS_BANDS[-1], POINTS_BANDS[0]
    assert not hidden.public
    assert band_colour(hidden, POINTS_BANDS, staff=True) == LOWEST_COLOUR
    assert band_colour(hidden, POINTS_BANDS, staff=False) == PLAIN_COLOUR
    assert band_colour(top, POINTS_BANDS, staff=False) == band_colour(top, POINTS_BANDS, staff=True)
    assert band_colour(None, POINTS_BANDS, staff=True) == PLAIN_COLOUR
    rows = [
        Standing(1, "TDP01", "Tổ 1", 100, 95.0, 1, top),
        Standing(2, "TDP02", "Tổ 2", 100, 20.0, 2, hidden),
    ]
    assert standings_chart(rows, title=TITLE, staff=False) != standings_chart(rows, title=TITLE, staff=True)


def test_scores_on_the_chart_are_written_as_the_text_writes_them() -> None:
    """A decimal comma for Vietnamese readers (9,1), a point for English ones: the same figure as the text."""
    with use_language("vi"):
        assert score_label(9.1) == "9,1" and score_label(88.25) == "88,25"
    with use_language("en"):
        assert score_label(9.1) == "9.1"
