"""Odd arguments and answers that once reached an unhandled error: each gets a clear answer and changes
nothing. "²".isdigit() is True in Python, yet int("²") fails; huge numbers overflow SQLite's integers."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text

from tests.harness import RunningBot, texts
from tests.wards import answer_october, appoint, launched_campaign

APOLOGY = "Xin lỗi, đã có lỗi"
QUERIES = [
    f"SELECT * FROM {table}"
    for table in ("residential_groups", "reports", "report_drafts", "reopenings", "campaigns", "audit_log")
] + ["SELECT id, kind FROM broadcasts WHERE kind NOT IN ('campaign', 'delivery_report')"]


async def snapshot(running: RunningBot) -> list[list[tuple[Any, ...]]]:
    """What a command may change, row by row (the campaign's own launch aside)."""
    assert running.wiring is not None
    async with running.wiring.engine.connect() as connection:
        return [[tuple(row) for row in await connection.execute(text(sql))] for sql in QUERIES]


async def test_odd_arguments_get_a_clear_answer_and_change_nothing(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")
    staff = reporting.person(1, "Cán bộ")
    await launched_campaign(reporting, "Toàn dân đoàn kết", date(2026, 10, 1))
    before = await snapshot(reporting)

    for person, command, answer in [
        (staff, "/standings #²", "Không có phong trào #²."),
        (staff, "/standings #99999999999999999999", "Không có phong trào #99999999999999999999."),
        (nam, "/standings 9999", "Tôi không hiểu kỳ này"),
        (nam, "/standings 2000-01..2999-12", "Tôi không hiểu kỳ này"),
        (nam, "/report 9999-12", "Anh/chị vui lòng ghi tháng, ví dụ /baocao 10/2026 hoặc /baocao 2026-10."),
        (nam, "/report 0000-01", "Anh/chị vui lòng ghi tháng, ví dụ /baocao 10/2026 hoặc /baocao 2026-10."),
        (nam, "/report 2026-13", "Anh/chị vui lòng ghi tháng, ví dụ /baocao 10/2026 hoặc /baocao 2026-10."),
        (nam, "/report ²⁰²⁶-¹⁰", "Anh/chị vui lòng ghi tháng, ví dụ /baocao 10/2026 hoặc /baocao 2026-10."),
        (nam, "/myreport 2026-99", "ví dụ /xembaocao 10/2026 hoặc /xembaocao 2026-10."),
        (
            staff,
            "/reopen TDP01 9999-99",
            "Anh/chị vui lòng ghi tháng, ví dụ /molai TDP01 10/2026 hoặc /molai TDP01 2026-10.",
        ),
        (
            staff,
            "/reopen TDP01 9999-12",
            "Anh/chị vui lòng ghi tháng, ví dụ /molai TDP01 10/2026 hoặc /molai TDP01 2026-10.",
        ),
        (staff, "/review midterm #²", "Không có phong trào #²."),
        (staff, "/review final #99999999999999999999", "Không có phong trào #99999999999999999999."),
        (staff, "/addgroup Tổ số 9; ²", "Sau dấu ; anh/chị ghi số hộ, ví dụ: /addgroup Tổ dân phố số 8; 312"),
        (staff, "/addgroup Tổ số 9; 99999999999", "Sau dấu ; anh/chị ghi số hộ"),
        (staff, "/addgroup Tổ số 9; 100001", "Số hộ phải từ 0 đến 100.000."),
        (staff, "/households TDP01 ²", "Tổ nào và bao nhiêu hộ? Ví dụ: /households TDP08 312"),
    ]:
        said = texts(await person.says(command))
        assert answer in said and APOLOGY not in said, (command, said)
    assert await snapshot(reporting) == before


async def test_a_superscript_at_which_answer_to_change_shows_the_choices_again(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")
    await nam.says("/report")
    await nam.presses("Tháng 10/2026")
    await answer_october(nam)
    await nam.presses("✏️ Sửa một câu")

    for odd in ("²", "9" * 400, "0", "6"):
        said = texts(await nam.says(odd))
        assert "Anh/chị vui lòng bấm vào câu cần sửa, hoặc gõ số thứ tự từ 1 đến 5." in said, (odd, said)
        assert "Anh/chị muốn sửa câu nào?" in said and APOLOGY not in said
    assert "Số trẻ sinh" in texts(await nam.says("1."))
