"""Standings arithmetic, pinned with hand-worked examples."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.indicators import DEFAULT_INDICATORS, Direction, Frequency, Indicator, Kind
from bot.scoring import (
    GroupFigures,
    Standing,
    band_for,
    combine,
    per_household,
    round_score,
    score_month,
)
from bot.ward_config import POINTS_BANDS, Bands, Scoring

BANDS = Bands()
EXCELLENT, ADVANCED, COMPLETED, NOT_COMPLETED = "Xuất sắc", "Tiên tiến", "Hoàn thành", "Chưa hoàn thành"


def band_name(standing: Standing) -> str | None:
    """The band's Vietnamese name, as the standings table shows it to staff."""
    return standing.band.name_in("vi") if standing.band is not None else None


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
    assert [band_name(standing) for standing in standings] == [EXCELLENT, NOT_COMPLETED]
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
    # The built-in catalogue states targets, so relative scoring compares its counts as reported.
    for key in ("security_incidents", "cleanup_drives", "mediation_settled"):
        assert not per_household(by_key[key]), key
    assert per_household(dataclasses.replace(by_key["security_incidents"], target=None))
    for key in ("waste_sorting_pct", "births", "moved_in", "petitions", "fund_contributions"):
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
    assert band_name(standings[0]) == EXCELLENT


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
    assert [band_name(item) for item in combined] == [ADVANCED, ADVANCED, NOT_COMPLETED, None]
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
        (100, EXCELLENT),
        (90, EXCELLENT),
        (89.9, ADVANCED),
        (80, ADVANCED),
        (79.9, COMPLETED),
        (70, COMPLETED),
        (69.9, NOT_COMPLETED),
        (0, NOT_COMPLETED),
    ],
)
def test_band_boundaries(score: float, band: str) -> None:
    found = band_for(score, BANDS)
    assert found is not None and found.name_in("vi") == band


def test_bands_follow_the_ward_file() -> None:
    bands = Bands(xuat_sac=95, tien_tien=85, hoan_thanh=60)
    assert band_for(94.9, bands) == bands.entries()[1]
    assert band_for(60, bands) == bands.entries()[2]
    groups = [group(1, {"waste_sorting_pct": 90}), group(2, {"waste_sorting_pct": 0})]
    assert [band_name(item) for item in score_month([WASTE], groups, bands)] == [EXCELLENT, NOT_COMPLETED]


def test_band_names_come_in_both_languages() -> None:
    assert [band.name_in("en") for band in BANDS.entries()] == [
        "Excellent",
        "Advanced",
        "Completed",
        "Not completed",
    ]


def test_default_catalogue_scores_within_range() -> None:
    base = {indicator.key: 10.0 for indicator in DEFAULT_INDICATORS}
    better = {**base, "waste_sorting_pct": 95.0, "security_incidents": 0.0, "fund_contributions": 5_000_000.0}
    groups = [group(1, base, households=300), group(2, better, households=300), group(3, None)]
    standings = score_month(DEFAULT_INDICATORS, groups, BANDS)
    assert [item.code for item in standings] == ["TDP02", "TDP01", "TDP03"]
    assert all(item.score is None or 0 <= item.score <= 100 for item in standings)


# --- the points sheet (scoring = "points") ------------------------------------------------------

POINTS = Scoring.POINTS


def sheet(
    key: str,
    points: float,
    *,
    kind: Kind = Kind.PERCENT,
    direction: Direction = Direction.HIGHER,
    target: float | None = None,
    deduct: float | None = None,
    choice_points: tuple[float, ...] = (),
    share_of: str | None = None,
    frequency: Frequency = Frequency.MONTHLY,
) -> Indicator:
    return Indicator(
        key=key,
        label={"vi": key, "en": key},
        help={},
        unit="",
        kind=kind,
        min=0 if kind is not Kind.YESNO else None,
        max=100 if kind is Kind.PERCENT else None,
        direction=direction,
        weight=10,
        target=target,
        points=points,
        deduct=deduct,
        choices=tuple(str(n) for n in range(len(choice_points))),
        choice_points=choice_points,
        share_of=share_of,
        frequency=frequency,
    )


def points_of(indicators: list[Indicator], *values: Mapping[str, float | None]) -> list[float | None]:
    """Scores in the order the groups were given (ranked order is tested separately)."""
    groups = [group(number, report) for number, report in enumerate(values, start=1)]
    by_id = {s.group_id: s.score for s in score_month(indicators, groups, POINTS_BANDS, scoring=POINTS)}
    return [by_id[number] for number in range(1, len(values) + 1)]


WASTE_15 = sheet("waste", 15, target=90)
INCIDENTS_15 = sheet("incidents", 15, kind=Kind.INTEGER, direction=Direction.LOWER, target=0, deduct=5)


