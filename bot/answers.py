"""Understanding what a group head types as an answer, and showing figures back.

Heads type on phones, in Vietnamese habits: dots between thousands, a comma as the
decimal point, "1tr5" for one and a half million. Reading that generously but never
guessing in a way that silently changes a figure keeps the reports trustworthy.
No Telegram here: flows call these with plain text and get plain values back.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

from bot.i18n import current_language, ngettext, pick_language, use_language
from bot.i18n import gettext as _
from bot.indicators import Indicator, Kind
from bot.replies import shorten

MAX_ANSWER_LENGTH = 200
MAX_NUMBER_LENGTH = 40
NO_VALUE = "—"
#: The largest photo kept as an answer: a phone photo as Telegram and Zalo send it is far smaller.
MAX_PHOTO_BYTES = 5 * 1024 * 1024
#: How much of a free-text answer summaries show; the export carries it whole.
SHOWN_TEXT_LENGTH = 500


class Refusal(StrEnum):
    """Why an answer was not accepted; the flow turns it into a translated hint."""

    NOT_A_NUMBER = "not_a_number"
    NEGATIVE = "negative"
    NOT_WHOLE = "not_whole"
    BELOW_MIN = "below_min"
    ABOVE_MAX = "above_max"
    TOO_LONG = "too_long"
    UNKNOWN_CHOICE = "unknown_choice"
    NOT_YES_NO = "not_yes_no"
    EMPTY = "empty"
    NOT_A_PHOTO = "not_a_photo"
    PHOTO_TOO_LARGE = "photo_too_large"


class AnswerRefused(Exception):
    """An answer that cannot be stored; `details` are ready to put into the hint text."""

    def __init__(self, reason: Refusal, details: dict[str, str] | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.details: dict[str, str] = dict(details or {})


@dataclass(frozen=True)
class Checked:
    """An accepted answer; `outside_soft` asks the flow to confirm it and flag it for staff."""

    value: float
    outside_soft: bool


# --- reading numbers -------------------------------------------------------------------

_THOUSAND = Decimal(1000)
_MULTIPLIERS: dict[str, Decimal] = {
    "k": _THOUSAND,
    "nghin": _THOUSAND,
    "ngan": _THOUSAND,
    "tr": _THOUSAND**2,
    "trieu": _THOUSAND**2,
    "ty": _THOUSAND**3,
    "ti": _THOUSAND**3,
}
# Zeros in each multiplier: "1tr5" may carry at most that many digits after the word.
_MULTIPLIER_DIGITS: dict[Decimal, int] = {_THOUSAND: 3, _THOUSAND**2: 6, _THOUSAND**3: 9}
_CURRENCY = re.compile(r"(?<=[0-9a-z])\s*(?:vnd|dong|d)$")
_SIGN = re.compile(r"^([+-])\s?")
_TERM = re.compile(r"\s*([0-9][0-9.,]*(?: [0-9][0-9.,]*)*)\s*([a-z]+)")
_TRAILING_DIGITS = re.compile(r"\s*([0-9]+)")

_PLAIN_DIGITS = re.compile(r"[0-9]+")
_DOT_THOUSANDS = re.compile(r"[1-9][0-9]{0,2}(?:\.[0-9]{3})+(?:,[0-9]+)?")
_SPACE_THOUSANDS = re.compile(r"[1-9][0-9]{0,2}(?: [0-9]{3})+(?:,[0-9]+)?")
_COMMA_DECIMAL = re.compile(r"[0-9]+,[0-9]+")
_DOT_DECIMAL = re.compile(r"([0-9]+)\.([0-9]+)")
_COMMA_THOUSANDS = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3}){2,}(?:\.[0-9]+)?")

_SAME_SPACE = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2212": "-", "\t": " "})


@dataclass(frozen=True)
class _Reading:
    """A number read from text, with the decorations that were around it."""

    value: Decimal
    percent: bool
    currency: bool
    multiplied: bool


def fold(text: str) -> str:
    """Lower case without diacritics, so "Triệu", "trieu" and "TRIỆU" read alike."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.replace("đ", "d")


def keyword(text: str) -> str:
    """A word typed in a command or an answer, as compared: lower case, no diacritics, "-" and "_" as
    spaces, single spaces — so "Tổ phó", "to pho" and "tổ-phó" are one keyword."""
    return " ".join(fold(text).replace("-", " ").replace("_", " ").split())


