"""Exports for ward staff: an Excel workbook (values, standings, completeness) and a CSV of values.

Ward offices work in Excel, so the files are built for it: the period is a text cell
("2026-10" would otherwise become a date), numbers are real numbers, the CSV carries a
UTF-8 byte order mark so Vietnamese opens correctly, and headers are in the reader's
language. The output is byte-for-byte deterministic (fixed timestamps inside the zip), so
the same data always gives the same file.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.i18n import gettext as _
from bot.i18n import use_language
from bot.indicators import Indicator, Kind
from bot.scoring import Standing

if TYPE_CHECKING:
    from openpyxl import Workbook

#: Written as created/modified time and zip entry time, so equal data gives equal bytes.
FIXED_TIME = datetime(2000, 1, 1)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_CORE_TIME = re.compile(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")

MIN_WIDTH = 6
MAX_WIDTH = 40
INDICATOR_MIN_WIDTH = 12
INDICATOR_MAX_WIDTH = 24
LINE_HEIGHT_POINTS = 15
MAX_HEADER_LINES = 5
SHEET_TITLE_MAX = 31
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

ValueRow = tuple[str, str, str, Mapping[str, float | str | None]]
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")
_PHOTO_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


@dataclass(frozen=True)
class PhotoFile:
    """One submitted photo answer, for the staff's zip: whose, which month and question, the bytes."""

    code: str
    month: str
    key: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class CompletenessRow:
    """How one group reported over the period: months expected, submitted, submitted on time."""

    code: str
    name: str
    expected: int
    submitted: int
    on_time: int


@dataclass(frozen=True)
class ExportData:
    """Everything one export contains; `value_rows` are (period key, group code, group name, values)."""

    ward_name: str
    period_key: str
    period_label: str
    indicators: Sequence[Indicator]
    value_rows: Sequence[ValueRow]
    standings: Sequence[Standing]
    completeness: Sequence[CompletenessRow]
    awards: Sequence[Sequence[Any]] | None = None  # the award register's rows (a year's export)
    blocks: Sequence[tuple[str, Sequence[Standing]]] = ()
    provisional: bool = False


def workbook_bytes(data: ExportData, language: str = "vi") -> bytes:
    """The .xlsx file: raw values, standings, one sheet per block (khối), and completeness."""
    from openpyxl import Workbook  # imported when a workbook is written: most runs write none

    with use_language(language):
        workbook = Workbook()
        workbook.properties.title = f"{data.ward_name} – {data.period_label}"
        workbook.properties.creator = data.ward_name
        workbook.properties.created = FIXED_TIME
        header_text = f"{data.ward_name} – {data.period_label}"
        if data.provisional:
            header_text += " " + _("(provisional: the deadline has not passed)")

        values = workbook.active
        _fill(
            values,
            _("Values"),
            _value_header(data.indicators, language),
            [_value_cells(row, data.indicators) for row in _sorted_rows(data.value_rows)],
            header_text,
            text_columns={1},
            formats=_indicator_formats(data.indicators, first_column=4),
            narrow_from=4,
        )
        _standings_sheet(workbook.create_sheet(), _("Standings"), data.standings, header_text, language)
        for block, standings in data.blocks:
            _standings_sheet(
                workbook.create_sheet(),
                _block_sheet_title(block, [sheet.title for sheet in workbook.worksheets]),
                standings,
                f"{header_text} – {block}",
                language,
            )
        _fill(
            workbook.create_sheet(),
            _("Completeness"),
            [_("Code"), _("Group"), _("Expected"), _("Submitted"), _("On time"), _("Completion rate (%)")],
            _completeness_rows(data.completeness),
            header_text,
            formats={6: "0.0"},
        )
        if data.awards is not None:
            _fill(
                workbook.create_sheet(),
                _("Awards"),
                [
                    _("Year"),
                    _("Recipient"),
                    _("Name"),
                    _("Code"),
                    _("Households"),
                    _("Form"),
                    _("Level"),
                    _("Decision number"),
                    _("Decision date"),
                    _("Reason"),
                ],
                data.awards,
                header_text,
                text_columns={9},
            )
        return _xlsx_bytes(workbook)


@dataclass(frozen=True)
class ProvinceRow:
    """One ward on the province sheet (plain values: the export knows no database)."""

    code: str
    name: str
    groups: int
    reported: int
    average: float | None
    in_top_band: int
    leader: str  # "TDP01 Tổ dân phố số 1 (95,0)", or ""
    titles: str = ""  # "7/7 · 1.234/1.330 hộ (92,8%)" in a year with an assessment


