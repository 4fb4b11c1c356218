"""The ward file (WARD_CONFIG): TOML describing a ward, its groups, indicators, bands and year-end rules.

Pydantic models check every rule up front, so a mistake stops start-up with one line
"<path>: <entry>: <problem>" instead of surfacing later in a chat: each check raises a bare
problem and `_explain` names the entry from the error's location. A folder holds one file
per ward (`load_wards`).
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import json
import math
import re
import tomllib
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, cast

from pydantic import BaseModel, BeforeValidator, Field, ValidationError, model_validator
from pydantic import ModelWrapValidatorHandler as Handler
from pydantic.dataclasses import dataclass
from pydantic_core import ArgsKwargs, PydanticCustomError

from bot.i18n import WardWords
from bot.indicators import DEFAULT_INDICATORS, Direction, Frequency, Indicator, Kind, text_in
from bot.timezones import check_timezone

GROUP_CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
INDICATOR_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
GROUP_NAME_MAX = 100
WARD_NAME_MAX = 200
DEFAULT_SCORED_WEIGHT = 10.0
DEFAULT_WARD_CODE = "WARD"

_RANGED_KINDS = (Kind.INTEGER, Kind.NUMBER, Kind.PERCENT, Kind.MONEY)
_FREE_KINDS = (Kind.TEXT, Kind.PHOTO)
_POINTS_KEYS = ("points", "deduct", "choice_points")
_MOVING_TO_POINTS = 'see README "Moving from weight to points"'
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


class WardConfigError(Exception):
    """A ward file that cannot be used; `str()` is one line: "<path>: <entry>: <problem>"."""


class Scoring(StrEnum):
    """Points: an absolute sheet of 100 points. Relative: within the ward, by `weight` (the older format)."""

    POINTS = "points"
    RELATIVE = "relative"


class Address(StrEnum):
    """How messages address people."""

    ANH_CHI = "anh/chị"
    ONG_BA = "ông/bà"


class GroupUnit(StrEnum):
    """What the ward calls its residential groups: tổ dân phố in most wards, thôn/ấp/bản in the country."""

    TO_DAN_PHO = "tổ dân phố"
    KHU_PHO = "khu phố"
    THON = "thôn"
    AP = "ấp"
    BAN = "bản"


class WardKind(StrEnum):
    """Ward, commune or special zone: the word the bot uses for the unit it serves."""

    PHUONG = "phường"
    XA = "xã"
    DAC_KHU = "đặc khu"


def _vi_en(vi: str, en: str) -> dict[str, str]:
    return {"vi": vi, "en": en}


HEAD_TITLES = dict(
    zip(GroupUnit, ("tổ trưởng", "trưởng khu phố", "trưởng thôn", "trưởng ấp", "trưởng bản"), strict=True)
)
#: The group title of the year-end assessment follows the unit: "Thôn văn hóa" in the country.
GROUP_TITLES = dict(
    zip(
        GroupUnit,
        (
            _vi_en("Tổ dân phố văn hóa", "Cultured residential group"),
            _vi_en("Khu phố văn hóa", "Cultured neighbourhood"),
            _vi_en("Thôn văn hóa", "Cultured village"),
            _vi_en("Ấp văn hóa", "Cultured hamlet"),
            _vi_en("Bản văn hóa", "Cultured village"),
        ),
        strict=True,
    )
)
#: The lowest award level follows the kind of unit: a commune awards at "xã" level.
WARD_LEVELS = dict(
    zip(
        WardKind,
        (_vi_en("phường", "Ward"), _vi_en("xã", "Commune"), _vi_en("đặc khu", "Special zone")),
        strict=True,
    )
)
FAMILY_TITLE = _vi_en("Gia đình văn hóa", "Cultured family")
AWARD_FORMS = (
    _vi_en("Giấy khen", "Certificate of commendation"),
    _vi_en("Bằng khen", "Certificate of merit"),
    _vi_en("Cờ thi đua", "Emulation flag"),
    _vi_en("Danh hiệu", "Emulation title"),
)
AWARD_LEVELS = (
    WARD_LEVELS[WardKind.PHUONG],
    _vi_en("tỉnh/thành phố", "Province/city"),
    _vi_en("Chính phủ", "Government"),
)
#: The titles of the older `[ward] bands` table, as standings show them today.
OLD_BAND_NAMES = (
    _vi_en("Xuất sắc", "Excellent"),
    _vi_en("Tiên tiến", "Advanced"),
    _vi_en("Hoàn thành", "Completed"),
    _vi_en("Chưa hoàn thành", "Not completed"),
)


# --- checks of single values: each raises a bare problem; `_explain` adds the entry and the key ---


def _problem(message: str, at: tuple[str | int, ...] = ()) -> PydanticCustomError:
    """A problem for `_explain`; `at` continues the error's location when a validator sees a whole list."""
    return PydanticCustomError("ward_file", message, {"at": at})


def _quote(text: object) -> str:
    """Quote user text for the message, escaping newlines so the error stays one line."""
    return json.dumps(text, ensure_ascii=False) if isinstance(text, str) else repr(text)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


