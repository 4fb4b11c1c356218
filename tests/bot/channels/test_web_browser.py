"""The ward's web page in a real browser (Debian's Chromium driven by Playwright): a ward officer signs
in with the link /web gave over the fake Bot API, reads the month, changes the standings' period,
presses "remind", downloads an export; a used link, an expired link and a resident's session are
refused. Set WARDBOT_SCREENSHOTS=docs to save the README's screenshots while it runs."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.web_signin import issue_link
from storage.unit_of_work import unit_of_work
from tests.bot.channels.test_web import web_link
from tests.harness import Person, RunningBot
from tests.wards import NOW, WARD

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser tests need Debian's Chromium at /usr/bin/chromium: apt-get install -y chromium",
)
playwright = pytest.importorskip("playwright.async_api", reason="pip install -e '.[test]' brings playwright")
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
async def chromium() -> AsyncIterator[playwright.Browser]:
    """Chromium from Debian's package, launched by its path (nothing downloads a browser)."""
    async with playwright.async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            await browser.close()


async def screenshot(page: playwright.Page, name: str) -> None:
    """Save the README's screenshots (desktop and phone width) when WARDBOT_SCREENSHOTS names a folder."""
    folder = os.environ.get("WARDBOT_SCREENSHOTS")
    if not folder:
        return
    for width, size in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(size)
        await page.screenshot(path=str(Path(folder) / f"web-{name}-{width}.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)


async def sign_in(page: playwright.Page, person: Person) -> str:
    """Sign in with the link /web gives; the page's base URL."""
    base, code = await web_link(person)
    await page.goto(f"{base}/signin/{code}")
    await page.get_by_role("button", name="Đăng nhập / Sign in").click()
    return base


async def test_a_ward_officer_reads_the_month_changes_the_period_reminds_and_downloads(
    reporting: RunningBot, staff: Person, chromium: playwright.Browser, tmp_path: Path
) -> None:
    page = await chromium.new_page(viewport=DESKTOP, accept_downloads=True)
    base = await sign_in(page, staff)

    await page.wait_for_url("**/")
    assert await page.inner_text("h1") == "Báo cáo Tháng 10/2026"
    first = page.locator("table.groups tbody tr").nth(0)
    second = page.locator("table.groups tbody tr").nth(1)
    assert "TDP01" in await first.inner_text() and "đã báo cáo" in await first.inner_text()
    assert "TDP02" in await second.inner_text() and "chưa báo cáo" in await second.inner_text()
    assert "Hạn nộp: hết ngày 05/11/2026" in await page.inner_text(".summary")
    await screenshot(page, "month")

    await page.get_by_role("link", name="Xếp hạng").click()
    await page.wait_for_url("**/standings")
    await page.select_option("select[name=period]", "2026-Q4")
    await page.get_by_role("button", name="Xem").click()
    await page.wait_for_url("**/standings?period=2026-Q4*")
    assert await page.inner_text("h1") == "Bảng xếp hạng Quý IV/2026"
    assert "TDP01" in await page.inner_text("table.standings")
    chart = await page.eval_on_selector("img.chart", "image => image.naturalWidth")
    assert chart > 100  # the PNG chart loaded
    await page.select_option("select[name=period]", "2026-10")
    await page.get_by_role("button", name="Xem").click()
    await page.wait_for_url("**/standings?period=2026-10*")
    await screenshot(page, "standings")

    since = reporting.fake.mark()
    await page.get_by_role("link", name="Tháng này").click()
    await page.get_by_role("button", name="Nhắc ngay các tổ chưa báo cáo").click()
    assert "Đang gửi lời nhắc tới 1 tổ trưởng và tổ phó." in await page.inner_text(".notice")
    await reporting.fake.wait_for(1, chat_id=502, since=since)
    assert "Tổ dân phố số 2" in (reporting.fake.messages_to(502)[-1].text or "")

    await page.get_by_role("link", name="Tải về").click()
    await screenshot(page, "downloads")
    async with page.expect_download() as waiting:
        await page.locator('a[href="/downloads/2026-10.xlsx"]').click()
    download = await waiting.value
    assert download.suggested_filename == "bao-cao-2026-10.xlsx"
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    workbook = await asyncio.to_thread(load_workbook, saved)
    rows = [[cell.value for cell in row] for row in workbook.worksheets[0].iter_rows()]
    assert rows[1][:3] == ["2026-10", "TDP01", "Tổ dân phố số 1"]

    await page.goto(f"{base}/groups/TDP01")
    assert "TDP01 · Tổ dân phố số 1" in await page.inner_text("h1")
    assert "Tháng 10/2026" in await page.inner_text("details")
    await screenshot(page, "group")

    await page.get_by_role("button", name="Đăng xuất").click()
    assert "Anh/chị đã đăng xuất." in await page.inner_text("main")
    await page.goto(f"{base}/")
    assert "Anh/chị vui lòng đăng nhập" in await page.inner_text("main")


async def test_a_used_link_an_expired_link_and_a_residents_session_are_refused(
    reporting: RunningBot, staff: Person, chromium: playwright.Browser
) -> None:
    base, code = await web_link(staff)
    first = await chromium.new_page()
    await first.goto(f"{base}/signin/{code}")
    await first.get_by_role("button", name="Đăng nhập / Sign in").click()
    await first.wait_for_url("**/")

    other = await chromium.new_context()
    page = await other.new_page()
    await page.goto(f"{base}/signin/{code}")
    await page.get_by_role("button", name="Đăng nhập / Sign in").click()
    assert "Link đăng nhập này đã được dùng." in await page.inner_text("main")
    await page.goto(f"{base}/")
    assert "Tổ dân phố số 1" not in await page.content()

    base, late = await web_link(staff)
    await page.goto(f"{base}/signin/{late}")
    assert reporting.wiring is not None
    reporting.wiring.clock = lambda: NOW + timedelta(minutes=10, seconds=1)
    await page.get_by_role("button", name="Đăng nhập / Sign in").click()
    assert "Link đăng nhập này đã hết hạn" in await page.inner_text("main")
    reporting.wiring.clock = lambda: NOW

    lan = reporting.person(503, "Lan")
    await lan.says("/follow TDP01")
    async with unit_of_work(reporting.wiring.factory) as uow:
        resident = await uow.people.find("telegram", "503")
        assert resident is not None
        code = await issue_link(uow, resident.id, WARD, now=NOW)  # as if given while they led the group
    resident_page = await (await chromium.new_context()).new_page()
    await resident_page.goto(f"{base}/signin/{code}")
    await resident_page.get_by_role("button", name="Đăng nhập / Sign in").click()
    text = await resident_page.inner_text("main")
    assert "dành cho tổ trưởng" in text and "Tổ dân phố số 1" not in await resident_page.content()
    for path in ("/groups/TDP01", "/standings", "/downloads/2026-10.xlsx"):
        answer = await resident_page.goto(base + path)
        assert answer is not None and answer.status == 403, path
