"""A ward officer launches a campaign; heads pledge; reviews, awards and reminders reach the right chats."""

from __future__ import annotations

from datetime import timedelta

from bot.simulator import SentMessage
from tests.harness import Person, RunningBot, texts
from tests.wards import NOW, appoint

CHAT_1, CHAT_2 = -801, -802


async def ward_with_two_linked_groups(running: RunningBot) -> tuple[Person, Person, Person]:
    """Staff, the head of TDP01 and the head of TDP02, each group with its linked chat."""
    nam = await appoint(running, 501, "Nam", group="TDP01")
    binh = await appoint(running, 502, "Bình", group="TDP02")
    for head, chat, title in ((nam, CHAT_1, "Tổ 1"), (binh, CHAT_2, "Tổ 2")):
        running.fake.push_my_chat_member(head.user, chat, chat_title=title)
        await head.in_group(chat, title).says("/link")
    return running.person(1, "Cán bộ"), nam, binh


async def arrivals(running: RunningBot, since: int, chat_id: int, count: int = 1) -> list[SentMessage]:
    await running.fake.wait_for(count, chat_id=chat_id, since=since, timeout=30)
    await running.fake.wait_idle()
    return [m for m in running.fake.sent[since:] if m.chat_id == chat_id]


async def test_a_campaign_is_prepared_previewed_launched_and_pledged(reporting: RunningBot) -> None:
    staff, nam, binh = await ward_with_two_linked_groups(reporting)
    lan = reporting.person(503, "Lan")
    await lan.says("/follow TDP02")

    assert "Tên phong trào là gì?" in texts(await staff.says("/campaign"))
    assert "nội dung thông báo" in texts(await staff.says("Toàn dân đoàn kết xây dựng đời sống văn hóa"))
    assert "Ngày bắt đầu?" in texts(await staff.says("Hưởng ứng phong trào năm 2026", kind="photo"))
    assert "gõ ngày theo dạng" in texts(await staff.says("mai"))
    assert "Ngày kết thúc?" in texts(await staff.says("01/11/2026"))
    assert "không được trước ngày bắt đầu" in texts(await staff.says("31/10/2026"))
    assert "Những tổ nào tham gia?" in texts(await staff.says("31/12/2026"))
    assert "Những tiêu chí nào" in texts(await staff.presses("Tất cả các tổ (2)"))
    await staff.says("1 30")
    preview = await staff.presses("➡️ Xong")
    assert preview[0].method == "sendPhoto"
    assert "📣 PHÁT ĐỘNG PHONG TRÀO THI ĐUA" in (preview[0].text or "")
    assert "Thời gian: từ 01/11/2026 đến 31/12/2026." in (preview[0].text or "")
    assert "🚀 Phát động" in [b.text for b in preview[-1].flat_buttons]

    since = reporting.fake.mark()
    assert "Đã phát động" in texts(await staff.presses("🚀 Phát động"))
    in_chat_1 = await arrivals(reporting, since, CHAT_1)
    await arrivals(reporting, since, CHAT_2)
    to_nam = await arrivals(reporting, since, 501)
    to_lan = await arrivals(reporting, since, 503)
    report = await arrivals(reporting, since, 1, count=2)
    assert len(in_chat_1) == 1 and in_chat_1[0].method == "sendPhoto"
    assert "Toàn dân đoàn kết" in (in_chat_1[0].text or "")
    assert [b.text for b in to_nam[-1].flat_buttons] == ["🤝 Ký giao ước"]
    assert len(to_lan) == 1 and not to_lan[0].flat_buttons
    assert "Đã gửi xong “Toàn dân đoàn kết xây dựng đời sống văn hóa”" in texts(report)

    assert "Đã ghi nhận giao ước" in texts(await nam.presses("🤝 Ký giao ước", to_nam[-1]))
    assert "đã được ghi nhận trước đó" in texts(await nam.presses("🤝 Ký giao ước", to_nam[-1]))
    listing = texts(await staff.says("/campaigns"))
    assert "2 tổ tham gia, 1 tổ đã ký giao ước; chưa ký: TDP02" in listing

    assert "🏆 Bảng xếp hạng" in texts(await staff.says("/standings #1"))
    assert "Không có phong trào #9" in texts(await staff.says("/standings #9"))

    since = reporting.fake.mark()
    await staff.says("/review midterm")
    review_1 = await arrivals(reporting, since, CHAT_1)
    assert "📊 SƠ KẾT phong trào “Toàn dân đoàn kết" in texts(review_1)

    since = reporting.fake.mark()
    await staff.says("/award TDP02 Giấy khen Tổ dân phố văn hóa 2026")
    for chat in (CHAT_1, CHAT_2):
        assert "🎖 KHEN THƯỞNG: Tổ dân phố số 2 (TDP02)\nGiấy khen Tổ dân phố văn hóa 2026" in texts(
            await arrivals(reporting, since, chat)
        )
    assert binh.user.id == 502


async def test_reminders_go_only_to_groups_that_have_not_reported(reporting: RunningBot) -> None:
    _staff, nam, binh = await ward_with_two_linked_groups(reporting)
    await nam.says("/report")
    await nam.presses("Tháng 10/2026")
    for answer in ("2", "80", "1.000.000"):
        await nam.says(answer)
    await nam.presses("Có")
    await nam.presses("Bỏ qua")
    await nam.presses("✅ Xác nhận")

    reporting.clock = lambda: NOW + timedelta(days=1)  # 4 November, 09:00: one day before the deadline
    await reporting.restart()
    since = reporting.fake.mark()
    reminder = await arrivals(reporting, since, 502)
    assert "⏰ Nhắc nhở: Tổ dân phố số 2 chưa gửi báo cáo tháng 10/2026" in texts(reminder)
    assert [m for m in reporting.fake.sent[since:] if m.chat_id in (501, CHAT_1, CHAT_2)] == []

    asked = texts(await binh.presses("📝 Báo cáo ngay", reminder[-1]))
    assert "Anh/chị báo cáo cho tháng nào?" in asked

    await reporting.restart()
    await reporting.caught_up()  # past the start-up catch-up
    await reporting.drained()
    assert len([m for m in reporting.fake.sent[since:] if "Nhắc nhở" in (m.text or "")]) == 1


async def test_a_date_the_calendar_does_not_have_is_refused_as_such(reporting: RunningBot) -> None:
    staff = reporting.person(1, "Cán bộ")
    await appoint(reporting, 501, "Nam")
    await staff.says("/phatdong")  # the Vietnamese /campaign
    await staff.says("Chuyển đổi số")
    await staff.says("Thi đua chuyển đổi số")

    assert "11/2026 có 30 ngày nên không có ngày 31/11/2026" in texts(await staff.says("31/11/2026"))
    assert "29/02/2027" in texts(await staff.says("29/02/2027"))
    assert "Không có tháng 13" in texts(await staff.says("01/13/2026"))
    assert "gõ ngày theo dạng ngày/tháng/năm" in texts(await staff.says("ngày mai"))
    assert "Ngày kết thúc?" in texts(await staff.says("30/11/2026"))