def province_workbook_bytes(
    title: str,
    rows: Sequence[ProvinceRow],
    wards: Sequence[tuple[str, Sequence[Standing]]],
    *,
    top_band: str,
    language: str = "vi",
) -> bytes:
    """The province's .xlsx: one row per ward on the first sheet, then each ward's standings."""
    from openpyxl import Workbook

    with use_language(language):
        workbook = Workbook()
        workbook.properties.title = title
        workbook.properties.created = FIXED_TIME
        header = [
            _("Code"),
            _("Ward"),
            _("Groups"),
            _("Reported"),
            _("Average score"),
            _("In the top band ({band})").format(band=top_band),
            _("First"),
        ]
        titled = any(row.titles for row in rows)
        if titled:
            header.append(_("Year-end titles"))
        cells = [
            [
                r.code,
                r.name,
                r.groups,
                r.reported,
                r.average,
                r.in_top_band,
                r.leader,
                *([r.titles] if titled else []),
            ]
            for r in rows
        ]
        _fill(workbook.active, _("Province"), header, cells, title, text_columns={1}, formats={5: "0.0"})
        for code, standings in wards:  # ward codes are unique, so are their sheets
            _standings_sheet(workbook.create_sheet(), code, standings, f"{title} – {code}", language)
        return _xlsx_bytes(workbook)


def csv_bytes(data: ExportData, language: str = "vi") -> bytes:
    """The raw values as CSV: UTF-8 with a BOM, comma-separated, "." as decimal point."""
    with use_language(language):
        header = _value_header(data.indicators, language)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    for row in _sorted_rows(data.value_rows):
        writer.writerow(
            ["" if cell is None else _csv_text(cell) for cell in _value_cells(row, data.indicators)]
        )
    return text.getvalue().encode("utf-8-sig")


# --- sheet contents -------------------------------------------------------------------


def _column_title(indicator: Indicator, language: str) -> str:
    """The indicator's own label (not gettext: the ward file defines it) plus its unit."""
    label = indicator.label_in(language)
    unit = indicator.unit_in(language)
    return f"{label} ({unit})" if unit else label


def _value_header(indicators: Sequence[Indicator], language: str) -> list[str]:
    return [_("Period"), _("Code"), _("Group")] + [_column_title(i, language) for i in indicators]


def _sorted_rows(rows: Iterable[ValueRow]) -> list[ValueRow]:
    return sorted(rows, key=lambda row: (row[0], row[1]))


def _value_cells(row: ValueRow, indicators: Sequence[Indicator]) -> list[Any]:
    period, code, name, values = row
    return [str(period), code, name] + [_number(values.get(indicator.key)) for indicator in indicators]


