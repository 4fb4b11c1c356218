"""The default indicator catalogue and its fingerprint."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bot.indicators import (
    DEFAULT_INDICATORS,
    Direction,
    Frequency,
    Indicator,
    Kind,
    catalogue_fingerprint,
    catalogue_from_json,
    catalogue_json,
)

EXPECTED_KEYS = (
    "births",
    "deaths",
    "moved_in",
    "moved_out",
    "temp_residents",
    "security_incidents",
    "mediation_success_pct",
    "petitions",
    "waste_sorting_pct",
    "cleanup_drives",
    "fund_contributions",
    "poor_households",
    "vneid_level2_pct",
    "cashless_pct",
    "meeting_attendance_pct",
    "cleanup_photos",
    "proposals",
)
FREE_KINDS = (Kind.TEXT, Kind.PHOTO)


def test_default_catalogue_has_the_seventeen_keys_in_order() -> None:
    keys = tuple(indicator.key for indicator in DEFAULT_INDICATORS)
    assert keys == EXPECTED_KEYS
    assert len(set(keys)) == 17


def test_default_catalogue_ends_with_optional_photos_and_proposals() -> None:
    """Every monthly report of a group ends with "Kiến nghị, đề xuất"; photos are the clean-up's evidence."""
    photos, proposals = DEFAULT_INDICATORS[-2:]
    assert (photos.kind, photos.required, photos.max_photos) == (Kind.PHOTO, False, 3)
    assert (proposals.kind, proposals.required, proposals.max_length) == (Kind.TEXT, False, 1000)
    assert proposals.label_in("vi") == "Kiến nghị, đề xuất"
    assert not photos.scored and not proposals.scored


def test_poor_households_are_asked_once_a_year() -> None:
    by_key = {indicator.key: indicator for indicator in DEFAULT_INDICATORS}
    assert by_key["poor_households"].months == (12,)
    assert by_key["births"].months == tuple(range(1, 13))


@pytest.mark.parametrize("indicator", DEFAULT_INDICATORS, ids=lambda i: i.key)
def test_every_default_has_texts_in_both_languages(indicator: Indicator) -> None:
    assert indicator.label["vi"] and indicator.label["en"]
    assert indicator.help["vi"] and indicator.help["en"]
    assert bool(indicator.unit) == (indicator.kind not in FREE_KINDS)
    assert indicator.required == (indicator.kind not in FREE_KINDS)


@pytest.mark.parametrize("indicator", DEFAULT_INDICATORS, ids=lambda i: i.key)
def test_every_default_range_is_consistent(indicator: Indicator) -> None:
    if indicator.kind in FREE_KINDS:
        assert (indicator.min, indicator.max, indicator.scored) == (None, None, False)
        return
    assert indicator.min == 0
    high = indicator.max if indicator.max is not None else float("inf")
    for soft in (indicator.soft_min, indicator.soft_max):
        if soft is not None:
            assert indicator.min <= soft <= high
    if indicator.kind is Kind.PERCENT:
        assert (indicator.min, indicator.max, indicator.unit) == (0, 100, "%")
    assert indicator.scored == (indicator.direction is not Direction.NEUTRAL)
    assert indicator.weight == (10 if indicator.scored else 0)


def test_table_details() -> None:
    by_key = {indicator.key: indicator for indicator in DEFAULT_INDICATORS}
    assert by_key["births"].label_in("vi") == "Số trẻ sinh"
    assert by_key["births"].label_in("en") == "Births"
    assert not by_key["births"].scored
    assert by_key["security_incidents"].direction is Direction.LOWER
    assert by_key["security_incidents"].soft_max == 10
    assert by_key["fund_contributions"].kind is Kind.MONEY
    assert by_key["fund_contributions"].max == 500_000_000
    poor = by_key["poor_households"]
    assert (poor.min, poor.max, poor.max_is_households, poor.unit) == (0, None, True, "hộ")
    assert by_key["cleanup_drives"].direction is Direction.HIGHER
    assert sum(indicator.scored for indicator in DEFAULT_INDICATORS) == 10


def test_label_falls_back_to_vietnamese() -> None:
    indicator = Indicator(
        key="x", label={"vi": "Chỉ tiêu"}, help={"vi": "Giúp"}, unit="", kind=Kind.YESNO, min=None, max=None
    )
    assert indicator.label_in("en") == "Chỉ tiêu"
    assert indicator.label_in("fr") == "Chỉ tiêu"
    assert indicator.help_in("en") == "Giúp"


def test_indicators_are_hashable_and_frozen() -> None:
    indicator = DEFAULT_INDICATORS[0]
    assert hash(indicator) == hash(dataclasses.replace(indicator))
    with pytest.raises(dataclasses.FrozenInstanceError):
        indicator.key = "other"  # type: ignore[misc]


