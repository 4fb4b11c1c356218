"""The same bot on Zalo: onboarding, a whole report across a restart, standings, and a campaign that
reaches a Telegram chat and a Zalo chat once each — against fake Bot APIs on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.membership import set_staff
from bot.simulator import FakeBotApi
from bot.ward_config import WardFile
from storage.unit_of_work import unit_of_work
from tests.fakes.fake_zalo_api import (
    DISPLAY_NAME,
    DOCUMENTED,
    PHOTO_BYTES,
    PUBLIC_CLIENT,
    WRAPPED,
    FakeZaloApi,
    ZaloSent,
    ZaloStyle,
    ZaloUser,
)
from tests.harness import RunningBot, make_settings, texts, wardbot_audit
from tests.wards import NOW, appoint


@pytest.fixture
async def fake_zalo() -> AsyncIterator[FakeZaloApi]:
    async with FakeZaloApi() as fake:
        yield fake


@pytest.fixture
async def both(
    fake_api: FakeBotApi, fake_zalo: FakeZaloApi, tmp_path: Path, small_ward: WardFile
) -> AsyncIterator[RunningBot]:
    """Telegram and Zalo served by one application, the clock at 3 November 2026."""
    settings = make_settings(tmp_path, zalo_bot_token=fake_zalo.token, zalo_api_base_url=fake_zalo.base_url)
    bot = RunningBot(fake_api, settings, small_ward, clock=lambda: NOW)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


class ZaloPerson:
    """Someone writing to the bot on Zalo; `says` returns the bot's answers to that chat."""

    def __init__(self, fake: FakeZaloApi, user: ZaloUser, chat_id: str | None = None) -> None:
        self.fake, self.user, self.chat_id = fake, user, chat_id

    @property
    def chat(self) -> str:
        return self.chat_id or self.user.id

    async def says(self, text: str, replies: int = 1) -> str:
        since = self.fake.mark()
        self.fake.push_text(self.user, text, chat_id=self.chat_id, group=self.chat_id is not None)
        if replies:
            await self.fake.wait_for(replies, chat_id=self.chat, since=since, timeout=20)
        await self.fake.wait_idle()
        return "\n".join(m.shown for m in self.fake.sent[since:] if m.chat_id == self.chat)


async def invite_code(running: RunningBot, group: str = "TDP01") -> str:
    """Ward staff (on Telegram) issue a head invite."""
    await appoint(running, 900, "Người giữ chỗ", group="TDP02")  # makes staff user 1 exist
    staff = running.person(1, "Cán bộ")
    return texts(await staff.says(f"/invite {group}")).split("start=")[1].split()[0]


async def test_a_zalo_head_joins_reports_across_a_restart_and_sees_the_standings(
    both: RunningBot, fake_zalo: FakeZaloApi
) -> None:
    code = await invite_code(both)
    nam = ZaloPerson(fake_zalo, ZaloUser("zalo-501", "Nguyễn Văn Nam"))

    assert "Từ nay anh/chị là tổ trưởng của Tổ dân phố số 1 (TDP01)" in await nam.says(f"/start {code}")
    months = await nam.says("/report")
    assert "1 Tháng 11/2026" in months and "2 Tháng 10/2026 (hạn 05/11/2026)" in months
    assert "(trả lời bằng một con số)" in months
    assert "Số trẻ sinh (người)" in await nam.says("2")
    asked = await nam.says("2")  # the number of births, not an option
    assert "Hộ phân loại rác tại nguồn (%)" in asked and "Gõ “quay lại”: ⬅️ Quay lại" in asked
    assert "Ủng hộ các quỹ" in await nam.says("85")

    await both.restart()

    yes_no = await nam.says("1.500.000")
    assert "1 Có\n2 Không" in yes_no
    assert "Tình hình an ninh" in await nam.says("1")
    summary = await nam.says("2")
    assert "1. Số trẻ sinh: 2 người" in summary and "5. Tình hình an ninh: Khá" in summary
    assert "1 ✅ Xác nhận" in summary
    assert "✅ Đã gửi báo cáo tháng 10/2026" in await nam.says("1")

    standings = await nam.says("/standings 2026-10")
    assert "🏆 Bảng xếp hạng tháng 10/2026" in standings and "▶ 1. TDP01 Tổ dân phố số 1" in standings
    assert "Ở đây" not in await nam.says("xin chào")  # a plain sentence gets the usual answer
    since = fake_zalo.mark()
    fake_zalo.push_sticker(nam.user)
    await fake_zalo.wait_for(1, chat_id=nam.chat, since=since)
    assert "chỉ đọc được tin nhắn chữ" in fake_zalo.sent[-1].shown


