"""Loading and checking the ward file (WARD_CONFIG)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.indicators import DEFAULT_INDICATORS, Direction, Kind
from bot.ward_config import (
    Bands,
    WardConfigError,
    WardFile,
    default_ward_file,
    load_ward_config,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ward.toml"

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
    assert len(ward_file.indicators) == 15
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
            f'direction = "{indicator.direction}"',
            f"weight = {indicator.weight}",
        ]
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
