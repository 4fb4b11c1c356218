"""A reopened month shows the reopening's end everywhere; an unknown household count still caps counts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.simulator import FakeBotApi
from bot.ward_config import load_ward_config
from tests.handlers.test_membership import make_staff
from tests.harness import RunningBot, make_settings, texts
from tests.wards import NOW, POOR_HOUSEHOLDS, answer_october, appoint

LATE = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 30 November, 09:00 in Hanoi: October locked on the 6th


async def test_a_reopened_month_shows_the_reopenings_end_everywhere(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")
    reporting.clock = lambda: LATE
    await reporting.restart()
    staff = reporting.person(1, "Cán bộ")
    assert "đến hết ngày 03/12/2026" in texts(await staff.says("/reopen TDP01 2026-10"))

    months = (await nam.says("/report"))[-1]
    assert [b.text for b in months.flat_buttons] == ["Tháng 11/2026", "Tháng 10/2026 (hạn 03/12/2026)"]
    await nam.presses("Tháng 10/2026 (hạn 03/12/2026)", months)
    await answer_october(nam)
    sent = texts(await nam.presses("✅ Xác nhận"))
    assert "có thể sửa bằng /report đến hết ngày 03/12/2026." in sent and "05/11" not in sent

    mine = texts(await nam.says("/myreport 2026-10"))
    assert "Có thể sửa bằng /report đến hết ngày 03/12/2026." in mine and "05/11" not in mine

    await nam.says("/report 2026-10")
    await nam.presses("✏️ Sửa một câu")
    await nam.presses(1)
    await nam.says("3")
    assert "Có thể sửa đến hết ngày 03/12/2026." in texts(await nam.presses("✅ Xác nhận"))

    reporting.clock = lambda: LATE + timedelta(days=4)  # 4 December: the reopening has ended
    await reporting.restart()
    locked = texts(await nam.says("/myreport 2026-10"))
    assert "Tháng này đã khóa; cán bộ phường có thể mở lại bằng /reopen TDP01 2026-10." in locked


async def test_a_reminder_after_a_reopening_names_its_end(reporting: RunningBot) -> None:
    await appoint(reporting, 501, "Nam")
    staff = reporting.person(1, "Cán bộ")
    assert "đến hết ngày 06/11/2026" in texts(await staff.says("/reopen TDP01 2026-10"))  # on 3 November

    reporting.clock = lambda: NOW + timedelta(days=2)  # 5 November, 09:00: the last reminder's day
    await reporting.restart()
    since = reporting.fake.mark()
    reminder = texts(await reporting.fake.wait_for(1, chat_id=501, since=since, timeout=30))
    assert (
        "⏰ Nhắc nhở: Tổ dân phố số 1 chưa gửi báo cáo tháng 10/2026. Hạn chót là hết ngày 06/11/2026."
        in reminder
    )


POOR_WARD = '[ward]\nname = "Phường Tràng Cát"\n' + POOR_HOUSEHOLDS


@pytest.fixture
async def poor_ward(fake_api: FakeBotApi, tmp_path: Path) -> AsyncIterator[RunningBot]:
    """A ward asking only the poor households (at most the group's households), no group yet."""
    path = tmp_path / "ward.toml"
    path.write_text(POOR_WARD, encoding="utf-8")
    bot = RunningBot(fake_api, make_settings(tmp_path), load_ward_config(path), clock=lambda: NOW)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


async def test_unknown_households_cap_poor_households_at_the_ward_maximum_and_say_who_sets_them(
    poor_ward: RunningBot,
) -> None:
    staff = await make_staff(poor_ward, 1, "Cán bộ")
    assert "(0 hộ)" in texts(await staff.says("/addgroup Tổ dân phố số 1"))
    nam = await appoint(poor_ward, 501, "Nam", group="TDP01")
    await nam.says("/report 2026-11")

    refused = texts(await nam.says("100.001"))
    assert "⚠️ Tối đa 100.000: số hộ của tổ chưa được nhập." in refused
    assert "Cán bộ phường có thể nhập bằng /households TDP01 SỐ-HỘ." in refused
    await staff.says("/households TDP01 300")
    assert "⚠️ Tối đa 300: tổ có 300 hộ." in texts(await nam.says("301"))
    assert "1. Hộ nghèo, cận nghèo: 12 hộ" in texts(await nam.says("12"))
