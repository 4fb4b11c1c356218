"""The documents a ward signs, as Word files (python-docx): the assessment report, a group's minutes
(biên bản họp bình xét) and the campaign reports (sơ kết, tổng kết).

They are official papers of a Vietnamese ward, so they are written in Vietnamese whatever the
reader's chat language: A4, the national heading, one table per section, numbers as 1.234,5.
Text anyone typed goes into table cells as text; Word never evaluates it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from bot.answers import format_number
from bot.assessment import GroupResult, Totals, format_share, totals
from bot.indicators import text_in
from bot.ward_config import WardFile
from storage.models import Assessment, Award, ResidentialGroup

if TYPE_CHECKING:
    from docx.document import Document as WordDocument

_FONT = "Times New Roman"


def _new(title: str, ward: WardFile) -> WordDocument:
    """An A4 document with the national heading (quốc hiệu) and the ward's name, then `title`."""
    from docx import Document  # imported when a document is written: most runs write none
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    document = Document()
    for section in document.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.left_margin = section.right_margin = Mm(20)
        section.top_margin = section.bottom_margin = Mm(20)
    style = document.styles["Normal"]
    style.font.name = _FONT
    style.font.size = Pt(13)
    heading = document.add_table(rows=1, cols=2)
    left, right = heading.rows[0].cells
    left.text = f"UBND {ward.ward.name.upper()}"
    right.text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập – Tự do – Hạnh phúc"
    for cell in (left, right):
        for paragraph in cell.paragraphs:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            for run in paragraph.runs:
                run.bold = True
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(title.upper())
    run.bold = True
    run.font.size = Pt(14)
    return document


def _section(
    document: WordDocument, heading: str, header: Sequence[str], rows: Sequence[Sequence[str]]
) -> None:
    """A numbered section: its heading, then a bordered table (header row in bold)."""
    document.add_paragraph().add_run(heading).bold = True
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text


def _signatures(document: WordDocument, *who: str) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    table = document.add_table(rows=2, cols=len(who))
    for index, title in enumerate(who):
        table.rows[0].cells[index].text = title
        table.rows[1].cells[index].text = "(Ký, ghi rõ họ tên)"
        for row in table.rows:
            row.cells[index].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER


def _bytes(document: WordDocument) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _n(value: int | None) -> str:
    return "—" if value is None else format_number(value, language="vi")


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


def ward_sentence(year: int, found: Totals, ward: WardFile) -> str:
    """The sentence wards write: "Năm 2026: 7/7 tổ dân phố đạt danh hiệu …; 1.234/1.330 hộ (92,8%) …"."""
    return (
        f"Năm {year}: {_n(found.qualified)}/{_n(found.groups)} {ward.ward.unit} đạt danh hiệu "
        f"{text_in(ward.assessment.group_title, 'vi')}; {_n(found.achieved)}/{_n(found.households)} hộ "
        f"({format_share(found.share, 'vi')}%) đạt danh hiệu {text_in(ward.assessment.family_title, 'vi')}"
    )


def assessment_report_docx(
    ward: WardFile, assessment: Assessment, results: Sequence[GroupResult], feedback: int = 0
) -> bytes:
    """ "Báo cáo kết quả bình xét": the ward's totals, one row per group, nominations, the decision."""
    family = text_in(ward.assessment.family_title, "vi")
    group_title = text_in(ward.assessment.group_title, "vi")
    document = _new(f"Báo cáo kết quả bình xét danh hiệu {family}, {group_title} năm {assessment.year}", ward)
    found = totals(results)
    _section(
        document,
        "I. Kết quả chung",
        ["Nội dung", "Kết quả"],
        [
            [f"Số {ward.ward.unit} đạt danh hiệu {group_title}", f"{_n(found.qualified)}/{_n(found.groups)}"],
            [
                f"Số hộ đạt danh hiệu {family}",
                f"{_n(found.achieved)}/{_n(found.households)} hộ ({format_share(found.share, 'vi')}%)",
            ],
            ["Tổng hợp", ward_sentence(assessment.year, found, ward)],
            ["Số ý kiến góp ý khi niêm yết", _n(feedback)],
        ],
    )
    _section(
        document,
        f"II. Kết quả từng {ward.ward.unit}",
        ["Mã", "Tên", "Số hộ", "Đăng ký", "Đạt", "Tỷ lệ (%)", "Tiêu chí đạt", "Kết quả"],
        [
            [
                r.code,
                r.name,
                _n(r.values.households),
                _n(r.values.registered) if r.submitted else "—",
                _n(r.values.achieved) if r.submitted else "—",
                format_share(r.share, "vi") if r.submitted else "—",
                f"{r.met}/{r.criteria}" if r.submitted else "—",
                _result_word(r, group_title),
            ]
            for r in results
        ],
    )
    nominations = [
        [r.code, nomination] for r in results if r.submitted for nomination in r.values.nominations
    ]
    _section(
        document,
        "III. Đề nghị khen thưởng",
        ["Mã", "Đề nghị (họ tên — thành tích)"],
        nominations or [["—", "—"]],
    )
    decision = (
        [["Số quyết định", assessment.decision_number or "—"], ["Ngày ký", _day(assessment.decision_date)]]
        if assessment.decided_at is not None
        else [["Quyết định", "Chưa có quyết định"]]
    )
    _section(document, "IV. Quyết định công nhận", ["Nội dung", "Kết quả"], decision)
    _signatures(document, "NGƯỜI LẬP BÁO CÁO", "TM. HỘI ĐỒNG THI ĐUA – KHEN THƯỞNG")
    return _bytes(document)


