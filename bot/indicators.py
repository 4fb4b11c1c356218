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
    `share_of` names the count this one is a share of (cases settled of cases arising): the points
    sheet scores 100 × value / that count against the target, full points when that count is 0.
    At their defaults these fields stay out of the catalogue fingerprint.
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
    share_of: str | None = None

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
        """Whether the indicator counts towards relative standings (a direction and a weight)."""
        return self.direction is not Direction.NEUTRAL and self.weight > 0

    @property
    def on_sheet(self) -> bool:
        """Whether the indicator earns points on a points sheet (a direction and its `points`)."""
        return self.direction is not Direction.NEUTRAL and (self.points or 0) > 0

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
    key: str,
    vi: str,
    en: str,
    help_vi: str,
    help_en: str,
    *,
    max: float,
    soft_max: float | None = None,
    unit: str = "người",
) -> Indicator:
    return Indicator(
        key=key,
        label={"vi": vi, "en": en},
        help={"vi": help_vi, "en": help_en},
        unit=unit,
        kind=Kind.INTEGER,
        min=0,
        max=max,
        soft_max=soft_max,
    )


def _percent(
    key: str, vi: str, en: str, help_vi: str, help_en: str, *, points: float, target: float
) -> Indicator:
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
        points=points,
        target=target,
    )


def _yes_no(key: str, vi: str, en: str, help_vi: str, help_en: str, *, points: float) -> Indicator:
    return Indicator(
        key=key,
        label={"vi": vi, "en": en},
        help={"vi": help_vi, "en": help_en},
        unit="",
        kind=Kind.YESNO,
        min=None,
        max=None,
        direction=Direction.HIGHER,
        weight=10,
        points=points,
    )


#: The points sheet of DESIGN.md ("Scoring"): ten criteria worth 100 points, plus figures that are
#: recorded but never ranked (people, petitions, fund contributions, poor households). Every scored
#: indicator also weighs 10, so `scoring = "relative"` still works with this catalogue.
DEFAULT_INDICATORS: tuple[Indicator, ...] = (
    _people(
        "births",
        "Số trẻ sinh",
        "Births",
        "Số trẻ được sinh ra trong tháng ở các hộ của tổ.",
        "Babies born this month to the group's households.",
        max=30,
        soft_max=15,
        unit="trẻ",
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
        points=15,
        target=0,
        deduct=5,
    ),
    _people(
        "mediation_cases",
        "Vụ việc phát sinh cần hòa giải",
        "Disputes brought to mediation",
        "Số vụ việc, tranh chấp phát sinh trong tháng được đưa ra hòa giải ở cơ sở.",
        "Disputes that arose this month and were brought to mediation in the community.",
        max=50,
        soft_max=10,
        unit="vụ",
    ),
    Indicator(
        key="mediation_settled",
        label={"vi": "Vụ việc hòa giải thành", "en": "Disputes settled by mediation"},
        help={
            "vi": "Trong số vụ việc phát sinh cần hòa giải ở trên, số vụ đã hòa giải thành.",
            "en": "Of the disputes brought to mediation above, how many were settled.",
        },
        unit="vụ",
        kind=Kind.INTEGER,
        min=0,
        max=50,
        soft_max=10,
        direction=Direction.HIGHER,
        weight=10,
        points=10,
        target=80,
        share_of="mediation_cases",
    ),
    _people(
        "petitions",
        "Đơn thư, kiến nghị",
        "Petitions received",
        "Số đơn thư, kiến nghị của người dân trong tổ nhận được trong tháng.",
        "Petitions and complaints received from the group's residents this month.",
        max=50,
        soft_max=20,
        unit="đơn",
    ),
    _percent(
        "waste_sorting_pct",
        "Hộ phân loại rác tại nguồn",
        "Households sorting waste",
        "Phần trăm số hộ trong tổ phân loại rác tại nguồn.",
        "Percent of the group's households sorting waste at source.",
        points=15,
        target=90,
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
        points=10,
        target=2,
    ),
    Indicator(
        key="fund_contributions",
        label={"vi": "Ủng hộ các quỹ", "en": "Fund contributions"},
        help={
            "vi": "Tổng số tiền các hộ ủng hộ các quỹ (Vì người nghèo, Đền ơn đáp nghĩa…) trong tháng, "
            "tính bằng đồng.",
            "en": "Total given by households to the funds (for the poor, gratitude…) this month, in dong.",
        },
        unit="đồng",
        kind=Kind.MONEY,
        min=0,
        max=500_000_000,
        soft_max=100_000_000,
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
        max_is_households=True,
        frequency=Frequency.YEARLY,  # the poor-household review is once a year, in December
    ),
    _percent(
        "vneid_level2_pct",
        "Công dân từ 14 tuổi có VNeID mức 2",
        "Citizens 14+ with level-2 VNeID",
        "Phần trăm công dân từ 14 tuổi trở lên trong tổ đã kích hoạt tài khoản định danh điện tử "
        "VNeID mức 2.",
        "Percent of the group's citizens aged 14 and over with an activated level-2 VNeID account.",
        points=10,
        target=90,
    ),
    _percent(
        "cashless_pct",
        "Người dùng thanh toán không dùng tiền mặt",
        "Cashless payment users",
        "Phần trăm người trưởng thành trong tổ dùng thanh toán không dùng tiền mặt "
        "(ngân hàng số, ví điện tử).",
        "Percent of the group's adults who pay cashless (banking app, e-wallet).",
        points=5,
        target=70,
    ),
    _percent(
        "meeting_attendance_pct",
        "Hộ dự họp, sinh hoạt tổ",
        "Households attending meetings",
        "Phần trăm số hộ có người dự họp, sinh hoạt tổ trong tháng.",
        "Percent of the group's households represented at its meetings this month.",
        points=10,
        target=80,
    ),
    _percent(
        "health_insurance_pct",
        "Người tham gia BHYT",
        "People with health insurance",
        "Phần trăm nhân khẩu của tổ có thẻ bảo hiểm y tế còn hạn.",
        "Percent of the group's residents with valid health insurance.",
        points=10,
        target=93,
    ),
    _yes_no(
        "no_fire",
        "Không để xảy ra cháy, nổ",
        "No fire or explosion",
        "Trong tháng, địa bàn tổ không để xảy ra cháy, nổ: chọn Có.",
        "Answer Yes when no fire or explosion happened in the group's area this month.",
        points=10,
    ),
    _yes_no(
        "no_mass_complaints",
        "Không có đơn thư vượt cấp, khiếu kiện đông người",
        "No escalated or mass complaints",
        "Trong tháng, tổ không có đơn thư vượt cấp, khiếu kiện đông người: chọn Có.",
        "Answer Yes when the group had no escalated or mass complaints this month.",
        points=5,
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
    "share_of": None,
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
