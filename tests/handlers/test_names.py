"""One name per person: the one the ward recorded (an invite's name, `admin add --name`), else the
platform's, shown the same in every message and list."""

from __future__ import annotations

from bot.membership import set_staff
from bot.simulator import FakeUser
from storage.unit_of_work import unit_of_work
from tests.handlers.test_membership import invite_code, make_staff, snapshot
from tests.harness import Person, RunningBot, texts


async def test_the_name_given_with_an_invite_is_the_one_shown_everywhere(running: RunningBot) -> None:
    hoa = await make_staff(running, 500, "Hoa")
    await hoa.says("/addgroup Tổ dân phố số 7; 120")
    invited = await hoa.says("/invite TDP07 tổ phó; Trần  Thị Hoa")
    binh = Person(running.fake, FakeUser(id=502, first_name="Hoa", last_name="Trần"), settle=running.settle)

    await binh.says(f"/start {invite_code(invited)}")

    assert "Xin chào Trần Thị Hoa!" in texts(await binh.says("/start"))  # not the platform's "Hoa Trần"
    assert "tổ phó: Trần Thị Hoa" in texts(await hoa.says("/groups"))
    removed = texts(await hoa.says("/removehead TDP07 tổ phó"))
    assert "Trần Thị Hoa không còn vai trò tổ phó của TDP07" in removed


async def test_a_name_recorded_by_admin_add_outlives_the_platform_s(running: RunningBot) -> None:
    assert running.wiring is not None
    async with unit_of_work(running.wiring.factory) as uow:
        await set_staff(uow, "telegram", "500", name="Nguyễn Văn Nam", is_staff=True)
    nam = Person(running.fake, FakeUser(id=500, first_name="Nam", last_name="Nguyễn"), settle=running.settle)

    assert "Xin chào Nguyễn Văn Nam!" in texts(await nam.says("/start"))
    assert "• Nguyễn Văn Nam" in texts(await nam.says("/canbo"))


async def test_someone_the_ward_did_not_name_is_shown_by_the_platform_s_name(running: RunningBot) -> None:
    lan = Person(running.fake, FakeUser(id=503, first_name="Lan", last_name="Phạm"), settle=running.settle)
    assert "Xin chào Lan Phạm!" in texts(await lan.says("/start"))


async def test_an_empty_or_overlong_name_is_refused_and_changes_nothing(running: RunningBot) -> None:
    hoa = await make_staff(running, 500, "Hoa")
    await hoa.says("/addgroup Tổ dân phố số 7; 120")
    before = await snapshot(running)

    for command in ("/invite TDP07;   ", "/invite TDP07 tổ phó; " + "A" * 101):
        refused = texts(await hoa.says(command))
        assert "Sau dấu ; anh/chị ghi tên người được mời (tối đa 100 ký tự)." in refused
    assert await snapshot(running) == before