def _result_word(result: GroupResult, group_title: str) -> str:
    if not result.submitted:
        return "Chưa gửi"
    word = f"Đạt {group_title}" if result.qualifies else "Không đạt"
    if result.override is not None:
        word += f" (điều chỉnh: {result.override_reason})"
    return word


def minutes_docx(
    ward: WardFile, assessment: Assessment, group: ResidentialGroup, result: GroupResult
) -> bytes:
    """ "Biên bản họp bình xét" of one group, for its head and the meeting's secretary to sign."""
    family = text_in(ward.assessment.family_title, "vi")
    group_title = text_in(ward.assessment.group_title, "vi")
    values = result.values
    document = _new(f"Biên bản họp bình xét năm {assessment.year} — {group.name}", ward)
    _section(
        document,
        "I. Thông tin cuộc họp",
        ["Nội dung", "Kết quả"],
        [
            ["Ngày họp", _day(values.meeting_date)],
            ["Số hộ trong tổ", _n(values.households)],
            ["Số hộ dự họp", _n(values.attended)],
        ],
    )
    _section(
        document,
        f"II. Bình xét danh hiệu {family}",
        ["Nội dung", "Số hộ"],
        [
            ["Số hộ đăng ký", _n(values.registered)],
            ["Số hộ được bình xét đạt", _n(values.achieved)],
            ["Tỷ lệ trên tổng số hộ", f"{format_share(result.share, 'vi')}%"],
        ],
    )
    _section(
        document,
        f"III. Tiêu chí {group_title}",
        ["Tiêu chí", "Đạt"],
        [
            [c.label_in("vi"), "Có" if values.criteria.get(c.key) else "Không"]
            for c in ward.assessment.criteria
        ]
        + [["Kết quả (tính theo tiêu chí và tỷ lệ hộ)", _result_word(result, group_title)]],
    )
    _section(
        document,
        "IV. Đề nghị khen thưởng",
        ["STT", "Họ tên — thành tích"],
        [[str(i), n] for i, n in enumerate(values.nominations, start=1)] or [["—", "—"]],
    )
    _signatures(document, "THƯ KÝ CUỘC HỌP", "TỔ TRƯỞNG")
    return _bytes(document)


@dataclass(frozen=True)
class CampaignReport:
    """What a sơ kết / tổng kết report holds, as plain values."""

    title: str
    final: bool
    window: str
    groups: Sequence[tuple[str, str, bool]]  # code, name, pledged
    standings: Sequence[tuple[str, str, str, str]]  # rank, code and name, score, band
    awards: Sequence[Award]


def campaign_report_docx(ward: WardFile, report: CampaignReport) -> bytes:
    """ "Báo cáo tổng kết (sơ kết) phong trào …": window, groups and pledges, standings, awards."""
    kind = "tổng kết" if report.final else "sơ kết"
    document = _new(f"Báo cáo {kind} phong trào «{report.title}»", ward)
    pledged = sum(1 for _code, _name, signed in report.groups if signed)
    _section(
        document,
        "I. Thời gian và đơn vị tham gia",
        ["Nội dung", "Kết quả"],
        [
            ["Thời gian", report.window],
            [f"Số {ward.ward.unit} tham gia", _n(len(report.groups))],
            ["Đã ký giao ước thi đua", f"{_n(pledged)}/{_n(len(report.groups))}"],
        ],
    )
    _section(
        document,
        "II. Đơn vị tham gia và giao ước",
        ["Mã", "Tên", "Ký giao ước"],
        [[code, name, "Đã ký" if signed else "Chưa ký"] for code, name, signed in report.groups]
        or [["—", "—", "—"]],
    )
    _section(
        document,
        "III. Kết quả xếp hạng trong thời gian phong trào",
        ["Hạng", "Đơn vị", "Điểm", "Xếp loại"],
        [list(row) for row in report.standings] or [["—", "—", "—", "—"]],
    )
    _section(
        document,
        "IV. Khen thưởng trong thời gian phong trào",
        ["Năm", "Người/đơn vị nhận", "Hình thức", "Cấp", "Quyết định", "Lý do"],
        [
            [
                str(a.year),
                a.recipient_name,
                a.form or "—",
                a.level or "—",
                f"{a.decision_number} {_day(a.decision_date)}".strip() if a.decision_number else "—",
                a.reason,
            ]
            for a in report.awards
        ]
        or [["—", "—", "—", "—", "—", "—"]],
    )
    _signatures(document, "NGƯỜI LẬP BÁO CÁO", "TM. ỦY BAN NHÂN DÂN")
    return _bytes(document)