def _plain(text: str) -> Decimal | None:
    """A number without words: the separator rules of `parse_number`."""
    if _PLAIN_DIGITS.fullmatch(text):
        return Decimal(text)
    if _DOT_THOUSANDS.fullmatch(text):
        return Decimal(text.replace(".", "").replace(",", "."))
    if _SPACE_THOUSANDS.fullmatch(text):
        return Decimal(text.replace(" ", "").replace(",", "."))
    if _COMMA_DECIMAL.fullmatch(text):
        return Decimal(text.replace(",", "."))
    dotted = _DOT_DECIMAL.fullmatch(text)
    if dotted:
        whole, fraction = dotted.groups()
        # "1.500" is fifteen hundred (handled above); "0.500" can only be a half;
        # "1234.500" could be either, so it is refused rather than guessed.
        if len(fraction) != 3 or whole.strip("0") == "":
            return Decimal(text)
        return None
    if _COMMA_THOUSANDS.fullmatch(text):
        return Decimal(text.replace(",", ""))
    return None


def _with_words(text: str) -> Decimal | None:
    """Amounts like "1,5 triệu", "1tr5", "500k", "1 tỷ 200 triệu", "2 triệu 500"."""
    total = Decimal(0)
    position = 0
    previous: Decimal | None = None
    last_whole = False
    while position < len(text):
        term = _TERM.match(text, position)
        if term is None:
            break
        number = _plain(term.group(1))
        multiplier = _MULTIPLIERS.get(term.group(2))
        if number is None or multiplier is None:
            return None
        # Later terms must be smaller units that fit: "1 tỷ 200 triệu", not "1 triệu 2 tỷ".
        if previous is not None and (
            multiplier >= previous or number != number.to_integral_value() or number * multiplier >= previous
        ):
            return None
        total += number * multiplier
        previous = multiplier
        last_whole = number == number.to_integral_value()
        position = term.end()
    if previous is None:
        return None
    if position < len(text):
        digits = _TRAILING_DIGITS.fullmatch(text, position)
        if digits is None or not last_whole:
            return None
        fraction = digits.group(1)
        if len(fraction) > _MULTIPLIER_DIGITS[previous]:
            return None
        # "1tr5" is 1.5 million and "2tr250" is 2.25 million: the digits continue the amount.
        total += Decimal(f"0.{fraction}") * previous
    return total


def _read(text: str) -> _Reading | None:
    """Read a number and note the %, currency and multiplier words around it."""
    if len(text) > MAX_NUMBER_LENGTH:
        return None
    normal = unicodedata.normalize("NFKC", text).translate(_SAME_SPACE)
    body = " ".join(fold(normal).split())
    percent = body.endswith("%")
    if percent:
        body = body[:-1].rstrip()
    currency = False
    if not percent:
        stripped = _CURRENCY.sub("", body)
        currency = stripped != body
        body = stripped
    negative = False
    sign = _SIGN.match(body)
    if sign:
        negative = sign.group(1) == "-"
        body = body[sign.end() :]
    if not _PLAIN_DIGITS.match(body):
        return None
    multiplied = any(char.isalpha() for char in body)
    value = _with_words(body) if multiplied else _plain(body)
    if value is None:
        return None
    if negative and value != 0:
        value = -value
    return _Reading(value=value + 0, percent=percent, currency=currency, multiplied=multiplied)


def parse_number(text: str) -> Decimal | None:
    """The number in `text` as people in Vietnam type it, or None when it is not one.

    Dots group thousands and a comma is the decimal point ("1.500.000", "1.500,5",
    "1,5"); spaces may group thousands ("1 500 000"). A single dot not followed by
    exactly three digits is a decimal point ("1.5", "12.25"). A trailing "%" is allowed
    ("12 %"), as is a currency word ("500.000đ", "VND"), and money words multiply:
    "k", "nghìn"/"ngàn", "tr"/"triệu", "tỷ"/"tỉ" (with or without diacritics), so
    "1tr5" and "1,5 triệu" are both 1 500 000. A sign is read ("-3" gives -3; the caller
    refuses it). Two or more commas before groups of three digits ("1,500,000") can
    only be English thousands and are read so.

    Ambiguity is settled the Vietnamese way: "1.500" is 1500 and "1,500" is 1.5.
    Anything else (words, "1.2.3", "12abc", "1234.500") and text longer than
    40 characters give None.
    """
    reading = _read(text)
    return None if reading is None else reading.value


def whole_number(text: str, *, digits: int = 9) -> int | None:
    """`text` as a whole number of ASCII digits, at most `digits` of them; None otherwise.

    For ids, counts and option numbers in commands and button data: "²".isdigit() is True yet
    int("²") fails, "١٢" would pass int(), and int() of thousands of digits raises.
    """
    stripped = text.strip()
    if len(stripped) > digits or not _PLAIN_DIGITS.fullmatch(stripped):
        return None
    return int(stripped)


# --- checking answers --------------------------------------------------------------------

_YES = frozenset({"co", "c", "yes", "y", "1", "roi", "ok", "x"})
_NO = frozenset({"khong", "k", "ko", "no", "n", "0", "chua"})


