"""The indicators (chỉ tiêu) a group reports each month, and the default catalogue.

The catalogue is data, not code, so a ward can replace it from its ward file; a
fingerprint of the catalogue lets stored reports say which version they answered.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

FALLBACK_LANGUAGE = "vi"


class Kind(StrEnum):
    """How an answer is typed and checked."""

    INTEGER = "integer"
    NUMBER = "number"
    PERCENT = "percent"
    MONEY = "money"
    YESNO = "yesno"
    CHOICE = "choice"
    TEXT = "text"
    PHOTO = "photo"


class Direction(StrEnum):
    """Which way is better for standings; neutral figures are recorded but not scored."""

    HIGHER = "higher"
    LOWER = "lower"
    NEUTRAL = "neutral"


class Frequency(StrEnum):
    """How often a question is asked: poor households are reviewed once a year, not monthly."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


#: The months a question of each frequency is asked in when the ward file does not say.
USUAL_MONTHS: dict[Frequency, tuple[int, ...]] = {
    Frequency.MONTHLY: tuple(range(1, 13)),
    Frequency.QUARTERLY: (3, 6, 9, 12),
    Frequency.YEARLY: (12,),
}


@dataclass(frozen=True, slots=True)
class Indicator:
    """One monthly figure: how to ask for it, how to check it and how it counts.

    `min`/`max` are the hard range (answers outside are refused); `soft_min`/`soft_max`
    a plausible range (answers outside need a second confirmation and are flagged).
    `label` and `help` map a language code ("vi", "en") to text; they are left out of
    the hash so the value stays hashable.

    The fields after `max_is_households` came with the points sheet (`points`, `deduct`,
    `choice_points`), seasonal questions (`frequency`, `asked_in`: empty means the usual
    months, see `months`) and free answers (`max_length` for text, `max_photos` for photo).
    At their defaults they stay out of the catalogue fingerprint.
    """

    key: str
    label: dict[str, str] = field(hash=False)
    help: dict[str, str] = field(hash=False)
    unit: str
    kind: Kind
    min: float | None
    max: float | None
    soft_min: float | None = None
    soft_max: float | None = None
    required: bool = True
    direction: Direction = Direction.NEUTRAL
    weight: float = 0.0
    choices: tuple[str, ...] = ()
    target: float | None = None
    max_is_households: bool = False
    points: float | None = None
    deduct: float | None = None
    choice_points: tuple[float, ...] = ()
    frequency: Frequency = Frequency.MONTHLY
    asked_in: tuple[int, ...] = ()
    max_length: int | None = None
    max_photos: int | None = None

    def label_in(self, language: str) -> str:
        """The label in `language`, or the Vietnamese one when that is missing."""
        return text_in(self.label, language)

    def help_in(self, language: str) -> str:
        """The help text in `language`, or the Vietnamese one when that is missing."""
        return text_in(self.help, language)

    def unit_in(self, language: str) -> str:
        """The unit in `language`: the ward writes it in Vietnamese ("người"); English readers get the
        English word, or nothing rather than a Vietnamese word ("Births", not "Births (người)")."""
        vietnamese = any(char.isalpha() and not char.isascii() for char in self.unit)  # "°C" and "kg" are not
        if language != "en" or not vietnamese:
            return self.unit
        return ENGLISH_UNITS.get(self.unit.strip().casefold(), "")

    @property
    def scored(self) -> bool:
        """Whether the indicator counts towards standings."""
        return self.direction is not Direction.NEUTRAL and self.weight > 0

    @property
    def months(self) -> tuple[int, ...]:
        """The months (1–12) the question is asked in: `asked_in`, or the frequency's usual ones."""
        return self.asked_in or USUAL_MONTHS[self.frequency]


#: Units wards write, in English (see `Indicator.unit_in`).
ENGLISH_UNITS = {
    "người": "people",
    "trẻ": "children",
    "hộ": "households",
    "vụ": "cases",
    "vụ việc": "cases",
    "đơn": "petitions",
    "lần": "times",
    "buổi": "sessions",
    "đồng": "VND",
    "cuộc": "meetings",
    "tổ": "groups",
    "cái": "items",
}


def asked_in(indicators: Sequence[Indicator], month: int) -> tuple[Indicator, ...]:
    """The questions asked in `month` (1–12): a quarterly or yearly one only in the months it names,
    so reports, completeness and standings of that month count only those."""
    return tuple(indicator for indicator in indicators if month in indicator.months)


def text_in(texts: dict[str, str], language: str) -> str:
    """The text in `language`, or the Vietnamese one when that is missing or empty."""
    text = texts.get(language)
    if text:
        return text
    return texts.get(FALLBACK_LANGUAGE, "")


