"""On Zalo a picture answers a photo question and typed words a text question, as on Telegram."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.simulator import FakeBotApi
from bot.ward_config import WardFile, load_ward_config
from tests.bot.channels.test_zalo import ZaloPerson, fake_zalo, invite_code  # noqa: F401  (the fixture)
from tests.conversations.test_report_free_answers import FREE_WARD, MARCH
from tests.fakes.fake_zalo_api import PHOTO_BYTES, FakeZaloApi, ZaloUser
from tests.harness import RunningBot, make_settings, texts


@pytest.fixture
async def zalo_march(
    fake_api: FakeBotApi,
    fake_zalo: FakeZaloApi,  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[RunningBot]:
    """Telegram and Zalo on a ward with text and photo questions, on 3 March 2027."""
    path = tmp_path / "ward.toml"
    path.write_text(FREE_WARD, encoding="utf-8")
    ward: WardFile = load_ward_config(path)
    settings = make_settings(tmp_path, zalo_bot_token=fake_zalo.token, zalo_api_base_url=fake_zalo.base_url)
    bot = RunningBot(fake_api, settings, ward, clock=lambda: MARCH)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


async def test_a_zalo_head_answers_with_words_and_pictures(
    zalo_march: RunningBot,
    fake_zalo: FakeZaloApi,  # noqa: F811
) -> None:
    code = await invite_code(zalo_march)
    nam = ZaloPerson(fake_zalo, ZaloUser("zalo-501", "Nguyễn Văn Nam"))
    await nam.says(f"/start {code}")
    months = await nam.says("/report")
    assert "2 Tháng 2/2027" in months
    await nam.says("2")  # February: births, proposals, photos
    asked = await nam.says("3")
    assert "❓ Kiến nghị, đề xuất" in asked
    assert "❓ Ảnh buổi tổng vệ sinh" in await nam.says("Đề nghị sửa đèn ngõ 5")

    since = fake_zalo.mark()
    fake_zalo.push_image(nam.user, fake_zalo.photo_url("tong-ve-sinh"))
    await fake_zalo.wait_for(1, chat_id=nam.chat, since=since)
    await fake_zalo.wait_idle()
    received = "\n".join(m.shown for m in fake_zalo.sent[since:] if m.chat_id == nam.chat)
    assert "📷 Đã nhận ảnh thứ 1." in received and "✅ Xong" in received
    summary = await nam.says("xong")
    assert "2. Kiến nghị, đề xuất: “Đề nghị sửa đèn ngõ 5”" in summary
    assert "3. Ảnh buổi tổng vệ sinh: 1 ảnh" in summary
    assert "✅ Đã gửi báo cáo tháng 2/2027" in await nam.says("1")
    assert "“Đề nghị sửa đèn ngõ 5”" in await nam.says("/myreport 2027-02")

    staff = zalo_march.person(1, "Cán bộ")
    sent = await staff.says("/photos 2027-02")
    assert "Ảnh gửi kèm báo cáo tháng 2/2027: 1." in texts(sent)
    (document,) = [message for message in sent if message.document is not None]
    with zipfile.ZipFile(io.BytesIO(document.document or b"")) as archive:
        assert archive.read("TDP01/2027-02-cleanup_photos-1.png") == PHOTO_BYTES
