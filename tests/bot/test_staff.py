"""The staff rules with plain values: setup codes of a many-ward deployment, province staff, and the
last staff member of a ward."""

from __future__ import annotations

import dataclasses

import pytest

from bot.application import prepare
from bot.membership import MembershipError, Redemption, redeem_invite, set_staff
from bot.staff import announce_setup_links, remove_staff
from bot.ward_config import default_ward_file
from bot.wiring import Wiring
from storage.unit_of_work import unit_of_work
from tests.wards import NOW


async def test_a_many_ward_deployment_prints_a_link_per_ward_without_staff_and_one_for_the_province(
    wiring: Wiring, capsys: pytest.CaptureFixture[str]
) -> None:
    wiring.clock = lambda: NOW
    wiring.ward_files = (wiring.ward, dataclasses.replace(default_ward_file("Phường Bến Nghé"), code="BEN"))
    await prepare(wiring, groups=False)
    first, second = sorted(wiring.wards)
    async with unit_of_work(wiring.factory) as uow:
        await set_staff(uow, "telegram", "500", name="Hoa", is_staff=True, ward_id=first)

    codes = await announce_setup_links(wiring, "", zalo=True)
    printed = capsys.readouterr().out
    assert [(c.ward_code, c.ward_name) for c in codes] == [("BEN", "Phường Bến Nghé"), ("", "")]
    assert "Phường Bến Nghé (BEN) has no ward staff yet." in printed
    assert "Several wards share this deployment and there are no province staff yet." in printed
    assert "Phường Tràng Cát" not in printed  # it has staff
    assert "t.me" not in printed and f"/start {codes[1].code}" in printed  # Zalo only: the code to send

    async with unit_of_work(wiring.factory) as uow:
        minh = await uow.people.ensure("zalo", "zalo-9", display_name="Minh")
        joined = await redeem_invite(uow, codes[1].code, minh.id, now=NOW)
        assert (joined.outcome, joined.role, joined.ward_id) == (Redemption.JOINED, "province", None)
        assert minh.is_province and not minh.is_staff
        lan = await uow.people.ensure("zalo", "zalo-10", display_name="Lan")
        joined = await redeem_invite(uow, codes[0].code, lan.id, now=NOW)
        assert (joined.outcome, joined.ward_id, lan.ward_id, lan.is_staff) == (
            Redemption.JOINED,
            second,
            second,
            True,
        )

    assert await announce_setup_links(wiring, "ward_test_bot", zalo=False) == []
    assert capsys.readouterr().out == ""


async def test_the_last_staff_member_of_a_ward_stays(wiring: Wiring) -> None:
    ward = next(iter(wiring.wards))
    async with unit_of_work(wiring.factory) as uow:
        hoa = await set_staff(uow, "telegram", "500", name="Hoa", is_staff=True)
        tuan = await set_staff(uow, "telegram", "501", name="Tuấn", is_staff=True)
        assert (await remove_staff(uow, ward, hoa.id, actor=hoa.id)) is hoa  # herself, while not alone
        with pytest.raises(MembershipError) as refused:
            await remove_staff(uow, ward, tuan.id, actor=tuan.id)
        assert refused.value.reason == "last_staff" and tuan.is_staff
        with pytest.raises(MembershipError) as refused:
            await remove_staff(uow, ward, hoa.id, actor=tuan.id)
        assert refused.value.reason == "not_staff"
