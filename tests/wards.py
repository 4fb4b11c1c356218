"""A small ward for report and standings tests: a few indicators of every kind, a fixed clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.campaigns import launch
from bot.membership import set_staff
from storage.models import Campaign
from storage.unit_of_work import unit_of_work
from tests.harness import Person, RunningBot, texts

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

WARD = 1  # the ward of a one-ward test deployment (the first row of a fresh database)

POOR_HOUSEHOLDS = """
[[indicators]]
key = "poor_households"
label = { vi = "Hộ nghèo, cận nghèo", en = "Poor and near-poor households" }
unit = "hộ"
kind = "integer"
min = 0
max_is_households = true
"""  # at most the group's households

NOW = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)  # 3 November, 09:00 in Hanoi: October and November are open


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


async def answer_october(head: Person) -> None:
    """The head, at the first question of October's report, answers all five questions."""
    for answer in ("2", "80", "1.000.000"):
        await head.says(answer)
    await head.presses("Có")
    await head.presses("Tốt")


async def launched_campaign(running: RunningBot, title: str, starts_on: date) -> int:
    """A campaign of every group, launched by staff member 1 at NOW (as /campaign would), once its
    delivery report has reached staff (the launch is then over); its id."""
    assert running.wiring is not None
    since = running.fake.mark()
    async with unit_of_work(running.wiring.factory) as uow:
        staff = await set_staff(uow, "telegram", "1", name="Cán bộ", is_staff=True)
        campaign = await uow.campaigns.add(
            Campaign(
                ward_id=WARD, title=title, announcement="Thi đua", starts_on=starts_on, created_by=staff.id
            )
        )
        await launch(uow, campaign, now=NOW, default_language="vi", platform=None)
    assert running.app is not None
    running.app.outbox.wake()  # as /campaign does once its launch is committed
    await running.fake.wait_for(1, chat_id=1, since=since, timeout=60)
    await running.fake.wait_idle()
    return campaign.id