NUMBER_LIMIT = 10**15  # far above any figure of a ward; beyond it sums and scores stop being exact
WEIGHT_LIMIT = 1000.0


def _is_number(value: object) -> bool:
    """A number as written, within NUMBER_LIMIT (a 400-digit integer does not even fit a float)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    return abs(value) <= NUMBER_LIMIT if isinstance(value, int) else math.isfinite(value)


def _is_whole(value: object, low: float, high: float) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _rule(
    *checks: tuple[str, Callable[[Any], object]], tidy: Callable[[Any], Any] | None = None
) -> BeforeValidator:
    """Check a value as written, in order, naming the first problem; then tidy it (strip, sort, …)."""

    def check(value: Any) -> Any:
        if value is None:  # an optional value left out, in code (TOML has no null)
            return None
        for problem, ok in checks:
            if not ok(value):
                raise _problem(problem)
        return value if tidy is None else tidy(value)

    return BeforeValidator(check)


def _text(max_length: int = 1000) -> BeforeValidator:
    return _rule(
        ("must be text", lambda value: isinstance(value, str)),
        ("must not be empty", str.strip),
        (f"must be at most {max_length} characters", lambda value: len(value.strip()) <= max_length),
        tidy=str.strip,
    )


def _whole(low: int, high: int | None = None) -> BeforeValidator:
    top = math.inf if high is None else high
    said = (
        f"must be a whole number from {low} to {high}"
        if high is not None
        else f"must be a whole number, {low} or more"
    )
    return _rule((said, lambda value: _is_whole(value, low, top)))


def _number(*checks: tuple[str, Callable[[Any], object]]) -> BeforeValidator:
    return _rule(
        ("must be a number", lambda value: isinstance(value, int | float) and not isinstance(value, bool)),
        (
            "must be a finite number, not inf or nan",
            lambda value: isinstance(value, int) or math.isfinite(value),
        ),
        ("must be a number from -10^15 to 10^15", lambda value: abs(value) <= NUMBER_LIMIT),
        *checks,
    )


def _whole_list(
    low: int, high: int, what: str, *, reverse: bool = False, may_be_empty: bool
) -> BeforeValidator:
    """Distinct whole numbers such as reminder days or months, kept sorted."""
    return _rule(
        (
            f"must be a list of whole numbers from {low} to {high}",
            lambda value: isinstance(value, list | tuple),
        ),
        (
            f"must be a whole number from {low} to {high}",
            lambda days: all(_is_whole(d, low, high) for d in days),
        ),
        (f"must list at least one {what}", lambda value: may_be_empty or value),
        (f"must not repeat a {what}", lambda value: len(set(value)) == len(value)),
        tidy=lambda value: sorted(value, reverse=reverse),
    )


def _tables(name: str, *, may_be_empty: bool = False) -> BeforeValidator:
    """An array of tables such as [[groups]]; empty is a mistake where leaving it out means defaults."""
    return _rule(
        (
            f"must be a list of [[{name}]] tables",  # a tuple was built in code (dataclasses.replace)
            lambda value: (
                isinstance(value, tuple)
                or (isinstance(value, list) and all(isinstance(v, dict) for v in value))
            ),
        ),
        (
            f"needs at least one entry; leave [[{name}]] out to use the defaults",
            lambda value: may_be_empty or value,
        ),
    )


def _one_of(options: type[StrEnum]) -> BeforeValidator:
    def check(value: object) -> object:
        # NFC: an editor may store "ấ" as "a" and two combining marks.
        text = unicodedata.normalize("NFC", value) if isinstance(value, str) else value
        if text not in tuple(options):
            raise _problem(f"{_quote(value)} is unknown; one of: {', '.join(options)}")
        return text

    return BeforeValidator(check)


def _texts(required: bool) -> BeforeValidator:
    """Text in both languages: "…" (the same for both) or { vi = "…", en = "…" }; en falls back to vi."""

    def check(value: object) -> object:
        if isinstance(value, str):
            if required and not value.strip():
                raise _problem("must not be empty")
            return _vi_en(value.strip(), value.strip())
        if not isinstance(value, dict):
            raise _problem('must be text or a table like { vi = "...", en = "..." }')
        if unknown := [key for key in value if key not in ("vi", "en")]:
            raise _problem(f"has {_unknown_keys(unknown, ('vi', 'en'))}")
        vi, en = value.get("vi", ""), value.get("en", "")
        if not isinstance(vi, str) or not isinstance(en, str):
            raise _problem("vi and en must be text")
        if not vi.strip() and (required or en.strip()):
            raise _problem("needs a non-empty vi text")
        return _vi_en(vi.strip(), en.strip() or vi.strip())

    return BeforeValidator(check)


def _timezone(value: object) -> object:
    if value is None:
        return None
    try:
        return check_timezone(str(value))
    except ValueError as error:
        raise _problem(str(error)) from None


def _code(example: str) -> BeforeValidator:
    return _rule(
        (
            f"must be 1 to 20 letters, digits, '_' or '-', e.g. \"{example}\"",
            lambda value: isinstance(value, str) and GROUP_CODE_PATTERN.match(value.strip()),
        ),
        tidy=lambda value: value.strip().upper(),
    )


def _unknown_keys(unknown: list[str], allowed: tuple[str, ...]) -> str:
    names = ", ".join(_quote(key) for key in unknown)
    guess = difflib.get_close_matches(unknown[0], allowed, n=1)
    if len(unknown) == 1 and guess:
        return f'unknown key {names} (did you mean "{guess[0]}"?)'
    return f"unknown {'key' if len(unknown) == 1 else 'keys'} {names}; allowed keys: {', '.join(allowed)}"


def _known_keys(data: object, allowed: tuple[str, ...]) -> object:
    """Refuse a key the table does not have, so a typo is named instead of silently ignored."""
    if isinstance(data, ArgsKwargs):  # built in code, not read from a file
        return data
    if not isinstance(data, dict):
        raise _problem("must be a table")
    if unknown := [key for key in data if key not in allowed]:
        raise _problem(_unknown_keys(unknown, allowed))
    return data


_Texts = Annotated[dict[str, str], _texts(required=True)]
_TextsList = Annotated[
    tuple[_Texts, ...],
    _rule(
        ('must be a list like [{ vi = "...", en = "..." }]', lambda v: isinstance(v, list | tuple)),
        ("must list at least one name", len),
    ),
]
_Score = Annotated[float, _number(("must be a number from 0 to 100", lambda value: 0 <= value <= 100))]
_NotNegative = Annotated[float | None, _number(("must not be negative", lambda value: value >= 0))]
_OptionalNumber = Annotated[float | None, _number()]
_PATH = _rule(
    (
        "must be a non-empty text",
        lambda value: isinstance(value, Path) or (isinstance(value, str) and value.strip()),
    ),
    tidy=lambda value: Path(str(value).strip()).expanduser(),
)
_FLAG = _rule(("must be true or false", lambda value: isinstance(value, bool)))
_Flag = Annotated[bool, _FLAG]
_Key = Annotated[
    str,
    _rule(
        (
            "must start with a lower-case letter and have at most 40 lower-case letters, digits or '_', "
            'e.g. "waste_sorting_pct"',
            lambda value: isinstance(value, str) and INDICATOR_KEY_PATTERN.match(value),
        )
    ),
]


# --- the tables ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Table:
    """A TOML table: only the class's own fields may appear in it."""

    @model_validator(mode="before")
    @classmethod
    def _only_known_keys(cls, data: object) -> object:
        return _known_keys(data, tuple(item.name for item in dataclasses.fields(cls)))