def _number(value: float | str | None) -> int | float | str | None:
    """Whole numbers as int, so 5 shows as "5" and not "5.0" in the CSV; a text answer as it is."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) or float(value).is_integer():
        return int(value)
    return float(value)


def _csv_text(cell: object) -> str:
    return repr(cell) if isinstance(cell, float) else plain_text(str(cell))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def plain_text(text: str) -> str:
    """Text for a CSV or tab-separated cell that Excel will never read as a formula (OWASP's rule).

    A name like `=HYPERLINK(…)` typed by anyone would otherwise run when the file is opened.
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _indicator_formats(indicators: Sequence[Indicator], *, first_column: int) -> dict[int, str]:
    formats: dict[int, str] = {}
    for offset, indicator in enumerate(indicators):
        if indicator.kind is Kind.MONEY:
            formats[first_column + offset] = "#,##0"
    return formats


def _block_sheet_title(block: str, taken: Sequence[str]) -> str:
    """A sheet name for a block that Excel accepts and no other sheet has (names are cut to 31)."""
    title = _sheet_title(_("Block {name}").format(name=block))
    number = 2
    while title in taken:
        suffix = f" ({number})"
        title = _sheet_title(_("Block {name}").format(name=block))[: SHEET_TITLE_MAX - len(suffix)] + suffix
        number += 1
    return title


def _standings_sheet(
    sheet: Any, title: str, standings: Sequence[Standing], header_text: str, language: str
) -> None:
    """A sheet of standings, as staff see them (the ward's, one block's or one ward's of the province)."""
    header, rows = _standings_header(standings), _standings_rows(standings, language)
    _fill(sheet, title, header, rows, header_text, formats={6: "0.0", 7: "0.0"})


def _standings_header(standings: Sequence[Standing]) -> list[str]:
    header = [_("Rank"), _("Code"), _("Group"), _("Block"), _("Households"), _("Score"), _("Bonus")]
    header.append(_("Rating"))
    if _multi_month(standings):
        header.append(_("Months reported"))
    return header


def _multi_month(standings: Sequence[Standing]) -> bool:
    return any(standing.months_expected > 1 for standing in standings)


def _standings_rows(standings: Sequence[Standing], language: str) -> list[list[Any]]:
    """Staff rows: every band is named here, the ones kept from group chats too."""
    multi = _multi_month(standings)
    rows: list[list[Any]] = []
    for standing in standings:
        if standing.score is None:
            band = _("Not reported")
        else:
            band = standing.band.name_in(language) if standing.band is not None else ""
        row: list[Any] = [
            standing.rank,
            standing.code,
            standing.name,
            standing.block,
            standing.households,
            standing.score,
            standing.bonus if standing.bonus else None,
            band,
        ]
        if multi:
            row.append(f"{standing.months_reported}/{standing.months_expected}")
        rows.append(row)
    return rows


def _completeness_rows(rows: Sequence[CompletenessRow]) -> list[list[Any]]:
    body: list[list[Any]] = [
        [row.code, row.name, row.expected, row.submitted, row.on_time, _rate(row.submitted, row.expected)]
        for row in rows
    ]
    if rows:
        expected = sum(row.expected for row in rows)
        submitted = sum(row.submitted for row in rows)
        on_time = sum(row.on_time for row in rows)
        body.append(["", _("Total"), expected, submitted, on_time, _rate(submitted, expected)])
    return body


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole > 0 else None


# --- layout ---------------------------------------------------------------------------


def _fill(
    sheet: Any,
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    header_text: str,
    *,
    text_columns: set[int] | None = None,
    formats: Mapping[int, str] | None = None,
    narrow_from: int | None = None,
) -> None:
    """Write a header row (bold, wrapped, frozen) and the rows, then size the columns."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet.title = _sheet_title(title)
    sheet.oddHeader.center.text = header_text.replace("&", "&&")
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for column, text in enumerate(header, start=1):
        cell = sheet.cell(row=1, column=column, value=text)
        cell.data_type = "s"  # text, never a formula, whatever it starts with
        cell.font = bold
        cell.alignment = wrap
    for row_index, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_index, column=column, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # a group or person named "=…" stays text
            if text_columns and column in text_columns:
                cell.number_format = "@"
            elif formats and column in formats and value is not None:
                cell.number_format = formats[column]
    sheet.freeze_panes = "A2"
    header_lines = 1
    for column, text in enumerate(header, start=1):
        contents = [_display_length(row[column - 1]) for row in rows if column - 1 < len(row)]
        if narrow_from is not None and column >= narrow_from:
            # Long indicator labels wrap in the header instead of making every column wide.
            longest_word = max((len(word) for word in text.split()), default=0)
            width = min(max(*contents, longest_word, INDICATOR_MIN_WIDTH - 2, 0) + 2, INDICATOR_MAX_WIDTH)
        else:
            width = min(max(*contents, len(text), MIN_WIDTH - 2, 0) + 2, MAX_WIDTH)
        sheet.column_dimensions[get_column_letter(column)].width = width
        header_lines = max(header_lines, math.ceil(len(text) / max(width - 2, 1)))
    # Excel does not always grow a row for wrapped text written by a program; size it.
    sheet.row_dimensions[1].height = LINE_HEIGHT_POINTS * min(header_lines, MAX_HEADER_LINES)


def _display_length(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, float):
        return len(f"{value:,.1f}")
    if isinstance(value, int):
        return len(f"{value:,}")
    return len(str(value))


def _sheet_title(title: str) -> str:
    """Excel refuses sheet names over 31 characters or with []:*?/\\."""
    cleaned = _SHEET_TITLE_FORBIDDEN.sub(" ", title).strip() or "Sheet"
    return cleaned[:SHEET_TITLE_MAX]


def _xlsx_bytes(workbook: Workbook) -> bytes:
    """The saved .xlsx with fixed timestamps, so the same data gives the same bytes."""
    saved = io.BytesIO()
    workbook.save(saved)
    source = zipfile.ZipFile(saved)
    output = io.BytesIO()
    fixed = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            payload = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                payload = _CORE_TIME.sub(
                    lambda match: f"{match.group(1)}{fixed}{match.group(2)}", payload.decode("utf-8")
                ).encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, payload)
    return output.getvalue()


def photos_zip(photos: Sequence[PhotoFile]) -> bytes:
    """The photo answers as a zip for ward staff: one folder per group, names made here from the
    group code, month, question and a number, never from anything the sender named; fixed times, so
    the same photos give the same bytes."""
    output = io.BytesIO()
    numbers: dict[tuple[str, str, str], int] = {}
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_STORED) as target:
        for photo in photos:
            code = _SAFE_NAME.sub("_", photo.code) or "_"
            key = _SAFE_NAME.sub("_", photo.key) or "_"
            month = _SAFE_NAME.sub("_", photo.month)
            number = numbers[(code, month, key)] = numbers.get((code, month, key), 0) + 1
            extension = _PHOTO_EXTENSIONS.get(photo.media_type, "bin")
            entry = zipfile.ZipInfo(f"{code}/{month}-{key}-{number}.{extension}", date_time=_ZIP_TIME)
            entry.external_attr = 0o644 << 16  # a plain file, never executable
            target.writestr(entry, photo.content)
    return output.getvalue()
