"""Loading and checking the ward file (WARD_CONFIG)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.indicators import DEFAULT_INDICATORS, Direction, Frequency, Kind
from bot.ward_config import (
    DEFAULT_CRITERIA,
    POINTS_BANDS,
    Address,
    Assessment,
    Awards,
    BandEntry,
    Bands,
    Criterion,
    GroupEntry,
    GroupUnit,
    Scoring,
    WardConfigError,
    WardFile,
    WardKind,
    WardSettings,
    code_from_file_name,
    default_ward_file,
    load_ward_config,
    load_wards,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ward.toml"
POINTS_EXAMPLE = EXAMPLE.with_name("ward-points.toml")

WARD = '[ward]\nname = "Phường Thử"\n'

GROUP = """
[[groups]]
code = "TDP01"
name = "Tổ dân phố số 1"
households = 120
"""

INDICATOR = """
[[indicators]]
key = "births"
label = {{ vi = "Số trẻ sinh", en = "Births" }}
kind = "integer"
{extra}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ward.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_text(tmp_path: Path, text: str) -> WardFile:
    return load_ward_config(write(tmp_path, text))


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(WardConfigError) as caught:
        load_ward_config(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message.removeprefix(f"{path}: ")


def test_example_file_loads() -> None:
    ward_file = load_ward_config(EXAMPLE)
    assert ward_file.ward.name == "Phường Tràng Cát"
    assert ward_file.ward.timezone == "Asia/Ho_Chi_Minh"
    assert ward_file.ward.report_deadline_day == 5
    assert ward_file.ward.reminder_days_before == (3, 1, 0)
    assert ward_file.ward.bands == Bands(90, 80, 70)
    assert [group.code for group in ward_file.groups] == [f"TDP0{n}" for n in range(1, 7)]
    assert ward_file.groups[5].name == "Tổ dân phố số 6"
    assert all(80 <= group.households <= 900 for group in ward_file.groups)
    assert {group.block for group in ward_file.groups} == {"Khu vực 1", "Khu vực 2"}
    assert ward_file.indicators == DEFAULT_INDICATORS
    assert len(ward_file.indicators) == 17
    assert ward_file.indicators_from_file is False
    assert ward_file.path == EXAMPLE


def test_example_file_commented_indicator_is_valid(tmp_path: Path) -> None:
    """The commented-out indicator in the example is a working entry once uncommented."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    start = lines.index("# [[indicators]]")
    uncommented = "\n".join(line.removeprefix("# ") for line in lines[start:])
    ward_file = load_text(tmp_path, WARD + uncommented)
    (indicator,) = ward_file.indicators
    assert indicator.key == "waste_sorting_pct"
    assert indicator.scored


def test_minimal_file_uses_defaults(tmp_path: Path) -> None:
    ward_file = load_text(tmp_path, WARD)
    ward = ward_file.ward
    assert ward.name == "Phường Thử"
    assert ward.timezone is None
    assert ward.report_deadline_day == 5
    assert ward.reminder_days_before == (3, 1, 0)
    assert ward.bands == Bands()
    assert ward.conversation_timeout_minutes == 60
    assert ward.invite_days == 7
    assert ward_file.groups == ()
    assert ward_file.indicators == DEFAULT_INDICATORS
    assert not ward_file.indicators_from_file


def test_ward_settings_are_read(tmp_path: Path) -> None:
    ward_file = load_text(
        tmp_path,
        WARD
        + "report_deadline_day = 28\nreminder_days_before = [0, 7, 2]\n"
        + "bands = { xuat_sac = 95.5 }\nconversation_timeout_minutes = 30\ninvite_days = 90\n"
        + GROUP.replace('"TDP01"', '"tdp-1a"')
        + 'block = "Khu vực 3"\n',
    )
    ward = ward_file.ward
    assert ward.report_deadline_day == 28
    assert ward.reminder_days_before == (7, 2, 0)
    assert ward.bands == Bands(95.5, 80, 70)
    assert (ward.conversation_timeout_minutes, ward.invite_days) == (30, 90)
    (group,) = ward_file.groups
    assert (group.code, group.households, group.block) == ("TDP-1A", 120, "Khu vực 3")


def test_full_indicators_file(tmp_path: Path) -> None:
    text = (
        WARD
        + """
[[indicators]]
key = "waste_sorting_pct"
label = { vi = "Hộ phân loại rác tại nguồn", en = "Households sorting waste" }
help = { vi = "Phần trăm số hộ trong tổ", en = "Percent of the group's households" }
unit = "%"
kind = "percent"
choices = []
min = 0
max = 100
soft_min = 10
soft_max = 100
required = true
direction = "higher"
weight = 10
target = 95

[[indicators]]
key = "water_source"
label = "Nguồn nước"
kind = "choice"
choices = ["Nước máy", "Giếng khoan"]
required = false

[[indicators]]
key = "has_camera"
label = { vi = "Có camera an ninh" }
kind = "yesno"
direction = "higher"

[[indicators]]
key = "share"
label = "Tỷ lệ"
kind = "percent"
direction = "lower"
weight = 2.5

[[indicators]]
key = "poor_households"
label = "Hộ nghèo"
unit = "hộ"
kind = "integer"
min = 0
max_is_households = true
direction = "lower"
"""
    )
    ward_file = load_text(tmp_path, text)
    assert ward_file.indicators_from_file is True
    waste, water, camera, share, poor = ward_file.indicators
    assert waste.kind is Kind.PERCENT
    assert (waste.min, waste.max, waste.soft_min, waste.soft_max, waste.target) == (0, 100, 10, 100, 95)
    assert waste.label_in("en") == "Households sorting waste"
    assert waste.help_in("vi") == "Phần trăm số hộ trong tổ"
    assert waste.scored and waste.weight == 10
    assert water.choices == ("Nước máy", "Giếng khoan")
    assert water.label == {"vi": "Nguồn nước", "en": "Nguồn nước"}
    assert water.help_in("en") == ""
    assert not water.required and not water.scored and water.weight == 0
    assert camera.label_in("en") == "Có camera an ninh"
    assert camera.direction is Direction.HIGHER and camera.weight == 10
    assert (share.min, share.max, share.weight, share.direction) == (0, 100, 2.5, Direction.LOWER)
    assert poor.max is None and poor.max_is_households


def test_file_with_default_catalogue_has_same_fingerprint(tmp_path: Path) -> None:
    """Writing the defaults out in the file gives the same catalogue."""
    from bot.indicators import catalogue_fingerprint

    blocks = []
    for indicator in DEFAULT_INDICATORS:
        lines = [
            "[[indicators]]",
            f'key = "{indicator.key}"',
            f'label = {{ vi = "{indicator.label["vi"]}", en = "{indicator.label["en"]}" }}',
            f'help = {{ vi = "{indicator.help["vi"]}", en = "{indicator.help["en"]}" }}',
            f'unit = "{indicator.unit}"',
            f'kind = "{indicator.kind}"',
        ]
        if indicator.kind in (Kind.TEXT, Kind.PHOTO):  # free answers are never scored, optional by default
            lines.append(
                f"max_{'length' if indicator.kind is Kind.TEXT else 'photos'} = "
                f"{indicator.max_length or indicator.max_photos}"
            )
        else:
            lines += [f'direction = "{indicator.direction}"', f"weight = {indicator.weight}"]
        if indicator.frequency is not Frequency.MONTHLY:
            lines.append(f'frequency = "{indicator.frequency}"')
        for name in ("min", "max", "soft_min", "soft_max"):
            value = getattr(indicator, name)
            if value is not None:
                lines.append(f"{name} = {value}")
        if indicator.max_is_households:
            lines.append("max_is_households = true")
        blocks.append("\n".join(lines))
    ward_file = load_text(tmp_path, WARD + "\n" + "\n\n".join(blocks) + "\n")
    assert ward_file.indicators_from_file
    assert catalogue_fingerprint(ward_file.indicators) == catalogue_fingerprint(DEFAULT_INDICATORS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            WARD + INDICATOR.format(extra="") + INDICATOR.format(extra=""),
            'indicators[2] (key "births"): duplicate key',
            id="duplicate-key",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="min = 10\nmax = 3"),
            'indicators[1] (key "births"): min is greater than max',
            id="min-greater-than-max",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="").replace('"integer"', '"decimal"'),
            'indicators[1] (key "births"): kind "decimal" is unknown; '
            "one of: integer, number, percent, money, yesno, choice",
            id="unknown-kind",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="min = 0\nmax = 30\nsoft_max = 40"),
            'indicators[1] (key "births"): soft_max 40 is outside the range 0 to 30',
            id="soft-max-outside-hard-range",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="min = 5\nsoft_min = 1"),
            'indicators[1] (key "births"): soft_min 1 is outside the range 5 to ∞',
            id="soft-min-below-min",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="soft_min = 9\nsoft_max = 2"),
            'indicators[1] (key "births"): soft_min is greater than soft_max',
            id="soft-min-greater-than-soft-max",
        ),
        pytest.param(
            WARD + "report_deadline_day = 31\n",
            "[ward] report_deadline_day: must be a whole number from 1 to 28",
            id="bad-deadline-day",
        ),
        pytest.param(
            WARD + "report_deadline_day = 5.0\n",
            "[ward] report_deadline_day: must be a whole number from 1 to 28",
            id="float-deadline-day",
        ),
        pytest.param(
            WARD + 'timzone = "Asia/Ho_Chi_Minh"\n',
            '[ward]: unknown key "timzone" (did you mean "timezone"?)',
            id="unknown-key-typo",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="lable = 'x'\nwhatever = 1"),
            'indicators[1] (key "births"): unknown keys "lable", "whatever"; allowed keys: key, label,',
            id="unknown-keys-in-indicator",
        ),
        pytest.param(
            WARD + "[extra]\nx = 1\n",
            'top level: unknown key "extra"',
            id="unknown-top-level-table",
        ),
        pytest.param(
            WARD + GROUP + GROUP.replace('"TDP01"', '"tdp01"'),
            'groups[2] (code "TDP01"): duplicate group code',
            id="duplicate-group-code",
        ),
        pytest.param(
            WARD + 'timezone = "Asia/Hanoi_City"\n',
            '[ward] timezone: unknown time zone "Asia/Hanoi_City"',
            id="bad-timezone",
        ),
        pytest.param(
            WARD + "report_deadline_day = \n",
            "line 3: ",
            id="toml-syntax-error",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="").replace('"integer"', '"choice"'),
            'indicators[1] (key "births"): choices must list at least one option for kind "choice"',
            id="choice-without-choices",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra='choices = ["a"]'),
            'indicators[1] (key "births"): choices only apply to kind "choice", not "integer"',
            id="choices-on-integer",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="max = true"),
            'indicators[1] (key "births"): max must be a number',
            id="bool-as-number",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="weight = false"),
            'indicators[1] (key "births"): weight must be a number',
            id="bool-as-weight",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="weight = -1"),
            'indicators[1] (key "births"): weight must not be negative',
            id="negative-weight",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="required = 1"),
            'indicators[1] (key "births"): required must be true or false',
            id="required-not-bool",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra='direction = "up"'),
            'indicators[1] (key "births"): direction "up" is unknown; one of: higher, lower, neutral',
            id="unknown-direction",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="").replace('key = "births"', 'key = "Births"'),
            'indicators[1] (key "Births"): key must start with a lower-case letter',
            id="bad-key",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="").replace('key = "births"\n', ""),
            "indicators[1]: key is missing",
            id="missing-key",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="").replace('kind = "integer"\n', ""),
            'indicators[1] (key "births"): kind is missing',
            id="missing-kind",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="").replace('vi = "Số trẻ sinh", ', ""),
            'indicators[1] (key "births"): label needs a non-empty vi text',
            id="label-without-vi",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="").replace('"integer"', '"yesno"') + "min = 0\n",
            'indicators[1] (key "births"): min does not apply to kind "yesno"',
            id="range-on-yesno",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="").replace('"integer"', '"percent"') + "target = 120\n",
            'indicators[1] (key "births"): target 120 is outside the range 0 to 100',
            id="target-outside-range",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="unit = 5"),
            'indicators[1] (key "births"): unit must be text',
            id="unit-not-text",
        ),
        pytest.param(
            "indicators = []\n" + WARD,
            "indicators: needs at least one entry",
            id="empty-indicators",
        ),
        pytest.param(
            'name = "x"\n',
            'top level: unknown key "name"',
            id="name-outside-ward",
        ),
        pytest.param(
            WARD + '"two\\nlines" = 1\n',
            '[ward]: unknown key "two\\nlines"',
            id="newline-in-key-stays-one-line",
        ),
        pytest.param(
            "[[groups]]\ncode = 'A'\nname = 'B'\nhouseholds = 1\n",
            "[ward]: missing",
            id="missing-ward",
        ),
        pytest.param(
            "[ward]\ntimezone = 'Asia/Ho_Chi_Minh'\n",
            "[ward] name: missing",
            id="missing-ward-name",
        ),
        pytest.param(
            '[ward]\nname = "  "\n',
            "[ward] name: must not be empty",
            id="empty-ward-name",
        ),
        pytest.param(
            WARD + "reminder_days_before = [3, 3]\n",
            "[ward] reminder_days_before: must not repeat a day",
            id="duplicate-reminder",
        ),
        pytest.param(
            WARD + "reminder_days_before = [28]\n",
            "[ward] reminder_days_before: must be a whole number from 0 to 27",
            id="reminder-out-of-range",
        ),
        pytest.param(
            WARD + "bands = { xuat_sac = 80, tien_tien = 80 }\n",
            "[ward] bands: must be strictly decreasing",
            id="bands-not-decreasing",
        ),
        pytest.param(
            WARD + "bands = { xuat_sac = 101 }\n",
            "[ward] bands: xuat_sac must be a number from 0 to 100",
            id="band-out-of-range",
        ),
        pytest.param(
            WARD + "bands = { excellent = 95 }\n",
            '[ward] bands: unknown key "excellent"',
            id="band-unknown-key",
        ),
        pytest.param(
            WARD + "conversation_timeout_minutes = 0\n",
            "[ward] conversation_timeout_minutes: must be a whole number from 1 to 1440",
            id="bad-timeout",
        ),
        pytest.param(
            WARD + "invite_days = 91\n",
            "[ward] invite_days: must be a whole number from 1 to 90",
            id="bad-invite-days",
        ),
        pytest.param(
            WARD + GROUP.replace('"TDP01"', '"TDP 01"'),
            'groups[1] (code "TDP 01"): code must be 1 to 20 letters',
            id="bad-group-code",
        ),
        pytest.param(
            WARD + GROUP.replace("120", "0"),
            'groups[1] (code "TDP01"): households must be a whole number from 1 to 100000',
            id="bad-households",
        ),
        pytest.param(
            WARD + GROUP.replace('name = "Tổ dân phố số 1"', 'name = ""'),
            'groups[1] (code "TDP01"): name must not be empty',
            id="empty-group-name",
        ),
        pytest.param(
            WARD + GROUP + "blok = 'Khu vực 1'\n",
            'groups[1] (code "TDP01"): unknown key "blok" (did you mean "block"?)',
            id="group-typo",
        ),
        pytest.param(
            "groups = 3\n" + WARD,
            "groups: must be a list of [[groups]] tables",
            id="groups-not-a-list",
        ),
    ],
)
def test_rule_violations_give_one_line(tmp_path: Path, text: str, expected: str) -> None:
    assert error_of(tmp_path, text).startswith(expected)


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, WARD + "\n\nreport_deadline_day = \n")
    assert message.startswith("line 5: ")
    assert "(at line" not in message


def test_toml_error_at_end_of_file_names_the_last_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, WARD + "report_deadline_day = ")
    assert message.startswith("line 3: ")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(WardConfigError, match=r"nowhere\.toml: file not found$"):
        load_ward_config(str(path))


def test_path_is_shown_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, WARD + "report_deadline_day = 0\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WardConfigError) as caught:
        load_ward_config("ward.toml")
    assert str(caught.value) == "ward.toml: [ward] report_deadline_day: must be a whole number from 1 to 28"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "ward.toml"
    path.write_bytes('[ward]\nname = "Phường"\n'.encode("utf-16"))
    with pytest.raises(WardConfigError, match="UTF-8"):
        load_ward_config(path)


def test_default_ward_file() -> None:
    ward_file = default_ward_file()
    assert ward_file.ward.name == "Phường"
    assert ward_file.ward.timezone is None
    assert ward_file.groups == ()
    assert ward_file.indicators == DEFAULT_INDICATORS
    assert not ward_file.indicators_from_file
    assert ward_file.path is None
    named = default_ward_file("Phường Tràng Cát", "Asia/Ho_Chi_Minh")
    assert (named.ward.name, named.ward.timezone) == ("Phường Tràng Cát", "Asia/Ho_Chi_Minh")


def test_bands_refuse_wrong_order() -> None:
    with pytest.raises(ValueError):
        Bands(70, 80, 90)


# --- the new keys -----------------------------------------------------------------------------

SCORED = """
[[indicators]]
key = "waste_sorting_pct"
label = "Hộ phân loại rác"
kind = "percent"
direction = "higher"
{extra}
"""

LOWER = """
[[indicators]]
key = "incidents"
label = "Vụ việc"
kind = "integer"
direction = "lower"
{extra}
"""

FREE = """
[[indicators]]
key = "notes"
label = "Kiến nghị, đề xuất"
kind = "{kind}"
{extra}
"""

POINTS_FILE = (
    WARD
    + SCORED.format(extra="points = 15\ntarget = 90")
    + LOWER.format(extra="points = 15\ntarget = 0\ndeduct = 5")
)

BAND = """
[[bands]]
name = {{ vi = "{vi}", en = "{en}" }}
min = {min}
"""


def band_names(ward_file: WardFile, language: str = "vi") -> list[tuple[str, float]]:
    return [(band.name_in(language), band.min) for band in ward_file.bands]


TODAYS_BANDS = [("Xuất sắc", 90), ("Tiên tiến", 80), ("Hoàn thành", 70), ("Chưa hoàn thành", 0)]


def test_old_format_example_keeps_relative_scoring_and_todays_bands() -> None:
    ward_file = load_ward_config(EXAMPLE)
    assert ward_file.ward.scoring is Scoring.RELATIVE
    assert band_names(ward_file) == TODAYS_BANDS
    assert band_names(ward_file, "en")[0] == ("Excellent", 90)
    assert all(band.public for band in ward_file.bands)
    assert ward_file.ward.bands == Bands(90, 80, 70)
    assert ward_file.code == "WARD"
    assert ward_file.assessment == Assessment()
    assert ward_file.awards == Awards()


def test_old_bands_table_gives_the_same_list(tmp_path: Path) -> None:
    ward_file = load_text(tmp_path, WARD + "bands = { xuat_sac = 95, hoan_thanh = 60 }\n")
    assert ward_file.ward.bands == Bands(95, 80, 60)
    assert band_names(ward_file) == [
        ("Xuất sắc", 95),
        ("Tiên tiến", 80),
        ("Hoàn thành", 60),
        ("Chưa hoàn thành", 0),
    ]
    zero = load_text(tmp_path, WARD + "bands = { hoan_thanh = 0 }\n")
    assert band_names(zero) == [*TODAYS_BANDS[:2], ("Hoàn thành", 0)]  # nothing below 0 to name


def test_example_commented_keys_are_valid_and_are_the_defaults(tmp_path: Path) -> None:
    """The optional [ward] keys, [assessment] and [awards] shown commented in the example load as written."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("# code = "))
    last = next(i for i in range(first, len(lines)) if not lines[i].startswith("# "))
    start = lines.index("# [assessment]")
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("# No [[indicators]]"))
    commented = lines[first:last] + [line for line in lines[start:end] if line.startswith("# ")]
    ward_file = load_text(tmp_path, WARD + "\n".join(line.removeprefix("# ") for line in commented) + "\n")
    assert ward_file.code == ward_file.ward.code == "WARD"  # the same as the file name gives
    assert (
        dataclasses.replace(ward_file.ward, code=None, backup_dir=None)
        == default_ward_file("Phường Thử").ward
    )
    assert ward_file.ward.backup_dir == tmp_path / "backups"
    assert dataclasses.replace(ward_file.assessment, criteria=DEFAULT_CRITERIA) == Assessment()
    assert [criterion.key for criterion in ward_file.assessment.criteria] == ["security"]
    assert ward_file.awards == Awards()


