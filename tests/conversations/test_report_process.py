"""`python -m bot run` on a small ward: a head reports, the process is killed (-9) midway, nothing is lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.rush import wardbot_in_process
from bot.simulator import FakeBotApi, FakeUser, SentMessage
from tests.bot.test_run import _environment, bot_process
from tests.wards import SMALL_WARD


async def _say(fake: FakeBotApi, user: FakeUser, text: str, timeout: float = 60) -> str:
    since = fake.mark()
    fake.push_message(user, text)
    sent = await fake.wait_for(1, chat_id=user.id, since=since, timeout=timeout)
    await fake.wait_idle()
    return "\n".join(m.text or "" for m in fake.sent[since:] if m.chat_id == user.id) or sent[-1].text or ""


async def _press(fake: FakeBotApi, user: FakeUser, label: str | int) -> str:
    message: SentMessage = next(m for m in reversed(fake.messages_to(user.id)) if m.buttons)
    since = fake.mark()
    fake.press(user, message, label)
    await fake.wait_for(1, chat_id=user.id, since=since, timeout=60)
    await fake.wait_idle()
    return "\n".join(m.text or "" for m in fake.sent[since:] if m.chat_id == user.id)


async def test_a_head_reports_through_a_kill_9_and_my_report_shows_the_values(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    ward_file = tmp_path / "ward.toml"
    ward_file.write_text(SMALL_WARD, encoding="utf-8")
    env = _environment(fake_api, tmp_path, WARD_CONFIG=str(ward_file))
    added = await asyncio.to_thread(wardbot_in_process, "admin", "add", "1", "--name", "Cán bộ Hoa", env=env)
    assert added.returncode == 0, added.stderr
    staff = FakeUser(id=1, first_name="Hoa", language_code="vi")
    nam = FakeUser(id=501, first_name="Nam", language_code="vi")

    async with bot_process(env, tmp_path) as process:
        invite = await _say(fake_api, staff, "/invite TDP01")
        code = invite.split("start=")[1].split()[0]
        assert "tổ trưởng" in await _say(fake_api, nam, f"/start {code}")
        asked = await _say(fake_api, nam, "/report")
        if "tháng nào" in asked:  # in the first days of a month, last month is offered too (second)
            asked = await _press(fake_api, nam, 1)
        assert "Số trẻ sinh" in asked
        assert "Hộ phân loại rác" in await _say(fake_api, nam, "4")
        assert "Ủng hộ các quỹ" in await _say(fake_api, nam, "90%")
        process.kill()
        await process.wait()

    async with bot_process(env, tmp_path):
        assert "Có tổng vệ sinh" in await _say(fake_api, nam, "3.000.000")
        await _press(fake_api, nam, "Có")
        summary = await _press(fake_api, nam, "Khá")
        assert "1. Số trẻ sinh: 4 người" in summary
        assert "✅ Đã gửi báo cáo" in await _press(fake_api, nam, "✅ Xác nhận")
        shown = await _say(fake_api, nam, "/myreport")
        for line in (
            "1. Số trẻ sinh: 4 người",
            "2. Hộ phân loại rác tại nguồn: 90%",
            "3. Ủng hộ các quỹ: 3.000.000 đồng",
            "4. Có tổng vệ sinh trong tháng: Có",
            "5. Tình hình an ninh: Khá",
        ):
            assert line in shown, shown
