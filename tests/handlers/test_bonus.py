"""The points sheet over the fake Bot API: three groups report, staff and a group chat read the
standings with the ward's own bands, and /bonus moves a score by exactly its points (audited)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.simulator import FakeBotApi
from bot.ward_config import WardFile, load_ward_config
from tests.harness import Person, RunningBot, make_settings, texts, wardbot_audit
from tests.wards import NOW, appoint

POINTS_WARD = """
[ward]
name = "Phường Tràng Cát"
report_deadline_day = 5
scoring = "points"

[[bands]]
name = { vi = "Hoàn thành xuất sắc", en = "Outstanding" }
min = 90
[[bands]]
name = { vi = "Hoàn thành", en = "Completed" }
min = 50
[[bands]]
name = { vi = "Chưa hoàn thành", en = "Fell short" }
min = 0
public = false

[[groups]]
code = "TDP01"
name = "Tổ dân phố số 1"
households = 300
block = "Khu vực 1"
[[groups]]
code = "TDP02"
name = "Tổ dân phố số 2"
households = 120
block = "Khu vực 1"
[[groups]]
code = "TDP03"
name = "Tổ dân phố số 3"
households = 200
block = "Khu vực 2"

[[indicators]]
key = "waste_sorting_pct"
label = { vi = "Hộ phân loại rác tại nguồn", en = "Households sorting waste" }
kind = "percent"
direction = "higher"
points = 40
target = 90

[[indicators]]
key = "security_incidents"
label = { vi = "Vụ việc an ninh trật tự", en = "Security incidents" }
unit = "vụ"
kind = "integer"
min = 0
max = 50
direction = "lower"
points = 20
target = 0
deduct = 10