def test_minimal_file_new_defaults(tmp_path: Path) -> None:
    ward_file = load_text(tmp_path, WARD)
    ward = ward_file.ward
    assert (ward.code, ward_file.code) == (None, "WARD")
    assert ward.scoring is Scoring.RELATIVE
    assert (ward.address, ward.unit, ward.head_title, ward.kind) == (
        "anh/chị",
        "tổ dân phố",
        "tổ trưởng",
        "phường",
    )
    assert (ward.broadcast_give_up_hours, ward.backup_dir) == (24, None)
    assert (ward.backup_keep_days, ward.prune_after_days) == (30, 30)
    assert band_names(ward_file) == TODAYS_BANDS
    assessment = ward_file.assessment
    assert assessment.family_title == {"vi": "Gia đình văn hóa", "en": "Cultured family"}
    assert assessment.group_title == {"vi": "Tổ dân phố văn hóa", "en": "Cultured residential group"}
    assert (assessment.min_family_pct, assessment.posting_days) == (80, 7)
    assert [criterion.key for criterion in assessment.criteria] == [
        "security",
        "environment",
        "civilised_customs",
        "activities",
        "solidarity",
    ]
    assert all(criterion.label["vi"] and criterion.label["en"] for criterion in assessment.criteria)
    assert assessment.criteria[1].label_in("en") == "A clean, sanitary environment"
    awards = ward_file.awards
    assert [form["vi"] for form in awards.forms] == ["Giấy khen", "Bằng khen", "Cờ thi đua", "Danh hiệu"]
    assert [level["vi"] for level in awards.levels] == ["phường", "tỉnh/thành phố", "Chính phủ"]
    assert all(texts["en"] for texts in (*awards.forms, *awards.levels))


