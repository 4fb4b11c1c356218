"""Standings arithmetic, pinned with hand-worked examples."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from bot.i18n import use_language
from bot.indicators import DEFAULT_INDICATORS, Direction, Indicator, Kind
from bot.scoring import (
    Band,
    GroupFigures,
    Standing,
    band_for,
    combine,
    per_household,
    round_score,
    score_month,
)
from bot.ward_config import Bands

BANDS = Bands()


def indicator(
    key: str,
    *,
    kind: Kind = Kind.PERCENT,
    direction: Direction = Direction.HIGHER,
    weight: float = 10,
    target: float | None = None,
) -> Indicator:
    return Indicator(
        key=key,
        label={"vi": key, "en": key},
        help={},
        unit="%" if kind is Kind.PERCENT else "",
        kind=kind,
        min=0,
        max=100 if kind is Kind.PERCENT else None,
        direction=direction,
        weight=weight,
        target=target,
    )


WASTE = indicator("waste_sorting_pct")
MEETING = indicator("meeting_attendance_pct")
INCIDENTS = indicator("security_incidents", kind=Kind.INTEGER, direction=Direction.LOWER)


def group(
    group_id: int, values: Mapping[str, float | None] | None, *, households: int = 100, code: str = ""
) -> GroupFigures:
    code = code or f"TDP{group_id:02d}"
    return GroupFigures(group_id, code, f"Tổ dân phố số {group_id}", households, values)


def table(standings: list[Standing]) -> list[tuple[str, float | None, int | None]]:
    return [(standing.code, standing.score, standing.rank) for standing in standings]


def test_two_groups_higher_is_better() -> None:
    standings = score_month(
        [WASTE], [group(1, {"waste_sorting_pct": 40}), group(2, {"waste_sorting_pct": 80})], BANDS
    )
    assert table(standings) == [("TDP02", 100.0, 1), ("TDP01", 0.0, 2)]
    assert [standing.band for standing in standings] == [Band.EXCELLENT, Band.NOT_COMPLETED]
    assert all(standing.months_reported == 1 and standing.months_expected == 1 for standing in standings)


def test_weights_combine_linear_normalisation() -> None:
    # waste: 80/40/60 → 1, 0, 0.5 (weight 10); meeting: 50/90/70 → 0, 1, 0.5 (weight 30).
    heavy_meeting = indicator("meeting_attendance_pct", weight=30)
    groups = [
        group(1, {"waste_sorting_pct": 80, "meeting_attendance_pct": 50}),
        group(2, {"waste_sorting_pct": 40, "meeting_attendance_pct": 90}),
        group(3, {"waste_sorting_pct": 60, "meeting_attendance_pct": 70}),
    ]
    standings = score_month([WASTE, heavy_meeting], groups, BANDS)
    # TDP01: 100·10/40 = 25; TDP02: 100·30/40 = 75; TDP03: 100·(5 + 15)/40 = 50.
    assert table(standings) == [("TDP02", 75.0, 1), ("TDP03", 50.0, 2), ("TDP01", 25.0, 3)]


def test_lower_is_better() -> None:
    groups = [
        group(1, {"security_incidents": 4}),
        group(2, {"security_incidents": 0}),
        group(3, {"security_incidents": 2}),
    ]
    assert table(score_month([INCIDENTS], groups, BANDS)) == [
        ("TDP02", 100.0, 1),
        ("TDP03", 50.0, 2),
        ("TDP01", 0.0, 3),
    ]


def test_ties_share_a_rank_and_are_ordered_by_code() -> None:
    groups = [
        group(4, {"waste_sorting_pct": 30}),
        group(3, {"waste_sorting_pct": 60}),
        group(2, {"waste_sorting_pct": 60}),
        group(1, {"waste_sorting_pct": 90}),
    ]
    assert table(score_month([WASTE], groups, BANDS)) == [
        ("TDP01", 100.0, 1),
        ("TDP02", 50.0, 2),
        ("TDP03", 50.0, 2),
        ("TDP04", 0.0, 4),
    ]


def test_all_equal_values_give_everyone_full_marks() -> None:
    groups = [group(1, {"waste_sorting_pct": 70}), group(2, {"waste_sorting_pct": 70})]
    assert table(score_month([WASTE], groups, BANDS)) == [("TDP01", 100.0, 1), ("TDP02", 100.0, 1)]


def test_a_single_reporting_group_gets_full_marks() -> None:
    assert table(score_month([INCIDENTS], [group(1, {"security_incidents": 7})], BANDS)) == [
        ("TDP01", 100.0, 1)
    ]


def test_groups_without_a_report_come_last_without_score() -> None:
    groups = [
        group(9, None),
        group(2, {"waste_sorting_pct": 20}),
        group(1, None),
        group(3, {"waste_sorting_pct": 90}),
    ]
    standings = score_month([WASTE], groups, BANDS)
    assert table(standings) == [
        ("TDP03", 100.0, 1),
        ("TDP02", 0.0, 2),
        ("TDP01", None, None),
        ("TDP09", None, None),
    ]
    assert [standing.band for standing in standings[2:]] == [None, None]
    assert [standing.months_reported for standing in standings] == [1, 1, 0, 0]
    assert not standings[2].reported


def test_a_blank_scored_value_counts_as_the_worst() -> None:
    # waste among present values 50..100: blank → 0, 50 → 0, 100 → 1; meeting 100/50/0 → 1, 0.5, 0.
    groups = [
        group(1, {"waste_sorting_pct": None, "meeting_attendance_pct": 100}),
        group(2, {"waste_sorting_pct": 50, "meeting_attendance_pct": 50}),
        group(3, {"waste_sorting_pct": 100, "meeting_attendance_pct": 0}),
    ]
    assert table(score_month([WASTE, MEETING], groups, BANDS)) == [
        ("TDP01", 50.0, 1),
        ("TDP03", 50.0, 1),
        ("TDP02", 25.0, 3),
    ]


def test_a_key_missing_from_the_values_counts_as_blank() -> None:
    groups = [group(1, {}), group(2, {"waste_sorting_pct": 10})]
    assert table(score_month([WASTE], groups, BANDS)) == [("TDP02", 100.0, 1), ("TDP01", 0.0, 2)]


def test_counts_are_compared_per_household() -> None:
    # 9 incidents among 900 households (0.01 each) beats 9 among 100 (0.09 each).
    groups = [
        group(1, {"security_incidents": 9}, households=100),
        group(2, {"security_incidents": 9}, households=900),
    ]
    assert table(score_month([INCIDENTS], groups, BANDS)) == [("TDP02", 100.0, 1), ("TDP01", 0.0, 2)]


def test_per_household_rule() -> None:
    by_key = {item.key: item for item in DEFAULT_INDICATORS}
    for key in ("security_incidents", "petitions", "cleanup_drives", "fund_contributions", "poor_households"):
        assert per_household(by_key[key]), key
    for key in ("waste_sorting_pct", "mediation_success_pct", "births", "moved_in"):
        assert not per_household(by_key[key]), key
    assert per_household(indicator("n", kind=Kind.NUMBER))
    assert not per_household(indicator("yes", kind=Kind.YESNO))
    assert not per_household(indicator("pick", kind=Kind.CHOICE))
    assert not per_household(indicator("n", kind=Kind.INTEGER, target=3))


def test_neutral_and_weightless_indicators_are_ignored() -> None:
    births = indicator("births", kind=Kind.INTEGER, direction=Direction.NEUTRAL, weight=0)
    neutral_weighted = indicator("moved_in", kind=Kind.INTEGER, direction=Direction.NEUTRAL, weight=10)
    weightless = indicator("meeting_attendance_pct", weight=0)
    groups = [
        group(1, {"waste_sorting_pct": 90, "births": 0, "moved_in": 0, "meeting_attendance_pct": 0}),
        group(2, {"waste_sorting_pct": 30, "births": 30, "moved_in": 300, "meeting_attendance_pct": 100}),
    ]
    assert table(score_month([births, WASTE, neutral_weighted, weightless], groups, BANDS)) == [
        ("TDP01", 100.0, 1),
        ("TDP02", 0.0, 2),
    ]


def test_without_scored_indicators_every_reporting_group_gets_100() -> None:
    births = indicator("births", kind=Kind.INTEGER, direction=Direction.NEUTRAL, weight=0)
    groups = [group(1, {"births": 1}), group(2, {"births": 5}), group(3, None)]
    standings = score_month([births], groups, BANDS)
    assert table(standings) == [("TDP01", 100.0, 1), ("TDP02", 100.0, 1), ("TDP03", None, None)]
    assert standings[0].band is Band.EXCELLENT


def test_higher_is_better_against_a_target() -> None:
    # target 80: min(value / 80, 1) → 100 → 1, 60 → 0.75, 0 → 0.
    waste = indicator("waste_sorting_pct", target=80)
    groups = [
        group(1, {"waste_sorting_pct": 60}),
        group(2, {"waste_sorting_pct": 100}),
        group(3, {"waste_sorting_pct": 0}),
    ]
    assert table(score_month([waste], groups, BANDS)) == [
        ("TDP02", 100.0, 1),
        ("TDP01", 75.0, 2),
        ("TDP03", 0.0, 3),
    ]


def test_a_target_lets_everyone_reach_full_marks() -> None:
    waste = indicator("waste_sorting_pct", target=80)
    groups = [group(1, {"waste_sorting_pct": 85}), group(2, {"waste_sorting_pct": 95})]
    assert table(score_month([waste], groups, BANDS)) == [("TDP01", 100.0, 1), ("TDP02", 100.0, 1)]


def test_lower_is_better_against_a_target_uses_the_raw_value() -> None:
    # target 2, not per household: 1 → 1, 3 → 1 - 1/2 = 0.5, 4 → 0, 6 → 0 (floored).
    incidents = indicator("security_incidents", kind=Kind.INTEGER, direction=Direction.LOWER, target=2)
    groups = [
        group(1, {"security_incidents": 1}, households=900),
        group(2, {"security_incidents": 3}, households=100),
        group(3, {"security_incidents": 4}),
        group(4, {"security_incidents": 6}),
    ]
    assert table(score_month([incidents], groups, BANDS)) == [
        ("TDP01", 100.0, 1),
        ("TDP02", 50.0, 2),
        ("TDP03", 0.0, 3),
        ("TDP04", 0.0, 3),
    ]


def test_zero_targets() -> None:
    none_allowed = indicator("security_incidents", kind=Kind.INTEGER, direction=Direction.LOWER, target=0)
    groups = [group(1, {"security_incidents": 0}), group(2, {"security_incidents": 1})]
    assert table(score_month([none_allowed], groups, BANDS)) == [("TDP01", 100.0, 1), ("TDP02", 0.0, 2)]
    trivial = indicator("waste_sorting_pct", target=0)
    assert table(score_month([trivial], [group(1, {"waste_sorting_pct": 0})], BANDS)) == [("TDP01", 100.0, 1)]


def test_scores_round_half_up_to_one_decimal() -> None:
    # Three equal weights, full marks on two of them: 200/3 = 66.67 → 66.7.
    third = indicator("cashless_pct")
    groups = [
        group(1, {"waste_sorting_pct": 90, "meeting_attendance_pct": 90, "cashless_pct": 10}),
        group(2, {"waste_sorting_pct": 10, "meeting_attendance_pct": 10, "cashless_pct": 90}),
    ]
    assert table(score_month([WASTE, MEETING, third], groups, BANDS)) == [
        ("TDP01", 66.7, 1),
        ("TDP02", 33.3, 2),
    ]
    assert round_score(87.25) == 87.3
    assert round_score(87.24999) == 87.2
    assert round_score(100.0) == 100.0


def standing(group_id: int, score: float | None, *, name: str = "") -> Standing:
    return Standing(group_id, f"TDP{group_id:02d}", name or f"Tổ {group_id}", 100, score, None, None, 1, 1)


def test_combine_averages_months_with_a_missing_month_as_zero() -> None:
    months = [
        [standing(1, 90), standing(2, 60), standing(3, None)],
        [standing(1, 80), standing(2, None), standing(3, None)],
        [standing(1, 70), standing(2, 90), standing(3, None), standing(4, 85, name="Tổ mới")],
    ]
    combined = combine(months, BANDS)
    # TDP01: (90+80+70)/3 = 80; TDP02: (60+0+90)/3 = 50; TDP04 listed once: 85; TDP03 never reported.
    assert table(combined) == [
        ("TDP04", 85.0, 1),
        ("TDP01", 80.0, 2),
        ("TDP02", 50.0, 3),
        ("TDP03", None, None),
    ]
    assert [(item.months_reported, item.months_expected) for item in combined] == [
        (1, 1),
        (3, 3),
        (2, 3),
        (0, 3),
    ]
    assert [item.band for item in combined] == [Band.ADVANCED, Band.ADVANCED, Band.NOT_COMPLETED, None]
    assert combined[0].name == "Tổ mới"


def test_combine_rounds_and_reranks_ties() -> None:
    months = [
        [standing(1, 100), standing(2, 50)],
        [standing(1, 0), standing(2, 50)],
        [standing(1, 50), standing(2, 50)],
    ]
    assert table(combine(months, BANDS)) == [("TDP01", 50.0, 1), ("TDP02", 50.0, 1)]
    months = [[standing(1, 100)], [standing(1, 0)], [standing(1, 0)]]
    assert table(combine(months, BANDS)) == [("TDP01", 33.3, 1)]
    assert combine([], BANDS) == []


def test_combine_uses_the_latest_name() -> None:
    months = [[standing(1, 80, name="Tổ cũ")], [standing(1, 80, name="Tổ dân phố số 1")]]
    assert combine(months, BANDS)[0].name == "Tổ dân phố số 1"


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (100, Band.EXCELLENT),
        (90, Band.EXCELLENT),
        (89.9, Band.ADVANCED),
        (80, Band.ADVANCED),
        (79.9, Band.COMPLETED),
        (70, Band.COMPLETED),
        (69.9, Band.NOT_COMPLETED),
        (0, Band.NOT_COMPLETED),
    ],
)
def test_band_boundaries(score: float, band: Band) -> None:
    assert band_for(score, BANDS) is band


def test_bands_follow_the_ward_file() -> None:
    bands = Bands(xuat_sac=95, tien_tien=85, hoan_thanh=60)
    assert band_for(94.9, bands) is Band.ADVANCED
    assert band_for(60, bands) is Band.COMPLETED
    groups = [group(1, {"waste_sorting_pct": 90}), group(2, {"waste_sorting_pct": 0})]
    assert [item.band for item in score_month([WASTE], groups, bands)] == [Band.EXCELLENT, Band.NOT_COMPLETED]


def test_band_labels_are_translated() -> None:
    with use_language("en"):
        assert [band.label() for band in Band] == ["Excellent", "Advanced", "Completed", "Not completed"]
    assert Band.EXCELLENT.value == "xuat_sac"


def test_default_catalogue_scores_within_range() -> None:
    base = {indicator.key: 10.0 for indicator in DEFAULT_INDICATORS}
    better = {**base, "waste_sorting_pct": 95.0, "security_incidents": 0.0, "fund_contributions": 5_000_000.0}
    groups = [group(1, base, households=300), group(2, better, households=300), group(3, None)]
    standings = score_month(DEFAULT_INDICATORS, groups, BANDS)
    assert [item.code for item in standings] == ["TDP02", "TDP01", "TDP03"]
    assert all(item.score is None or 0 <= item.score <= 100 for item in standings)
    assert standings[0].score == 100.0
