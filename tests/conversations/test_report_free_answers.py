"""Free text, photos and seasonal questions in the monthly report, as heads, staff and residents see them."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.simulator import FakeBotApi
from bot.simulator.fake_bot_api import USER_PHOTO
from bot.ward_config import WardFile, load_ward_config
from tests.harness import RunningBot, make_settings, texts, wardbot_cli
from tests.wards import appoint

FREE_WARD = """
[ward]
name = "Phường Tràng Cát"
report_deadline_day = 5

[[groups]]
code = "TDP01"
name = "Tổ dân phố số 1"
households = 300

[[groups]]
code = "TDP02"
name = "Tổ dân phố số 2"
households = 120

[[indicators]]
key = "births"
label = { vi = "Số trẻ sinh", en = "Births" }
unit = "người"
kind = "integer"
min = 0
max = 30

[[indicators]]
key = "poor_households"
label = { vi = "Hộ nghèo, cận nghèo", en = "Poor and near-poor households" }
unit = "hộ"
kind = "integer"
min = 0
frequency = "quarterly"

[[indicators]]
key = "proposals"
label = { vi = "Kiến nghị, đề xuất", en = "Proposals and requests" }
kind = "text"
max_length = 60

[[indicators]]
key = "cleanup_photos"
label = { vi = "Ảnh buổi tổng vệ sinh", en = "Photos of the clean-up" }
kind = "photo"
max_photos = 2
"""

MARCH = datetime(2027, 3, 3, 2, 0, tzinfo=UTC)  # 3 March, 09:00 in Hanoi: February and March are open


@pytest.fixture
def free_ward(tmp_path: Path) -> WardFile:
    path = tmp_path / "ward.toml"
    path.write_text(FREE_WARD, encoding="utf-8")
    return load_ward_config(path)


@pytest.fixture
async def march(fake_api: FakeBotApi, tmp_path: Path, free_ward: WardFile) -> AsyncIterator[RunningBot]:
    """The application on a ward with text, photo and quarterly questions, on 3 March 2027."""
    bot = RunningBot(fake_api, make_settings(tmp_path), free_ward, clock=lambda: MARCH)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


async def test_a_quarterly_question_is_asked_in_march_but_not_in_february(march: RunningBot) -> None:
    nam = await appoint(march, 501, "Nam")

    await nam.says("/report")
    february = texts(await nam.presses("Tháng 2/2027"))
    assert "câu 1/3" in february
    february += texts(await nam.says("2"))
    february += texts(await nam.presses("Bỏ qua"))
    february += texts(await nam.presses("Bỏ qua"))
    assert "Hộ nghèo" not in february
    assert "✅ Đã gửi báo cáo tháng 2/2027" in texts(await nam.presses("✅ Xác nhận"))

    await nam.says("/report")
    asked = texts(await nam.presses("Tháng 3/2027"))
    assert "câu 1/4" in asked
    assert "Hộ nghèo, cận nghèo (hộ)" in texts(await nam.says("1"))


async def test_a_text_answer_is_checked_kept_and_shown_by_myreport_and_the_export(
    march: RunningBot, tmp_path: Path
) -> None:
    nam = await appoint(march, 501, "Nam")
    await nam.says("/report")
    await nam.presses("Tháng 2/2027")
    asked = texts(await nam.says("0"))
    assert "❓ Kiến nghị, đề xuất" in asked and "tối đa 60 ký tự" in asked
    assert "Bỏ qua" in [button.text for button in nam.last_with_buttons().flat_buttons]  # optional

    too_long = texts(await nam.says("Đề nghị phường " + "sửa đèn chiếu sáng " * 5))
    assert "dài 109 ký tự; chỉ được tối đa 60 ký tự" in too_long and "❓ Kiến nghị, đề xuất" in too_long
    assert "Câu trả lời còn trống" in texts(await nam.says("\u200b"))
    assert "❓ Ảnh buổi tổng vệ sinh" in texts(await nam.says("  =Đề nghị sửa đèn ngõ 5  "))
    summary = texts(await nam.presses("Bỏ qua"))
    assert "2. Kiến nghị, đề xuất: “=Đề nghị sửa đèn ngõ 5”" in summary
    assert "3. Ảnh buổi tổng vệ sinh: bỏ qua" in summary
    await nam.presses("✅ Xác nhận")

    shown = texts(await nam.says("/myreport 2027-02"))
    assert "2. Kiến nghị, đề xuất: “=Đề nghị sửa đèn ngõ 5”" in shown

    out = tmp_path / "feb.csv"
    await wardbot_cli(march, tmp_path, "export", "--period", "2027-02", "--format", "csv", "--out", str(out))
    exported = out.read_bytes().decode("utf-8-sig")
    assert "Kiến nghị, đề xuất" in exported.splitlines()[0]
    assert "'=Đề nghị sửa đèn ngõ 5" in exported  # typed text never becomes a formula


async def test_photos_are_kept_for_staff_and_refused_to_a_resident(march: RunningBot, tmp_path: Path) -> None:
    nam = await appoint(march, 501, "Nam")
    await nam.says("/report")
    await nam.presses("Tháng 2/2027")
    await nam.says("1")
    asked = texts(await nam.presses("Bỏ qua"))
    assert "❓ Ảnh buổi tổng vệ sinh" in asked and "tối đa 2 ảnh" in asked
    assert "Câu hỏi này cần ảnh" in texts(await nam.says("ảnh đây"))
    assert "gửi dưới dạng ảnh" in texts(await nam.says(None, kind="document"))  # a picture sent as a file
    first = texts(await nam.says(None, kind="photo"))
    assert "📷 Đã nhận ảnh thứ 1." in first and "Hiện tại: 1 ảnh" in first
    summary = texts(await nam.says(None, kind="photo"))  # the most it takes: on to the summary
    assert "3. Ảnh buổi tổng vệ sinh: 2 ảnh" in summary
    await nam.presses("✅ Xác nhận")
    assert "3. Ảnh buổi tổng vệ sinh: 2 ảnh" in texts(await nam.says("/myreport 2027-02"))

    staff = march.person(1, "Cán bộ")
    sent = await staff.says("/photos 2027-02")
    assert "Ảnh gửi kèm báo cáo tháng 2/2027: 2." in texts(sent)
    (document,) = [message for message in sent if message.document is not None]
    assert document.filename == "anh-2027-02.zip"
    names = ["TDP01/2027-02-cleanup_photos-1.png", "TDP01/2027-02-cleanup_photos-2.png"]
    with zipfile.ZipFile(io.BytesIO(document.document or b"")) as archive:
        assert archive.namelist() == names
        assert archive.read(names[0]) == USER_PHOTO

    out = tmp_path / "anh.zip"
    printed = await wardbot_cli(
        march, tmp_path, "export", "--photos", "--period", "2027-02", "--out", str(out)
    )
    assert "2 photos" in printed
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == names

    lan = march.person(601, "Lan")
    await lan.says("/follow TDP01")
    for command in ("/photos 2027-02", "/myreport 2027-02", "/export 2027-02"):
        refused = await lan.says(command)
        assert all(message.document is None and message.photo is None for message in refused)
        assert "Đề nghị" not in texts(refused) and "ảnh" not in texts(refused).split(":")[0]


async def test_photos_can_be_removed_and_done_needs_none_for_an_optional_question(march: RunningBot) -> None:
    nam = await appoint(march, 501, "Nam")
    await nam.says("/report")
    await nam.presses("Tháng 2/2027")
    await nam.says("1")
    await nam.says("Không có")
    await nam.says(None, kind="photo")
    cleared = texts(await nam.presses("🗑 Xóa các ảnh đã gửi"))
    assert "Hiện tại" not in cleared and "❓ Ảnh buổi tổng vệ sinh" in cleared
    await nam.says(None, kind="photo")
    summary = texts(await nam.presses("✅ Xong"))
    assert "3. Ảnh buổi tổng vệ sinh: 1 ảnh" in summary
    await nam.presses(2)  # ✏️ edit an answer
    await nam.presses(3)
    again = texts(await nam.says("xong"))  # typed instead of the button: back to the summary, unchanged
    assert "3. Ảnh buổi tổng vệ sinh: 1 ảnh" in again
    assert await photo_count(march) == 1  # the removed one is gone
    await nam.presses("✅ Xác nhận")
    assert await photo_count(march, submitted=True) == 1

    await nam.says("/report")
    await nam.presses("Tháng 2/2027")  # the sent report's summary
    await nam.presses(2)  # ✏️ edit an answer
    await nam.presses(3)
    await nam.presses("🗑 Xóa các ảnh đã gửi")
    await nam.says(None, kind="photo")  # another photo in place of the first
    await nam.presses("✅ Xong")
    assert "(1 thay đổi)" in texts(await nam.presses("✅ Xác nhận"))
    assert await photo_count(march) == 1 and await photo_count(march, submitted=True) == 1

    await nam.says("/report")
    await nam.presses("Tháng 3/2027")
    await nam.says("1")
    await nam.says("4")
    await nam.presses("Bỏ qua")
    for _round in range(3):  # photos, then skip: nothing piles up
        await nam.says(None, kind="photo")
        await nam.presses("Bỏ qua")
        await nam.presses(2)  # ✏️ edit an answer
        await nam.presses(4)
    assert await photo_count(march) == 1


async def photo_count(running: RunningBot, *, submitted: bool = False) -> int:
    assert running.wiring is not None
    where = " WHERE report_id IS NOT NULL" if submitted else ""
    async with running.wiring.engine.connect() as connection:
        counted = await connection.execute(text(f"SELECT count(*) FROM report_photos{where}"))
        return int(counted.scalar_one())