def test_new_ward_keys_are_read(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    ward_file = load_ward_config(
        write(
            tmp_path,
            WARD
            + 'code = "p-7"\naddress = "ông/bà"\nunit = "thôn"\nkind = "xã"\n'
            + 'broadcast_give_up_hours = 1.5\nbackup_dir = "sub/backups"\nbackup_keep_days = 90\n'
            + "prune_after_days = 1\n",
        )
    )
    ward = ward_file.ward
    assert (ward.code, ward_file.code) == ("P-7", "P-7")
    assert (ward.address, ward.unit, ward.kind) == (Address.ONG_BA, GroupUnit.THON, WardKind.XA)
    assert ward.head_title == "trưởng thôn"  # follows unit
    assert ward.broadcast_give_up_hours == 1.5
    assert ward.backup_dir == tmp_path / "sub" / "backups"
    assert ward.backup_dir.is_absolute()
    assert (ward.backup_keep_days, ward.prune_after_days) == (90, 1)
    assert ward_file.assessment.group_title == {
        "vi": "Thôn văn hóa",
        "en": "Cultured village",
    }  # follows unit
    assert ward_file.awards.levels[0] == {"vi": "xã", "en": "Commune"}  # follows kind


def test_written_head_title_and_titles_win(tmp_path: Path) -> None:
    ward_file = load_text(
        tmp_path,
        WARD
        + 'unit = "khu phố"\nkind = "xã"\nhead_title = "trưởng ban điều hành"\n'
        + '[assessment]\ngroup_title = "Khu dân cư văn hóa"\n'
        + '[awards]\nlevels = ["phường", "tỉnh"]\n',
    )
    assert ward_file.ward.head_title == "trưởng ban điều hành"
    assert ward_file.assessment.group_title == {"vi": "Khu dân cư văn hóa", "en": "Khu dân cư văn hóa"}
    assert [level["vi"] for level in ward_file.awards.levels] == ["phường", "tỉnh"]


@pytest.mark.parametrize(
    ("unit", "head_title"),
    [
        ("tổ dân phố", "tổ trưởng"),
        ("khu phố", "trưởng khu phố"),
        ("thôn", "trưởng thôn"),
        ("ấp", "trưởng ấp"),
        ("bản", "trưởng bản"),
    ],
)
def test_head_title_follows_unit(tmp_path: Path, unit: str, head_title: str) -> None:
    assert load_text(tmp_path, WARD + f'unit = "{unit}"\n').ward.head_title == head_title


def test_backup_dir_absolute_stays(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    ward_file = load_text(tmp_path, WARD + f'backup_dir = "{target.as_posix()}"\n')
    assert ward_file.ward.backup_dir == target


def test_points_example_loads() -> None:
    ward_file = load_ward_config(POINTS_EXAMPLE)
    assert ward_file.ward.scoring is Scoring.POINTS
    assert ward_file.code == "TRANGCAT"
    assert ward_file.bands == POINTS_BANDS
    scored = [indicator for indicator in ward_file.indicators if indicator.direction is not Direction.NEUTRAL]
    assert len(scored) == 10
    assert sum(indicator.points or 0 for indicator in scored) == 100
    assert all(indicator.points for indicator in scored)
    by_key = {indicator.key: indicator for indicator in ward_file.indicators}
    security = by_key["security_incidents"]
    assert (security.points, security.target, security.deduct) == (15, 0, 5)
    assert by_key["waste_sorting_pct"].target == 90
    assert by_key["poor_households"].months == (12,)
    assert by_key["family_title_registrations"].months == (1,)
    assert (by_key["suggestions"].kind, by_key["suggestions"].max_length) == (Kind.TEXT, 1000)
    assert (by_key["cleanup_photos"].kind, by_key["cleanup_photos"].max_photos) == (Kind.PHOTO, 3)
    assert ward_file.assessment == Assessment()
    assert ward_file.awards == Awards()
    assert ward_file.ward.backup_dir == POINTS_EXAMPLE.parent / "backups"


def test_points_example_commented_choice_is_valid(tmp_path: Path) -> None:
    lines = POINTS_EXAMPLE.read_text(encoding="utf-8").splitlines()
    start = lines.index("# [[indicators]]")
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("#"))
    text = WARD + 'scoring = "points"\n' + "\n".join(line.removeprefix("# ") for line in lines[start:end])
    (choice,) = load_text(tmp_path, text).indicators
    assert (choice.choices, choice.choice_points, choice.points) == (
        ("Tốt", "Khá", "Cần cố gắng"),
        (10, 5, 0),
        10,
    )


def test_scoring_is_points_when_an_indicator_gives_points(tmp_path: Path) -> None:
    ward_file = load_text(tmp_path, POINTS_FILE)
    assert ward_file.ward.scoring is Scoring.POINTS
    waste, incidents = ward_file.indicators
    assert (waste.points, waste.target, waste.deduct) == (15, 90, None)
    assert (incidents.points, incidents.target, incidents.deduct) == (15, 0, 5)
    # Nothing scores by points yet: today's standings keep their default weight.
    assert waste.scored and waste.weight == 10
    assert ward_file.bands == POINTS_BANDS
    assert not ward_file.bands[-1].public


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(WARD, id="no-indicators"),
        pytest.param(WARD + SCORED.format(extra="weight = 5"), id="weight"),
        pytest.param(WARD + SCORED.format(extra=""), id="neither-weight-nor-points"),
        pytest.param(WARD + INDICATOR.format(extra=""), id="unscored-only"),
    ],
)
def test_files_of_the_previous_format_score_relative(tmp_path: Path, text: str) -> None:
    assert load_text(tmp_path, text).ward.scoring is Scoring.RELATIVE


