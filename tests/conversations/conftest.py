"""A small ward for report conversations: a few indicators of every kind, a fixed clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.membership import set_staff
from bot.simulator import FakeBotApi
from bot.ward_config import WardFile, load_ward_config
from storage.unit_of_work import unit_of_work
from tests.harness import Person, RunningBot, make_settings, texts

SMALL_WARD = """
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
soft_max = 15

[[indicators]]
key = "waste_sorting_pct"
label = { vi = "Hộ phân loại rác tại nguồn", en = "Households sorting waste" }
kind = "percent"
direction = "higher"

[[indicators]]
key = "fund_contributions"
label = { vi = "Ủng hộ các quỹ", en = "Fund contributions" }
unit = "đồng"
kind = "money"
min = 0
max = 500000000
direction = "higher"

[[indicators]]
key = "cleanup_done"
label = { vi = "Có tổng vệ sinh trong tháng", en = "Clean-up held this month" }
kind = "yesno"
direction = "higher"

[[indicators]]
key = "security_rating"
label = { vi = "Tình hình an ninh", en = "Security situation" }
kind = "choice"
choices = ["Tốt", "Khá", "Cần cố gắng"]
required = false
"""

NOW = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)  # 3 November, 09:00 in Hanoi: October and November are open


@pytest.fixture
def small_ward(tmp_path: Path) -> WardFile:
    path = tmp_path / "ward.toml"
    path.write_text(SMALL_WARD, encoding="utf-8")
    return load_ward_config(path)


@pytest.fixture
async def reporting(fake_api: FakeBotApi, tmp_path: Path, small_ward: WardFile) -> AsyncIterator[RunningBot]:
    """The application on the small ward, with the clock at 3 November 2026."""
    bot = RunningBot(fake_api, make_settings(tmp_path), small_ward, clock=lambda: NOW)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


async def appoint(
    running: RunningBot, user_id: int, name: str, role: str = "head", group: str = "TDP01"
) -> Person:
    """Staff invite someone as head (or deputy), and they open the link."""
    assert running.wiring is not None
    async with unit_of_work(running.wiring.factory) as uow:
        await set_staff(uow, "telegram", "1", name="Cán bộ", is_staff=True)
    staff = running.person(1, "Cán bộ")
    command = f"/invite {group}" + (" deputy" if role == "deputy" else "")
    invite = texts(await staff.says(command)).split("start=")[1].split()[0]
    person = running.person(user_id, name)
    await person.says(f"/start {invite}")
    return person
