"""Ward staff without a shell, over the fake Bot API: the setup link printed at the first start, /addstaff,
/staff and /removestaff — and nothing else changes anything."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.membership import set_staff
from bot.simulator import SentMessage
from bot.simulator.fake_bot_api import Button
from storage.models import Ward
from storage.unit_of_work import unit_of_work
from tests.handlers.test_membership import invite_code, snapshot
from tests.harness import RunningBot, texts, wardbot_audit, wardbot_cli
from tests.wards import NOW

SETUP_LINK = re.compile(r"https://t\.me/ward_test_bot\?start=([A-Za-z0-9_-]{16,})")
WARD_NAME = "Phường Tràng Cát"
ADDED = r"thêm lúc \d\d:\d\d \d\d/\d\d/\d{4}, bởi"


def setup_code(printed: str) -> str:
    """The code of the (last) setup link the bot printed."""
    found = SETUP_LINK.findall(printed)
    assert found, printed
    return str(found[-1])


def buttons(message: SentMessage) -> list[str]:
    return [button.text for button in message.flat_buttons]


async def test_the_first_officer_joins_by_the_setup_link_then_invites_and_removes_a_colleague(
    capsys: pytest.CaptureFixture[str], running: RunningBot, tmp_path: Path
) -> None:
    printed = capsys.readouterr().out
    assert f"{WARD_NAME} (WARD) has no ward staff yet." in printed
    assert "It works once, within 24 hours." in printed
    code = setup_code(printed)
    hoa, tuan, lan = running.person(500, "Hoa"), running.person(501, "Tuấn"), running.person(502, "Lan")

    welcome = texts(await hoa.says(f"/start {code}"))
    assert f"Chào mừng anh/chị! Từ nay anh/chị là cán bộ của {WARD_NAME} trên bot." in welcome
    assert "thêm tổ dân phố (/addgroup)" in welcome and "mời đồng nghiệp (/addstaff)" in welcome
    assert "Đã thêm TDP07 — Tổ dân phố số 7 (120 hộ)." in texts(
        await hoa.says("/addgroup Tổ dân phố số 7; 120")
    )
    menu = [c["command"] for c in running.fake.commands[("chat:500", None)]]
    assert {"themto", "themcanbo", "canbo", "gocanbo"} <= set(menu)

    before = await snapshot(running)
    again = texts(await lan.says(f"/start {code}"))
    assert "Đường dẫn này đã được dùng. Người cài đặt bot có thể in đường dẫn mới bằng lệnh: wardbot" in again
    assert "Chức năng này dành cho cán bộ phường" in texts(await lan.says("/addstaff"))
    assert "nhờ đồng nghiệp gửi đường dẫn mời cán bộ (/addstaff)" in texts(await lan.says("/staff"))
    assert await snapshot(running) == before

    invite = await hoa.says("/themcanbo")  # the Vietnamese alias of /addstaff
    assert f"làm cán bộ của {WARD_NAME}. Đường dẫn chỉ dùng một lần và hết hạn sau 7 ngày" in texts(invite)
    since = running.fake.mark()
    joined = texts(await tuan.says(f"/start {invite_code(invite)}"))
    assert f"Từ nay anh/chị là cán bộ của {WARD_NAME} trên bot." in joined
    told = texts(running.fake.messages_to(500)[-1:])
    assert f"Tuấn đã mở đường dẫn mời của anh/chị và giờ là cán bộ của {WARD_NAME}." in told
    assert running.fake.messages_to(500)[-1] in running.fake.sent[since:]
    assert "TDP07" in texts(await tuan.says("/groups"))

    listing = texts(await hoa.says("/staff"))
    assert f"Cán bộ của {WARD_NAME} (2):" in listing
    assert re.search(rf"• Hoa — {ADDED} đường dẫn thiết lập", listing), listing
    assert re.search(rf"• Tuấn — {ADDED} Hoa", listing), listing

    offered = (await hoa.says("/removestaff"))[-1]
    assert buttons(offered) == ["➖ Tuấn", "❌ Hủy"]  # never the caller
    confirm = (await hoa.presses("➖ Tuấn"))[-1]
    assert f"Gỡ vai trò cán bộ của Tuấn tại {WARD_NAME} trên bot? Người đó sẽ được báo." in str(confirm.text)
    assert buttons(confirm) == ["✅ Đồng ý gỡ", "↩️ Giữ lại"]
    assert "Chưa có gì thay đổi." in texts(await hoa.presses("↩️ Giữ lại"))
    assert "(2):" in texts(await hoa.says("/staff"))

    await hoa.says("/removestaff")
    await hoa.presses("➖ Tuấn")
    removed = texts(await hoa.presses("✅ Đồng ý gỡ"))
    assert f"Tuấn không còn là cán bộ của {WARD_NAME}." in removed
    assert f"Anh/chị không còn là cán bộ của {WARD_NAME} trên bot." in texts(
        running.fake.messages_to(501)[-1:]
    )
    assert "Chức năng này dành cho cán bộ phường" in texts(await tuan.says("/addgroup Tổ 8"))
    assert "(1):" in texts(await hoa.says("/staff"))

    before = await snapshot(running)
    alone = texts(await hoa.says("/removestaff"))
    assert f"Anh/chị là cán bộ duy nhất của {WARD_NAME}, mà mỗi phường luôn cần ít nhất một cán bộ." in alone
    assert await snapshot(running) == before

    await running.stop()  # every step is in `wardbot audit`, in order
    audit = await wardbot_audit(running, tmp_path)
    steps = [
        "setup_link_issued  by start-up  staff",
        "staff_added  by setup link  Hoa (telegram:500)",
        "group_added  by Hoa (telegram:500)  TDP07",
        "invite_issued  by Hoa (telegram:500)  staff",
        "staff_added  by Hoa (telegram:500)  Tuấn (telegram:501)",
        "staff_removed  by Hoa (telegram:500)  Tuấn (telegram:501)",
    ]
    found = [next((n for n, line in enumerate(audit.splitlines()) if step in line), -1) for step in steps]
    assert -1 not in found and found == sorted(found), audit


async def test_a_setup_link_is_replaced_by_the_next_start_and_expires_after_24_hours(
    running: RunningBot, capsys: pytest.CaptureFixture[str]
) -> None:
    assert running.wiring is not None
    await running.restart()
    first = setup_code(capsys.readouterr().out)
    await running.restart()  # still no staff: a new link, and the first one stops working
    second = setup_code(capsys.readouterr().out)
    assert first != second
    hoa = running.person(500, "Hoa")

    before = await snapshot(running)
    replaced = texts(await hoa.says(f"/start {first}"))
    assert "Đường dẫn này đã hết hạn hoặc đã được thay bằng đường dẫn mới." in replaced
    running.wiring.clock = lambda: NOW + timedelta(hours=24)
    assert "đã hết hạn" in texts(await hoa.says(f"/start {second}"))
    assert await snapshot(running) == before

    running.wiring.clock = lambda: NOW + timedelta(hours=23, minutes=59)
    assert "Từ nay anh/chị là cán bộ của" in texts(await hoa.says(f"/start {second}"))
    await running.restart()  # the ward has staff now: no link is printed
    assert "start=" not in capsys.readouterr().out


async def test_removing_staff_takes_only_a_colleague_of_the_same_ward_and_never_the_last(
    running: RunningBot,
) -> None:
    assert running.wiring is not None and running.app is not None and running.app.telegram is not None
    async with unit_of_work(running.wiring.factory) as uow:
        other = await uow.wards.add(Ward(code="BEN", name="Phường Bên"))
        await set_staff(uow, "telegram", "500", name="Hoa", is_staff=True)
        await set_staff(uow, "telegram", "600", name="Bình", is_staff=True, ward_id=other.id)
        outsider = await uow.people.ensure("telegram", "601", display_name="Khách")
        ids = {p.external_id: p.id for p in await uow.people.staff(None)} | {"601": outsider.id}
    hoa = running.person(500, "Hoa")
    assert "Anh/chị là cán bộ duy nhất" in texts(await hoa.says("/removestaff"))
    assert "Cán bộ của Phường Tràng Cát (1):\n• Hoa" in texts(await hoa.says("/staff"))  # not Bình

    signer = running.app.telegram.signer
    shown = (await hoa.says("/language"))[-1]
    before = await snapshot(running)
    forged = {
        f"staffrm:yes:{ids['500']}": "Mỗi phường luôn cần ít nhất một cán bộ",  # herself, alone
        f"staffrm:ask:{ids['600']}": "không còn là cán bộ ở đây",  # staff of another ward
        f"staffrm:yes:{ids['600']}": "không còn là cán bộ ở đây",
        f"staffrm:yes:{ids['601']}": "không còn là cán bộ ở đây",  # not staff at all
        "staffrm:yes:99999999": "không còn là cán bộ ở đây",
        "staffrm:yes:²": "Chưa có gì thay đổi.",
        "staffrm:yes:1234567890123": "Chưa có gì thay đổi.",
        "staffrm:yes:": "Chưa có gì thay đổi.",
        "staffrm:": "Chưa có gì thay đổi.",
        "staffrm:ask:5 ": "Chưa có gì thay đổi.",
    }
    for data, answer in forged.items():
        button = Button("x", signer.sign(str(hoa.chat), data))
        pressed = await hoa.presses("x", dataclasses.replace(shown, buttons=[[button]]))
        assert answer in texts(pressed), data
    assert await snapshot(running) == before


async def test_a_staff_invite_cannot_move_staff_between_wards_or_add_them_twice(running: RunningBot) -> None:
    assert running.wiring is not None
    async with unit_of_work(running.wiring.factory) as uow:
        other = await uow.wards.add(Ward(code="BEN", name="Phường Bên"))
        await set_staff(uow, "telegram", "500", name="Hoa", is_staff=True)
        await set_staff(uow, "telegram", "600", name="Bình", is_staff=True, ward_id=other.id)
    hoa, binh = running.person(500, "Hoa"), running.person(600, "Bình")

    code = invite_code(await hoa.says("/addstaff"))
    before = await snapshot(running)
    assert "Anh/chị đã là cán bộ của Phường Tràng Cát." in texts(await hoa.says(f"/start {code}"))
    elsewhere = texts(await binh.says(f"/start {code}"))
    assert "Anh/chị đang là cán bộ của Phường Bên; mỗi người chỉ làm cán bộ của một phường." in elsewhere
    assert await snapshot(running) == before
    running.wiring.clock = lambda: NOW + timedelta(days=7)
    assert "Đường dẫn này đã hết hạn" in texts(await running.person(700, "Minh").says(f"/start {code}"))
    assert await snapshot(running) == before


async def test_the_command_line_prints_setup_links_that_work_while_the_bot_runs(
    running: RunningBot, tmp_path: Path
) -> None:
    """Recovery: the only officer lost their phone; whoever runs the server prints a new setup link."""
    assert running.wiring is not None
    async with unit_of_work(running.wiring.factory) as uow:
        await set_staff(uow, "telegram", "500", name="Hoa", is_staff=True)
    telegram = {"TELEGRAM_BOT_TOKEN": running.fake.token, "TELEGRAM_API_BASE_URL": running.fake.base_url}

    printed = await wardbot_cli(running, tmp_path, "admin", "setup-link", **telegram)
    code = setup_code(printed)
    assert f"send the message  /start {code}" in printed  # the same code, typed on Zalo
    assert "Any earlier setup link for Phường Tràng Cát (WARD) no longer works." in printed
    lan = running.person(502, "Lan")
    assert "anh/chị là cán bộ của Phường Tràng Cát trên bot." in texts(await lan.says(f"/start {code}"))
    assert re.search(rf"• Lan — {ADDED} đường dẫn thiết lập", texts(await lan.says("/staff")))

    province = await wardbot_cli(running, tmp_path, "admin", "setup-link", "--province")
    assert "https://t.me" not in province  # no token: the code to type
    code = re.findall(r"/start ([A-Za-z0-9_-]{16,})", province)[-1]
    minh = running.person(503, "Minh")
    assert "Từ nay anh/chị là cán bộ cấp tỉnh" in texts(await minh.says(f"/start {code}"))
    assert "Đường dẫn này đã được dùng." in texts(await running.person(504, "Tú").says(f"/start {code}"))
    assert "Anh/chị đã là cán bộ cấp tỉnh." in texts(await minh.says(f"/start {code}"))