def test_scoring_written_out(tmp_path: Path) -> None:
    points = load_text(tmp_path, WARD + 'scoring = "points"\n' + SCORED.format(extra="points = 5"))
    assert points.ward.scoring is Scoring.POINTS
    relative = load_text(tmp_path, WARD + 'scoring = "relative"\n' + SCORED.format(extra="weight = 5"))
    assert relative.ward.scoring is Scoring.RELATIVE


def test_yesno_lower_needs_no_deduct(tmp_path: Path) -> None:
    text = WARD + FREE.format(kind="yesno", extra='direction = "lower"\npoints = 10')
    (indicator,) = load_text(tmp_path, text).indicators
    assert (indicator.points, indicator.deduct) == (10, None)


def test_choice_points(tmp_path: Path) -> None:
    text = WARD + FREE.format(
        kind="choice",
        extra='choices = ["Tốt", "Khá"]\ndirection = "higher"\npoints = 10\nchoice_points = [10, 4.5]',
    )
    (indicator,) = load_text(tmp_path, text).indicators
    assert indicator.choice_points == (10, 4.5)


def test_new_bands_are_read(tmp_path: Path) -> None:
    text = (
        WARD
        + BAND.format(vi="Tốt", en="Good", min=75.5)
        + BAND.format(vi="Khá", en="Fair", min=0)
        + "public = false\n"
    )
    ward_file = load_text(tmp_path, text)
    good, fair = ward_file.bands
    assert (good.name_in("en"), good.min, good.public) == ("Good", 75.5, True)
    assert (fair.name_in("vi"), fair.name_in("fr"), fair.public) == ("Khá", "Khá", False)
    assert ward_file.ward.bands == Bands()  # today's standings keep their own thresholds
    assert ward_file.band_of(75.5) is good and ward_file.band_of(12) is fair