def _yes_no(text: str) -> float | None:
    word = " ".join(fold(text).split()).rstrip(".!")
    if word in _YES:
        return 1.0
    if word in _NO:
        return 0.0
    return None


def yes_no(text: str) -> bool | None:
    """A typed yes ("có", "yes", "1"…) or no ("không", "no", "0"…); None for anything else."""
    value = _yes_no(text)
    return None if value is None else bool(value)


def _choice_key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _choice(choices: tuple[str, ...], text: str) -> int | None:
    """The index of the choice typed by name (accents optional when unambiguous) or number."""
    wanted = _choice_key(text)
    for index, choice in enumerate(choices):
        if _choice_key(choice) == wanted:
            return index
    folded = fold(wanted)
    loose = [index for index, choice in enumerate(choices) if fold(_choice_key(choice)) == folded]
    if len(loose) == 1:
        return loose[0]
    number = wanted.rstrip(".)")
    if _PLAIN_DIGITS.fullmatch(number) and 1 <= int(number) <= len(choices):
        return int(number) - 1
    return None


def _hard_max(indicator: Indicator, households: int | None) -> float | None:
    if indicator.max_is_households and households is not None:
        return households if indicator.max is None else min(indicator.max, households)
    return indicator.max


def check_answer(
    indicator: Indicator, text: str, *, households: int | None = None, language: str | None = None
) -> Checked:
    """Accept `text` as an answer to `indicator`, or raise AnswerRefused saying why.

    Numbers in `details` are formatted for `language` (the current one by default), so
    the flow can put them straight into its hint.
    """
    lang = current_language() if language is None else pick_language(language)
    if indicator.kind is Kind.TEXT:
        raise ValueError("a text answer is checked with check_text")
    if len(text) > MAX_ANSWER_LENGTH:
        raise AnswerRefused(Refusal.TOO_LONG, {"limit": str(MAX_ANSWER_LENGTH)})
    if indicator.kind is Kind.YESNO:
        answer = _yes_no(text)
        if answer is None:
            with use_language(lang):
                raise AnswerRefused(Refusal.NOT_YES_NO, {"yes": _("Yes"), "no": _("No")})
        return Checked(value=answer, outside_soft=False)
    if indicator.kind is Kind.CHOICE:
        index = _choice(indicator.choices, text)
        if index is None:
            listed = "\n".join(f"{number}. {choice}" for number, choice in enumerate(indicator.choices, 1))
            raise AnswerRefused(
                Refusal.UNKNOWN_CHOICE, {"choices": listed, "count": str(len(indicator.choices))}
            )
        return Checked(value=float(index), outside_soft=False)
    return _check_number(indicator, text, households, lang)


# A count answered in words: "không", "không có", "chưa có ạ" are 0 (as `keyword()` gives them).
_NOTHING = re.compile(r"(?:khong|ko|khong co|ko co|chua co)(?: (?:gi|ai|vu nao))?(?: (?:a|da|nhe|nha))?")
# A count followed by words: "2 đơn", "5 người", "3 lần", "5 ạ", "2 vụ việc" (folded, spaced).
_COUNTED = re.compile(r"([+-]?\s?[0-9][0-9.,]*)((?: [a-z]+){1,4})")


def _count_words(text: str) -> str:
    """A count as its bare number: trailing unit or courtesy words dropped ("2 vụ ạ" → "2"), "không có"
    → "0". Money words ("2 triệu", "500 nghìn đồng") stay, so they are read as the amounts they are."""
    said = " ".join(fold(unicodedata.normalize("NFKC", text).translate(_SAME_SPACE)).split())
    if _NOTHING.fullmatch(said):
        return "0"
    counted = _COUNTED.fullmatch(said)
    if counted is None:
        return text
    words = counted.group(2).split()
    if any(word in _MULTIPLIERS or word in ("vnd", "dong", "d") for word in words):
        return text
    return counted.group(1)


def count_answer(text: str, *, digits: int = 6) -> int | None:
    """A count outside a report's catalogue (the year-end form's households) read as report counts are:
    "95", "1.250", "95 hộ", "không có" (0); None for anything else (words, decimals, negatives, more
    than `digits` digits)."""
    reading = _read(_count_words(text).strip())
    if reading is None or reading.percent or reading.currency or reading.multiplied:
        return None
    value = reading.value
    if value < 0 or value != value.to_integral_value() or value >= 10**digits:
        return None
    return int(value)


