"""The monthly report as a group head lives it, over the fake Bot API."""

from __future__ import annotations

from tests.conversations.conftest import appoint
from tests.harness import RunningBot, texts


async def test_a_head_reports_a_whole_month(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")

    said = await nam.says("/report")
    assert "Bạn báo cáo cho tháng nào?" in texts(said)
    said = await nam.presses("Tháng 10/2026")
    assert "Số trẻ sinh (người)" in texts(said)
    said = await nam.says(" 2 ")
    assert "Hộ phân loại rác tại nguồn (%)" in texts(said)
    said = await nam.says("85 %")
    assert "Ủng hộ các quỹ" in texts(said)
    said = await nam.says("1.500.000")
    assert "Có tổng vệ sinh" in texts(said)
    said = await nam.presses("Có")
    assert "Tình hình an ninh" in texts(said)
    said = await nam.presses("Khá")
    summary = texts(said)
    assert "1. Số trẻ sinh: 2 người" in summary
    assert "2. Hộ phân loại rác tại nguồn: 85%" in summary
    assert "3. Ủng hộ các quỹ: 1.500.000 đồng" in summary
    assert "4. Có tổng vệ sinh trong tháng: Có" in summary
    assert "5. Tình hình an ninh: Khá" in summary
    said = await nam.presses("✅ Xác nhận")
    assert "✅ Đã gửi báo cáo tháng 10/2026" in texts(said)
