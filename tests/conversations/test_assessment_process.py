"""`python -m bot run`: a head fills in the year-end form, the process is killed (-9) midway, and the
form continues at the same question with every answer kept."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.rush import wardbot_in_process
from bot.simulator import FakeBotApi, FakeUser
from tests.bot.test_run import _environment, bot_process
from tests.conversations.test_report_process import _press, _say
from tests.handlers.test_assessment import SEASON_WARD


async def test_the_year_end_form_survives_a_kill_9(fake_api: FakeBotApi, tmp_path: Path) -> None:
    ward_file = tmp_path / "ward.toml"
    ward_file.write_text(SEASON_WARD, encoding="utf-8")
    env = _environment(fake_api, tmp_path, WARD_CONFIG=str(ward_file))
    added = await asyncio.to_thread(wardbot_in_process, "admin", "add", "1", "--name", "Cán bộ Hoa", env=env)
    assert added.returncode == 0, added.stderr
    staff = FakeUser(id=1, first_name="Hoa", language_code="vi")
    nam = FakeUser(id=501, first_name="Nam", language_code="vi")

    async with bot_process(env, tmp_path) as process:
        code = (await _say(fake_api, staff, "/invite TDP01")).split("start=")[1].split()[0]
        assert "tổ trưởng" in await _say(fake_api, nam, f"/start {code}")
        since = fake_api.mark()
        assert "Đã mở bình xét cuối năm 2026" in await _say(fake_api, staff, "/assessment 2026")
        await fake_api.wait_for(1, chat_id=nam.id, since=since, timeout=30)  # the opening reached the head
        assert "Số hộ hiện nay của tổ" in await _say(fake_api, nam, "/tudanhgia")
        assert "Số hộ đăng ký" in await _say(fake_api, nam, "100")
        assert "Số hộ được cuộc họp bình xét đạt" in await _say(fake_api, nam, "95")
        process.kill()
        await process.wait()

    async with bot_process(env, tmp_path):
        assert "không được lớn hơn 95 hộ đã đăng ký" in await _say(fake_api, nam, "96")
        assert "Ngày họp bình xét" in await _say(fake_api, nam, "93")
        await _say(fake_api, nam, "01/11/2026")
        await _say(fake_api, nam, "80")
        await _press(fake_api, nam, "Có")
        await _press(fake_api, nam, "Có")
        summary = await _press(fake_api, nam, "Xong")
        for line in (
            "1. Số hộ: 100",
            "2. Đăng ký “Gia đình văn hóa”: 95",
            "3. Đạt “Gia đình văn hóa”: 93 (93,0%)",
        ):
            assert line in summary, summary
        assert "Đã gửi biên bản bình xét năm 2026" in await _press(fake_api, nam, "✅ Xác nhận")
        assert "TDP01 Tổ dân phố số 1: 93/100 hộ (93,0%), tiêu chí 2/2, đạt" in await _say(
            fake_api, staff, "/assessment"
        )