def _people(
    key: str, vi: str, en: str, help_vi: str, help_en: str, *, max: float, soft_max: float | None = None
) -> Indicator:
    return Indicator(
        key=key,
        label={"vi": vi, "en": en},
        help={"vi": help_vi, "en": help_en},
        unit="người",
        kind=Kind.INTEGER,
        min=0,
        max=max,
        soft_max=soft_max,
    )


def _percent(key: str, vi: str, en: str, help_vi: str, help_en: str) -> Indicator:
    return Indicator(
        key=key,
        label={"vi": vi, "en": en},
        help={"vi": help_vi, "en": help_en},
        unit="%",
        kind=Kind.PERCENT,
        min=0,
        max=100,
        direction=Direction.HIGHER,
        weight=10,
    )


DEFAULT_INDICATORS: tuple[Indicator, ...] = (
    _people(
        "births",
        "Số trẻ sinh",
        "Births",
        "Số trẻ được sinh ra trong tháng ở các hộ của tổ.",
        "Babies born this month to the group's households.",
        max=30,
        soft_max=15,
    ),
    _people(
        "deaths",
        "Số người mất",
        "Deaths",
        "Số người của tổ qua đời trong tháng.",
        "Residents of the group who died this month.",
        max=20,
        soft_max=10,
    ),
    _people(
        "moved_in",
        "Nhân khẩu chuyển đến",
        "People moved in",
        "Số nhân khẩu đăng ký thường trú chuyển đến tổ trong tháng.",
        "People who registered permanent residence in the group this month.",
        max=300,
        soft_max=100,
    ),
    _people(
        "moved_out",
        "Nhân khẩu chuyển đi",
        "People moved out",
        "Số nhân khẩu chuyển thường trú đi nơi khác trong tháng.",
        "People who moved their permanent residence out of the group this month.",
        max=300,
        soft_max=100,
    ),
    _people(
        "temp_residents",
        "Đăng ký tạm trú mới",
        "New temporary residents",
        "Số người mới đăng ký tạm trú trên địa bàn tổ trong tháng.",
        "People newly registered as temporary residents in the group this month.",
        max=500,
        soft_max=200,
    ),
    Indicator(
        key="security_incidents",
        label={"vi": "Vụ việc an ninh trật tự", "en": "Security/order incidents"},
        help={
            "vi": "Số vụ việc về an ninh, trật tự xảy ra trên địa bàn tổ trong tháng.",
            "en": "Security or public-order incidents in the group's area this month.",
        },
        unit="vụ",
        kind=Kind.INTEGER,
        min=0,
        max=50,
        soft_max=10,
        direction=Direction.LOWER,
        weight=10,
    ),
    _percent(
        "mediation_success_pct",
        "Tỷ lệ hòa giải thành",
        "Disputes settled by mediation",
        "Phần trăm số vụ hòa giải thành trên tổng số vụ đưa ra hòa giải; nhập 100 nếu không có vụ nào.",
        "Share of disputes brought to mediation that were settled; enter 100 if there were none.",
    ),
    Indicator(
        key="petitions",
        label={"vi": "Đơn thư, kiến nghị", "en": "Petitions received"},
        help={
            "vi": "Số đơn thư, kiến nghị của người dân trong tổ nhận được trong tháng.",
            "en": "Petitions and complaints received from the group's residents this month.",
        },
        unit="đơn",
        kind=Kind.INTEGER,
        min=0,
        max=50,
        soft_max=20,
        direction=Direction.LOWER,
        weight=10,
    ),
    _percent(
        "waste_sorting_pct",
        "Hộ phân loại rác tại nguồn",
        "Households sorting waste",
        "Phần trăm số hộ trong tổ phân loại rác tại nguồn.",
        "Percent of the group's households sorting waste at source.",
    ),
    Indicator(
        key="cleanup_drives",
        label={"vi": "Buổi tổng vệ sinh", "en": "Clean-up drives"},
        help={
            "vi": "Số buổi tổng vệ sinh đường phố, khu dân cư tổ chức trong tháng.",
            "en": "Street and neighbourhood clean-up sessions held this month.",
        },
        unit="buổi",
        kind=Kind.INTEGER,
        min=0,
        max=10,
        soft_max=5,
        direction=Direction.HIGHER,
        weight=10,
    ),
    Indicator(
        key="fund_contributions",
        label={
            "vi": "Ủng hộ các quỹ (Vì người nghèo, Đền ơn đáp nghĩa)",
            "en": "Fund contributions",
        },
        help={
            "vi": "Tổng số tiền các hộ ủng hộ các quỹ trong tháng, tính bằng đồng.",
            "en": "Total given by households to the funds this month, in dong.",
        },
        unit="đồng",
        kind=Kind.MONEY,
        min=0,
        max=500_000_000,
        soft_max=100_000_000,
        direction=Direction.HIGHER,
        weight=10,
    ),
    Indicator(
        key="poor_households",
        label={"vi": "Hộ nghèo, cận nghèo", "en": "Poor and near-poor households"},
        help={
            "vi": "Số hộ nghèo và cận nghèo hiện có trong tổ, không quá số hộ của tổ.",
            "en": "Poor and near-poor households in the group now; at most its household count.",
        },
        unit="hộ",
        kind=Kind.INTEGER,
        min=0,
        max=None,
        direction=Direction.LOWER,
        weight=10,
        max_is_households=True,
        frequency=Frequency.YEARLY,  # the poor-household review is once a year, in December
    ),
    _percent(
        "vneid_level2_pct",
        "Người trưởng thành có VNeID mức 2",
        "Adults with level-2 VNeID",
        "Phần trăm người trưởng thành trong tổ đã kích hoạt tài khoản định danh điện tử VNeID mức 2.",
        "Percent of the group's adults with an activated level-2 VNeID account.",
    ),
    _percent(
        "cashless_pct",
        "Người dùng thanh toán không tiền mặt",
        "Cashless payment users",
        "Phần trăm người trưởng thành trong tổ dùng thanh toán không tiền mặt (ngân hàng số, ví điện tử).",
        "Percent of the group's adults who pay cashless (banking app, e-wallet).",
    ),
    _percent(
        "meeting_attendance_pct",
        "Hộ tham dự họp, sinh hoạt tổ",
        "Households attending meetings",
        "Phần trăm số hộ có người dự họp, sinh hoạt tổ trong tháng.",
        "Percent of the group's households represented at its meetings this month.",
    ),
    Indicator(
        key="cleanup_photos",
        label={"vi": "Ảnh buổi tổng vệ sinh", "en": "Photos of the clean-up"},
        help={
            "vi": "Ảnh chụp buổi tổng vệ sinh trong tháng, nếu có; chỉ cán bộ phường xem.",
            "en": "Photos of this month's clean-up, if any; only ward staff see them.",
        },
        unit="",
        kind=Kind.PHOTO,
        min=None,
        max=None,
        required=False,
        max_photos=3,
    ),
    Indicator(
        key="proposals",
        label={"vi": "Kiến nghị, đề xuất", "en": "Proposals and requests"},
        help={
            "vi": "Kiến nghị, đề xuất của tổ với phường, nếu có.",
            "en": "What the group asks of or proposes to the ward, if anything.",
        },
        unit="",
        kind=Kind.TEXT,
        min=None,
        max=None,
        required=False,
        max_length=1000,
    ),
)


