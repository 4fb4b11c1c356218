"""The year-end season as a ward lives it, over the fake Bot API: staff open the bình xét, two heads
send their group's form, the results are posted, a resident comments, staff decide, every chat hears
the result in the form wards write it, and the register and the Word report hold it."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from docx import Document
from openpyxl import Workbook, load_workbook

from bot.simulator import FakeBotApi, SentMessage
from bot.ward_config import WardFile, load_ward_config, load_wards
from storage.models import Award
from storage.unit_of_work import unit_of_work
from tests.conversations.test_campaign import arrivals
from tests.conversations.test_report import stored
from tests.handlers.test_province import P1, P2, staff_of
from tests.harness import Person, RunningBot, make_settings, texts, wardbot_cli
from tests.wards import NOW, WARD, appoint

CHAT_1, CHAT_2 = -901, -902

SEASON_WARD = """
[ward]
name = "Phường Tràng Cát"
report_deadline_day = 5

[[groups]]
code = "TDP01"
name = "Tổ dân phố số 1"
households = 100

[[groups]]
code = "TDP02"
name = "Tổ dân phố số 2"
households = 50

[assessment]
family_title = { vi = "Gia đình văn hóa", en = "Cultured family" }
group_title = { vi = "Tổ dân phố văn hóa", en = "Cultured residential group" }
min_family_pct = 80
posting_days = 0
[[assessment.criteria]]
key = "security"
label = { vi = "Giữ vững an ninh trật tự", en = "Security and order kept" }
[[assessment.criteria]]
key = "environment"
label = { vi = "Vệ sinh môi trường", en = "A clean environment" }
"""


@pytest.fixture
def season_ward(tmp_path: Path) -> WardFile:
    path = tmp_path / "ward.toml"
    path.write_text(SEASON_WARD, encoding="utf-8")
    return load_ward_config(path)


@pytest.fixture
async def season(fake_api: FakeBotApi, tmp_path: Path, season_ward: WardFile) -> AsyncIterator[RunningBot]:
    """The application on the two-group ward, on 3 November 2026."""
    bot = RunningBot(fake_api, make_settings(tmp_path), season_ward, clock=lambda: NOW)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


async def two_heads_with_chats(running: RunningBot) -> tuple[Person, Person, Person]:
    nam = await appoint(running, 501, "Nam", group="TDP01")
    binh = await appoint(running, 502, "Bình", group="TDP02")
    for head, chat, title in ((nam, CHAT_1, "Tổ 1"), (binh, CHAT_2, "Tổ 2")):
        running.fake.push_my_chat_member(head.user, chat, chat_title=title)
        await head.in_group(chat, title).says("/link")
    return running.person(1, "Cán bộ"), nam, binh


async def invitation(running: RunningBot, since: int, head: Person) -> SentMessage:
    got = await arrivals(running, since, head.chat)
    return next(m for m in got if m.flat_buttons)


async def test_two_groups_go_through_the_season_and_every_chat_hears_the_result(
    season: RunningBot, tmp_path: Path
) -> None:
    staff, nam, binh = await two_heads_with_chats(season)
    lan = season.person(503, "Lan")
    await lan.says("/follow TDP02")
    mary = season.person(504, "Mary", language_code="en")
    await mary.says("/follow TDP01")

    since = season.fake.mark()
    opened = texts(await staff.says("/binhxet 2026"))
    assert "Đã mở bình xét cuối năm 2026" in opened and "2 tổ trưởng, tổ phó" in opened
    invited = await invitation(season, since, nam)
    assert [b.text for b in invited.flat_buttons] == ["📝 Điền biên bản"]
    assert "đã mở" in texts(await staff.says("/assessment 2026"))  # one assessment a year

    asked = await nam.presses("📝 Điền biên bản", invited)
    assert "Câu 1/8" in texts(asked)
    assert [b.text for b in asked[-1].flat_buttons] == ["100"]  # the current count, as a plain button
    await nam.presses("100")
    await nam.says("95")
    refused = texts(await nam.says("96"))
    assert "không được lớn hơn 95 hộ đã đăng ký" in refused
    await nam.says("93")
    assert "Ngày này không có" in texts(await nam.says("31/02/2026"))
    await nam.says("01/11/2026")
    await nam.says("80")
    await nam.presses("Có")
    await nam.presses("Có")
    noted = texts(await nam.says("Nguyễn Văn An — giữ gìn vệ sinh ngõ xóm"))
    assert "• Nguyễn Văn An — giữ gìn vệ sinh ngõ xóm" in noted
    summary = await nam.presses("Xong")
    shown = texts(summary)
    assert "3. Đạt “Gia đình văn hóa”: 93 (93,0%)" in shown
    assert "Đủ điều kiện danh hiệu “Tổ dân phố văn hóa”" in shown
    assert [b.text for b in summary[-1].flat_buttons].count("✅ Xác nhận") == 1
    sent = await nam.presses("✅ Xác nhận", replies=2)
    minutes = next(m for m in sent if m.document is not None)
    assert minutes.filename == "bien-ban-binh-xet-TDP01-2026.docx"
    assert "BIÊN BẢN HỌP BÌNH XÉT NĂM 2026" in docx_text(minutes.document or b"")

    await binh.says("/tudanhgia")
    for answer in ("50", "50", "30", "02/11/2026", "40"):
        await binh.says(answer)
    await binh.presses("Có")
    await binh.presses("Không")
    summary = await binh.presses("Bỏ qua")
    assert "Không đủ điều kiện" in texts(summary)
    await binh.presses("✅ Xác nhận", replies=2)

    progress = texts(await staff.says("/assessment"))
    assert "2/2 tổ đã gửi" in progress
    assert "TDP01 Tổ dân phố số 1: 93/100 hộ (93,0%), tiêu chí 2/2, đạt" in progress
    assert "TDP02 Tổ dân phố số 2: 30/50 hộ (60,0%), tiêu chí 1/2, không đạt — Bình, 03/11/2026" in progress

    for command in ("/assessment post", "/assessment decide 1/QĐ 20/11/2026", "/assessment set TDP02 yes x"):
        assert "dành cho cán bộ phường" in texts(await lan.says(command))
    assert "dành cho cán bộ phường" in texts(await lan.says("/assessment 2027"))
    assert "Hãy đăng kết quả dự kiến trước" in texts(await staff.says("/assessment decide 1/QĐ 20/11/2026"))

    since = season.fake.mark()
    await staff.says("/assessment post", replies=2)
    posted = await arrivals(season, since, CHAT_2)
    assert "NIÊM YẾT" in texts(posted) and "TDP02 Tổ dân phố số 2: 30/50 hộ (60,0%)" in texts(posted)
    assert "TDP01" not in texts(posted)
    assert "Cảm ơn" in texts(await lan.says("/gopy Tổ 2 còn nhiều hộ chưa phân loại rác"))
    listed = texts(await staff.says("/assessment feedback"))
    assert "Lan: Tổ 2 còn nhiều hộ chưa phân loại rác" in listed

    assert "một ngày có thật" in texts(await staff.says("/assessment decide 125/QĐ-UBND 31/02/2026"))
    since = season.fake.mark()
    decided = texts(await staff.says("/assessment decide 125/QĐ-UBND 20/11/2026", replies=2))
    assert "Năm 2026: 1/2 tổ dân phố đạt danh hiệu Tổ dân phố văn hóa" in decided
    for chat in (CHAT_1, CHAT_2):
        heard = texts(await arrivals(season, since, chat))
        assert "1/2 tổ dân phố" in heard and "123/150 hộ (82,0%)" in heard
    heard = texts(await arrivals(season, since, mary.chat))
    assert "Year 2026: 1/2 residential groups" in heard and "123/150 households (82.0%)" in heard

    register = texts(await staff.says("/awards 2026"))
    assert "#2 Tổ dân phố văn hóa (phường): Tổ dân phố số 1 [tập thể] · quyết định 125/QĐ-UBND" in register
    assert "#3 Gia đình văn hóa (phường): Tổ dân phố số 2 [30 hộ] · quyết định 125/QĐ-UBND" in register
    assert await stored(
        season, "SELECT title_key, households, decision_number FROM awards ORDER BY group_id, title_key"
    ) == [("family", 93, "125/QĐ-UBND"), ("group", None, "125/QĐ-UBND"), ("family", 30, "125/QĐ-UBND")]
    assert "đã có quyết định; không thể thay đổi" in texts(await nam.says("/assess"))

    report = await staff.says("/assessment report")
    document = next(m for m in report if m.document is not None)
    text = docx_text(document.document or b"")
    assert "Năm 2026: 1/2 tổ dân phố đạt danh hiệu Tổ dân phố văn hóa; 123/150 hộ (82,0%)" in text
    assert "TDP01 | Tổ dân phố số 1 | 100 | 95 | 93 | 93,0 | 2/2" in text
    assert "TDP02 | Tổ dân phố số 2 | 50 | 50 | 30 | 60,0 | 1/2 | Không đạt" in text
    assert "TDP01 | Nguyễn Văn An — giữ gìn vệ sinh ngõ xóm" in text
    assert "Số quyết định | 125/QĐ-UBND" in text
    section = Document(io.BytesIO(document.document or b"")).sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)  # A4

    minutes = (await staff.says("/assessment report TDP02"))[-1]
    assert minutes.filename == "bien-ban-binh-xet-TDP02-2026.docx"
    assert "Vệ sinh môi trường | Không" in docx_text(minutes.document or b"")

    out = tmp_path / "bao-cao.docx"
    printed = await wardbot_cli(season, tmp_path, "assessment", "report", "--year", "2026", "--out", str(out))
    assert "the assessment of 2026, 2 of 2 groups sent their form" in printed
    assert docx_text(out.read_bytes()) == text


async def exported(staff: Person, command: str) -> Workbook:
    """The workbook /export answers with (delivery reports may arrive around it)."""
    document = next(m for m in await staff.says(command) if m.document is not None)
    return load_workbook(io.BytesIO(document.document or b""))


def docx_text(content: bytes) -> str:
    """Every paragraph and table row of a Word file, cells joined with " | "."""
    document = Document(io.BytesIO(content))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(lines)


async def test_awards_are_recorded_listed_completed_later_and_exported(
    season: RunningBot, tmp_path: Path
) -> None:
    staff, _nam, _binh = await two_heads_with_chats(season)
    since = season.fake.mark()
    said = texts(await staff.says("/award TDP02 Giấy khen Tổ dân phố văn hóa 2026"))
    assert "Thông báo khen thưởng TDP02 đang được gửi tới các nhóm chat" in said and "#1" in said
    heard = texts(await arrivals(season, since, CHAT_1))
    assert "🎖 KHEN THƯỞNG: Tổ dân phố số 2 (TDP02)\nGiấy khen Tổ dân phố văn hóa 2026" in heard

    refused = texts(await staff.says("/award TDP01 Người tốt việc tốt; hình thức: Huân chương"))
    assert "không có trong các hình thức khen thưởng" in refused and "Giấy khen, Bằng khen" in refused
    assert "một ngày có thật" in texts(await staff.says("/award #1; quyết định: 12/QĐ-UBND 31/02/2026"))
    assert await stored(season, "SELECT count(*) FROM awards") == [(1,)]

    await staff.says(
        "/award TDP01 Người tốt việc tốt; hình thức: Giấy khen; cấp: phường; cá nhân: Nguyễn Văn An; "
        "quyết định: 12/QĐ-UBND 01/11/2026"
    )
    assert "Đã cập nhật khen thưởng #1" in texts(
        await staff.says("/award #1; level: Province/city; decision: 99/QĐ-UBND 02/11/2026")
    )
    assert "Không có khen thưởng #7" in texts(await staff.says("/award #7; cấp: phường"))
    register = texts(await staff.says("/awards"))
    assert "#1 award (tỉnh/thành phố)" not in register
    assert "Sổ khen thưởng năm 2026:" in register
    assert (
        "#1 khen thưởng (tỉnh/thành phố): Tổ dân phố số 2 [tập thể] · quyết định 99/QĐ-UBND ngày 02/11/2026"
        in (register)
    )
    assert (
        "#2 Giấy khen (phường): Nguyễn Văn An [cá nhân] · quyết định 12/QĐ-UBND ngày 01/11/2026" in register
    )
    assert "Chưa có khen thưởng nào được ghi cho năm 2025" in texts(await staff.says("/awards 2025"))
    assert "ghi năm" in texts(await staff.says("/awards hai"))

    async with unit_of_work(season.wiring.factory) as uow:  # type: ignore[union-attr]
        for year in (2024, 2025):
            await uow.awards.add(
                Award(
                    ward_id=WARD,
                    year=year,
                    recipient_kind="group",
                    recipient_name="Tổ dân phố số 2",
                    group_id=2,
                    title_key="group",
                    form="Tổ dân phố văn hóa",
                )
            )
    titles = texts(await season.person(503, "Lan").says("/titles"))
    assert (
        "TDP02 Tổ dân phố số 2: 2024, 2025 ⭐ 2 năm liền" in titles and "TDP01 Tổ dân phố số 1: —" in titles
    )
    own = texts(await staff.says("/titles TDP02"))
    assert "2026: khen thưởng — Giấy khen Tổ dân phố văn hóa 2026" in own

    book = await exported(staff, "/export 2026")
    assert book.sheetnames[-1] == "Khen thưởng"
    rows = list(book.worksheets[-1].iter_rows(min_row=2, values_only=True))
    assert [row[:4] for row in rows] == [
        (2026, "tập thể", "Tổ dân phố số 2", "TDP02"),
        (2026, "cá nhân", "Nguyễn Văn An", "TDP01"),
    ]
    assert (
        len(load_workbook(io.BytesIO((await staff.says("/export 2026-10"))[-1].document or b"")).sheetnames)
        == 3
    )


async def test_a_formula_typed_into_an_award_stays_text_in_the_export(season: RunningBot) -> None:
    staff, _nam, _binh = await two_heads_with_chats(season)
    await staff.says('/award TDP01 Giấy khen; cá nhân: =HYPERLINK("http://x")')
    book = await exported(staff, "/export 2026")
    cell = book.worksheets[-1].cell(row=2, column=3)
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"


async def test_the_decision_waits_for_the_posting_and_staff_may_set_a_result_with_a_reason(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    path = tmp_path / "ward.toml"
    path.write_text(SEASON_WARD.replace("posting_days = 0", "posting_days = 7"), encoding="utf-8")
    running = RunningBot(fake_api, make_settings(tmp_path), load_ward_config(path), clock=lambda: NOW)
    await running.start()
    try:
        staff, _nam, binh = await two_heads_with_chats(running)
        await staff.says("/assessment 2026")
        assert "Chưa tổ nào gửi biên bản" in texts(await staff.says("/assessment post"))
        assert "TDP02 chưa gửi biên bản" in texts(
            await staff.says("/assessment set TDP02 yes Hội đồng xét lại")
        )
        await binh.says("/assess")
        for answer in ("50", "50", "30", "02/11/2026", "40"):
            await binh.says(answer)
        await binh.presses("Có")
        await binh.presses("Không")
        await binh.presses("Bỏ qua")
        await binh.presses("✅ Xác nhận", replies=2)

        assert "ghi /assessment set MÃ yes|no LÝ DO" in texts(await staff.says("/assessment set TDP02 maybe"))
        assert "Không có tổ TDP09" in texts(await staff.says("/assessment set TDP09 yes Hội đồng xét lại"))
        said = texts(await staff.says("/assessment set TDP02 yes Hội đồng xét lại: tổ đã khắc phục"))
        assert "TDP02 đạt, theo điều chỉnh của cán bộ phường: Hội đồng xét lại: tổ đã khắc phục" in said
        progress = texts(await staff.says("/assessment"))
        assert "tiêu chí 1/2, đạt (cán bộ phường điều chỉnh)" in progress
        assert "1/2 tổ dân phố đạt danh hiệu" in progress

        await staff.says("/assessment post", replies=2)
        refused = texts(await staff.says("/assessment decide 125/QĐ-UBND 20/11/2026"))
        assert "Thời gian niêm yết đến ngày 10/11/2026" in refused
        assert await stored(running, "SELECT count(*) FROM awards") == [(0,)]
        assert "Đã niêm yết; có thể ghi quyết định từ ngày 10/11/2026" in texts(
            await staff.says("/assessment")
        )
        assert "Chưa có góp ý nào" in texts(await staff.says("/assessment feedback"))
        assert "ghi ý kiến sau lệnh" in texts(await running.person(503, "Lan").says("/gopy"))
        audit = await stored(running, "SELECT action, detail FROM audit_log WHERE action LIKE 'assessment%'")
        assert ("assessment result set", "2026 yes: Hội đồng xét lại: tổ đã khắc phục") in audit
    finally:
        await running.stop()


async def test_each_english_question_names_the_one_thing_it_asks(season: RunningBot) -> None:
    staff, _nam, _binh = await two_heads_with_chats(season)
    await staff.says("/assessment 2026")
    head = season.person(501, "Nam", language_code="en")
    words = ("households", "registered", "achieved", "meeting date", "attended", "nominations")

    def question(said: list[SentMessage]) -> str:
        return next(m.text or "" for m in said if "❓" in (m.text or ""))

    def names_only(text: str, word: str) -> bool:
        lowered = text.lower()
        return word in lowered and not [other for other in words if other != word and other in lowered]

    said = await head.says("/assess")
    assert names_only(question(said), "households")
    assert [b.text for b in said[-1].flat_buttons] == ["100"]
    said = await head.presses("100")
    assert names_only(question(said), "registered")
    said = await head.says("95")
    assert names_only(question(said), "achieved")
    said = await head.says("96")
    assert "Achieved cannot be more than the 95 registered" in texts(said)
    assert names_only(question(said), "achieved")
    said = await head.says("93")
    assert names_only(question(said), "meeting date")
    said = await head.says("30/02/2026")
    assert "That date does not exist" in texts(said) and names_only(question(said), "meeting date")
    said = await head.says("01/11/2026")
    assert names_only(question(said), "attended")
    said = await head.says("80")
    assert "Security and order kept" in question(said)
    assert [b.text for b in said[-1].flat_buttons] == ["Yes", "No", "⬅️ Back"]
    await head.presses("Yes")
    said = await head.presses("Yes")
    assert names_only(question(said), "nominations")
    summary = await head.presses("Done")
    buttons = [b.text for b in summary[-1].flat_buttons]
    assert buttons == ["✅ Confirm", "✏️ Edit an answer", "❌ Cancel"]
    assert "3. Achieved “Cultured family”: 93 (93.0%)" in texts(summary)
    edits = await head.presses("✏️ Edit an answer")
    asked = await head.presses("4. Meeting date: 01/11/2026", edits[-1])
    assert "Now: 01/11/2026" in texts(asked)
    assert "Computed: qualifies for “Cultured residential group”" in texts(await head.says("02/11/2026"))
    await head.presses("✏️ Edit an answer")
    await head.presses("1. Households: 100")
    said = await head.says("90")  # now fewer than the 95 registered: that answer is asked again
    assert "Registered cannot be more than the group's 90 households" in texts(said)
    assert names_only(question(said), "registered")
    said = await head.says("90")
    assert "Achieved cannot be more than the 90 registered" in texts(said)
    assert "1. Households: 90" in texts(await head.says("85"))
    for said in (await head.says("/cancel"),):
        assert "answers are kept" in texts(said)
    assert "4. Meeting date: 02/11/2026" in texts(await head.says("/assess"))


@pytest.fixture
async def province(fake_api: FakeBotApi, tmp_path: Path) -> AsyncIterator[RunningBot]:
    """Two wards in one deployment (the wards of tests/handlers/test_province.py)."""
    folder = tmp_path / "wards"
    folder.mkdir()
    (folder / "P1.toml").write_text(P1, encoding="utf-8")
    (folder / "P2.toml").write_text(P2, encoding="utf-8")
    bot = RunningBot(fake_api, make_settings(tmp_path), load_wards(folder), clock=lambda: NOW)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


async def test_two_wards_of_one_deployment_assess_and_award_apart(province: RunningBot) -> None:
    hoa = await staff_of(province, 1, "Hoa", "P1")
    lan = await staff_of(province, 2, "Lan", "P2")
    invite = texts(await hoa.says("/invite TDP01")).split("start=")[1].split()[0]
    nam = province.person(501, "Nam")
    await nam.says(f"/start {invite}")

    assert "1 tổ trưởng, tổ phó" in texts(await hoa.says("/assessment 2026"))
    assert "Chưa có đợt bình xét nào" in texts(await lan.says("/assessment"))
    assert "0 tổ trưởng, tổ phó" in texts(await lan.says("/assessment 2026"))  # its own, the same year
    assert "Tổ dân phố số 1 (Tràng Cát)" in texts(await nam.says("/assess"))
    assert "0/2 tổ đã gửi" in texts(await lan.says("/assessment"))
    assert "Tràng Cát" not in texts(await lan.says("/assessment"))

    await hoa.says("/award TDP01 Giấy khen")
    assert "Chưa có khen thưởng nào được ghi cho năm 2026" in texts(await lan.says("/awards"))
    assert "Tổ dân phố số 1 (Tràng Cát)" in texts(await hoa.says("/awards"))
    assert await stored(province, "SELECT ward_id, year FROM assessments ORDER BY ward_id") == [
        (1, 2026),
        (2, 2026),
    ]


async def test_the_season_s_steps_are_typed_in_vietnamese(fake_api: FakeBotApi, tmp_path: Path) -> None:
    path = tmp_path / "ward.toml"
    path.write_text(SEASON_WARD, encoding="utf-8")
    running = RunningBot(fake_api, make_settings(tmp_path), load_ward_config(path), clock=lambda: NOW)
    await running.start()
    try:
        staff, _nam, _binh = await two_heads_with_chats(running)
        await staff.says("/binhxet 2026")
        async with asyncio.timeout(30):  # the opening's delivery report, before the answers compared
            while True:
                if any("Đã gửi xong" in (m.text or "") for m in running.fake.messages_to(staff.user.id)):
                    break
                await asyncio.sleep(0.05)
        assert "Chưa tổ nào gửi biên bản" in texts(await staff.says("/binhxet niêm-yết"))
        # the first answer of each
        for vietnamese, english in (
            ("/binhxet NIEMYET", "/assessment post"),
            ("/binhxet gopy", "/assessment feedback"),
        ):
            first = (await staff.says(vietnamese))[0].text
            assert first == (await staff.says(english))[0].text
    finally:
        await running.stop()
