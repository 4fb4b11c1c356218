"""How a standings table reads: who sees which band, bonuses for staff, provisional months, blocks."""

from __future__ import annotations

from bot.i18n import use_language
from bot.periods import Month, month_period
from bot.scoring import Standing
from bot.standings import StandingsResult
from bot.standings_view import block_result, shown_rows, staff_tables, standings_table
from bot.ward_config import POINTS_BANDS

TOP, GOOD, _COMPLETED, HIDDEN = POINTS_BANDS


def result(provisional: bool = False) -> StandingsResult:
    rows = [
        Standing(1, "TDP01", "Tổ 1", 100, 95.0, 1, TOP, 1, 1, 5.0, "Khu vực 1"),
        Standing(2, "TDP02", "Tổ 2", 100, 72.5, 2, GOOD, 1, 1, 0.0, "Khu vực 2"),
        Standing(3, "TDP03", "Tổ 3", 100, 13.3, 3, HIDDEN, 1, 1, -3.0, "Khu vực 1"),
        Standing(4, "TDP04", "Tổ 4", 100, None, None, None, 0, 1, 0.0, None),
    ]
    return StandingsResult(month_period(Month(2026, 10)), rows, (), POINTS_BANDS, provisional=provisional)


def test_residents_see_rank_and_score_of_a_staff_only_band() -> None:
    for language, hidden in (("vi", "Chưa hoàn thành"), ("en", "Fell short")):
        with use_language(language):
            public = standings_table(result(), ward_name="P", highlight_code="TDP03")
            staff = standings_table(result(), ward_name="P", full=True)
        assert hidden not in public and hidden in staff
        assert "▶ 3. TDP03 Tổ 3 — 13" in public and public.split("▶ 3. TDP03 Tổ 3 — ")[1].split("\n")[0] in (
            "13,3",
            "13.3",
        )
    with use_language("vi"):
        staff = standings_table(result(), ward_name="P", full=True)
        public = standings_table(result(), ward_name="P")
    assert "1. TDP01 Tổ 1 — 95 · Hoàn thành xuất sắc · thưởng +5" in staff
    assert "3. TDP03 Tổ 3 — 13,3 · Chưa hoàn thành · trừ 3" in staff
    assert "thưởng" not in public and "trừ" not in public  # bonuses are for staff
    assert "Chưa báo cáo (1): TDP04" in public


def test_a_provisional_month_says_so() -> None:
    with use_language("vi"):
        assert "⏳ Tạm tính" in standings_table(result(provisional=True), ward_name="P")
        assert "Tạm tính" not in standings_table(result(), ward_name="P")


def test_staff_get_a_table_per_block_ranked_inside_it_then_the_ward() -> None:
    with use_language("vi"):
        text = staff_tables(result(), ward_name="P")
    block_1, block_2, ward = text.split("\n\n")
    assert "khối “Khu vực 1”" in block_1 and "2. TDP03 Tổ 3 — 13,3" in block_1
    assert "khối “Khu vực 2”" in block_2 and "1. TDP02 Tổ 2 — 72,5" in block_2
    assert "3. TDP03" in ward
    assert [s.code for s in block_result(result(), "Khu vực 1").standings] == ["TDP01", "TDP03"]


def test_the_chart_draws_no_more_groups_than_the_table() -> None:
    many = StandingsResult(
        month_period(Month(2026, 10)),
        [Standing(n, f"TDP{n:02d}", f"Tổ {n}", 100, 100.0 - n, n, TOP) for n in range(1, 31)],
        (),
    )
    assert shown_rows(many) == 10 and shown_rows(many, full=True) == 30
    assert shown_rows(result()) == 3