def test_points_are_linear_to_the_target_and_capped() -> None:
    # 15 × min(value / 90, 1): 45 → 7.5 of 15 = 50 %; 81 → 13.5 = 90 %; 90 and 99 → full.
    assert points_of([WASTE_15], {"waste": 45}, {"waste": 81}, {"waste": 90}, {"waste": 99}) == [
        50.0,
        90.0,
        100.0,
        100.0,
    ]


def test_a_target_of_zero_is_always_met() -> None:
    assert points_of([sheet("x", 10, target=0)], {"x": 0}) == [100.0]


def test_deductions_per_unit_above_the_target_are_floored_at_zero() -> None:
    # 15 − 5 per case: 0 → 15, 1 → 10 (66,7 %), 2 → 5 (33,3 %), 3 → 0, 7 → 0 (never negative).
    values = [{"incidents": n} for n in (0, 1, 2, 3, 7)]
    assert points_of([INCIDENTS_15], *values) == [100.0, 66.7, 33.3, 0.0, 0.0]
    above_two = sheet("late", 10, kind=Kind.INTEGER, direction=Direction.LOWER, target=2, deduct=4)
    assert points_of([above_two], {"late": 2}, {"late": 3}, {"late": 5}) == [100.0, 60.0, 0.0]


def test_yes_no_earns_all_or_nothing_for_the_good_answer() -> None:
    no_fire = sheet("no_fire", 10, kind=Kind.YESNO)
    had_fire = sheet("had_fire", 10, kind=Kind.YESNO, direction=Direction.LOWER)
    assert points_of([no_fire], {"no_fire": 1}, {"no_fire": 0}) == [100.0, 0.0]
    assert points_of([had_fire], {"had_fire": 0}, {"had_fire": 1}) == [100.0, 0.0]


def test_choice_points_one_number_per_choice() -> None:
    rating = sheet("rating", 10, kind=Kind.CHOICE, choice_points=(10, 5, 0))
    assert points_of([rating], {"rating": 0}, {"rating": 1}, {"rating": 2}) == [100.0, 50.0, 0.0]


def test_a_sheet_that_does_not_sum_to_100_is_scaled_to_100() -> None:
    # 15 + 5 = 20 points possible; 15 earned (waste met, 1 incident costs all 5) → 75.
    incidents_5 = sheet("incidents", 5, kind=Kind.INTEGER, direction=Direction.LOWER, target=0, deduct=5)
    assert points_of([WASTE_15, incidents_5], {"waste": 95, "incidents": 1}) == [75.0]


def test_a_blank_earns_nothing_and_no_report_has_no_score() -> None:
    groups = [group(1, {"waste": None}), group(2, None)]
    standings = score_month([WASTE_15], groups, POINTS_BANDS, scoring=POINTS)
    assert table(standings) == [("TDP01", 0.0, 1), ("TDP02", None, None)]


def test_mediation_is_scored_on_the_settled_share_and_full_when_none_arose() -> None:
    cases = Indicator("cases", {"vi": "c"}, {}, "vụ", Kind.INTEGER, 0, 50)
    settled = sheet("settled", 10, kind=Kind.INTEGER, target=80, share_of="cases")
    # 3 of 4 settled = 75 % of the 80 % target → 9,375 of 10; none arose → full; 4 of 4 → full.
    values = [{"cases": 4, "settled": 3}, {"cases": 0, "settled": 0}, {"cases": 4, "settled": 4}]
    assert points_of([cases, settled], *values) == [93.8, 100.0, 100.0]
    assert points_of([cases, settled], {"cases": None, "settled": 2}) == [0.0]


def test_only_indicators_asked_that_month_count() -> None:
    yearly = sheet("yearly", 10, target=100, frequency=Frequency.YEARLY)  # asked in December
    groups = [group(1, {"waste": 90})]
    october = score_month([WASTE_15, yearly], groups, POINTS_BANDS, scoring=POINTS, month=10)
    december = score_month([WASTE_15, yearly], groups, POINTS_BANDS, scoring=POINTS, month=12)
    assert (october[0].score, december[0].score) == (100.0, 60.0)  # 15 of 25 in December


def test_bonus_is_added_to_the_score_and_never_takes_it_below_zero() -> None:
    groups = [group(1, {"waste": 45}), group(2, {"waste": 45}), group(3, {"waste": 45})]
    standings = score_month([WASTE_15], groups, POINTS_BANDS, scoring=POINTS, bonuses={1: 5.0, 2: -60.0})
    assert table(standings) == [("TDP01", 55.0, 1), ("TDP03", 50.0, 2), ("TDP02", 0.0, 3)]
    assert [s.bonus for s in standings] == [5.0, 0.0, -60.0]


def test_ties_share_a_rank_on_the_points_sheet() -> None:
    standings = score_month(
        [WASTE_15],
        [group(1, {"waste": 99}), group(2, {"waste": 90}), group(3, {"waste": 45})],
        POINTS_BANDS,
        scoring=POINTS,
    )
    assert table(standings) == [("TDP01", 100.0, 1), ("TDP02", 100.0, 1), ("TDP03", 50.0, 3)]