async def test_a_redelivered_zalo_update_has_no_second_effect(
    both: RunningBot, fake_zalo: FakeZaloApi
) -> None:
    lan = ZaloUser("zalo-777", "Lê Thị Lan")
    update = fake_zalo.push_text(lan, "/start")
    await fake_zalo.wait_for(1, chat_id=lan.id)
    await fake_zalo.wait_idle()
    fake_zalo.push_raw(update)
    await asyncio.sleep(0.5)
    await fake_zalo.wait_idle()
    assert len(fake_zalo.messages_to(lan.id)) == 1


async def test_a_campaign_reaches_a_telegram_chat_and_a_zalo_chat_once_each(
    both: RunningBot, fake_zalo: FakeZaloApi
) -> None:
    code = await invite_code(both)
    zalo_head = ZaloPerson(fake_zalo, ZaloUser("zalo-501", "Nguyễn Văn Nam"))
    await zalo_head.says(f"/start {code}")
    in_zalo_group = ZaloPerson(fake_zalo, zalo_head.user, "zgroup-1")
    assert "nhóm chat của Tổ dân phố số 1" in await in_zalo_group.says("/link")
    assert "không còn là nhóm chat của tổ TDP01" in await in_zalo_group.says("/unlink")
    assert "nhóm chat của Tổ dân phố số 1" in await in_zalo_group.says("/link")
    telegram_head = both.person(900, "Người giữ chỗ")
    both.fake.push_my_chat_member(telegram_head.user, -902, chat_title="Tổ 2")
    await telegram_head.in_group(-902, "Tổ 2").says("/link")

    staff = both.person(1, "Cán bộ")
    await staff.says("/campaign")
    await staff.says("Chuyển đổi số")
    await staff.says("Mỗi hộ một tài khoản VNeID mức 2.")
    await staff.presses("Hôm nay")
    await staff.presses("Không có ngày kết thúc")
    await staff.presses("Tất cả các tổ (2)")
    await staff.presses("✔️ Dùng tiêu chí của phường")
    zalo_since, telegram_since = fake_zalo.mark(), both.fake.mark()
    await staff.presses("🚀 Phát động")

    await fake_zalo.wait_for(1, chat_id="zgroup-1", since=zalo_since, timeout=20)
    await fake_zalo.wait_for(1, chat_id="zalo-501", since=zalo_since, timeout=20)
    await both.fake.wait_for(1, chat_id=-902, since=telegram_since, timeout=20)
    await both.drained()  # everything queued has gone out (a second copy would be among it)
    await fake_zalo.wait_idle()
    in_zalo_group: list[ZaloSent] = [m for m in fake_zalo.sent[zalo_since:] if m.chat_id == "zgroup-1"]
    in_telegram = [m for m in both.fake.sent[telegram_since:] if m.chat_id == -902]
    assert len(in_zalo_group) == 1 and "📣 PHÁT ĐỘNG PHONG TRÀO THI ĐUA" in in_zalo_group[0].shown
    assert len(in_telegram) == 1 and "Chuyển đổi số" in (in_telegram[0].text or "")
    private = [m for m in fake_zalo.sent[zalo_since:] if m.chat_id == "zalo-501"]
    assert len(private) == 1 and "1 🤝 Ký giao ước" in private[0].shown
    assert "Đã ghi nhận giao ước thi đua của tổ" in await zalo_head.says("1")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_zalo_webhook_mode_refuses_requests_without_the_secret(
    fake_api: FakeBotApi, fake_zalo: FakeZaloApi, tmp_path: Path, small_ward: WardFile
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/zalo-hook"
    settings = make_settings(
        tmp_path,
        zalo_bot_token=fake_zalo.token,
        zalo_api_base_url=fake_zalo.base_url,
        zalo_webhook_url=url,
        zalo_webhook_secret="zalo-s3cret",
        zalo_webhook_port=port,
    )
    bot = RunningBot(fake_api, settings, small_ward, clock=lambda: NOW)
    await bot.start()
    try:
        assert fake_zalo.webhook is not None and fake_zalo.webhook["url"] == url
        update = {
            "event_name": "message.text.received",
            "message": {
                "message_id": "m-1",
                "date": 1767225600000,
                "chat": {"id": "zalo-9", "chat_type": "PRIVATE"},
                "from": {"id": "zalo-9", "display_name": "Hoa", "is_bot": False},
                "text": "/start",
            },
        }
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update) as refused:
                assert refused.status == 403
            async with http.post(url, json=update, headers={"X-Bot-Api-Secret-Token": "wrong"}) as wrong:
                assert wrong.status == 403
        assert fake_zalo.messages_to("zalo-9") == []
        hoa = ZaloPerson(fake_zalo, ZaloUser("zalo-10", "Hoa"))
        assert "Xin chào Hoa" in await hoa.says("/start")  # a bare update
        fake_zalo.style = WRAPPED  # {ok, result} around it, the name split in first and last
        binh = ZaloPerson(fake_zalo, ZaloUser("zalo-11", "Phạm Thị Bình"))
        assert "Xin chào Phạm Thị Bình" in await binh.says("/start")
        assert fake_zalo.webhook_statuses == [200, 200]
    finally:
        await bot.stop()