def test_a_score_below_the_last_band_has_none(tmp_path: Path) -> None:
    ward_file = load_text(tmp_path, WARD + BAND.format(vi="Đạt", en="Passed", min=50))
    assert ward_file.band_of(50) is ward_file.bands[0]
    assert ward_file.band_of(49.9) is None


def test_text_and_photo_defaults(tmp_path: Path) -> None:
    text = (
        WARD
        + FREE.format(kind="text", extra="")
        + FREE.format(kind="photo", extra="").replace('"notes"', '"photos"')
    )
    notes, photos = load_text(tmp_path, text).indicators
    assert (notes.kind, notes.required, notes.max_length, notes.max_photos) == (Kind.TEXT, False, 1000, None)
    assert (photos.kind, photos.required, photos.max_length, photos.max_photos) == (
        Kind.PHOTO,
        False,
        None,
        3,
    )
    assert not notes.scored and not photos.scored and notes.weight == 0
    assert notes.min is None and notes.direction is Direction.NEUTRAL


def test_text_and_photo_limits(tmp_path: Path) -> None:
    text = (
        WARD
        + FREE.format(kind="text", extra="max_length = 4000\nrequired = true")
        + FREE.format(kind="photo", extra="max_photos = 10").replace('"notes"', '"photos"')
    )
    notes, photos = load_text(tmp_path, text).indicators
    assert (notes.max_length, notes.required, photos.max_photos) == (4000, True, 10)


@pytest.mark.parametrize(
    ("extra", "frequency", "months"),
    [
        ("", Frequency.MONTHLY, tuple(range(1, 13))),
        ('frequency = "quarterly"', Frequency.QUARTERLY, (3, 6, 9, 12)),
        ('frequency = "yearly"', Frequency.YEARLY, (12,)),
        ('frequency = "yearly"\nasked_in = [1]', Frequency.YEARLY, (1,)),
        ('frequency = "quarterly"\nasked_in = [10, 1, 4]', Frequency.QUARTERLY, (1, 4, 10)),
        ("asked_in = [12, 11, 1]", Frequency.MONTHLY, (1, 11, 12)),
    ],
)
def test_question_seasons(tmp_path: Path, extra: str, frequency: Frequency, months: tuple[int, ...]) -> None:
    (indicator,) = load_text(tmp_path, WARD + INDICATOR.format(extra=extra)).indicators
    assert (indicator.frequency, indicator.months) == (frequency, months)


def test_criteria_are_read(tmp_path: Path) -> None:
    text = (
        WARD
        + '[[assessment.criteria]]\nkey = "clean_streets"\n'
        + 'label = { vi = "Đường phố sạch", en = "Clean streets" }\n'
    )
    (criterion,) = load_text(tmp_path, text).assessment.criteria
    assert criterion == Criterion("clean_streets", {"vi": "Đường phố sạch", "en": "Clean streets"})


def test_assessment_and_awards_are_read(tmp_path: Path) -> None:
    text = (
        WARD
        + '[assessment]\nfamily_title = { vi = "Gia đình văn hóa tiêu biểu", en = "Model family" }\n'
        + "min_family_pct = 92.5\nposting_days = 0\n"
        + '[awards]\nforms = ["Giấy khen", { vi = "Bằng khen", en = "Certificate of merit" }]\n'
    )
    ward_file = load_text(tmp_path, text)
    assert ward_file.assessment.family_title == {"vi": "Gia đình văn hóa tiêu biểu", "en": "Model family"}
    assert (ward_file.assessment.min_family_pct, ward_file.assessment.posting_days) == (92.5, 0)
    assert ward_file.assessment.criteria == DEFAULT_CRITERIA
    assert ward_file.awards.forms == (
        {"vi": "Giấy khen", "en": "Giấy khen"},
        {"vi": "Bằng khen", "en": "Certificate of merit"},
    )


def test_public_models_survive_dataclasses_replace() -> None:
    """Callers copy settings with dataclasses.replace; the copy is checked again and must pass."""
    ward_file = load_ward_config(POINTS_EXAMPLE)
    for value in (
        ward_file.ward,
        ward_file.ward.bands,
        ward_file.assessment,
        ward_file.awards,
        *ward_file.bands,
        *ward_file.assessment.criteria,
    ):
        assert dataclasses.replace(value) == value
    assert dataclasses.replace(ward_file, groups=(GroupEntry("tdp9", " Tổ 9 ", 10),)).groups[0].code == "TDP9"


