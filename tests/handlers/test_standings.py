"""Standings, status and the Excel export, as residents, heads and staff see them in their chats."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from tests.harness import Person, RunningBot, texts
from tests.wards import NOW, appoint

GROUP_CHAT = -100777


async def report_october(head: Person, births: str, waste: str, fund: str, cleanup: str) -> None:
    """A whole report through the conversation."""
    await head.says("/report")
    await head.presses("Tháng 10/2026")
    for answer in (births, waste, fund):
        await head.says(answer)
    await head.presses(cleanup)
    await head.presses("Bỏ qua")
    await head.presses("✅ Xác nhận")


async def test_two_groups_are_ranked_in_text_and_chart(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam", group="TDP01")
    binh = await appoint(reporting, 502, "Bình", group="TDP02")
    await report_october(nam, "2", "60", "1.000.000", "Không")
    await report_october(binh, "3", "95", "2.000.000", "Có")

    reporting.fake.push_my_chat_member(nam.user, GROUP_CHAT, chat_title="Tổ 1")
    in_group = nam.in_group(GROUP_CHAT, "Tổ 1")
    await in_group.says("/link")
    lan = reporting.person(503, "Lan").in_group(GROUP_CHAT, "Tổ 1")

    answer = await lan.says("/standings 2026-10")
    table = texts(answer)
    assert "🏆 Bảng xếp hạng tháng 10/2026 — Phường Tràng Cát" in table
    lines = table.splitlines()
    assert lines[1].startswith("⏳ Tạm tính")  # 3 November: October may still be reported until the 5th
    assert lines[2].startswith("1. TDP02 Tổ dân phố số 2 — 100")
    # A ward file of the older format keeps today's bands, every one of them public.
    assert lines[3].startswith("▶ 2. TDP01 Tổ dân phố số 1 — 0") and "Chưa hoàn thành" in lines[3]
    photo = answer[-1]
    assert photo.method == "sendPhoto" and photo.photo is not None and photo.photo.startswith(b"\x89PNG")

    status = texts(await lan.says("/status"))
    assert "TDP01 năm nay" in status or "chưa có tháng nào hết hạn" in status.lower()


async def test_staff_see_who_has_reported_and_export_the_figures(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam", group="TDP01")
    await report_october(nam, "2", "60", "1.500.000", "Có")
    staff = reporting.person(1, "Cán bộ")

    status = texts(await staff.says("/status"))
    assert "📋 Tháng 10/2026 (hạn 05/11/2026): 1/2 tổ đã báo cáo." in status
    assert "Chưa báo cáo: TDP02 Tổ dân phố số 2" in status

    sent = await staff.says("/export 2026-10")
    document = sent[-1]
    assert document.method == "sendDocument" and document.filename == "bao-cao-2026-10.xlsx"
    assert document.document is not None
    workbook = load_workbook(io.BytesIO(document.document))
    values = workbook.worksheets[0]
    rows = [[cell.value for cell in row] for row in values.iter_rows()]
    assert rows[1][:3] == ["2026-10", "TDP01", "Tổ dân phố số 1"]
    assert rows[1][3:6] == [2, 60, 1_500_000]
    assert len(workbook.worksheets) == 3

    refused = texts(await nam.says("/export 2026-10"))
    assert "dành cho cán bộ phường" in refused


async def test_the_deadline_posts_standings_to_every_linked_chat_once_across_restarts(
    reporting: RunningBot,
) -> None:
    nam = await appoint(reporting, 501, "Nam", group="TDP01")
    binh = await appoint(reporting, 502, "Bình", group="TDP02")
    await report_october(nam, "2", "60", "1.000.000", "Không")
    await report_october(binh, "3", "95", "2.000.000", "Có")
    for head, chat, title in ((nam, -701, "Tổ 1"), (binh, -702, "Tổ 2")):
        reporting.fake.push_my_chat_member(head.user, chat, chat_title=title)
        await head.in_group(chat, title).says("/link")

    reporting.clock = lambda: NOW + timedelta(days=3)  # 6 November, 09:00: October locked at midnight
    await reporting.restart()
    since = reporting.fake.mark()
    await reporting.fake.wait_for(1, chat_id=-701, since=since, timeout=30)
    await reporting.fake.wait_for(1, chat_id=-702, since=since, timeout=30)
    await reporting.fake.wait_for(1, chat_id=1, since=since, timeout=30)  # staff
    await reporting.fake.wait_idle()
    first = [m for m in reporting.fake.sent[since:] if m.chat_id in (-701, -702)]
    assert len(first) == 2 and all(m.method == "sendPhoto" for m in first)
    own = next(m for m in first if m.chat_id == -701)
    assert "Kỳ báo cáo đã khép lại" in (own.text or "") and "▶ 2. TDP01" in (own.text or "")

    await reporting.restart()
    await reporting.caught_up()
    await reporting.drained()
    assert [m for m in reporting.fake.sent[since:] if m.chat_id in (-701, -702)] == first


async def test_a_slow_answer_shows_typing_first(reporting: RunningBot) -> None:
    lan = reporting.person(777, "Lan")
    since = len(reporting.fake.calls)
    await lan.says("/standings 2026-10")
    methods = [method for method, _ in reporting.fake.calls[since:] if method != "getUpdates"]
    assert methods.index("sendChatAction") < methods.index("sendMessage")
    action = next(params for method, params in reporting.fake.calls[since:] if method == "sendChatAction")
    assert action["action"] == "typing" and int(action["chat_id"]) == 777