async def test_a_zalo_head_known_only_by_from_name_shows_by_that_name(
    both: RunningBot, fake_zalo: FakeZaloApi, tmp_path: Path
) -> None:
    fake_zalo.style = PUBLIC_CLIENT  # from.name, a list result, event names
    code = await invite_code(both)
    nam = ZaloPerson(fake_zalo, ZaloUser("zalo-501", "Nguyễn Văn Nam"))
    since = fake_zalo.mark()
    update = fake_zalo.push_text(nam.user, f"/start {code}")
    assert update["message"]["from"] == {"id": "zalo-501", "is_bot": False, "name": "Nguyễn Văn Nam"}
    await fake_zalo.wait_for(1, chat_id=nam.chat, since=since)
    await fake_zalo.wait_idle()
    assert "tổ trưởng của Tổ dân phố số 1" in fake_zalo.sent[-1].shown

    await nam.says("/report")
    for answer in ("2", "2", "85", "1.500.000", "1", "2"):
        await nam.says(answer)
    assert "✅ Đã gửi báo cáo tháng 10/2026" in await nam.says("1")

    staff = both.person(1, "Cán bộ")
    groups = texts(await staff.says("/groups"))
    assert "TDP01 · Tổ dân phố số 1" in groups and "Nguyễn Văn Nam" in groups and "zalo-501" not in groups
    # /status names groups, not people: Nam's report counts for TDP01 and no raw id shows.
    status = texts(await staff.says("/status"))
    assert "Tháng 10/2026 (hạn 05/11/2026): 1/2 tổ đã báo cáo.\nChưa báo cáo: TDP02 Tổ dân phố số 2" in status
    assert "zalo-501" not in status
    # Where a report's sender is named, it is by name.
    assert "người gửi: Nguyễn Văn Nam." in await nam.says("/myreport 2026-10")

    audit = await wardbot_audit(both, tmp_path)
    [joined] = [line for line in audit.splitlines() if "head_joined" in line and "TDP01" in line]
    assert "by Nguyễn Văn Nam (zalo:zalo-501)" in joined
    assert "? (zalo:zalo-501)" not in audit


@pytest.mark.parametrize("style", [DOCUMENTED, DISPLAY_NAME], ids=["photo", "photo_url"])
async def test_a_zalo_picture_with_a_caption_is_an_attachment_with_that_text(
    fake_api: FakeBotApi, fake_zalo: FakeZaloApi, tmp_path: Path, small_ward: WardFile, style: ZaloStyle
) -> None:
    """Zalo staff announce a campaign with a picture: its caption is the announcement, the picture
    comes back in the preview."""
    fake_zalo.style = style
    port = _free_port()
    settings = make_settings(
        tmp_path,
        zalo_bot_token=fake_zalo.token,
        zalo_api_base_url=fake_zalo.base_url,
        public_base_url=f"http://127.0.0.1:{port}",
        zalo_webhook_port=port,
    )
    bot = RunningBot(fake_api, settings, small_ward, clock=lambda: NOW)
    await bot.start()
    try:
        assert bot.wiring is not None
        async with unit_of_work(bot.wiring.factory) as uow:
            await set_staff(uow, "zalo", "zalo-staff-1", name="Cán bộ Zalo", is_staff=True)
        hoa = ZaloPerson(fake_zalo, ZaloUser("zalo-staff-1", "Cán bộ Zalo"))
        since = fake_zalo.mark()
        fake_zalo.push_image(hoa.user, fake_zalo.photo_url("rac"), caption="Ngõ 5 có rác")
        await fake_zalo.wait_for(1, chat_id=hoa.chat, since=since)
        assert "chỉ đọc được tin nhắn chữ" in fake_zalo.sent[-1].shown  # outside a flow

        await hoa.says("/campaign")
        await hoa.says("Chuyển đổi số")
        since = fake_zalo.mark()
        update = fake_zalo.push_image(
            hoa.user, fake_zalo.photo_url("vneid"), caption="Mỗi hộ một tài khoản VNeID."
        )
        assert (style.photo_field in update["message"], "event_name" in update) == (True, style.event_name)
        await fake_zalo.wait_for(1, chat_id=hoa.chat, since=since)
        await fake_zalo.wait_idle()
        assert "Ngày bắt đầu?" in fake_zalo.sent[-1].shown
        for answer in ("1", "1", "1"):
            await hoa.says(answer)
        since = fake_zalo.mark()
        await hoa.says("1", replies=3)  # the ward's criteria: the picture, the text, Launch?
        preview = fake_zalo.sent[since:]
        assert preview[0].method == "sendPhoto" and preview[0].photo_url is not None
        assert "Mỗi hộ một tài khoản VNeID." in preview[1].shown
        async with aiohttp.ClientSession() as http, http.get(preview[0].photo_url) as served:
            assert await served.read() == PHOTO_BYTES
    finally:
        await bot.stop()