[[indicators]]
key = "cleanup_drives"
label = { vi = "Buổi tổng vệ sinh", en = "Clean-up drives" }
unit = "buổi"
kind = "integer"
min = 0
max = 10
direction = "higher"
points = 40
target = 2
"""

LOW_CHAT = -100_303


@pytest.fixture
def points_ward(tmp_path: Path) -> WardFile:
    path = tmp_path / "ward.toml"
    path.write_text(POINTS_WARD, encoding="utf-8")
    return load_ward_config(path)


@pytest.fixture
async def sheet(fake_api: FakeBotApi, tmp_path: Path, points_ward: WardFile) -> AsyncIterator[RunningBot]:
    """The bot on the points ward, on 3 November 2026 (October still open until the 5th)."""
    bot = RunningBot(fake_api, make_settings(tmp_path), points_ward, clock=lambda: NOW)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


async def report_october(head: Person, waste: str, incidents: str, cleanups: str) -> None:
    await head.says("/report")
    await head.presses("Tháng 10/2026")
    for answer in (waste, incidents, cleanups):
        await head.says(answer)
    await head.presses("✅ Xác nhận")


def line_of(table: str, code: str) -> str:
    return next(line for line in table.splitlines() if f" {code} " in line)


async def test_points_bands_hidden_band_and_bonus(sheet: RunningBot, tmp_path: Path) -> None:
    full = await appoint(sheet, 501, "An", group="TDP01")
    half = await appoint(sheet, 502, "Bình", group="TDP02")
    low = await appoint(sheet, 503, "Chi", group="TDP03")
    await report_october(full, "95", "0", "3")  # every target met: 40 + 20 + 40
    await report_october(half, "45", "1", "1")  # halfway on each: 20 + 10 + 20
    await report_october(low, "30", "3", "0")  # 30/90 × 40 = 13,33; 3 cases cost all 20; no clean-up
    staff = sheet.person(1, "Cán bộ")

    table = texts(await staff.says("/standings 2026-10"))
    assert "⏳ Tạm tính" in table  # 3 November: October's deadline is the 5th
    assert "Khu vực 1" in table and "Khu vực 2" in table  # one table per block, then the ward's
    ward_table = table.split("\n\n")[-1]
    assert line_of(ward_table, "TDP01").endswith("— 100 · Hoàn thành xuất sắc")
    assert line_of(ward_table, "TDP02").endswith("— 50 · Hoàn thành")
    assert line_of(ward_table, "TDP03").endswith("— 13,3 · Chưa hoàn thành")
    block_2 = table.split("\n\n")[1]
    assert "khối “Khu vực 2”" in block_2 and "1. TDP03 Tổ dân phố số 3 — 13,3" in block_2

    sheet.fake.push_my_chat_member(low.user, LOW_CHAT, chat_title="Tổ 3")
    await low.in_group(LOW_CHAT, "Tổ 3").says("/link")
    for person in (sheet.person(601, "Dũng"), sheet.person(602, "Emma", language_code="en")):
        answer = await person.in_group(LOW_CHAT, "Tổ 3").says("/standings 2026-10")
        said = texts(answer)
        own = next(line for line in said.splitlines() if line.startswith("▶ "))
        assert own.endswith(("— 13,3", "— 13.3")), own  # rank and score only
        assert "Chưa hoàn thành" not in said and "Fell short" not in said
        assert "Hoàn thành xuất sắc" in said or "Outstanding" in said  # public bands still named
        assert answer[-1].method == "sendPhoto"

    said = texts(await low.says("/standings khoi khu vuc 2 2026-10"))  # no diacritics needed
    assert "khối “Khu vực 2”" in said and "▶ 1. TDP03 Tổ dân phố số 3 — 13,3" in said
    assert "Chưa hoàn thành" not in said  # a head is not staff

    answer = texts(await staff.says("/bonus TDP03 2026-10 +5 Tích cực vận động hiến máu"))
    assert "TDP03 được +5 điểm tháng 10/2026. Lý do: Tích cực vận động hiến máu" in answer
    assert "Điểm của TDP03 tháng 10/2026 hiện là: 18,3." in answer
    table = texts(await staff.says("/standings 2026-10"))
    assert line_of(table.split("\n\n")[-1], "TDP03").endswith("— 18,3 · Chưa hoàn thành · thưởng +5")
    audit = await wardbot_audit(sheet, tmp_path)
    assert "bonus_set" in audit and "TDP03 2026-10: +5 (was +0); reason: Tích cực vận động hiến máu" in audit

    sent = await staff.says("/export 2026-10")
    assert "(tạm tính: chưa hết hạn báo cáo)" in texts(sent)
    assert sent[-1].document is not None
    book = load_workbook(io.BytesIO(sent[-1].document))
    assert book.sheetnames == ["Số liệu", "Xếp hạng", "Khối Khu vực 1", "Khối Khu vực 2", "Tiến độ báo cáo"]
    ranked = {row[1]: row for row in book["Xếp hạng"].iter_rows(min_row=2, values_only=True)}
    assert ranked["TDP03"][3:8] == ("Khu vực 2", 200, 18.3, 5, "Chưa hoàn thành")

    answer = texts(await staff.says("/diemthuong TDP03 2026-10 0 Nhập nhầm"))
    assert "Đã bỏ điểm thưởng của TDP03 tháng 10/2026." in answer and "13,3" in answer
    assert "bonus_removed" in await wardbot_audit(sheet, tmp_path)

    # The deadline post: the group's chat sees its score alone; staff see every band.
    sheet.clock = lambda: NOW + timedelta(days=3)
    await sheet.restart()
    since = sheet.fake.mark()
    await sheet.fake.wait_for(1, chat_id=LOW_CHAT, since=since, timeout=30)
    await sheet.fake.wait_for(1, chat_id=1, since=since, timeout=30)
    await sheet.fake.wait_idle()
    posted = [m for m in sheet.fake.sent[since:] if m.chat_id == LOW_CHAT]
    assert len(posted) == 1 and posted[0].method == "sendPhoto"
    post = posted[0].text or ""
    assert "▶ 3. TDP03 Tổ dân phố số 3 — 13,3" in post and "Chưa hoàn thành" not in post
    assert "Tạm tính" not in post  # locked now
    to_staff = texts([m for m in sheet.fake.sent[since:] if m.chat_id == 1])
    assert "13,3 · Chưa hoàn thành" in to_staff


async def test_bonus_refuses_what_it_cannot_read_and_changes_nothing(
    sheet: RunningBot, tmp_path: Path
) -> None:
    await appoint(sheet, 501, "An", group="TDP01")
    staff = sheet.person(1, "Cán bộ")
    for command, reason in [
        ("/bonus", "/bonus MÃ-TỔ [THÁNG] SỐ-ĐIỂM LÝ-DO"),
        ("/bonus TDP01 +5", "/bonus MÃ-TỔ [THÁNG] SỐ-ĐIỂM LÝ-DO"),
        ("/bonus TDP01 2026-Q3 +5 Tốt", "một tháng"),
        ("/bonus TDP01 2027-01 +5 Tốt", "chưa bắt đầu"),
        ("/bonus TDP01 +500 Tốt", "tối đa 100 điểm"),
        ("/bonus TDP01 +2,55 Tốt", "một chữ số thập phân"),
        ("/bonus TDP09 +5 Tốt", "Không có tổ TDP09"),
        ("/bonus TDP01 =1+1 Tốt", "/bonus MÃ-TỔ [THÁNG] SỐ-ĐIỂM LÝ-DO"),
    ]:
        said = texts(await staff.says(command))
        assert reason in said, (command, said)
    assert "bonus" not in await wardbot_audit(sheet, tmp_path)
    head = sheet.person(501, "An")
    assert "dành cho cán bộ phường" in texts(await head.says("/bonus TDP01 +5 Tốt"))
