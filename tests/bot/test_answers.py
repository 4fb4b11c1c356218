"""Reading what group heads type, checking it against an indicator, and showing it back."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.answers import (
    MAX_PHOTO_BYTES,
    AnswerRefused,
    Checked,
    Refusal,
    check_answer,
    check_photo,
    check_text,
    count_answer,
    format_number,
    format_value,
    parse_number,
    shorten,
)
from bot.i18n import use_language
from bot.indicators import DEFAULT_INDICATORS, Indicator, Kind

BY_KEY = {indicator.key: indicator for indicator in DEFAULT_INDICATORS}
BIRTHS = BY_KEY["births"]  # integer 0–30, soft max 15
PERCENT = BY_KEY["waste_sorting_pct"]  # percent 0–100
MONEY = BY_KEY["fund_contributions"]  # money 0–500,000,000, soft max 100,000,000
POOR = BY_KEY["poor_households"]  # integer, max is the household count


def _indicator(kind: Kind, **changes: object) -> Indicator:
    base = Indicator(
        key="x",
        label={"vi": "X", "en": "X"},
        help={"vi": "", "en": ""},
        unit="",
        kind=kind,
        min=None,
        max=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


YESNO = _indicator(Kind.YESNO)
CHOICE = _indicator(Kind.CHOICE, choices=("Tốt", "Khá", "Trung bình"))
NUMBER = _indicator(Kind.NUMBER, min=-10, max=10, soft_min=-5, soft_max=5, unit="°C")


# --- parse_number ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.500.000", "1500000"),
        ("1500000", "1500000"),
        ("0", "0"),
        ("007", "7"),
        ("1,5", "1.5"),
        ("1.5", "1.5"),
        ("12.25", "12.25"),
        ("0,75", "0.75"),
        ("0.500", "0.5"),
        ("12%", "12"),
        ("12 %", "12"),
        ("12,5%", "12.5"),
        ("  42  ", "42"),
        ("1 500 000", "1500000"),
        ("1\u00a0500\u00a0000", "1500000"),
        ("-3", "-3"),
        ("−3", "-3"),
        ("+5", "5"),
        ("-0", "0"),
        ("1.500,5", "1500.5"),
        ("1 500,25", "1500.25"),
        ("1,500,000", "1500000"),
        ("1,500,000.5", "1500000.5"),
        ("１２", "12"),
        # the documented ambiguity: Vietnamese thousands dot, Vietnamese decimal comma
        ("1.500", "1500"),
        ("1,500", "1.5"),
        # money words
        ("1,5 triệu", "1500000"),
        ("1.5 triệu", "1500000"),
        ("1,5 TRIỆU", "1500000"),
        ("1,5 trieu", "1500000"),
        ("1tr5", "1500000"),
        ("1TR5", "1500000"),
        ("2tr250", "2250000"),
        ("2 tr", "2000000"),
        ("2tr", "2000000"),
        ("500k", "500000"),
        ("500 K", "500000"),
        ("1k5", "1500"),
        ("500 nghìn", "500000"),
        ("500 ngàn", "500000"),
        ("500 nghin", "500000"),
        ("500 ngan", "500000"),
        ("2 tỷ", "2000000000"),
        ("2 tỉ", "2000000000"),
        ("2 ty", "2000000000"),
        ("2 Tỷ", "2000000000"),
        ("1 tỷ 200 triệu", "1200000000"),
        ("2 triệu 500 nghìn", "2500000"),
        ("2 triệu 500", "2500000"),
        ("1 500 k", "1500000"),
        ("-2 triệu", "-2000000"),
        # currency words
        ("500.000đ", "500000"),
        ("500.000 đồng", "500000"),
        ("500.000 VNĐ", "500000"),
        ("500.000 vnd", "500000"),
        ("1tr5 đ", "1500000"),
        ("2 triệu đồng", "2000000"),
    ],
)
def test_parse_number_reads_vietnamese_habits(text: str, expected: str) -> None:
    assert parse_number(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "mười",
        "👍",
        "1.2.3",
        "12abc",
        "1234.500",
        "1.50.000",
        "1,500.5",
        "1..5",
        "1,,5",
        ".5",
        "5.",
        "--3",
        "+-3",
        "%",
        "12%%",
        "%12",
        "12 % đồng",
        "1e5",
        "0x10",
        "nan",
        "inf",
        "1/2",
        "triệu",
        "1 triệu 2 tỷ",
        "1 triệu 1500 nghìn",
        "1,5tr5",
        "1k5000",
        "5 người",
        "1" * 41,
        "đ",
    ],
)
def test_parse_number_refuses_the_rest(text: str) -> None:
    assert parse_number(text) is None


def test_parse_number_length_cap_is_forty_characters() -> None:
    padded = "1" + " " * 39
    assert len(padded) == 40 and parse_number(padded) == 1
    assert parse_number(padded + " ") is None


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_vietnamese_formatting_reads_back(number: int) -> None:
    assert parse_number(format_number(number, language="vi")) == number


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_english_formatting_without_separators_reads_back(number: int) -> None:
    assert parse_number(format_number(number, language="en").replace(",", "")) == number


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_two_decimal_figures_read_back(number: Decimal) -> None:
    assert parse_number(format_number(float(number), language="vi")) == number
    assert parse_number(format_number(float(number), language="en").replace(",", "")) == number


# --- format_number --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "vi", "en"),
    [
        (0, "0", "0"),
        (7, "7", "7"),
        (1500, "1.500", "1,500"),
        (1_500_000, "1.500.000", "1,500,000"),
        (1_500_000.0, "1.500.000", "1,500,000"),
        (1.5, "1,5", "1.5"),
        (1.25, "1,25", "1.25"),
        (1.10, "1,1", "1.1"),
        (1.005, "1,01", "1.01"),
        (2.999, "3", "3"),
        (1500.5, "1.500,5", "1,500.5"),
        (-3, "-3", "-3"),
        (-1234.5, "-1.234,5", "-1,234.5"),
        (-0.001, "0", "0"),
        (10**15, "1.000.000.000.000.000", "1,000,000,000,000,000"),
        (float("nan"), "—", "—"),
    ],
)
def test_format_number(value: float, vi: str, en: str) -> None:
    assert format_number(value) == vi
    assert format_number(value, language="vi") == vi
    assert format_number(value, language="en") == en


# --- check_answer ---------------------------------------------------------------------------------


def _refusal(indicator: Indicator, text: str, **kwargs: object) -> AnswerRefused:
    with pytest.raises(AnswerRefused) as caught:
        check_answer(indicator, text, **kwargs)  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize(
    ("indicator", "text", "value", "outside_soft"),
    [
        (BIRTHS, "3", 3.0, False),
        (BIRTHS, " 15 ", 15.0, False),
        (BIRTHS, "16", 16.0, True),
        (BIRTHS, "30", 30.0, True),
        (BIRTHS, "0", 0.0, False),
        (BIRTHS, "3,0", 3.0, False),
        (BY_KEY["temp_residents"], "1.500", None, None),
        (PERCENT, "12", 12.0, False),
        (PERCENT, "12%", 12.0, False),
        (PERCENT, "12,5 %", 12.5, False),
        (PERCENT, "100", 100.0, False),
        (MONEY, "1.500.000", 1_500_000.0, False),
        (MONEY, "1tr5", 1_500_000.0, False),
        (MONEY, "500k", 500_000.0, False),
        (MONEY, "500.000đ", 500_000.0, False),
        (MONEY, "150 triệu", 150_000_000.0, True),
        (MONEY, "1500,5", 1500.5, False),
        (NUMBER, "-3", -3.0, False),
        (NUMBER, "-7,5", -7.5, True),
        (NUMBER, "2,5", 2.5, False),
    ],
)
def test_check_answer_accepts(
    indicator: Indicator, text: str, value: float | None, outside_soft: bool
) -> None:
    if value is None:  # 1.500 people is above the 500 maximum: thousands, not 1.5
        assert _refusal(indicator, text).reason is Refusal.ABOVE_MAX
        return
    assert check_answer(indicator, text) == Checked(value=value, outside_soft=outside_soft)


@pytest.mark.parametrize(
    ("indicator", "text", "reason"),
    [
        (BIRTHS, "ba", Refusal.NOT_A_NUMBER),
        (BIRTHS, "", Refusal.NOT_A_NUMBER),
        (BIRTHS, "12%", Refusal.NOT_A_NUMBER),
        (BIRTHS, "5 đồng", Refusal.NOT_A_NUMBER),
        (BIRTHS, "1" * 41, Refusal.NOT_A_NUMBER),
        (BIRTHS, "-1", Refusal.NEGATIVE),
        (BIRTHS, "-1,5", Refusal.NEGATIVE),
        (BIRTHS, "1,5", Refusal.NOT_WHOLE),
        (BIRTHS, "31", Refusal.ABOVE_MAX),
        (BIRTHS, "x" * 201, Refusal.TOO_LONG),
        (BIRTHS, "1" * 201, Refusal.TOO_LONG),
        (PERCENT, "101", Refusal.ABOVE_MAX),
        (PERCENT, "100,5%", Refusal.ABOVE_MAX),
        (PERCENT, "-5%", Refusal.NEGATIVE),
        (PERCENT, "1k", Refusal.NOT_A_NUMBER),
        (PERCENT, "12 đ", Refusal.NOT_A_NUMBER),
        (MONEY, "600 triệu", Refusal.ABOVE_MAX),
        (MONEY, "-500k", Refusal.NEGATIVE),
        (MONEY, "5%", Refusal.NOT_A_NUMBER),
        (NUMBER, "-11", Refusal.BELOW_MIN),
        (NUMBER, "10,01", Refusal.ABOVE_MAX),
        (YESNO, "có lẽ", Refusal.NOT_YES_NO),
        (YESNO, "2", Refusal.NOT_YES_NO),
        (YESNO, "", Refusal.NOT_YES_NO),
        (YESNO, "y" * 201, Refusal.TOO_LONG),
        (CHOICE, "Giỏi", Refusal.UNKNOWN_CHOICE),
        (CHOICE, "0", Refusal.UNKNOWN_CHOICE),
        (CHOICE, "4", Refusal.UNKNOWN_CHOICE),
        (CHOICE, "", Refusal.UNKNOWN_CHOICE),
    ],
)
def test_check_answer_refuses(indicator: Indicator, text: str, reason: Refusal) -> None:
    assert _refusal(indicator, text).reason is reason


def test_range_details_are_formatted_for_display() -> None:
    refused = _refusal(MONEY, "600 triệu", language="vi")
    assert refused.details == {"value": "600.000.000", "min": "0", "max": "500.000.000"}
    refused = _refusal(MONEY, "600 triệu", language="en")
    assert refused.details["max"] == "500,000,000"
    with use_language("en"):
        assert _refusal(MONEY, "600 triệu").details["max"] == "500,000,000"
    assert _refusal(NUMBER, "-10,5", language="vi").details == {"value": "-10,5", "min": "-10", "max": "10"}


def test_other_refusals_carry_details() -> None:
    assert _refusal(BIRTHS, "1,5", language="vi").details == {"value": "1,5"}
    assert _refusal(BIRTHS, "-2", language="vi").details == {"value": "-2"}
    assert _refusal(BIRTHS, "x" * 201).details == {"limit": "200"}
    assert _refusal(BIRTHS, "ba").details == {}
    assert str(_refusal(BIRTHS, "ba")) == "not_a_number"


def test_households_are_the_maximum_of_a_household_indicator() -> None:
    assert check_answer(POOR, "1000") == Checked(1000.0, False)  # no household count: no maximum
    assert check_answer(POOR, "312", households=312) == Checked(312.0, False)
    refused = _refusal(POOR, "313", households=312, language="vi")
    assert refused.reason is Refusal.ABOVE_MAX
    assert refused.details["max"] == "312"
    capped = dataclasses.replace(POOR, max=100.0)
    assert _refusal(capped, "150", households=312).reason is Refusal.ABOVE_MAX
    assert _refusal(BIRTHS, "31", households=312).reason is Refusal.ABOVE_MAX  # not a household indicator


@pytest.mark.parametrize(
    "text",
    [
        "có",
        "Có",
        "CÓ",
        "co",
        "c",
        "C",
        "yes",
        "Yes",
        "y",
        "1",
        "rồi",
        "Rồi",
        "roi",
        "ok",
        "OK",
        "x",
        "X",
        " có. ",
    ],
)
def test_yes(text: str) -> None:
    assert check_answer(YESNO, text) == Checked(1.0, False)


@pytest.mark.parametrize(
    "text",
    ["không", "Không", "KHÔNG", "khong", "k", "K", "ko", "Ko", "no", "No", "n", "0", "chưa", "Chưa", "chua"],
)
def test_no(text: str) -> None:
    assert check_answer(YESNO, text) == Checked(0.0, False)


def test_not_yes_no_names_the_words() -> None:
    with use_language("en"):
        assert _refusal(YESNO, "maybe").details == {"yes": "Yes", "no": "No"}
    assert _refusal(YESNO, "có lẽ", language="vi").details == {"yes": "Có", "no": "Không"}


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("Tốt", 0),
        ("tốt", 0),
        ("  TỐT ", 0),
        ("tot", 0),
        ("Khá", 1),
        ("trung   bình", 2),
        ("Trung binh", 2),
        ("1", 0),
        ("2", 1),
        ("3", 2),
        ("3.", 2),
    ],
)
def test_choice(text: str, index: int) -> None:
    assert check_answer(CHOICE, text) == Checked(float(index), False)


def test_choice_text_wins_over_its_number() -> None:
    numbered = _indicator(Kind.CHOICE, choices=("2", "1"))
    assert check_answer(numbered, "1").value == 1.0


def test_choice_without_accents_must_be_unambiguous() -> None:
    accents = _indicator(Kind.CHOICE, choices=("Có", "Cơ"))
    assert check_answer(accents, "cơ").value == 1.0
    assert _refusal(accents, "co").reason is Refusal.UNKNOWN_CHOICE


def test_unknown_choice_lists_the_choices() -> None:
    refused = _refusal(CHOICE, "Giỏi")
    assert refused.details == {"choices": "1. Tốt\n2. Khá\n3. Trung bình", "count": "3"}


# --- format_value ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("indicator", "value", "vi", "en"),
    [
        (BIRTHS, 3.0, "3 trẻ", "3 children"),
        (BY_KEY["temp_residents"], 1500.0, "1.500 người", "1,500 people"),
        (PERCENT, 12.0, "12%", "12%"),
        (PERCENT, 12.5, "12,5%", "12.5%"),
        (NUMBER, -2.5, "-2,5 °C", "-2.5 °C"),
        (_indicator(Kind.NUMBER), 2.5, "2,5", "2.5"),
        (CHOICE, 1.0, "Khá", "Khá"),
        (CHOICE, 7.0, "7", "7"),
    ],
)
def test_format_value(indicator: Indicator, value: float, vi: str, en: str) -> None:
    assert format_value(indicator, value) == vi
    assert format_value(indicator, value, "vi") == vi
    assert format_value(indicator, value, "en") == en


@pytest.mark.parametrize("indicator", [BIRTHS, PERCENT, MONEY, YESNO, CHOICE])
def test_format_value_of_nothing(indicator: Indicator) -> None:
    assert format_value(indicator, None) == "—"
    assert format_value(indicator, None, "en") == "—"


def test_format_value_translated_words() -> None:
    assert format_value(MONEY, 1_500_000.0, "en") == "1,500,000 VND"
    assert format_value(YESNO, 1.0, "en") == "Yes"
    assert format_value(YESNO, 0.0, "en") == "No"
    with use_language("vi"):  # the language asked for wins over the current one
        assert format_value(YESNO, 1.0, "en") == "Yes"
    # Vietnamese words come from the vi catalogue.
    assert format_value(MONEY, 1_500_000.0, "vi") == "1.500.000 đồng"
    assert format_value(MONEY, 1_500_000.0) == "1.500.000 đồng"
    assert format_value(YESNO, 1.0, "vi") == "Có"
    assert format_value(YESNO, 0.0) == "Không"
    with use_language("en"):
        assert format_value(YESNO, 1.0, "vi") == "Có"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2 đơn", 2.0),
        ("5 người", 5.0),
        ("3 lần", 3.0),
        ("5 ạ", 5.0),
        ("2 vụ", 2.0),
        ("2 vụ việc ạ", 2.0),
        ("không có", 0.0),
        ("Không", 0.0),
        ("ko có ạ", 0.0),
        ("chưa có", 0.0),
        ("Không có vụ nào", 0.0),
        ("1.000 người", None),  # a thousand: above the 30 maximum, not 1
    ],
)
def test_a_count_reads_the_words_people_add(text: str, value: float | None) -> None:
    """Heads answer counts as they speak; the words around the number never change it."""
    if value is None:
        assert _refusal(BIRTHS, text).reason is Refusal.ABOVE_MAX
        return
    assert check_answer(BIRTHS, text).value == value


@pytest.mark.parametrize("text", ["hai người", "không biết", "5 đồng", "2 hay 3", "chưa", "-"])
def test_words_that_are_not_a_count_are_refused(text: str) -> None:
    assert _refusal(BIRTHS, text).reason is Refusal.NOT_A_NUMBER


def test_a_money_answer_keeps_its_amount_words() -> None:
    assert check_answer(MONEY, "2 triệu").value == 2_000_000
    assert _refusal(MONEY, "không có").reason is Refusal.NOT_A_NUMBER  # an amount is typed, even 0
    assert _refusal(PERCENT, "85 hộ").reason is Refusal.NOT_A_NUMBER  # a percentage is typed as one


# --- free answers ------------------------------------------------------------------------------

PROPOSALS = BY_KEY["proposals"]  # text, at most 1000 characters
PNG = b"\x89PNG\r\n\x1a\n" + bytes(20)


def test_a_text_answer_is_tidied_and_bounded() -> None:
    assert check_text(PROPOSALS, "  Đề nghị sửa đèn\u202e ngõ 5\x00 ") == "Đề nghị sửa đèn ngõ 5"
    assert check_text(PROPOSALS, "Cafe\u0301") == "Café"  # one form of each letter (NFC)
    with pytest.raises(AnswerRefused) as empty:
        check_text(PROPOSALS, " \u200b\n ")
    assert empty.value.reason is Refusal.EMPTY
    with pytest.raises(AnswerRefused) as long:
        check_text(PROPOSALS, "a" * 1001)
    assert (long.value.reason, long.value.details) == (Refusal.TOO_LONG, {"limit": "1000", "length": "1001"})
    assert check_text(PROPOSALS, "a" * 1000) == "a" * 1000


def test_only_pictures_of_a_bounded_size_are_photo_answers() -> None:
    assert check_photo(PNG) == "image/png"
    assert check_photo(b"\xff\xd8\xff\xe0" + bytes(10)) == "image/jpeg"
    assert check_photo(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    for content in (None, b"", b"<script>alert(1)</script>", b"MZ\x90\x00", b"%PDF-1.7"):
        with pytest.raises(AnswerRefused) as refused:
            check_photo(content)
        assert refused.value.reason is Refusal.NOT_A_PHOTO
    with pytest.raises(AnswerRefused) as large:
        check_photo(PNG + bytes(MAX_PHOTO_BYTES))
    assert large.value.reason is Refusal.PHOTO_TOO_LARGE


def test_free_answers_as_shown_in_summaries() -> None:
    photos = BY_KEY["cleanup_photos"]
    assert format_value(PROPOSALS, None, "vi", text="Sửa đèn") == "“Sửa đèn”"
    assert format_value(PROPOSALS, None, "vi") == "—"
    assert format_value(photos, 2.0, "vi") == "2 ảnh"
    assert format_value(photos, 1.0, "en") == "1 photo"
    assert format_value(photos, 3.0, "en") == "3 photos"
    assert shorten("một hai ba bốn", 9) == "một hai…"
    assert shorten("ngắn", 9) == "ngắn"


def test_a_text_question_is_not_checked_as_a_number() -> None:
    with pytest.raises(ValueError):
        check_answer(PROPOSALS, "5")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        *[("95", 95), ("1.250", 1250), ("95 hộ", 95), ("không có", 0), ("95 hộ ạ", 95)],
        *[("1,5", None), ("-3", None), ("95%", None), ("2 triệu", None), ("hai", None), ("1234567", None)],
    ],
)
def test_a_count_outside_the_report_is_read_the_same_way(text: str, value: int | None) -> None:
    assert count_answer(text) == value