@pytest.mark.parametrize("style", [DOCUMENTED, PUBLIC_CLIENT], ids=["object", "list"])
async def test_a_malformed_update_is_skipped_and_the_next_ones_are_handled(
    both: RunningBot, fake_zalo: FakeZaloApi, style: ZaloStyle, caplog: Any
) -> None:
    fake_zalo.style = style
    lan, hung = ZaloUser("zalo-601", "Lê Thị Lan"), ZaloUser("zalo-602", "Trần Văn Hùng")
    since = fake_zalo.mark()
    fake_zalo.push_raw({"message": {"message_id": "x-1", "chat": {"id": "zalo-601"}, "text": "/start"}})
    fake_zalo.push_text(lan, "/start")
    fake_zalo.push_text(hung, "/start")  # in a list style, these three come in one answer
    await fake_zalo.wait_for(1, chat_id=lan.id, since=since)
    await fake_zalo.wait_for(1, chat_id=hung.id, since=since)
    await fake_zalo.wait_idle()
    assert "Xin chào Lê Thị Lan" in fake_zalo.messages_to(lan.id)[0].shown
    assert "Xin chào Trần Văn Hùng" in fake_zalo.messages_to(hung.id)[0].shown
    assert len(fake_zalo.messages_to(lan.id)) == 1
    polls = [name for name, _ in fake_zalo.calls].count("getUpdates")
    assert polls >= 1
    assert "Zalo update not understood, skipped (no message.from)" in caplog.text


async def test_a_zalo_officer_starts_from_the_printed_code_and_manages_telegram_colleagues(
    capsys: pytest.CaptureFixture[str], both: RunningBot, fake_zalo: FakeZaloApi
) -> None:
    printed = capsys.readouterr().out
    code = printed.split("send the message  /start ")[1].split()[0]
    assert f"https://t.me/ward_test_bot?start={code}" in printed  # the same code, as a Telegram link
    hoa = ZaloPerson(fake_zalo, ZaloUser("zalo-500", "Trần Thị Hoa"))
    assert "Từ nay anh/chị là cán bộ của Phường Tràng Cát" in await hoa.says(f"/start {code}")

    invite = await hoa.says("/addstaff")
    staff_code = invite.split("/start ")[1].split()[0]  # Zalo has no deep links: the text to send
    tuan = both.person(501, "Tuấn")
    since = fake_zalo.mark()
    assert "Từ nay anh/chị là cán bộ của Phường Tràng Cát" in texts(await tuan.says(f"/start {staff_code}"))
    told = await fake_zalo.wait_for(1, chat_id=hoa.chat, since=since, timeout=20)  # through the outbox
    assert "Tuấn đã mở đường dẫn mời của anh/chị" in told[-1].shown

    offered = await hoa.says("/removestaff")
    assert "1 ➖ Tuấn" in offered and "Trần Thị Hoa" not in offered
    assert "1 ✅ Đồng ý gỡ" in await hoa.says("1")
    since = both.fake.mark()
    assert "Tuấn không còn là cán bộ của Phường Tràng Cát." in await hoa.says("1")
    removed = await both.fake.wait_for(1, chat_id=501, since=since)  # on Telegram, through the outbox
    assert "Anh/chị không còn là cán bộ của Phường Tràng Cát trên bot." in texts(removed)


async def test_a_zalo_head_types_the_vietnamese_commands(both: RunningBot, fake_zalo: FakeZaloApi) -> None:
    code = await invite_code(both)
    nam = ZaloPerson(fake_zalo, ZaloUser("zalo-501", "Nguyễn Văn Nam"))
    await nam.says(f"/batdau {code}")

    assert "/baocao (/report) — Gửi báo cáo tháng của tổ" in await nam.says("/trogiup")
    assert "Anh/chị báo cáo cho tháng nào?" in await nam.says("/baocao")
    assert "Số trẻ sinh (người)" in await nam.says("2")
    assert "Hộ phân loại rác tại nguồn (%)" in await nam.says("không có ạ")