@dataclass(frozen=True, slots=True)
class BandEntry(_Table):
    """One band: scores from `min` up to the band above earn `name`; a band that is not `public` is
    shown to ward staff only, so a group's own chat sees its score alone."""

    name: _Texts = field(hash=False)
    min: _Score
    public: _Flag = True

    def name_in(self, language: str) -> str:
        """The name in `language`, or the Vietnamese one."""
        return text_in(self.name, language)


#: The usual bands of a points sheet (DESIGN.md, "Scoring").
POINTS_BANDS = (
    BandEntry(_vi_en("Hoàn thành xuất sắc", "Outstanding"), 90),
    BandEntry(_vi_en("Hoàn thành tốt", "Good"), 70),
    BandEntry(_vi_en("Hoàn thành", "Completed"), 50),
    BandEntry(_vi_en("Chưa hoàn thành", "Fell short"), 0, public=False),
)


@dataclass(frozen=True, slots=True)
class Bands(_Table):
    """The older `[ward] bands` table, which today's standings read; below `hoan_thanh` is
    "Chưa hoàn thành". `WardFile.bands` is the general list, `entries()` turns these into it."""

    xuat_sac: _Score = 90
    tien_tien: _Score = 80
    hoan_thanh: _Score = 70

    @model_validator(mode="after")
    def _decreasing(self) -> Bands:
        if not self.xuat_sac > self.tien_tien > self.hoan_thanh:
            raise _problem("must be strictly decreasing: xuat_sac > tien_tien > hoan_thanh")
        return self

    def entries(self) -> tuple[BandEntry, ...]:
        """These thresholds with today's titles; with hoan_thanh = 0 no score is "Chưa hoàn thành"."""
        mins = (self.xuat_sac, self.tien_tien, self.hoan_thanh, 0.0)[: 3 if self.hoan_thanh == 0 else 4]
        return tuple(BandEntry(dict(name), low) for name, low in zip(OLD_BAND_NAMES, mins, strict=False))


@dataclass(frozen=True, slots=True)
class Criterion(_Table):
    """One line of the year-end checklist a group must meet for its title."""

    key: _Key
    label: _Texts = field(hash=False)

    def label_in(self, language: str) -> str:
        """The label in `language`, or the Vietnamese one."""
        return text_in(self.label, language)