def _canonical(value: object) -> object:
    """A JSON-ready form where equal catalogues give equal text (0 and 0.0 alike)."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, tuple | list):
        return [_canonical(item) for item in value]
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


#: Fields added after catalogues were first stored, with their defaults. A field at its
#: default is left out of the stored row, so an unchanged catalogue keeps its fingerprint
#: (and its stored version) and older rows read back with the defaults.
_LATER_FIELDS: dict[str, object] = {
    "points": None,
    "deduct": None,
    "choice_points": (),
    "frequency": Frequency.MONTHLY,
    "asked_in": (),
    "max_length": None,
    "max_photos": None,
}


def _row(indicator: Indicator) -> dict[str, object]:
    return {
        f.name: _canonical(getattr(indicator, f.name))
        for f in dataclasses.fields(indicator)
        if f.name not in _LATER_FIELDS or getattr(indicator, f.name) != _LATER_FIELDS[f.name]
    }


def catalogue_fingerprint(indicators: Sequence[Indicator]) -> str:
    """A short stable id of the catalogue, so reports can name the version they answered."""
    rows = [_row(indicator) for indicator in indicators]
    text = json.dumps(rows, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def catalogue_json(indicators: Sequence[Indicator]) -> str:
    """The catalogue as stored with each version, readable back with `catalogue_from_json`."""
    return json.dumps([_row(indicator) for indicator in indicators], ensure_ascii=False, sort_keys=True)


def catalogue_from_json(text: str) -> tuple[Indicator, ...]:
    """The indicators of a stored catalogue version."""
    indicators = []
    for row in json.loads(text):
        row["kind"] = Kind(row["kind"])
        row["direction"] = Direction(row["direction"])
        row["choices"] = tuple(row["choices"])
        if "frequency" in row:
            row["frequency"] = Frequency(row["frequency"])
        if "choice_points" in row:
            row["choice_points"] = tuple(row["choice_points"])
        if "asked_in" in row:  # stored as numbers like every other figure
            row["asked_in"] = tuple(int(month) for month in row["asked_in"])
        for name in ("max_length", "max_photos"):
            if row.get(name) is not None:
                row[name] = int(row[name])
        indicators.append(Indicator(**row))
    return tuple(indicators)