def test_the_wards_bands_and_their_public_flag() -> None:
    scores = {1: 90, 2: 89.9, 3: 70, 4: 50, 5: 49.9}
    groups = [group(n, {"waste": 90 * score / 100}) for n, score in scores.items()]
    standings = score_month([WASTE_15], groups, POINTS_BANDS, scoring=POINTS)
    names = [(s.code, band_name(s), s.band.public if s.band else None) for s in standings]
    assert names == [
        ("TDP01", "Hoàn thành xuất sắc", True),
        ("TDP02", "Hoàn thành tốt", True),
        ("TDP03", "Hoàn thành tốt", True),
        ("TDP04", "Hoàn thành", True),
        ("TDP05", "Chưa hoàn thành", False),
    ]
    no_lowest = score_month([WASTE_15], [group(1, {"waste": 9})], POINTS_BANDS[:1], scoring=POINTS)
    assert no_lowest[0].band is None  # below every band: no band


def test_worked_example_of_the_readme() -> None:
    """README "The points sheet": one group's month on the built-in sheet, line by line."""
    values = {
        "security_incidents": 1,  # 15 − 5 = 10
        "mediation_cases": 4,
        "mediation_settled": 3,  # 75 % of 80 % → 9,375
        "waste_sorting_pct": 81,  # 81 / 90 × 15 = 13,5
        "cleanup_drives": 1,  # 1 / 2 × 10 = 5
        "meeting_attendance_pct": 80,  # 10
        "vneid_level2_pct": 72,  # 72 / 90 × 10 = 8
        "cashless_pct": 70,  # 5
        "health_insurance_pct": 93,  # 10
        "no_fire": 1,  # 10
        "no_mass_complaints": 1,  # 5
        "petitions": 6,  # recorded, not scored
        "fund_contributions": 0,  # recorded, not scored
    }
    (standing,) = score_month(DEFAULT_INDICATORS, [group(1, values)], POINTS_BANDS, scoring=POINTS, month=10)
    assert standing.score == 85.9 and band_name(standing) == "Hoàn thành tốt"
    (with_bonus,) = score_month(
        DEFAULT_INDICATORS, [group(1, values)], POINTS_BANDS, scoring=POINTS, month=10, bonuses={1: 5}
    )
    assert with_bonus.score == 90.9 and band_name(with_bonus) == "Hoàn thành xuất sắc"


def test_averaging_counts_months_from_the_groups_creation() -> None:
    """A group listed only from its creation on: earlier months do not count; a missed one is 0."""
    months = [
        [standing(1, 80)],
        [standing(1, 90), standing(2, None)],  # TDP02 created this month and missed it
        [standing(1, 100), standing(2, 90)],
    ]
    combined = combine(months, POINTS_BANDS)
    assert table(combined) == [("TDP01", 90.0, 1), ("TDP02", 45.0, 2)]
    assert [(s.months_reported, s.months_expected) for s in combined] == [(3, 3), (1, 2)]


# The default sheet's scored indicators and what "90 % of the target, no deduction" allows.
DEFAULT_SHEET = [indicator for indicator in DEFAULT_INDICATORS if indicator.on_sheet]


@st.composite
def good_report(draw: st.DrawFn) -> dict[str, float | None]:
    """A month where every target is reached at least to 90 % and nothing costs a deduction."""
    values: dict[str, float | None] = {
        indicator.key: draw(st.floats(0, indicator.max or 1000, allow_nan=False))
        for indicator in DEFAULT_INDICATORS
        if not indicator.on_sheet
    }
    for indicator in DEFAULT_SHEET:
        if indicator.kind is Kind.YESNO:
            values[indicator.key] = 1.0
        elif indicator.direction is Direction.LOWER:
            values[indicator.key] = draw(st.floats(0, indicator.target or 0.0))
        elif indicator.share_of is not None:
            cases = draw(st.integers(0, 50))
            low = math.ceil(cases * 0.9 * (indicator.target or 100) / 100)
            values[indicator.share_of] = float(cases)
            values[indicator.key] = float(draw(st.integers(min(low, cases), cases)))
        else:
            target = indicator.target or 0.0
            top = indicator.max if indicator.max is not None else target * 3
            values[indicator.key] = draw(st.floats(0.9 * target, max(top, 0.9 * target)))
    return values


@settings(max_examples=200, deadline=None)
@given(st.lists(good_report(), min_size=1, max_size=8), st.integers(1, 12))
def test_every_group_near_every_target_is_in_the_top_band(
    reports: list[dict[str, float | None]], month: int
) -> None:
    groups = [group(number, report) for number, report in enumerate(reports, start=1)]
    standings = score_month(DEFAULT_INDICATORS, groups, POINTS_BANDS, scoring=POINTS, month=month)
    assert all(s.band == POINTS_BANDS[0] for s in standings), [(s.code, s.score) for s in standings]