#: The default group-title checklist (DESIGN.md, "The year-end assessment").
DEFAULT_CRITERIA = tuple(
    Criterion(key, _vi_en(vi, en))
    for key, vi, en in (
        (
            "security",
            "An ninh trật tự được giữ vững, không có tội phạm và tệ nạn xã hội",
            "Security and order kept, with no crime or social evils",
        ),
        ("environment", "Vệ sinh môi trường", "A clean, sanitary environment"),
        (
            "civilised_customs",
            "Việc cưới, việc tang, lễ hội được tổ chức văn minh",
            "Weddings, funerals and festivals held in a civilised way",
        ),
        (
            "activities",
            "Các phong trào, hoạt động của tổ được thực hiện",
            "The group's movements and activities carried out",
        ),
        ("solidarity", "Đoàn kết, tương trợ", "Solidarity and mutual help"),
    )
)


@dataclass(frozen=True, slots=True)
class Assessment(_Table):
    """The `[assessment]` table: the year-end titles, the share of families a group needs, how many
    days proposed lists are posted for comments, and the group's checklist."""

    family_title: _Texts = field(default_factory=lambda: dict(FAMILY_TITLE), hash=False)
    group_title: _Texts = field(default_factory=lambda: dict(GROUP_TITLES[GroupUnit.TO_DAN_PHO]), hash=False)
    min_family_pct: _Score = 80
    posting_days: Annotated[int, _whole(0)] = 7
    criteria: Annotated[tuple[Criterion, ...], _tables("assessment.criteria")] = DEFAULT_CRITERIA

    @model_validator(mode="after")
    def _unique_keys(self) -> Assessment:
        keys = [criterion.key for criterion in self.criteria]
        if repeated := [index for index, key in enumerate(keys) if key in keys[:index]]:
            raise _problem("duplicate key", at=("criteria", repeated[0]))
        return self


@dataclass(frozen=True, slots=True)
class Awards(_Table):
    """The `[awards]` table: the forms (Giấy khen, …) and levels (phường, …) awards are recorded with."""

    forms: _TextsList = field(default_factory=lambda: tuple(map(dict, AWARD_FORMS)), hash=False)
    levels: _TextsList = field(default_factory=lambda: tuple(map(dict, AWARD_LEVELS)), hash=False)


@dataclass(frozen=True, slots=True)
class GroupEntry(_Table):
    """One `[[groups]]` entry; the code is stored upper-case so "tdp01" and "TDP01" are one group."""

    code: Annotated[str, _code("TDP01")]
    name: Annotated[str, _text(GROUP_NAME_MAX)]
    households: Annotated[int, _whole(1, 100_000)]
    block: Annotated[str | None, _text(GROUP_NAME_MAX)] = None


@dataclass(frozen=True, slots=True)
class WardSettings(_Table):
    """The `[ward]` table. `code` is as written (None when left out; `WardFile.code` is the one to
    use), `scoring` is decided by the loader when left out, and `head_title` follows `unit`."""

    name: Annotated[str, _text(WARD_NAME_MAX)]
    timezone: Annotated[str | None, BeforeValidator(_timezone), _text()] = None
    report_deadline_day: Annotated[int, _whole(1, 28)] = 5
    reminder_days_before: Annotated[
        tuple[int, ...], _whole_list(0, 27, "day", reverse=True, may_be_empty=True)
    ] = (3, 1, 0)
    bands: Bands = field(default_factory=Bands)
    conversation_timeout_minutes: Annotated[int, _whole(1, 1440)] = 60
    invite_days: Annotated[int, _whole(1, 90)] = 7
    code: Annotated[str | None, _code("P1")] = None
    scoring: Annotated[Scoring, _one_of(Scoring)] = Scoring.POINTS
    address: Annotated[Address, _one_of(Address)] = Address.ANH_CHI
    unit: Annotated[GroupUnit, _one_of(GroupUnit)] = GroupUnit.TO_DAN_PHO
    head_title: Annotated[str, _text(50)] = ""
    kind: Annotated[WardKind, _one_of(WardKind)] = WardKind.PHUONG
    broadcast_give_up_hours: Annotated[float, _number(("must be more than 0", lambda value: value > 0))] = 24
    backup_dir: Annotated[Path | None, _PATH] = None
    backup_keep_days: Annotated[int, _whole(1)] = 30
    prune_after_days: Annotated[int, _whole(1)] = 30

    @model_validator(mode="after")
    def _head_title_from_unit(self) -> WardSettings:
        if not self.head_title:
            object.__setattr__(self, "head_title", HEAD_TITLES[self.unit])
        return self

    def words(self) -> WardWords:
        """The ward's own words for messages: how people are addressed, what groups and heads are called."""
        return WardWords(address=self.address, unit=self.unit, head_title=self.head_title, kind=self.kind)