def test_fingerprint_is_stable() -> None:
    first = catalogue_fingerprint(DEFAULT_INDICATORS)
    assert first == catalogue_fingerprint(list(DEFAULT_INDICATORS))
    assert first == catalogue_fingerprint(tuple(dataclasses.replace(i) for i in DEFAULT_INDICATORS))
    assert len(first) == 16
    int(first, 16)


def test_fingerprint_does_not_depend_on_int_or_float() -> None:
    indicator = DEFAULT_INDICATORS[0]
    as_float = dataclasses.replace(indicator, min=0.0, max=30.0)
    assert catalogue_fingerprint([indicator]) == catalogue_fingerprint([as_float])


@pytest.mark.parametrize(
    "change",
    [
        {"key": "births_total"},
        {"label": {"vi": "Số trẻ sinh ra", "en": "Births"}},
        {"help": {"vi": "khác", "en": "other"}},
        {"unit": "trẻ"},
        {"kind": Kind.NUMBER},
        {"min": 1},
        {"max": 31},
        {"soft_min": 1},
        {"soft_max": 16},
        {"required": False},
        {"direction": Direction.HIGHER},
        {"weight": 5},
        {"target": 3},
        {"max_is_households": True},
    ],
    ids=lambda change: next(iter(change)),
)
def test_fingerprint_changes_when_a_field_changes(change: dict[str, Any]) -> None:
    changed = (dataclasses.replace(DEFAULT_INDICATORS[0], **change), *DEFAULT_INDICATORS[1:])
    assert catalogue_fingerprint(changed) != catalogue_fingerprint(DEFAULT_INDICATORS)


def test_fingerprint_changes_with_order_and_choices() -> None:
    reordered = (DEFAULT_INDICATORS[1], DEFAULT_INDICATORS[0], *DEFAULT_INDICATORS[2:])
    assert catalogue_fingerprint(reordered) != catalogue_fingerprint(DEFAULT_INDICATORS)
    choice = Indicator(
        key="c", label={"vi": "C"}, help={}, unit="", kind=Kind.CHOICE, min=None, max=None, choices=("a", "b")
    )
    other = dataclasses.replace(choice, choices=("a", "c"))
    assert catalogue_fingerprint([choice]) != catalogue_fingerprint([other])


def test_default_fingerprint_did_not_move() -> None:
    """The fields added for points, seasons and free answers stay out of an unchanged catalogue's id
    (it moved once, when the default catalogue gained its photo and text questions and a yearly one)."""
    assert catalogue_fingerprint(DEFAULT_INDICATORS) == "de83aba5730622e0"


@pytest.mark.parametrize(
    "change",
    [
        {"points": 10},
        {"deduct": 2},
        {"choice_points": (1.0,)},
        {"frequency": Frequency.YEARLY},
        {"asked_in": (1,)},
        {"max_length": 500},
        {"max_photos": 2},
    ],
    ids=lambda change: next(iter(change)),
)
def test_fingerprint_changes_when_a_new_field_is_set(change: dict[str, Any]) -> None:
    changed = (dataclasses.replace(DEFAULT_INDICATORS[0], **change), *DEFAULT_INDICATORS[1:])
    assert catalogue_fingerprint(changed) != catalogue_fingerprint(DEFAULT_INDICATORS)


def test_stored_catalogue_reads_back_with_the_new_fields() -> None:
    photo = Indicator(
        key="p",
        label={"vi": "Ảnh"},
        help={},
        unit="",
        kind=Kind.PHOTO,
        min=None,
        max=None,
        required=False,
        max_photos=3,
    )
    choice = Indicator(
        key="c",
        label={"vi": "C"},
        help={},
        unit="",
        kind=Kind.CHOICE,
        min=None,
        max=None,
        direction=Direction.HIGHER,
        weight=10,
        choices=("a", "b"),
        points=10,
        choice_points=(10, 2.5),
        frequency=Frequency.QUARTERLY,
        asked_in=(1, 4, 7, 10),
    )
    catalogue = (*DEFAULT_INDICATORS, photo, choice)
    assert catalogue_from_json(catalogue_json(catalogue)) == catalogue


def test_months_follow_the_frequency() -> None:
    indicator = DEFAULT_INDICATORS[0]
    assert indicator.months == tuple(range(1, 13))
    assert dataclasses.replace(indicator, frequency=Frequency.QUARTERLY).months == (3, 6, 9, 12)
    assert dataclasses.replace(indicator, frequency=Frequency.YEARLY).months == (12,)
    assert dataclasses.replace(indicator, frequency=Frequency.YEARLY, asked_in=(1,)).months == (1,)