def test_default_ward_file_new_fields() -> None:
    ward_file = default_ward_file()
    assert ward_file.code == "WARD"
    assert ward_file.ward.scoring is Scoring.RELATIVE
    assert band_names(ward_file) == TODAYS_BANDS
    assert ward_file.assessment == Assessment() and ward_file.awards == Awards()
    assert ward_file.ward == WardSettings(name="Phường")


def test_pydantic_models_refuse_bad_values_in_code() -> None:
    with pytest.raises(ValueError):
        BandEntry({"vi": "A"}, 101)
    with pytest.raises(ValueError):
        GroupEntry("TDP 1", "Tổ", 10)
    with pytest.raises(ValueError):
        WardSettings(name="P", report_deadline_day=31)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # [ward]
        pytest.param(
            WARD + 'scoring = "pts"\n',
            '[ward] scoring: "pts" is unknown; one of: points, relative',
            id="scoring",
        ),
        pytest.param(
            WARD + 'address = "bạn"\n',
            '[ward] address: "bạn" is unknown; one of: anh/chị, ông/bà',
            id="address",
        ),
        pytest.param(
            WARD + 'unit = "xóm"\n',
            '[ward] unit: "xóm" is unknown; one of: tổ dân phố, khu phố, thôn, ấp, bản',
            id="unit",
        ),
        pytest.param(
            WARD + 'kind = "quận"\n', '[ward] kind: "quận" is unknown; one of: phường, xã, đặc khu', id="kind"
        ),
        pytest.param(WARD + 'head_title = " "\n', "[ward] head_title: must not be empty", id="head-title"),
        pytest.param(
            WARD + 'code = "P 1"\n', "[ward] code: must be 1 to 20 letters, digits, '_' or '-'", id="code"
        ),
        pytest.param(
            WARD + "broadcast_give_up_hours = 0\n",
            "[ward] broadcast_give_up_hours: must be more than 0",
            id="give-up",
        ),
        pytest.param(
            WARD + 'broadcast_give_up_hours = "24"\n',
            "[ward] broadcast_give_up_hours: must be a number",
            id="give-up-text",
        ),
        pytest.param(
            WARD + "backup_dir = 3\n", "[ward] backup_dir: must be a non-empty text", id="backup-dir"
        ),
        pytest.param(
            WARD + "backup_keep_days = 0\n",
            "[ward] backup_keep_days: must be a whole number, 1 or more",
            id="keep-days",
        ),
        pytest.param(
            WARD + "prune_after_days = 1.5\n",
            "[ward] prune_after_days: must be a whole number, 1 or more",
            id="prune",
        ),
        pytest.param(
            WARD + 'scoreing = "points"\n',
            '[ward]: unknown key "scoreing" (did you mean "scoring"?)',
            id="typo",
        ),
        pytest.param(
            WARD + 'scoring = "points"\n',
            '[ward] scoring: "points" needs [[indicators]] with points; the built-in catalogue is scored '
            "by weight",
            id="points-without-indicators",
        ),
        # [[bands]]
        pytest.param(
            WARD + "bands = { xuat_sac = 95 }\n" + BAND.format(vi="A", en="A", min=0),
            "bands: give either [[bands]] or [ward] bands, not both",
            id="both-band-forms",
        ),
        pytest.param(
            WARD + BAND.format(vi="A", en="A", min=50) + BAND.format(vi="B", en="B", min=50),
            'bands[2] (name "B"): min 50 must be lower than the band above (50); list bands highest first',
            id="bands-not-decreasing",
        ),
        pytest.param(
            WARD + BAND.format(vi="A", en="A", min=101),
            'bands[1] (name "A"): min must be a number from 0 to 100',
            id="band-min",
        ),
        pytest.param(WARD + "[[bands]]\nmin = 1\n", "bands[1]: name is missing", id="band-name-missing"),
        pytest.param(
            WARD + "[[bands]]\nname = 'A'\n", 'bands[1] (name "A"): min is missing', id="band-min-missing"
        ),
        pytest.param(
            WARD + BAND.format(vi="A", en="A", min=0) + "public = 1\n",
            'bands[1] (name "A"): public must be true or false',
            id="band-public",
        ),
        pytest.param(
            WARD + BAND.format(vi="A", en="A", min=0) + "publc = false\n",
            'bands[1] (name "A"): unknown key "publc" (did you mean "public"?)',
            id="band-typo",
        ),
        pytest.param(
            WARD + '[[bands]]\nname = { en = "A" }\nmin = 0\n',
            "bands[1]: name needs a non-empty vi text",
            id="band-name-without-vi",
        ),
        pytest.param("bands = []\n" + WARD, "bands: needs at least one entry", id="bands-empty"),
        pytest.param(
            "bands = 3\n" + WARD, "bands: must be a list of [[bands]] tables", id="bands-not-a-list"
        ),
        # points and weight
        pytest.param(
            POINTS_FILE + INDICATOR.format(extra='direction = "higher"\nweight = 5'),
            'indicators[3] (key "births"): mixes weight and points; use points for every scored indicator '
            '(see README "Moving from weight to points")',
            id="mixes-weight-and-points",
        ),
        pytest.param(
            WARD + 'scoring = "points"\n' + SCORED.format(extra="weight = 5"),
            'indicators[1] (key "waste_sorting_pct"): mixes weight and points',
            id="points-scoring-with-weight",
        ),
        pytest.param(
            WARD + 'scoring = "relative"\n' + SCORED.format(extra="points = 5"),
            'indicators[1] (key "waste_sorting_pct"): points is only for [ward] scoring = "points"',
            id="relative-scoring-with-points",
        ),
        pytest.param(
            POINTS_FILE + SCORED.format(extra="").replace('"waste_sorting_pct"', '"other"'),
            'indicators[3] (key "other"): needs points (the most it earns)',
            id="scored-without-points",
        ),
        pytest.param(
            WARD + LOWER.format(extra="points = 5"),
            'indicators[1] (key "incidents"): needs deduct (points off per unit above the target) '
            'for direction "lower"',
            id="lower-without-deduct",
        ),
        pytest.param(
            WARD + SCORED.format(extra="points = 0"),
            'indicators[1] (key "waste_sorting_pct"): points must be more than 0',
            id="points-zero",
        ),
        pytest.param(
            WARD + SCORED.format(extra="points = true"),
            'indicators[1] (key "waste_sorting_pct"): points must be a number',
            id="points-bool",
        ),
        pytest.param(
            WARD + LOWER.format(extra="points = 5\ndeduct = -1"),
            'indicators[1] (key "incidents"): deduct must not be negative',
            id="deduct-negative",
        ),
        pytest.param(
            WARD + SCORED.format(extra="points = 5\ndeduct = 1"),
            'indicators[1] (key "waste_sorting_pct"): deduct only applies to direction "lower"',
            id="deduct-on-higher",
        ),
        pytest.param(
            WARD + FREE.format(kind="yesno", extra='direction = "lower"\npoints = 5\ndeduct = 1'),
            'indicators[1] (key "notes"): deduct does not apply to kind "yesno"',
            id="deduct-on-yesno",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="points = 5"),
            'indicators[1] (key "births"): points needs direction "higher" or "lower"; '
            "a neutral indicator is recorded",
            id="points-on-neutral",
        ),
        pytest.param(
            WARD + SCORED.format(extra="points = 5\nchoice_points = [1]"),
            'indicators[1] (key "waste_sorting_pct"): choice_points does not apply to kind "percent"',
            id="choice-points-on-percent",
        ),
        pytest.param(
            WARD
            + FREE.format(
                kind="choice",
                extra='choices = ["a", "b"]\ndirection = "higher"\npoints = 5\nchoice_points = [1]',
            ),
            'indicators[1] (key "notes"): choice_points must give one number per choice: 2 choices, 1 given',
            id="choice-points-count",
        ),
        pytest.param(
            WARD
            + FREE.format(
                kind="choice",
                extra='choices = ["a", "b"]\ndirection = "higher"\npoints = 5\nchoice_points = [6, 0]',
            ),
            'indicators[1] (key "notes"): choice_points must not be more than points (5)',
            id="choice-points-above-points",
        ),
        pytest.param(
            WARD
            + FREE.format(
                kind="choice",
                extra='choices = ["a", "b"]\ndirection = "higher"\npoints = 5\nchoice_points = ["x", 0]',
            ),
            'indicators[1] (key "notes"): choice_points must be a list of numbers',
            id="choice-points-not-numbers",
        ),
        pytest.param(
            WARD
            + 'scoring = "points"\n'
            + FREE.format(kind="choice", extra='choices = ["a"]\ndirection = "higher"\npoints = 5'),
            'indicators[1] (key "notes"): needs choice_points, one number per choice',
            id="scored-choice-without-choice-points",
        ),
        # seasons
        pytest.param(
            WARD + INDICATOR.format(extra='frequency = "weekly"'),
            'indicators[1] (key "births"): frequency "weekly" is unknown; one of: monthly, quarterly, yearly',
            id="frequency",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="asked_in = [13]"),
            'indicators[1] (key "births"): asked_in must be a whole number from 1 to 12',
            id="asked-in-month",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="asked_in = 3"),
            'indicators[1] (key "births"): asked_in must be a list of whole numbers from 1 to 12',
            id="asked-in-not-a-list",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="asked_in = []"),
            'indicators[1] (key "births"): asked_in must list at least one month',
            id="asked-in-empty",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra="asked_in = [3, 3]"),
            'indicators[1] (key "births"): asked_in must not repeat a month',
            id="asked-in-repeat",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra='frequency = "yearly"\nasked_in = [1, 12]'),
            'indicators[1] (key "births"): asked_in must be a single month for a yearly question',
            id="yearly-twice",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra='frequency = "quarterly"\nasked_in = [1, 2]'),
            'indicators[1] (key "births"): asked_in must have at most one month per quarter',
            id="quarterly-twice-a-quarter",
        ),
        pytest.param(
            WARD + INDICATOR.format(extra='frequncy = "yearly"'),
            'indicators[1] (key "births"): unknown key "frequncy" (did you mean "frequency"?)',
            id="indicator-typo",
        ),
        # text and photo
        pytest.param(
            WARD + FREE.format(kind="text", extra='direction = "neutral"'),
            'indicators[1] (key "notes"): direction does not apply to kind "text"',
            id="text-direction",
        ),
        pytest.param(
            WARD + FREE.format(kind="text", extra="points = 5"),
            'indicators[1] (key "notes"): points does not apply to kind "text"',
            id="text-points",
        ),
        pytest.param(
            WARD + FREE.format(kind="photo", extra="weight = 5"),
            'indicators[1] (key "notes"): weight does not apply to kind "photo"',
            id="photo-weight",
        ),
        pytest.param(
            WARD + FREE.format(kind="photo", extra="min = 1"),
            'indicators[1] (key "notes"): min does not apply to kind "photo"',
            id="photo-min",
        ),
        pytest.param(
            WARD + FREE.format(kind="text", extra="max = 10"),
            'indicators[1] (key "notes"): max does not apply to kind "text"',
            id="text-max",
        ),
        pytest.param(
            WARD + FREE.format(kind="text", extra="max_length = 4001"),
            'indicators[1] (key "notes"): max_length must be a whole number from 1 to 4000',
            id="text-max-length",
        ),
        pytest.param(
            WARD + FREE.format(kind="photo", extra="max_photos = 0"),
            'indicators[1] (key "notes"): max_photos must be a whole number from 1 to 10',
            id="photo-max-photos",
        ),
        pytest.param(
            WARD + FREE.format(kind="photo", extra="max_length = 10"),
            'indicators[1] (key "notes"): max_length does not apply to kind "photo"',
            id="max-length-on-photo",
        ),
        pytest.param(
            WARD + FREE.format(kind="integer", extra="max_photos = 2"),
            'indicators[1] (key "notes"): max_photos does not apply to kind "integer"',
            id="max-photos-on-integer",
        ),
        pytest.param(
            WARD + FREE.format(kind="essay", extra=""),
            'indicators[1] (key "notes"): kind "essay" is unknown; '
            "one of: integer, number, percent, money, yesno, choice, text, photo",
            id="kinds-list-text-and-photo",
        ),
        # [assessment]
        pytest.param(
            WARD + "[assessment]\nmin_family_pct = 120\n",
            "[assessment] min_family_pct: must be a number from 0 to 100",
            id="min-family-pct",
        ),
        pytest.param(
            WARD + "[assessment]\nposting_days = -1\n",
            "[assessment] posting_days: must be a whole number, 0 or more",
            id="posting-days",
        ),
        pytest.param(
            WARD + '[assessment]\nfamily_title = { vi = "", en = "Family" }\n',
            "[assessment] family_title: needs a non-empty vi text",
            id="family-title",
        ),
        pytest.param(
            WARD + "[assessment]\ngroup_title = 3\n",
            '[assessment] group_title: must be text or a table like { vi = "...", en = "..." }',
            id="group-title",
        ),
        pytest.param(
            WARD + "[assessment]\nposting_day = 3\n",
            '[assessment]: unknown key "posting_day" (did you mean "posting_days"?)',
            id="assessment-typo",
        ),
        pytest.param("assessment = 3\n" + WARD, "[assessment]: must be a table", id="assessment-not-a-table"),
        pytest.param(
            WARD
            + '[[assessment.criteria]]\nkey = "a"\nlabel = "A"\n'
            + '[[assessment.criteria]]\nkey = "a"\nlabel = "B"\n',
            'assessment.criteria[2] (key "a"): duplicate key',
            id="criteria-duplicate",
        ),
        pytest.param(
            WARD + '[[assessment.criteria]]\nkey = "An ninh"\nlabel = "A"\n',
            'assessment.criteria[1] (key "An ninh"): key must start with a lower-case letter',
            id="criteria-key",
        ),
        pytest.param(
            WARD + '[[assessment.criteria]]\nkey = "a"\n',
            'assessment.criteria[1] (key "a"): label is missing',
            id="criteria-label-missing",
        ),
        pytest.param(
            WARD + '[[assessment.criteria]]\nkey = "a"\nlabel = "A"\nlable = "B"\n',
            'assessment.criteria[1] (key "a"): unknown key "lable" (did you mean "label"?)',
            id="criteria-typo",
        ),
        pytest.param(
            WARD + "[assessment]\ncriteria = []\n",
            "[assessment] criteria: needs at least one entry; "
            "leave [[assessment.criteria]] out to use the defaults",
            id="criteria-empty",
        ),
        # [awards]
        pytest.param(
            WARD + "[awards]\nforms = []\n", "[awards] forms: must list at least one name", id="forms-empty"
        ),
        pytest.param(
            WARD + "[awards]\nforms = [3]\n",
            '[awards] forms: must be text or a table like { vi = "...", en = "..." }',
            id="forms-item",
        ),
        pytest.param(
            WARD + '[awards]\nlevels = "phường"\n',
            '[awards] levels: must be a list like [{ vi = "...", en = "..." }]',
            id="levels-not-a-list",
        ),
        pytest.param(
            WARD + "[awards]\nform = []\n",
            '[awards]: unknown key "form" (did you mean "forms"?)',
            id="awards-typo",
        ),
        pytest.param(
            WARD + "[asessment]\n",
            'top level: unknown key "asessment" (did you mean "assessment"?)',
            id="top-typo",
        ),
    ],
)
def test_new_rule_violations_give_one_line(tmp_path: Path, text: str, expected: str) -> None:
    assert error_of(tmp_path, text).startswith(expected)