@dataclass(frozen=True, slots=True, kw_only=True)
class _IndicatorEntry(_Table):
    """One `[[indicators]]` entry as written (None: left out); `indicator()` adds the kind's defaults."""

    key: _Key
    label: _Texts = field(hash=False)
    help: Annotated[dict[str, str], _texts(required=False)] = field(
        default_factory=lambda: _vi_en("", ""), hash=False
    )
    unit: Annotated[str, _rule(("must be text", lambda value: isinstance(value, str)), tidy=str.strip)] = ""
    kind: Annotated[Kind, _one_of(Kind)]
    choices: Annotated[
        tuple[str, ...],
        _rule(
            (
                "must be a list of texts",
                lambda value: isinstance(value, list) and all(isinstance(v, str) for v in value),
            ),
            tidy=lambda value: [choice.strip() for choice in value],
        ),
    ] = ()
    min: _OptionalNumber = None
    max: _OptionalNumber = None
    soft_min: _OptionalNumber = None
    soft_max: _OptionalNumber = None
    required: Annotated[bool | None, _FLAG] = None
    direction: Annotated[Direction | None, _one_of(Direction)] = None
    weight: Annotated[
        float | None,
        _number(
            ("must not be negative", lambda value: value >= 0),
            (
                f"must be at most {WEIGHT_LIMIT:g}; weights count relative to each other "
                "(10 and 20 = 1 and 2)",
                lambda value: value <= WEIGHT_LIMIT,
            ),
        ),
    ] = None
    target: _OptionalNumber = None
    max_is_households: _Flag = False
    points: Annotated[float | None, _number(("must be more than 0", lambda value: value > 0))] = None
    deduct: _NotNegative = None
    choice_points: Annotated[
        tuple[float, ...] | None,
        _rule(
            (
                "must be a list of numbers",
                lambda value: isinstance(value, list) and all(map(_is_number, value)),
            ),
            ("must not contain negative numbers", lambda value: all(number >= 0 for number in value)),
        ),
    ] = None
    frequency: Annotated[Frequency, _one_of(Frequency)] = Frequency.MONTHLY
    asked_in: Annotated[tuple[int, ...] | None, _whole_list(1, 12, "month", may_be_empty=False)] = None
    max_length: Annotated[int | None, _whole(1, 4000)] = None
    max_photos: Annotated[int | None, _whole(1, 10)] = None
    share_of: _Key | None = None

    def bounds(self) -> tuple[float | None, float | None]:
        """The hard range; a percentage is 0 to 100 unless the file narrows it."""
        if self.kind is Kind.PERCENT:
            return (0.0 if self.min is None else self.min, 100.0 if self.max is None else self.max)
        return self.min, self.max

    @model_validator(mode="after")
    def _consistent(self) -> _IndicatorEntry:
        kind, direction = self.kind, self.direction or Direction.NEUTRAL
        if kind is Kind.CHOICE:
            for problem, wrong in (
                ('must list at least one option for kind "choice"', not self.choices),
                ("must not contain empty texts", not all(self.choices)),
                ("must not repeat an option", len(set(self.choices)) != len(self.choices)),
            ):
                if wrong:
                    raise _problem(f"choices {problem}")
        elif self.choices:
            raise _problem(f'choices only apply to kind "choice", not "{kind}"')
        fits: dict[str, tuple[Kind, ...]] = {"choice_points": (Kind.CHOICE,), "max_length": (Kind.TEXT,)}
        fits["max_photos"] = (Kind.PHOTO,)
        fits |= dict.fromkeys(("min", "max", "soft_min", "soft_max", "max_is_households"), _RANGED_KINDS)
        fits |= dict.fromkeys(
            ("direction", "weight", "target", "points", "deduct"), tuple(set(Kind) - set(_FREE_KINDS))
        )
        given = [
            name for name in fits if getattr(self, name) is not None and getattr(self, name) is not False
        ]
        if misplaced := [name for name in given if kind not in fits[name]]:
            raise _problem(f'{misplaced[0]} does not apply to kind "{kind}"')

        low, high = self.bounds()
        if low is not None and high is not None and low > high:
            raise _problem("min is greater than max")
        if self.share_of is not None and self.target is not None and not 0 <= self.target <= 100:
            raise _problem("target of a share_of indicator is a percentage, from 0 to 100")
        for name in ("soft_min", "soft_max", "target") if self.share_of is None else ("soft_min", "soft_max"):
            value = getattr(self, name)
            if value is not None and (
                (low is not None and value < low) or (high is not None and value > high)
            ):
                left, right = (
                    ("-∞" if low is None else _number_text(low)),
                    ("∞" if high is None else _number_text(high)),
                )
                raise _problem(f"{name} {_number_text(value)} is outside the range {left} to {right}")
        if self.soft_min is not None and self.soft_max is not None and self.soft_min > self.soft_max:
            raise _problem("soft_min is greater than soft_max")

        if direction is Direction.NEUTRAL and (
            named := [n for n in _POINTS_KEYS if getattr(self, n) is not None]
        ):
            raise _problem(
                f'{named[0]} needs direction "higher" or "lower"; a neutral indicator is recorded, not scored'
            )
        if self.share_of is not None and (
            kind not in (Kind.INTEGER, Kind.NUMBER) or direction is not Direction.HIGHER
        ):
            raise _problem(
                'share_of is for a count with direction "higher" (cases settled of the cases arising)'
            )
        if self.deduct is not None and kind is Kind.YESNO:
            raise _problem('deduct does not apply to kind "yesno": a "lower" yes/no earns nothing for yes')
        if self.deduct is not None and direction is not Direction.LOWER:
            raise _problem('deduct only applies to direction "lower" (points off per unit above the target)')
        if self.choice_points is not None and len(self.choice_points) != len(self.choices):
            raise _problem(
                f"choice_points must give one number per choice: {len(self.choices)} choices, "
                f"{len(self.choice_points)} given"
            )
        if self.choice_points and self.points is not None and max(self.choice_points) > self.points:
            raise _problem(f"choice_points must not be more than points ({_number_text(self.points)})")

        months = self.asked_in or ()
        if self.frequency is Frequency.YEARLY and len(months) > 1:
            raise _problem("asked_in must be a single month for a yearly question")
        quarters = {(month - 1) // 3 for month in months}
        if self.frequency is Frequency.QUARTERLY and len(quarters) != len(months):
            raise _problem("asked_in must have at most one month per quarter for a quarterly question")
        return self

    def indicator(self) -> Indicator:
        """The catalogue entry, with today's defaults (a directional indicator weighs 10)."""
        low, high = self.bounds()
        direction, weight = self.direction or Direction.NEUTRAL, self.weight
        if weight is None:
            weight = 0.0 if direction is Direction.NEUTRAL else DEFAULT_SCORED_WEIGHT
        as_written = ("key", "label", "help", "unit", "kind", "soft_min", "soft_max", "choices", "target")
        return Indicator(
            **{
                name: getattr(self, name)
                for name in (*as_written, "max_is_households", "points", "deduct", "share_of")
            },
            min=low,
            max=high,
            required=self.kind not in _FREE_KINDS if self.required is None else self.required,
            direction=direction,
            weight=weight,
            choice_points=self.choice_points or (),
            frequency=self.frequency,
            asked_in=self.asked_in or (),
            max_length=self.max_length or (1000 if self.kind is Kind.TEXT else None),
            max_photos=self.max_photos or (3 if self.kind is Kind.PHOTO else None),
        )


def _as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class _Document(BaseModel):
    """The whole file; validation also applies the rules between entries and fills dependent defaults."""

    ward: WardSettings
    groups: Annotated[tuple[GroupEntry, ...], _tables("groups", may_be_empty=True)] = ()
    indicators: Annotated[tuple[_IndicatorEntry, ...] | None, _tables("indicators")] = None
    bands: Annotated[tuple[BandEntry, ...] | None, _tables("bands")] = None
    assessment: Assessment = Field(default_factory=Assessment)
    awards: Awards = Field(default_factory=Awards)

    @model_validator(mode="wrap")
    @classmethod
    def _whole_file(cls, data: object, handler: Handler[_Document]) -> _Document:
        table = dict(cast(dict[str, Any], _known_keys(data, tuple(cls.model_fields))))
        given: dict[str, dict[str, Any]] = {name: _as_dict(table.get(name)) for name in cls.model_fields}
        if "bands" in given["ward"] and "bands" in table:
            raise _problem(
                "give either [[bands]] or [ward] bands, not both; [[bands]] is the newer form", ("bands",)
            )
        if isinstance(table.get("ward"), dict) and "scoring" not in given["ward"]:
            # A file of the older format (its own indicators and no points anywhere, or the older
            # `[ward] bands` table) scores as it always did; others are points sheets, the built-in
            # catalogue included.
            entries = table.get("indicators")
            if isinstance(entries, list):
                points = any(_as_dict(entry).keys() & set(_POINTS_KEYS) for entry in entries)
            else:
                points = "bands" not in given["ward"]
            table["ward"] = {**given["ward"], "scoring": "points" if points else "relative"}
        document = handler(table)
        document._check_lists()
        document._check_scoring()
        ward = document.ward
        bands = document.bands
        if bands is None:
            old = "bands" in given["ward"] or ward.scoring is Scoring.RELATIVE
            bands = ward.bands.entries() if old else POINTS_BANDS
        assessment, awards = document.assessment, document.awards
        if "group_title" not in given["assessment"]:
            assessment = dataclasses.replace(assessment, group_title=dict(GROUP_TITLES[ward.unit]))
        if "levels" not in given["awards"]:
            levels = (WARD_LEVELS[ward.kind], *AWARD_LEVELS[1:])
            awards = dataclasses.replace(awards, levels=tuple(map(dict, levels)))
        return document.model_copy(update={"bands": bands, "assessment": assessment, "awards": awards})

    def _check_lists(self) -> None:
        for name, keys, problem in (
            ("groups", [group.code for group in self.groups], "duplicate group code"),
            ("indicators", [entry.key for entry in self.indicators or ()], "duplicate key"),
        ):
            if repeated := [index for index, key in enumerate(keys) if key in keys[:index]]:
                raise _problem(problem, (name, repeated[0]))
        entries = self.indicators or ()
        kinds = {entry.key: entry.kind for entry in entries}
        for index, entry in enumerate(entries):
            if entry.share_of is not None and kinds.get(entry.share_of) not in (Kind.INTEGER, Kind.NUMBER):
                raise _problem(
                    f"share_of {_quote(entry.share_of)} must name another whole-number or number indicator "
                    "of this file (the count this one is a share of)",
                    ("indicators", index),
                )
            if entry.share_of == entry.key:
                raise _problem("share_of must name another indicator", ("indicators", index))
        bands = self.bands or ()
        for index, (above, band) in enumerate(itertools.pairwise(bands), start=1):
            if band.min >= above.min:
                raise _problem(
                    f"min {_number_text(band.min)} must be lower than the band above "
                    f"({_number_text(above.min)}); list bands highest first",
                    ("bands", index),
                )

    def _check_scoring(self) -> None:
        """With points every scored indicator says what it earns; weight belongs to the relative format."""
        if self.ward.scoring is Scoring.RELATIVE:
            for index, entry in enumerate(self.indicators or ()):
                if named := [name for name in _POINTS_KEYS if getattr(entry, name) is not None]:
                    raise _problem(
                        f'{named[0]} is only for [ward] scoring = "points", and this file scores by weight '
                        f"({_MOVING_TO_POINTS})",
                        ("indicators", index),
                    )
            return
        for index, entry in enumerate(self.indicators or ()):
            direction = entry.direction or Direction.NEUTRAL
            for problem, wrong in (
                (
                    f"mixes weight and points; use points for every scored indicator ({_MOVING_TO_POINTS})",
                    entry.weight is not None,
                ),
                (
                    "needs points (the most it earns), as this file scores by points",
                    direction is not Direction.NEUTRAL and entry.points is None,
                ),
                (
                    "needs choice_points, one number per choice, as this file scores by points",
                    direction is not Direction.NEUTRAL
                    and entry.kind is Kind.CHOICE
                    and entry.choice_points is None,
                ),
                (
                    'needs deduct (points off per unit above the target) for direction "lower"',
                    direction is Direction.LOWER and entry.kind is not Kind.YESNO and entry.deduct is None,
                ),
            ):
                if wrong:
                    raise _problem(problem, ("indicators", index))


@dataclasses.dataclass(frozen=True, slots=True)
class WardFile:
    """Everything one ward file says, checked; `indicators_from_file` is False for the defaults.

    `bands` is the one list of bands, highest first, whichever form the file used; a score
    below the last band's `min` has no band (`band_of` gives None).
    """

    ward: WardSettings
    groups: tuple[GroupEntry, ...]
    indicators: tuple[Indicator, ...]
    indicators_from_file: bool
    path: Path | None
    code: str = DEFAULT_WARD_CODE
    bands: tuple[BandEntry, ...] = POINTS_BANDS
    assessment: Assessment = field(default_factory=Assessment)
    awards: Awards = field(default_factory=Awards)

    def band_of(self, score: float) -> BandEntry | None:
        """The band a score earns (mins are inclusive), or None below the lowest band."""
        return band_of(self.bands, score)


def band_of(bands: Sequence[BandEntry], score: float) -> BandEntry | None:
    """The first band, highest first, whose `min` the score reaches; None below the lowest."""
    return next((band for band in bands if score >= band.min), None)


def default_ward_file(name: str = "Phường", timezone: str | None = None) -> WardFile:
    """The configuration used when no ward file is given; its code is "WARD"."""
    return WardFile(
        ward=WardSettings(name=name, timezone=timezone),
        groups=(),
        indicators=DEFAULT_INDICATORS,
        indicators_from_file=False,
        path=None,
    )


def load_ward_config(path: Path | str) -> WardFile:
    """Read and check one ward file; raises `WardConfigError` on the first problem found."""
    file_path, where = Path(path), str(path)
    document = _read_toml(file_path, where)
    try:
        checked = _Document.model_validate(document)
    except ValidationError as error:
        raise WardConfigError(f"{where}: {_explain(error, document)}") from None
    ward, indicators = checked.ward, checked.indicators
    if ward.backup_dir is not None:  # relative to the ward file, not to wherever the bot was started
        ward = dataclasses.replace(ward, backup_dir=(file_path.parent / ward.backup_dir).absolute())
    return WardFile(
        ward=ward,
        groups=checked.groups,
        indicators=DEFAULT_INDICATORS
        if indicators is None
        else tuple(entry.indicator() for entry in indicators),
        indicators_from_file=indicators is not None,
        path=file_path,
        code=ward.code or code_from_file_name(file_path.stem),
        bands=checked.bands or (),
        assessment=checked.assessment,
        awards=checked.awards,
    )


def load_wards(path: Path | str) -> tuple[WardFile, ...]:
    """Every ward of an installation: each `*.toml` of a folder by name (not hidden ones), or one file."""
    folder = Path(path)
    if not folder.is_dir():
        return (load_ward_config(path),)
    files = sorted(file for file in folder.glob("*.toml") if file.is_file() and not file.name.startswith("."))
    if not files:
        raise WardConfigError(f"{path}: no ward files; the folder needs one *.toml file per ward")
    wards = tuple(load_ward_config(file) for file in files)
    first_file: dict[str, Path] = {}
    for file, ward in zip(files, wards, strict=True):
        if (other := first_file.setdefault(ward.code, file)) != file:
            raise WardConfigError(
                f"{file}: [ward] code: {_quote(ward.code)} is also the code of {other}; "
                "give each ward its own [ward] code"
            )
    return wards


def code_from_file_name(stem: str) -> str:
    """A ward code from a file name: "p1" gives "P1", "Phường 1" gives "PHUONG-1" (no marks, no spaces)."""
    plain = unicodedata.normalize("NFKD", stem.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(char for char in plain if not unicodedata.combining(char))
    return re.sub(r"[^A-Za-z0-9_-]+", "-", plain).strip("-")[:20].strip("-").upper() or DEFAULT_WARD_CODE


def _read_toml(file_path: Path, where: str) -> dict[str, Any]:
    try:
        raw = file_path.read_bytes()
    except FileNotFoundError:
        raise WardConfigError(f"{where}: file not found") from None
    except IsADirectoryError:
        raise WardConfigError(f"{where}: is a directory, not a file") from None
    except OSError as exc:
        raise WardConfigError(f"{where}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")  # a BOM from Windows editors is harmless
    except UnicodeDecodeError:
        raise WardConfigError(f"{where}: not UTF-8 text; save the file as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WardConfigError(f"{where}: {_describe_toml_error(exc, text)}") from None


def _describe_toml_error(exc: tomllib.TOMLDecodeError, text: str) -> str:
    """Turn tomllib's "... (at line N, column C)" into "line N: ..." so the line comes first."""
    message = " ".join(str(exc).split())
    if position := _TOML_POSITION.search(message):
        line, column = position.groups()
        return f"line {line}: {message[: position.start()]} (column {column})"
    if _TOML_AT_END.search(message):
        last_line = len(text.splitlines()) or 1
        return f"line {last_line}: {_TOML_AT_END.sub('', message)} (at the end of the file)"
    return message


# --- from a pydantic error to "<entry>: <problem>" ------------------------------------------------

#: Arrays of tables whose entries are named by number and by this key: groups[2] (code "TDP02").
_ENTRY_LISTS = {
    ("groups",): "code",
    ("indicators",): "key",
    ("bands",): "name",
    ("assessment", "criteria"): "key",
}
_MISSING_HINTS = {
    ("ward",): "the file needs a [ward] table with at least a name",
    ("ward", "name"): "give the ward's name",
    ("indicators", "kind"): f"one of: {', '.join(Kind)}",
}


def _explain(error: ValidationError, document: Mapping[str, object]) -> str:
    """The first error as "<entry>: <problem>": a list entry by number and key, a table's key by name."""
    first = error.errors()[0]
    location: tuple[int | str, ...] = (*first["loc"], *(first.get("ctx") or {}).get("at", ()))
    entry, rest = _place(location, document)
    words = " ".join(part for part in rest if isinstance(part, str))
    if first["type"] == "missing":
        hint = _MISSING_HINTS.get(tuple(part for part in location if isinstance(part, str)))
        problem = (f"{words} is missing" if words else "missing") + (f"; {hint}" if hint else "")
    else:  # our own problems; pydantic's (not expected) start with a capital
        message = (
            first["msg"] if first["type"] == "ward_file" else first["msg"][:1].lower() + first["msg"][1:]
        )
        problem = f"{words} {message}" if words else message
    return f"{entry}: {problem}"


def _place(
    location: tuple[int | str, ...], document: Mapping[str, object]
) -> tuple[str, tuple[int | str, ...]]:
    """The entry a location is in, and the keys left inside it."""
    for prefix, naming in _ENTRY_LISTS.items():
        index = location[len(prefix)] if len(location) > len(prefix) else None
        if location[: len(prefix)] == prefix and isinstance(index, int):
            label = _entry_label(document, prefix, index, naming)
            return f"{'.'.join(prefix)}[{index + 1}]{label}", location[len(prefix) + 1 :]
    if location and location[0] in ("ward", "assessment", "awards"):
        if len(location) > 1 and isinstance(location[1], str):
            return f"[{location[0]}] {location[1]}", location[2:]
        return f"[{location[0]}]", location[1:]
    return (str(location[0]), location[1:]) if location else ("top level", ())


def _entry_label(document: Mapping[str, object], prefix: tuple[str, ...], index: int, naming: str) -> str:
    """' (key "births")' from the entry as written, or "" when it has no usable name."""
    items: object = document
    for part in prefix:
        items = items.get(part) if isinstance(items, dict) else None
    item = items[index] if isinstance(items, list) and index < len(items) else None
    value = item.get(naming) if isinstance(item, dict) else None
    value = value.get("vi") if isinstance(value, dict) else value  # a band's name { vi = "…", en = "…" }
    if not isinstance(value, str) or not value.strip():
        return ""
    text = value.strip()
    if naming == "code" and GROUP_CODE_PATTERN.match(text):
        text = text.upper()  # as stored, so "tdp01" and "TDP01" read as one group
    return f" ({naming} {_quote(text)})"
