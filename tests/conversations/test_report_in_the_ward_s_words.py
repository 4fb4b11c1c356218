"""A report as a head lives it in Vietnamese: one respectful voice, the ward's own words, natural answers."""

from __future__ import annotations

import re
from pathlib import Path

from bot.simulator import FakeBotApi
from bot.ward_config import load_ward_config
from tests.harness import Person, RunningBot, make_settings, texts
from tests.wards import NOW, SMALL_WARD, appoint

CASUAL = re.compile(r"\bbạn\b", re.IGNORECASE)


def everything_said_to(running: RunningBot, person: Person) -> str:
    """Every message and button the bot sent to one person, in order."""
    messages = running.fake.messages_to(person.user.id)
    return "\n".join([m.text or "" for m in messages] + [b.text for m in messages for b in m.flat_buttons])


async def test_a_whole_report_in_vietnamese_never_says_ban(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")

    assert "Anh/chị báo cáo cho tháng nào?" in texts(await nam.says("/baocao"))  # the Vietnamese /report
    await nam.presses("Tháng 10/2026")
    assert "Hộ phân loại rác" in texts(await nam.says("2 người ạ"))  # a count with its unit and a courtesy
    await nam.says("85")
    await nam.says("1,5 triệu")
    await nam.presses("Có")
    summary = texts(await nam.presses("Tốt"))
    assert "1. Số trẻ sinh: 2 người" in summary
    assert "Cảm ơn anh/chị!" in texts(await nam.presses("✅ Xác nhận"))
    await nam.says("/xembaocao 2026-10")  # the Vietnamese /myreport
    await nam.says("/trogiup")

    transcript = everything_said_to(reporting, nam)
    assert "Số trẻ sinh: 2 người" in transcript
    assert not CASUAL.search(transcript), transcript


async def test_a_count_takes_natural_answers_and_none_in_words(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")
    await nam.says("/baocao")
    await nam.presses("Tháng 10/2026")

    assert "Hộ phân loại rác" in texts(await nam.says("2 vụ"))
    assert "Số trẻ sinh (người)" in texts(await nam.says("quay lại"))
    assert "Hộ phân loại rác" in texts(await nam.says("không có"))
    await nam.says("85")
    await nam.says("500 nghìn")
    await nam.presses("Có")
    summary = texts(await nam.presses("Tốt"))
    assert "1. Số trẻ sinh: 0 người" in summary
    assert "3. Ủng hộ các quỹ: 500.000 đồng" in summary


async def test_words_that_are_not_a_count_are_still_refused(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")
    await nam.says("/baocao")
    await nam.presses("Tháng 10/2026")

    for answer in ("hai", "không biết", "5 đồng", "2 hay 3"):
        assert "Tôi không đọc được con số này" in texts(await nam.says(answer)), answer
    assert "Số lớn nhất có thể nhập là 30" in texts(await nam.says("31 người"))


VILLAGE_WARD = (
    SMALL_WARD.replace(
        'name = "Phường Tràng Cát"', 'name = "Xã Tân Lập"\nkind = "xã"\nunit = "thôn"\naddress = "ông/bà"'
    )
    .replace("Tổ dân phố số 1", "Thôn Đông")
    .replace("Tổ dân phố số 2", "Thôn Đoài")
)
NEIGHBOURHOOD_WARD = (
    SMALL_WARD.replace('name = "Phường Tràng Cát"', 'name = "Phường Bến Thành"\nunit = "khu phố"')
    .replace("Tổ dân phố số 1", "Khu phố 1")
    .replace("Tổ dân phố số 2", "Khu phố 2")
)


async def start_ward(fake_api: FakeBotApi, tmp_path: Path, text: str) -> RunningBot:
    path = tmp_path / "ward.toml"
    path.write_text(text, encoding="utf-8")
    running = RunningBot(fake_api, make_settings(tmp_path), load_ward_config(path), clock=lambda: NOW)
    await running.start()
    return running


async def test_a_khu_pho_ward_speaks_of_khu_pho(fake_api: FakeBotApi, tmp_path: Path) -> None:
    running = await start_ward(fake_api, tmp_path, NEIGHBOURHOOD_WARD)
    try:
        nam = await appoint(running, 501, "Nam")
        welcome = texts(running.fake.messages_to(501))
        assert "Từ nay anh/chị là trưởng khu phố của Khu phố 1 (TDP01)" in welcome
        assert "số liệu của khu phố" in welcome and "nhóm chat của khu phố" in welcome
        assert "tổ dân phố" not in welcome.casefold() and "tổ trưởng" not in welcome

        staff = running.person(1, "Cán bộ")
        assert "cho trưởng khu phố của Khu phố 2 (TDP02)" in texts(await staff.says("/moi TDP02"))
        deputy = texts(await staff.says("/moi TDP02 pho truong khu pho"))
        assert "cho phó trưởng khu phố của Khu phố 2" in deputy
        groups = texts(await staff.says("/danhsachto"))
        assert "Các khu phố (2):" in groups and "trưởng khu phố: Nam" in groups

        await nam.says("/baocao")
        await nam.presses("Tháng 10/2026")
        assert not re.search(r"\btổ\b", everything_said_to(running, nam).casefold())
    finally:
        await running.stop()


async def test_a_commune_that_says_ong_ba_is_answered_so(fake_api: FakeBotApi, tmp_path: Path) -> None:
    running = await start_ward(fake_api, tmp_path, VILLAGE_WARD)
    try:
        nam = await appoint(running, 501, "Nam")
        assert "Từ nay ông/bà là trưởng thôn của Thôn Đông (TDP01)" in texts(running.fake.messages_to(501))
        assert "Ông/bà báo cáo cho tháng nào?" in texts(await nam.says("/baocao"))
        staff = running.person(1, "Cán bộ")
        assert "Chức năng này dành cho cán bộ xã" in texts(await nam.says("/groups"))
        assert "phó trưởng thôn" in texts(await staff.says("/invite TDP02 phó trưởng thôn"))
        transcript = everything_said_to(running, nam)
        assert "anh/chị" not in transcript.casefold() and not CASUAL.search(transcript)
    finally:
        await running.stop()


async def test_the_month_is_named_as_people_write_it(reporting: RunningBot) -> None:
    nam = await appoint(reporting, 501, "Nam")

    started = texts(await nam.says("/baocao tháng 10/2026"))

    assert "Báo cáo tháng 10/2026 — Tổ dân phố số 1" in started and "Số trẻ sinh (người)" in started
    assert "Anh/chị vui lòng ghi tháng" in texts(await nam.says("/xembaocao quý 3"))
    assert "Báo cáo tháng 10/2026 — Tổ dân phố số 1" in texts(await nam.says("/baocao tháng 10"))
