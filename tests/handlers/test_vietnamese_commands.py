"""Vietnamese command words and keywords: a tổ trưởng types /baocao sooner than /report, and "tổ phó"
sooner than "deputy", with or without diacritics."""

from __future__ import annotations

from datetime import date

import pytest

from bot.features import registry
from bot.i18n import use_language
from tests.handlers.test_membership import invite_code, make_staff, snapshot
from tests.harness import RunningBot, texts
from tests.wards import answer_october, appoint, launched_campaign


def test_every_listed_command_has_a_vietnamese_word() -> None:
    """Telegram command names allow a-z, 0-9 and _ only; each command's Vietnamese word is one."""
    for words in registry.names.values():
        assert len(words) >= 2, f"/{words[0]} has no Vietnamese word"
        assert all(word.isascii() and word.replace("_", "").isalnum() and word.islower() for word in words)
    with use_language("vi"):
        assert registry.shown_name("report", "vi") == "baocao"
    assert registry.shown_name("report", "en") == "report"


async def test_xephang_answers_like_standings(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")
    await nam.says("/baocao")
    await nam.presses("Tháng 10/2026")
    await answer_october(nam)
    await nam.presses("✅ Xác nhận")
    lan = reporting.person(503, "Lan")

    english = await lan.says("/standings 2026-10")
    vietnamese = await lan.says("/xephang 2026-10")

    assert "Bảng xếp hạng" in texts(english)
    assert [(m.method, m.text) for m in vietnamese] == [(m.method, m.text) for m in english]
    assert texts(await lan.says("/tiendo")) == texts(await lan.says("/status"))


@pytest.mark.parametrize("role_words", ["tổ phó", "to pho", "Tổ-phó", "deputy", "phó"])
async def test_invite_takes_the_role_in_vietnamese(running: RunningBot, role_words: str) -> None:
    hoa = await make_staff(running, 500, "Hoa")
    await hoa.says("/themto Tổ dân phố số 7; 120")

    invited = await hoa.says(f"/invite TDP07 {role_words}")
    assert "Gửi đường dẫn này cho tổ phó của Tổ dân phố số 7 (TDP07)" in texts(invited)
    joined = await running.person(502, "Bình").says(f"/start {invite_code(invited)}")
    assert "Từ nay anh/chị là tổ phó của Tổ dân phố số 7 (TDP07)" in texts(joined)


async def test_an_unknown_role_word_changes_nothing_and_says_what_to_write(running: RunningBot) -> None:
    hoa = await make_staff(running, 500, "Hoa")
    await hoa.says("/addgroup Tổ dân phố số 7; 120")
    before = await snapshot(running)

    refused = texts(await hoa.says("/moi TDP07 thư ký"))

    assert "Hãy ghi tổ trưởng hoặc tổ phó, ví dụ: /invite TDP01 tổ phó" in refused
    assert await snapshot(running) == before


@pytest.mark.parametrize("command", ["/review sơ kết", "/review so ket", "/review midterm", "/soket"])
async def test_a_mid_term_review_in_vietnamese(reporting: RunningBot, command: str) -> None:
    await launched_campaign(reporting, "Dân vận khéo", date(2026, 10, 1))
    staff = reporting.person(1, "Cán bộ")

    said = texts(await staff.says(command, replies=2))

    assert "📊 SƠ KẾT phong trào “Dân vận khéo”" in said


async def test_a_final_review_in_vietnamese_and_a_bad_word_explained(reporting: RunningBot) -> None:
    await launched_campaign(reporting, "Dân vận khéo", date(2026, 10, 1))
    staff = reporting.person(1, "Cán bộ")

    assert "🏁 TỔNG KẾT phong trào “Dân vận khéo”" in texts(await staff.says("/tongket #1", replies=2))
    assert "Gửi /soket hoặc /tongket" in texts(await staff.says("/review giữa năm"))
