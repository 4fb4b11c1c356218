"""The monthly report as a group head lives it, over the fake Bot API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from tests.harness import Person, RunningBot, texts
from tests.wards import NOW, appoint


async def test_a_head_reports_a_whole_month(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")

    said = await nam.says("/report")
    assert "Anh/chị báo cáo cho tháng nào?" in texts(said)
    said = await nam.presses("Tháng 10/2026")
    assert "Số trẻ sinh (người)" in texts(said)
    said = await nam.says(" 2 ")
    assert "Hộ phân loại rác tại nguồn (%)" in texts(said)
    said = await nam.says("85 %")
    assert "Ủng hộ các quỹ" in texts(said)
    said = await nam.says("1.500.000")
    assert "Có tổng vệ sinh" in texts(said)
    said = await nam.presses("Có")
    assert "Tình hình an ninh" in texts(said)
    said = await nam.presses("Khá")
    summary = texts(said)
    assert "1. Số trẻ sinh: 2 người" in summary
    assert "2. Hộ phân loại rác tại nguồn: 85%" in summary
    assert "3. Ủng hộ các quỹ: 1.500.000 đồng" in summary
    assert "4. Có tổng vệ sinh trong tháng: Có" in summary
    assert "5. Tình hình an ninh: Khá" in summary
    said = await nam.presses("✅ Xác nhận")
    assert "✅ Đã gửi báo cáo tháng 10/2026" in texts(said)


async def stored(running: RunningBot, sql: str) -> list[tuple[Any, ...]]:
    assert running.wiring is not None
    async with running.wiring.engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql))]


async def start_october(running: RunningBot, head: Person) -> None:
    await head.says("/report")
    await head.presses("Tháng 10/2026")


async def test_my_report_shows_exactly_what_was_confirmed(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")
    await start_october(reporting, nam)
    for answer in ("12", "92,5", "2 triệu"):
        await nam.says(answer)
    await nam.presses("Không")
    await nam.presses("Bỏ qua")
    await nam.presses("✅ Xác nhận")

    shown = texts(await nam.says("/myreport 2026-10"))
    assert "Báo cáo của Tổ dân phố số 1 (TDP01) — Tháng 10/2026" in shown
    assert "1. Số trẻ sinh: 12 người ⚠️" not in shown  # 12 is within the plausible range
    assert "1. Số trẻ sinh: 12 người" in shown
    assert "2. Hộ phân loại rác tại nguồn: 92,5%" in shown
    assert "3. Ủng hộ các quỹ: 2.000.000 đồng" in shown
    assert "4. Có tổng vệ sinh trong tháng: Không" in shown
    assert "5. Tình hình an ninh: bỏ qua" in shown
    assert await stored(reporting, "SELECT key, value FROM report_values ORDER BY id") == [
        ("births", 12.0),
        ("waste_sorting_pct", 92.5),
        ("fund_contributions", 2_000_000.0),
        ("cleanup_done", 0.0),
        ("security_rating", None),
    ]


async def test_bad_input_gets_a_reason_and_the_same_question(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")
    await start_october(reporting, nam)

    for answer, reason in [
        ("nhiều lắm", "Tôi không đọc được con số này"),
        ("👍", "Tôi không đọc được con số này"),
        ("-3", "Số không được âm"),
        ("2,5", "số nguyên"),
        ("31", "Số lớn nhất có thể nhập là 30"),
        ("9" * 4096, "quá dài"),
    ]:
        said = texts(await nam.says(answer))
        assert reason in said and "Số trẻ sinh (người)" in said, (answer, said)
    for kind in ("sticker", "photo", "voice"):
        said = texts(await nam.says(None, kind=kind))
        assert "chỉ đọc được câu trả lời gõ" in said and "Số trẻ sinh (người)" in said

    unusual = texts(await nam.says("20"))
    assert "20 người là con số bất thường" in unusual
    assert "Số trẻ sinh (người)" in texts(await nam.presses("✏️ Nhập lại"))
    await nam.says("20")
    assert "Hộ phân loại rác tại nguồn" in texts(await nam.presses("✔️ Đúng, giữ 20 người"))
    assert "Số không được âm" in texts(await nam.says("-1"))
    assert "Số lớn nhất có thể nhập là 100" in texts(await nam.says("120%"))
    await nam.says("80")
    assert "Tôi không đọc được con số này" in texts(await nam.says("50%"))  # a percent is not money
    await nam.says("0")
    assert "Vui lòng bấm Có hoặc Không" in texts(await nam.says("có lẽ"))
    await nam.says("có")
    assert "gõ số thứ tự" in texts(await nam.says("Rất tốt"))
    summary = texts(await nam.says("1"))
    assert "1. Số trẻ sinh: 20 người ⚠️" in summary and "5. Tình hình an ninh: Tốt" in summary
    assert await stored(reporting, "SELECT count(*) FROM report_values") == [(0,)]


async def test_back_skip_edit_and_cancel_keep_the_draft(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")
    await start_october(reporting, nam)
    await nam.says("2")
    again = texts(await nam.presses("⬅️ Quay lại"))
    assert "Số trẻ sinh (người)" in again and "Hiện tại: 2 người" in again
    await nam.says("3")
    await nam.says("70")

    assert "Câu trả lời được giữ lại" in texts(await nam.says("/cancel"))
    assert "Tôi chưa hiểu ý anh/chị" in texts(await nam.says("1.000.000"))  # nothing in progress any more
    resumed = texts(await nam.says("/report"))
    assert "Tiếp tục báo cáo tháng 10/2026 từ câu 3/5" in resumed or "báo cáo cho tháng nào?" in resumed
    if "tháng nào" in resumed:
        resumed = texts(await nam.presses("Tháng 10/2026"))
    assert "Ủng hộ các quỹ" in resumed
    await nam.says("1.000.000")
    await nam.presses("Có")
    await nam.presses("Bỏ qua")

    await nam.presses("✏️ Sửa một câu")
    await nam.presses("1. Số trẻ sinh: 3 người")
    summary = texts(await nam.says("4"))
    assert "1. Số trẻ sinh: 4 người" in summary and "2. Hộ phân loại rác tại nguồn: 70%" in summary
    assert "Báo cáo đã gửi không thay đổi" not in texts(await nam.presses("❌ Hủy"))
    assert "1. Số trẻ sinh: 4 người" in texts(await nam.says("/report") + await nam.presses("Tháng 10/2026"))


async def test_a_restart_in_the_middle_loses_no_answer(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")
    await start_october(reporting, nam)
    await nam.says("2")
    await nam.says("85")

    await reporting.restart()

    assert "Có tổng vệ sinh" in texts(await nam.says("1.500.000"))
    await nam.presses("Có")
    summary = texts(await nam.presses("Tốt"))
    assert "1. Số trẻ sinh: 2 người" in summary and "3. Ủng hộ các quỹ: 1.500.000 đồng" in summary


async def test_a_redelivered_answer_has_no_second_effect(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")
    await start_october(reporting, nam)
    fake = reporting.fake
    update = fake.push_message(nam.user, "2")
    await fake.wait_for(1, chat_id=501, since=fake.mark())
    await fake.wait_idle()
    before = len(fake.messages_to(501))

    fake.push_raw(update)
    await fake.wait_idle()

    assert len(fake.messages_to(501)) == before
    drafts = await stored(reporting, "SELECT answers_json, position FROM report_drafts")
    assert len(drafts) == 1 and drafts[0][1] == 1 and '"births"' in drafts[0][0]


async def test_a_locked_month_is_refused_until_staff_reopen_it(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")
    reporting.clock = lambda: NOW + timedelta(days=3)  # 6 November: October is locked
    await reporting.restart()

    locked = texts(await nam.says("/report 2026-10"))
    assert "Báo cáo tháng 10/2026 đã khóa: hạn chót là ngày 05/11/2026" in locked
    assert "/reopen TDP01 2026-10" in locked
    assert "Báo cáo tháng 11/2026" in texts(await nam.says("/report"))  # only November is open
    await nam.says("/cancel")

    staff = reporting.person(1, "Cán bộ")
    since = reporting.fake.mark()
    assert "Đã mở lại tháng 10/2026 cho tổ TDP01 đến hết ngày 09/11/2026" in texts(
        await staff.says("/reopen TDP01 2026-10")
    )
    told = await reporting.fake.wait_for(1, chat_id=501, since=since)
    assert "mở lại tháng 10/2026 cho tổ đến hết ngày 09/11/2026" in texts(told)
    assert "Anh/chị báo cáo cho tháng nào?" in texts(await nam.says("/report"))


async def test_head_and_deputy_both_confirm_and_the_last_one_wins(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")
    binh = await appoint(reporting, 502, "Bình", role="deputy")
    for person in (nam, binh):
        await start_october(reporting, person)
    for person, births in ((nam, "2"), (binh, "3")):
        for answer in (births, "80", "500.000"):
            await person.says(answer)
        await person.presses("Có")
        await person.presses("Tốt")
    first = reporting.fake.mark()
    reporting.fake.press(nam.user, nam.last_with_buttons(), "✅ Xác nhận")
    reporting.fake.press(binh.user, binh.last_with_buttons(), "✅ Xác nhận")
    await reporting.fake.wait_for(2, since=first)
    await reporting.fake.wait_idle()

    values = dict(await stored(reporting, "SELECT key, value FROM report_values"))
    changes = await stored(
        reporting, "SELECT action, key, old_value, new_value FROM report_changes ORDER BY id"
    )
    assert [c[0] for c in changes].count("submitted") == 2
    assert values["births"] in (2.0, 3.0)
    changed = [c for c in changes if c[0] == "changed"]
    assert changed == [("changed", "births", 5.0 - values["births"], values["births"])]

    summary = texts(await nam.says("/report") + await nam.presses("Tháng 10/2026"))
    assert "Báo cáo tháng 10/2026 của tổ đã được gửi" in summary
    await nam.presses("✏️ Sửa một câu")
    await nam.presses(2)
    await nam.says("81")
    assert "1 thay đổi" in texts(await nam.presses("✅ Xác nhận"))
    last = (await stored(reporting, "SELECT key, old_value, new_value FROM report_changes ORDER BY id DESC"))[
        1
    ]
    assert last == ("waste_sorting_pct", 80.0, 81.0)


async def test_an_idle_report_ends_with_a_note_and_keeps_the_draft_across_restarts(
    reporting: RunningBot,
) -> None:
    nam = await appoint(reporting, 501, "Nam")
    await start_october(reporting, nam)
    await nam.says("2")
    await reporting.restart()

    reporting.clock = lambda: NOW + timedelta(minutes=61)
    await reporting.restart()
    since = reporting.fake.mark()
    note = await reporting.fake.wait_for(1, chat_id=501, since=since, timeout=20)
    assert "tạm dừng vì 60 phút không có trả lời" in texts(note) and "/report" in texts(note)

    assert "Tôi chưa hiểu ý anh/chị" in texts(await nam.says("85"))
    resumed = texts(await nam.says("/report") + await nam.presses("Tháng 10/2026"))
    assert "Tiếp tục báo cáo tháng 10/2026 từ câu 2/5" in resumed


async def test_an_old_button_never_answers_a_later_question(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")
    await start_october(reporting, nam)
    for answer in ("2", "80", "1.000.000"):
        await nam.says(answer)
    yes_no_question = nam.last_with_buttons()
    await nam.presses("Có", yes_no_question)

    again = texts(await nam.presses("Không", yes_no_question))
    assert "Nút này thuộc bước trước" in again or "Tình hình an ninh" in again
    drafts = await stored(reporting, "SELECT answers_json FROM report_drafts")
    assert '"security_rating"' not in drafts[0][0]
    assert '"cleanup_done": {"flagged": false, "skipped": false, "value": 1.0}' in drafts[0][0]


async def test_a_confirm_without_edits_does_not_undo_someone_elses_fix(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")
    binh = await appoint(reporting, 502, "Bình", role="deputy")
    await start_october(reporting, nam)
    for answer in ("2", "80", "1.000.000"):
        await nam.says(answer)
    await nam.presses("Có")
    await nam.presses("Tốt")
    await nam.presses("✅ Xác nhận")

    await binh.says("/report")
    await binh.presses("Tháng 10/2026")  # Bình sees the summary and waits
    deputy_summary = binh.last_with_buttons()

    await nam.says("/report")
    await nam.presses("Tháng 10/2026")
    await nam.presses("✏️ Sửa một câu")
    await nam.presses(1)
    await nam.says("5")
    await nam.presses("✅ Xác nhận")

    assert "không có thay đổi" in texts(await binh.presses("✅ Xác nhận", deputy_summary))
    assert dict(await stored(reporting, "SELECT key, value FROM report_values"))["births"] == 5.0


#: The built-in points sheet's questions (label as asked) and a head's answers.
DEFAULT_ANSWERS = {
    "Số trẻ sinh": "1",
    "Số người mất": "0",
    "Nhân khẩu chuyển đến": "2",
    "Nhân khẩu chuyển đi": "1",
    "Đăng ký tạm trú mới": "3",
    "Vụ việc an ninh trật tự": "0",
    "Vụ việc phát sinh cần hòa giải": "2",
    "Vụ việc hòa giải thành": "2",
    "Đơn thư, kiến nghị": "1",
    "Hộ phân loại rác tại nguồn": "92",
    "Buổi tổng vệ sinh": "2",
    "Ủng hộ các quỹ": "1 triệu",
    "Hộ nghèo, cận nghèo": "4",
    "Công dân từ 14 tuổi có VNeID mức 2": "85",
    "Người dùng thanh toán không dùng tiền mặt": "70",
    "Hộ dự họp, sinh hoạt tổ": "80",
    "Người tham gia BHYT": "90",
    "Không để xảy ra cháy, nổ": "Có",
    "Không có đơn thư vượt cấp, khiếu kiện đông người": "Có",
    "Ảnh buổi tổng vệ sinh": "Bỏ qua",
    "Kiến nghị, đề xuất": "Đề nghị sửa đèn ngõ 5",
}


async def test_the_built_in_points_sheet_as_a_head_reports_it(running: RunningBot) -> None:
    """Every question of the default catalogue asked in October (poor households wait for December);
    cases settled cannot outnumber the cases that arose; the month then scores on the sheet of 100
    (worked out below) with the ward's top band."""
    head = await appoint(running, 501, "Nam")
    await head.says("/report")
    asked = texts(await head.presses("Tháng 10/2026"))
    seen: list[str] = []
    while "✅ Xác nhận" not in asked:
        label = next(label for label in DEFAULT_ANSWERS if f"{label} (" in asked or f"{label}\n" in asked)
        seen.append(label)
        answer = DEFAULT_ANSWERS[label]
        if label == "Vụ việc hòa giải thành":
            refused = texts(await head.says("3"))
            assert "Tối đa 2 vụ: không quá “Vụ việc phát sinh cần hòa giải”." in refused
        sent = await (head.presses(answer) if answer in ("Có", "Bỏ qua") else head.says(answer))
        asked = texts(sent)
    assert seen == [label for label in DEFAULT_ANSWERS if label != "Hộ nghèo, cận nghèo"]
    assert "Số trẻ sinh: 1 trẻ" in asked
    assert "✅ Đã gửi báo cáo tháng 10/2026" in texts(await head.presses("✅ Xác nhận"))

    staff = running.person(1, "Cán bộ")
    table = texts(await staff.says("/standings 2026-10"))
    # 15 (no incident) + 10 (2 of 2 settled) + 15 (92 ≥ 90) + 10 (2 clean-ups) + 85/90 × 10
    # + 5 (70 %) + 10 (80 %) + 90/93 × 10 + 10 + 5 = 99,12 → 99,1.
    assert "1. TDP01 Tổ dân phố số 1 — 99,1 · Hoàn thành xuất sắc" in table
