"""Groups from a CSV file (`wardbot groups import`): good rows are imported, bad rows reported by line."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from bot.answers import keyword, whole_number
from bot.i18n import gettext as _
from bot.membership import CODE_PATTERN, MAX_HOUSEHOLDS, GroupRow

REQUIRED = ("code", "name", "households")
# Column titles as wards write them ("Mã tổ,Tên tổ,Số hộ,Khối"), as `keyword()` gives them, by first word(s).
_HEADERS = (("ma", "code"), ("ten", "name"), ("so ho", "households"), ("khoi", "block"))
MAX_BLOCK = 100
CLEAR = "-"  # a block cell with only this clears the group's block


@dataclass(frozen=True)
class RowProblem:
    """Why one line of the file was skipped."""

    line: int
    problem: str


def read_groups_csv(path: Path) -> tuple[list[GroupRow], list[RowProblem]]:
    """Rows of `code,name,households[,block]` (UTF-8, header first); Excel's BOM and `;` are accepted."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [RowProblem(1, _("the file is not UTF-8; in Excel use “Save as: CSV UTF-8”"))]
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [_column(cell) for cell in next(reader, [])]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        needed = "code,name,households[,block] (Mã tổ,Tên tổ,Số hộ[,Khối])"
        problem = _("the header needs the columns {needed}; missing: {missing}")
        return [], [RowProblem(1, problem.format(needed=needed, missing=", ".join(missing)))]
    rows: list[GroupRow] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        record = {header[i]: cells[i].strip() for i in range(min(len(header), len(cells)))}
        code = record.get("code", "").upper()
        name = " ".join(record.get("name", "").split())
        households_text = record.get("households", "").replace(".", "").replace(",", "").replace(" ", "")
        households = whole_number(households_text, digits=6)
        block = " ".join(record.get("block", "").split())
        if not CODE_PATTERN.match(code):
            problem = _("code {code} is not a group code (letters, digits, - or _)")
            problems.append(RowProblem(line, problem.format(code=repr(code[:40]))))
        elif code in seen:
            problem = _("code {code} is already on line {line}")
            problems.append(RowProblem(line, problem.format(code=code, line=seen[code])))
        elif not name:
            problems.append(RowProblem(line, _("the name is empty")))
        elif households is None or households > MAX_HOUSEHOLDS:
            given = repr(record.get("households", "")[:40])
            problem = _("households {given} is not a whole number 0–100000")
            problems.append(RowProblem(line, problem.format(given=given)))
        elif len(block) > MAX_BLOCK:
            problem = _("the block is longer than {limit} characters")
            problems.append(RowProblem(line, problem.format(limit=MAX_BLOCK)))
        else:
            seen[code] = line
            rows.append(_row(code, name[:200], households, block))
    return rows, problems


def _column(title: str) -> str:
    """The column a header cell names, in English or Vietnamese with or without diacritics: "Mã tổ" and
    "ma to dan pho" are the code, "Tên tổ" the name, "Số hộ" the households, "Khối thi đua" the block."""
    said = keyword(title)
    if said in REQUIRED or said == "block":
        return said
    if said == "ho":
        return "households"
    if "truong" in said.split() or said.endswith("to pho"):  # "Tên tổ trưởng" names a person, not the group
        return said
    for start, column in _HEADERS:
        if said == start or said.startswith(start + " "):
            return column
    return said


def _row(code: str, name: str, households: int, block: str) -> GroupRow:
    """An empty block cell keeps the group's block; "-" clears it; anything else sets it."""
    if not block:
        return GroupRow(code, name, households, None, has_block=False)
    if block == CLEAR:
        return GroupRow(code, name, households, None)
    return GroupRow(code, name, households, block)