def _check_number(indicator: Indicator, text: str, households: int | None, language: str) -> Checked:
    if indicator.kind in (Kind.INTEGER, Kind.NUMBER):
        text = _count_words(text)
    reading = _read(text.strip())
    if (
        reading is None
        or (reading.percent and indicator.kind is not Kind.PERCENT)
        or (reading.currency and indicator.kind is not Kind.MONEY)
        or (reading.multiplied and indicator.kind is Kind.PERCENT)
    ):
        raise AnswerRefused(Refusal.NOT_A_NUMBER)
    number = reading.value
    shown = format_number(float(number), language=language)
    low, high = indicator.min, _hard_max(indicator, households)
    if number < 0 and (low is None or low >= 0):
        raise AnswerRefused(Refusal.NEGATIVE, {"value": shown})
    if indicator.kind is Kind.INTEGER and number != number.to_integral_value():
        raise AnswerRefused(Refusal.NOT_WHOLE, {"value": shown})
    value = float(number) + 0.0
    bounds = {"value": shown}
    if low is not None:
        bounds["min"] = format_number(low, language=language)
    if high is not None:
        bounds["max"] = format_number(high, language=language)
    if low is not None and value < low:
        raise AnswerRefused(Refusal.BELOW_MIN, bounds)
    if high is not None and value > high:
        raise AnswerRefused(Refusal.ABOVE_MAX, bounds)
    outside = (indicator.soft_min is not None and value < indicator.soft_min) or (
        indicator.soft_max is not None and value > indicator.soft_max
    )
    return Checked(value=value, outside_soft=outside)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def check_text(indicator: Indicator, text: str) -> str:
    """A free-text answer as stored: NFC, control and direction characters removed, trimmed;
    refused when empty or longer than the indicator's `max_length`."""
    cleaned = _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()
    if not cleaned:
        raise AnswerRefused(Refusal.EMPTY)
    limit = indicator.max_length or MAX_ANSWER_LENGTH
    if len(cleaned) > limit:
        raise AnswerRefused(Refusal.TOO_LONG, {"limit": str(limit), "length": str(len(cleaned))})
    return cleaned


#: Leading bytes of the picture formats phones send; anything else is refused, never opened.
_PHOTO_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def check_photo(content: bytes | None) -> str:
    """The media type of a photo answer (JPEG, PNG or WebP), or AnswerRefused: it is kept as bytes and
    only ever handed to ward staff, so anything that is not plainly a picture is turned away."""
    if not content:
        raise AnswerRefused(Refusal.NOT_A_PHOTO)
    if len(content) > MAX_PHOTO_BYTES:
        raise AnswerRefused(Refusal.PHOTO_TOO_LARGE, {"limit": str(MAX_PHOTO_BYTES // (1024 * 1024))})
    for signature, media_type in _PHOTO_SIGNATURES:
        if content.startswith(signature):
            return media_type
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    raise AnswerRefused(Refusal.NOT_A_PHOTO)


# --- showing figures ------------------------------------------------------------------------

_CENT = Decimal("0.01")


def format_number(value: float, *, language: str = "vi") -> str:
    """`value` as people read it: "1.500.000" and "1,5" in Vietnamese, "1,500,000" and "1.5" in English.

    Whole numbers have no decimals; others at most two, without trailing zeros.
    A value that is not finite shows as "—" rather than breaking a summary.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return NO_VALUE
    with localcontext() as context:
        context.prec = 80
        exact = Decimal(value) if isinstance(value, int) else Decimal(repr(float(value)))
        amount = exact.quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    whole, _dot, fraction = f"{abs(amount):f}".partition(".")
    fraction = fraction.rstrip("0")
    thousands, decimal_point = (",", ".") if pick_language(language) == "en" else (".", ",")
    grouped = f"{int(whole):,}".replace(",", thousands)
    return f"{sign}{grouped}{decimal_point}{fraction}" if fraction else f"{sign}{grouped}"


def format_value(
    indicator: Indicator, value: float | None, language: str = "vi", *, text: str | None = None
) -> str:
    """An answer as shown in summaries and standings, in `language`.

    A text answer is `text` in quotes (shortened); a photo answer's value is how many photos it has.
    """
    lang = pick_language(language)
    if indicator.kind is Kind.TEXT:
        return NO_VALUE if not text else f"“{shorten(text, SHOWN_TEXT_LENGTH)}”"
    if value is None:
        return NO_VALUE
    if indicator.kind is Kind.PHOTO:
        count = int(value)
        with use_language(lang):
            return ngettext("{count} photo", "{count} photos", count).format(count=count)
    if indicator.kind is Kind.YESNO:
        with use_language(lang):
            return _("Yes") if value else _("No")
    if indicator.kind is Kind.CHOICE:
        index = int(value)
        if value == index and 0 <= index < len(indicator.choices):
            return indicator.choices[index]
        return format_number(value, language=lang)
    number = format_number(value, language=lang)
    if indicator.kind is Kind.PERCENT:
        return f"{number}%"
    if indicator.kind is Kind.MONEY:
        with use_language(lang):
            return _("{amount} VND").format(amount=number)
    unit = indicator.unit_in(lang)
    return f"{number} {unit}" if unit else number
