"""Two wards in one deployment: each ward's people see and touch only their ward; province staff see both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.campaigns import launch
from bot.membership import set_staff
from bot.simulator import FakeBotApi
from bot.ward_config import WardFile, load_wards
from bot.wards import ward_code
from storage.models import Campaign
from storage.unit_of_work import unit_of_work
from tests.harness import Person, RunningBot, make_settings, texts
from tests.wards import NOW

P1 = """
[ward]
name = "Phường Tràng Cát"
[[groups]]
code = "TDP01"
name = "Tổ dân phố số 1 (Tràng Cát)"
households = 300
[[groups]]
code = "TDP02"
name = "Tổ dân phố số 2 (Tràng Cát)"
households = 200
"""

P2 = """
[ward]
name = "Phường Hải An"
[[groups]]
code = "TDP01"
name = "Tổ dân phố số 1 (Hải An)"
households = 150
[[groups]]
code = "TDP03"
name = "Tổ dân phố số 3 (Hải An)"
households = 120
"""


@pytest.fixture
def two_wards(tmp_path: Path) -> tuple[WardFile, ...]:
    folder = tmp_path / "wards"
    folder.mkdir()
    (folder / "P1.toml").write_text(P1, encoding="utf-8")
    (folder / "P2.toml").write_text(P2, encoding="utf-8")
    return load_wards(folder)


@pytest.fixture
async def province(
    fake_api: FakeBotApi, tmp_path: Path, two_wards: tuple[WardFile, ...]
) -> AsyncIterator[RunningBot]:
    bot = RunningBot(fake_api, make_settings(tmp_path), two_wards, clock=lambda: NOW)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


async def staff_of(running: RunningBot, user_id: int, name: str, ward: str | None) -> Person:
    assert running.wiring is not None
    ids = {ward_code(file): ward_id for ward_id, file in running.wiring.wards.items()}
    async with unit_of_work(running.wiring.factory) as uow:
        person = await set_staff(
            uow, "telegram", str(user_id), name=name, is_staff=ward is not None, ward_id=ids.get(ward or "")
        )
        person.is_province = ward is None
    return running.person(user_id, name)


async def test_each_ward_sees_its_own_groups_and_heads_only(province: RunningBot) -> None:
    hoa = await staff_of(province, 1, "Hoa", "P1")
    lan = await staff_of(province, 2, "Lan", "P2")

    assert "Tràng Cát" in texts(await hoa.says("/groups"))
    assert "Hải An" not in texts(await hoa.says("/groups"))
    listing = texts(await lan.says("/groups"))
    assert "Tổ dân phố số 3 (Hải An)" in listing and "Tràng Cát" not in listing

    invite = texts(await hoa.says("/invite TDP01")).split("start=")[1].split()[0]
    nam = province.person(501, "Nam")
    joined = texts(await nam.says(f"/start {invite}"))
    assert "Tổ dân phố số 1 (Tràng Cát)" in joined
    assert "TDP03" in texts(await hoa.says("/invite TDP03"))  # not a group of P1: refused
    assert "start=" not in texts(await hoa.says("/invite TDP03"))

    status = texts(await lan.says("/groups"))
    assert "Nam" not in status  # P1's head does not appear in P2

    group_chat = nam.in_group(-5001, "Tổ 1 Tràng Cát")
    assert "TDP03" in texts(await group_chat.says("/link TDP03"))
    assert "Tổ dân phố số 1 (Tràng Cát)" in texts(await group_chat.says("/link"))


async def test_province_staff_compare_every_ward(province: RunningBot) -> None:
    minh = await staff_of(province, 9, "Minh", None)
    overview = texts(await minh.says("/wards"))
    assert "P1 · Phường Tràng Cát (2 tổ)" in overview
    assert "P2 · Phường Hải An (2 tổ)" in overview

    hoa = await staff_of(province, 1, "Hoa", "P1")
    assert "cán bộ cấp tỉnh" in texts(await hoa.says("/wards"))


async def test_each_ward_speaks_in_its_own_words(fake_api: FakeBotApi, tmp_path: Path) -> None:
    folder = tmp_path / "wards"
    folder.mkdir()
    (folder / "P1.toml").write_text(P1, encoding="utf-8")
    commune = P2.replace('name = "Phường Hải An"', 'name = "Xã Hải An"\nkind = "xã"\nunit = "thôn"')
    (folder / "P2.toml").write_text(commune.replace("Tổ dân phố số", "Thôn"), encoding="utf-8")
    running = RunningBot(fake_api, make_settings(tmp_path), load_wards(folder), clock=lambda: NOW)
    await running.start()
    try:
        lan = await staff_of(running, 2, "Lan", "P2")
        invite = texts(await lan.says("/invite TDP03")).split("start=")[1].split()[0]
        joined = texts(await running.person(501, "Nam").says(f"/start {invite}"))
        assert "Từ nay anh/chị là trưởng thôn của Thôn 3 (Hải An) (TDP03)" in joined
        assert "tổ" not in joined.casefold().split()
        assert "Các thôn (2):" in texts(await lan.says("/groups"))
        hoa = await staff_of(running, 1, "Hoa", "P1")
        assert "Các tổ dân phố (2):" in texts(await hoa.says("/groups"))
    finally:
        await running.stop()


async def test_a_resident_follows_a_group_of_either_ward_by_its_code(province: RunningBot) -> None:
    thu = province.person(601, "Thu")
    choices = texts(await thu.says("/follow TDP01"))  # both wards have a TDP01: which one?
    assert "/follow P1 TDP01" in choices and "/follow P2 TDP01" in choices
    assert "Hải An" in texts(await thu.says("/follow P2 TDP01"))
    assert "P9" in texts(await thu.says("/follow P9 TDP01"))  # no such ward: said, nothing changes

    binh = province.person(602, "Bình")
    assert "Tổ dân phố số 2 (Tràng Cát)" in texts(await binh.says("/follow TDP02"))  # one ward has it

    assert province.wiring is not None
    async with unit_of_work(province.wiring.factory) as uow:
        followed = {}
        for user in (601, 602):
            person = await uow.people.find("telegram", str(user))
            assert person is not None
            groups = [await uow.groups.get(m.group_id) for m in await uow.groups.memberships_of(person.id)]
            followed[user] = [g.name for g in groups if g is not None]
    assert followed == {601: ["Tổ dân phố số 1 (Hải An)"], 602: ["Tổ dân phố số 2 (Tràng Cát)"]}


async def test_province_staff_get_every_ward_s_standings_workbook_and_year_end_titles(
    province: RunningBot,
) -> None:
    minh = await staff_of(province, 9, "Minh", None)
    table = texts(await minh.says("/standings 2026-10"))
    assert "P1 · Phường Tràng Cát · Tháng 10/2026: 0/2" in table
    assert "P2 · Phường Hải An · Tháng 10/2026: 0/2" in table
    one = texts(await minh.says("/xephang P2 2026-10"))
    assert "Phường Hải An" in one and "TDP03" in one and "TDP02" not in one
    assert "không hiểu" in texts(await minh.says("/standings 2026-13"))

    sent = await minh.says("/export 2026-10")
    workbook = load_workbook(BytesIO(next(m.document for m in sent if m.document)))
    assert workbook.sheetnames == ["Toàn tỉnh", "P1", "P2"]
    rows = list(workbook["Toàn tỉnh"].iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["P1", "P2"] and rows[1][2] == 2

    assert "Chưa phường nào mở bình xét cuối năm 2026" in texts(await minh.says("/wardtitles 2026"))
    hoa = await staff_of(province, 1, "Hoa", "P1")
    await hoa.says("/assessment 2026")
    titles = texts(await minh.says("/danhhieucacphuong 2026"))
    assert "P1 · Phường Tràng Cát: 0/2 tổ" in titles and "P2" not in titles.split("Toàn tỉnh")[0]
    assert "Toàn tỉnh: 0/2 tổ đạt danh hiệu" in titles
    assert "cán bộ cấp tỉnh" in texts(await hoa.says("/wardtitles 2026"))  # ward staff: refused
    mine = texts(await hoa.says("/standings 2026-10"))  # ward staff keep their ward's table
    assert "Tràng Cát" in mine and "Hải An" not in mine


async def test_a_campaign_s_standings_are_only_for_its_own_ward(province: RunningBot) -> None:
    hoa = await staff_of(province, 1, "Hoa", "P1")
    lan = await staff_of(province, 2, "Lan", "P2")
    assert province.wiring is not None
    p1 = next(i for i, file in province.wiring.wards.items() if ward_code(file) == "P1")
    async with unit_of_work(province.wiring.factory) as uow:
        campaign = Campaign(
            ward_id=p1, title="Tràng Cát xanh", announcement="Thi đua", starts_on=NOW.date(), created_by=None
        )
        await uow.campaigns.add(campaign)
        await launch(uow, campaign, now=NOW, default_language="vi", platform=None)
    number = campaign.id

    window = "Bảng xếp hạng 11/2026–11/2026 — Phường Tràng Cát"  # the campaign's window, in its ward
    assert window in texts(await hoa.says(f"/standings #{number}"))
    other_ward = texts(await lan.says(f"/standings #{number}"))
    assert f"Không có phong trào #{number}." in other_ward and "Bảng xếp hạng" not in other_ward


async def test_staff_of_one_ward_cannot_unlink_or_relink_another_ward_s_group_chat(
    province: RunningBot,
) -> None:
    hoa = await staff_of(province, 1, "Hoa", "P1")
    lan = await staff_of(province, 2, "Lan", "P2")
    linked = texts(await lan.in_group(-6001, "Tổ 3 Hải An").says("/link TDP03"))
    assert "Tổ dân phố số 3 (Hải An)" in linked

    in_that_chat = hoa.in_group(-6001, "Tổ 3 Hải An")
    assert "dành cho tổ trưởng và tổ phó" in texts(await in_that_chat.says("/unlink"))
    assert "dành cho tổ trưởng và tổ phó" in texts(await in_that_chat.says("/link TDP01"))
    assert "Tổ dân phố số 3 (Hải An)" in texts(await lan.says("/groups"))
    async with unit_of_work(province.wiring.factory) as uow:  # type: ignore[union-attr]
        chat = await uow.chats.find("telegram", "-6001")
        group = await uow.groups.get(chat.group_id) if chat is not None and chat.group_id else None
    assert group is not None and group.code == "TDP03" and group.name == "Tổ dân phố số 3 (Hải An)"


async def test_one_person_serves_one_ward_as_staff_or_as_a_group_s_head(province: RunningBot) -> None:
    hoa = await staff_of(province, 1, "Hoa", "P1")
    lan = await staff_of(province, 2, "Lan", "P2")

    head_link = texts(await lan.says("/invite TDP03")).split("start=")[1].split()[0]
    refused = texts(await hoa.says(f"/start {head_link}"))
    assert (
        "Tổ dân phố số 3 (Hải An) (TDP03) thuộc phường khác" in refused and "Chưa có gì thay đổi" in refused
    )
    assert "Hoa" not in texts(await lan.says("/groups"))

    nam = province.person(601, "Nam")
    assert "TDP03" in texts(await nam.says(f"/start {head_link}"))  # the link still works for its own ward
    staff_link = texts(await hoa.says("/addstaff")).split("start=")[1].split()[0]
    refused = texts(await nam.says(f"/start {staff_link}"))
    assert "TDP03 của phường khác" in refused and "/removehead TDP03" in refused
    assert "Nam" not in texts(await hoa.says("/staff"))