# --- a folder of wards ------------------------------------------------------------------------


def write_ward(folder: Path, name: str, extra: str = "") -> Path:
    path = folder / name
    path.write_text(WARD + extra, encoding="utf-8")
    return path


def test_folder_gives_one_ward_per_file_by_name(tmp_path: Path) -> None:
    write_ward(tmp_path, "p2.toml")
    write_ward(tmp_path, "P1.toml")
    write_ward(tmp_path, "trang-cat.toml", 'code = "tc"\n')
    write_ward(tmp_path, ".P3.toml")  # hidden (editor or macOS leftovers): skipped
    (tmp_path / "notes.txt").write_text("not a ward", encoding="utf-8")
    (tmp_path / "old.toml").mkdir()  # a folder named like a file is not a ward
    wards = load_wards(tmp_path)
    assert [(ward.code, ward.path.name if ward.path else None) for ward in wards] == [
        ("P1", "P1.toml"),
        ("P2", "p2.toml"),
        ("TC", "trang-cat.toml"),
    ]
    assert load_wards(str(tmp_path)) == wards


def test_file_gives_one_ward(tmp_path: Path) -> None:
    (ward,) = load_wards(write_ward(tmp_path, "p1.toml"))
    assert ward.code == "P1"


def test_duplicate_codes_name_both_files(tmp_path: Path) -> None:
    first = write_ward(tmp_path, "a.toml", 'code = "P1"\n')
    second = write_ward(tmp_path, "p1.toml")
    with pytest.raises(WardConfigError) as caught:
        load_wards(tmp_path)
    message = str(caught.value)
    assert (
        message
        == f'{second}: [ward] code: "P1" is also the code of {first}; give each ward its own [ward] code'
    )


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("x", encoding="utf-8")
    with pytest.raises(WardConfigError) as caught:
        load_wards(tmp_path)
    assert str(caught.value) == f"{tmp_path}: no ward files; the folder needs one *.toml file per ward"


