"""/review before a campaign has started asks first; staff always get a copy of what the groups got."""

from __future__ import annotations

from datetime import date

from tests.conversations.test_campaign import CHAT_1, arrivals, ward_with_two_linked_groups
from tests.handlers.test_assessment import docx_text
from tests.harness import RunningBot, texts
from tests.wards import launched_campaign


async def test_a_review_before_the_start_date_asks_and_staff_get_a_copy_of_what_was_posted(
    reporting: RunningBot,
) -> None:
    staff, _nam, _binh = await ward_with_two_linked_groups(reporting)
    await launched_campaign(reporting, "Chuyển đổi số", date(2026, 12, 1))  # today is 3 November

    since = reporting.fake.mark()
    asked = await staff.says("/review midterm")
    assert "“Chuyển đổi số” bắt đầu ngày 01/12/2026 nên bảng xếp hạng chưa có tháng nào." in texts(asked)
    assert [b.text for b in asked[-1].flat_buttons] == ["✅ Vẫn đăng", "❌ Hủy"]
    assert "Đã hủy. Chưa gửi gì." in texts(await staff.presses("❌ Hủy"))
    await reporting.fake.wait_idle()
    assert not [m for m in reporting.fake.sent[since:] if "SƠ KẾT" in (m.text or "")]

    await staff.says("/review midterm")
    since = reporting.fake.mark()
    posted = await staff.presses("✅ Vẫn đăng", replies=2)
    assert "Kết quả của “Chuyển đổi số” đang được gửi tới 2 nhóm chat" in texts(posted[:1])
    copy = posted[1].text or ""
    await arrivals(reporting, since, CHAT_1)
    in_chat_1 = [m.text or "" for m in reporting.fake.messages_to(CHAT_1) if "SƠ KẾT" in (m.text or "")]
    assert copy.startswith("📊 SƠ KẾT phong trào “Chuyển đổi số”")
    assert [text.replace("▶ ", "") for text in in_chat_1] == [copy]  # only their own line is marked


async def test_a_review_after_the_start_posts_at_once_and_says_when_no_chat_is_linked(
    reporting: RunningBot,
) -> None:
    await launched_campaign(reporting, "Dân vận khéo", date(2026, 10, 1))
    staff = reporting.person(1, "Cán bộ")
    said = [m for m in await staff.says("/review final", replies=2) if "“Dân vận khéo”" in (m.text or "")]
    assert "Chưa tổ nào của “Dân vận khéo” liên kết nhóm chat" in texts(said[:1])
    assert (said[1].text or "").startswith("🏁 TỔNG KẾT phong trào “Dân vận khéo”")
    assert not [m for m in reporting.fake.sent if "Đã gửi xong “🏁" in (m.text or "")]


async def test_a_review_attaches_its_word_report_with_groups_pledges_standings_and_awards(
    reporting: RunningBot,
) -> None:
    staff, _nam, _binh = await ward_with_two_linked_groups(reporting)
    await launched_campaign(reporting, "Dân vận khéo", date(2026, 10, 1))
    await staff.says("/award TDP02 Giấy khen Tổ dân phố văn hóa 2026")
    for kind, title in (
        ("final", "BÁO CÁO TỔNG KẾT PHONG TRÀO «DÂN VẬN KHÉO»"),
        ("midterm", "BÁO CÁO SƠ KẾT"),
    ):
        said = await staff.says(f"/review {kind}", replies=3)
        report = next(m for m in said if m.document is not None)
        assert report.filename is not None and report.filename.endswith(".docx")
        text = docx_text(report.document or b"")
        assert title in text
        assert "Số tổ dân phố tham gia | 2" in text and "Đã ký giao ước thi đua | 0/2" in text
        assert "TDP01 | Tổ dân phố số 1 | Chưa ký" in text
        assert "Tổ dân phố số 2 | — | — | — | Giấy khen Tổ dân phố văn hóa 2026" in text