def test_folder_error_names_the_file(tmp_path: Path) -> None:
    write_ward(tmp_path, "a.toml")
    bad = write_ward(tmp_path, "b.toml", "report_deadline_day = 0\n")
    with pytest.raises(WardConfigError, match=rf"^{bad}: \[ward\] report_deadline_day: "):
        load_wards(tmp_path)


@pytest.mark.parametrize(
    ("stem", "code"),
    [
        ("p1", "P1"),
        ("ward", "WARD"),
        ("Phường Tràng Cát", "PHUONG-TRANG-CAT"),
        ("Xã Đông Hải (2)", "XA-DONG-HAI-2"),
        ("a" * 25, "A" * 20),
        ("!!!", "WARD"),
    ],
)
def test_code_from_file_name(stem: str, code: str) -> None:
    assert code_from_file_name(stem) == code


HUGE = "1" + "0" * 400  # a number with 401 digits


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param(f"max = {HUGE}", "max must be a number from -10^15 to 10^15", id="401-digits"),
        pytest.param(f"min = -{HUGE}", "min must be a number from -10^15 to 10^15", id="401-digits-negative"),
        pytest.param("max = inf", "max must be a finite number, not inf or nan", id="inf"),
        pytest.param("target = nan", "target must be a finite number, not inf or nan", id="nan"),
        pytest.param("soft_max = 1e308", "soft_max must be a number from -10^15 to 10^15", id="1e308"),
        pytest.param("weight = 1e308", "weight must be a number from -10^15", id="1e308-weight-nan-scores"),
        pytest.param("weight = 5000", "weight must be at most 1000", id="weight-beyond-relative-use"),
        pytest.param(f"weight = {HUGE}", "weight must be a number from -10^15", id="401-digit-weight"),
    ],
)
def test_absurd_numbers_stop_with_one_line_naming_the_entry(
    tmp_path: Path, extra: str, expected: str
) -> None:
    message = error_of(tmp_path, WARD + INDICATOR.format(extra=f'direction = "higher"\n{extra}'))
    assert message.startswith(f'indicators[1] (key "births"): {expected}'), message


def test_absurd_bands_and_households_stop_with_one_line(tmp_path: Path) -> None:
    band = error_of(tmp_path, WARD + f"bands = {{ xuat_sac = {HUGE} }}\n")
    assert band.startswith("[ward] bands: xuat_sac must be a number from -10^15 to 10^15"), band
    households = error_of(tmp_path, WARD + GROUP.replace("households = 120", f"households = {HUGE}"))
    assert households == 'groups[1] (code "TDP01"): households must be a whole number from 1 to 100000'


def test_a_timezone_that_is_not_an_iana_name_suggests_one(tmp_path: Path) -> None:
    message = error_of(tmp_path, WARD + 'timezone = "Hanoi"\n')
    expected = 'unknown time zone "Hanoi"; use an IANA name such as "Asia/Ho_Chi_Minh"'
    assert message == f"[ward] timezone: {expected}"
