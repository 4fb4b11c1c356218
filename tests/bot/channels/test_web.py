"""The ward's web page over plain HTTP: a link from /web signs in once, nothing answers without a
session, every form refuses a missing or wrong CSRF token, a head sees only their group, and every
sign-in and action is in the audit log."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from bot.web_signin import issue_link
from storage.models import AuditEntry, Broadcast, Reopening, ReportValue, WebLink
from storage.unit_of_work import unit_of_work
from tests.handlers.test_standings import report_october
from tests.harness import Person, RunningBot, texts
from tests.wards import NOW, WARD, launched_campaign

LINK = re.compile(r"(http://127\.0\.0\.1:\d+)/signin/([A-Za-z0-9_-]{40,})")
PAGES = (
    "/",
    "/standings",
    "/standings?period=2026-10",
    "/standings/chart.png?period=2026-10",
    "/groups/TDP01",
    "/campaigns",
    "/year-end",
    "/downloads",
    "/downloads/2026-10.xlsx",
    "/downloads/2026-10.csv",
)
FORMS = ("/remind", "/reopen", "/signout")


async def web_link(person: Person) -> tuple[str, str]:
    """The base URL and sign-in code the bot answers `/web` with, over the fake Bot API."""
    answer = texts(await person.says("/web"))
    found = LINK.search(answer)
    assert found is not None, answer
    return found[1], found[2]


def browser() -> aiohttp.ClientSession:
    """A client that keeps cookies like a browser (for 127.0.0.1 too) and does not follow redirects."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def signed_in(client: aiohttp.ClientSession, base: str, code: str) -> str:
    """Open the link, press the button; the page landed on."""
    form = await client.get(f"{base}/signin/{code}")
    assert form.status == 200
    page = await form.text()
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token is not None and "Đăng nhập / Sign in" in page
    landed = await client.post(f"{base}/signin", data={"code": code, "csrf": token[1]})
    assert landed.status == 200, await landed.text()
    return await landed.text()


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found[1]


async def audit_actions(running: RunningBot) -> list[str]:
    assert running.wiring is not None
    async with unit_of_work(running.wiring.factory) as uow:
        return [entry.action for entry in await uow.audit.last(100, WARD)]


async def count(running: RunningBot, model: type[Broadcast | Reopening | AuditEntry]) -> int:
    assert running.wiring is not None
    async with unit_of_work(running.wiring.factory) as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def test_staff_sign_in_once_and_see_the_month(reporting: RunningBot, staff: Person) -> None:
    base, code = await web_link(staff)
    async with browser() as client:
        landing = await signed_in(client, base, code)
        assert "TDP01" in landing and "TDP02" in landing
        assert "Phường Tràng Cát" in landing
        cookie = next(c for c in client.cookie_jar if c.key == "wardbot_session")
        assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
        assert int(cookie["max-age"]) == 8 * 3600
        again = await client.get(f"{base}/signin/{code}")
        page = await again.text()
        used = await client.post(f"{base}/signin", data={"code": code, "csrf": csrf_of(page)})
        assert used.status == 403
        assert "đã được dùng" in await used.text()
    assert {"web_link_issued", "web_signed_in"} <= set(await audit_actions(reporting))


async def test_opening_a_link_does_not_spend_it_and_an_expired_one_is_refused(
    reporting: RunningBot, staff: Person
) -> None:
    base, code = await web_link(staff)
    async with aiohttp.ClientSession() as preview:  # a chat app's link preview: GET only
        assert (await preview.get(f"{base}/signin/{code}")).status == 200
    async with browser() as client:
        assert "TDP02" in await signed_in(client, base, code)

    base, late = await web_link(staff)
    assert reporting.wiring is not None
    reporting.wiring.clock = lambda: NOW + timedelta(minutes=11)
    async with browser() as client:
        form = await client.get(f"{base}/signin/{late}")
        refused = await client.post(f"{base}/signin", data={"code": late, "csrf": csrf_of(await form.text())})
        assert refused.status == 403 and "hết hạn" in await refused.text()
        assert (await client.get(f"{base}/")).status == 401


async def test_nothing_answers_without_a_session(reporting: RunningBot, staff: Person) -> None:
    base, _code = await web_link(staff)
    async with browser() as client:
        for path in PAGES:
            answer = await client.get(base + path, allow_redirects=False)
            body = await answer.text()
            assert answer.status == 401, path
            assert "Tổ dân phố số 1" not in body and "Phường Tràng Cát" not in body, path
            assert "/web" in body
        for path in FORMS:
            answer = await client.post(base + path, data={"month": "2026-10", "code": "TDP02"})
            assert answer.status == 401, path
        client.cookie_jar.update_cookies({"wardbot_session": "forged-token-forged-token-forged"})
        assert (await client.get(f"{base}/")).status == 401
    assert await count(reporting, Reopening) == 0


async def test_every_form_refuses_a_missing_or_wrong_csrf_token(reporting: RunningBot, staff: Person) -> None:
    base, code = await web_link(staff)
    broadcasts = await count(reporting, Broadcast)
    async with browser() as client:
        page = await signed_in(client, base, code)
        fields = {"month": "2026-10", "code": "TDP02"}
        for path in FORMS:
            for token in ({}, {"csrf": "wrong"}, {"csrf": csrf_of(page)[:-1] + "x"}):
                answer = await client.post(base + path, data=fields | token, allow_redirects=False)
                assert answer.status == 403, (path, token)
                assert "không có gì thay đổi" in await answer.text()
        assert (await client.get(f"{base}/")).status == 200  # still signed in
    assert await count(reporting, Reopening) == 0
    assert await count(reporting, Broadcast) == broadcasts

    base, code = await web_link(staff)
    async with browser() as client:  # the sign-in form: its token must match the browser's cookie
        await client.get(f"{base}/signin/{code}")
        refused = await client.post(f"{base}/signin", data={"code": code, "csrf": "x" * 32})
        assert refused.status == 403
        assert "TDP02" in await signed_in(client, base, code)  # the link was not spent


async def test_remind_and_reopen_go_through_the_outbox_and_the_audit_log(
    reporting: RunningBot, staff: Person
) -> None:
    base, code = await web_link(staff)
    since = reporting.fake.mark()
    async with browser() as client:
        page = await signed_in(client, base, code)
        reminded = await client.post(f"{base}/remind", data={"month": "2026-10", "csrf": csrf_of(page)})
        assert reminded.status == 200 and "1" in await reminded.text()
        await reporting.fake.wait_for(1, chat_id=502, since=since)
        reminder = reporting.fake.messages_to(502)[-1]
        assert "Tổ dân phố số 2" in (reminder.text or "") and "10/2026" in (reminder.text or "")
        assert reporting.fake.messages_to(501)[-1].text != reminder.text  # TDP01 reported: not reminded

        reopened = await client.post(
            f"{base}/reopen", data={"month": "2026-09", "code": "TDP01", "csrf": csrf_of(page)}
        )
        assert reopened.status == 200 and "TDP01" in await reopened.text()
        await reporting.fake.wait_for(1, chat_id=501, since=since)
        assert "mở lại" in (reporting.fake.messages_to(501)[-1].text or "")

        bad = await client.post(
            f"{base}/reopen", data={"month": "2026-13", "code": "TDP01", "csrf": csrf_of(page)}
        )
        assert bad.status == 404
        unknown = await client.post(
            f"{base}/reopen", data={"month": "2026-09", "code": "TDP99", "csrf": csrf_of(page)}
        )
        assert unknown.status == 404
    assert await count(reporting, Reopening) == 1
    actions = await audit_actions(reporting)
    assert {"web_signed_in", "web_remind", "web_reopen"} <= set(actions)


async def test_a_head_sees_only_their_group(reporting: RunningBot, staff: Person) -> None:
    nam = reporting.person(501, "Nam")
    base, code = await web_link(nam)
    async with browser() as client:
        landing = await signed_in(client, base, code)
        assert "TDP01" in landing and "Tổ dân phố số 2" not in landing
        assert (await client.get(f"{base}/groups/TDP02")).status == 404
        for path in ("/standings", "/campaigns", "/downloads", "/downloads/2026-10.xlsx"):
            assert (await client.get(base + path)).status == 403, path
        answer = await client.post(f"{base}/remind", data={"month": "2026-10", "csrf": csrf_of(landing)})
        assert answer.status == 403


async def test_a_residents_session_is_refused(reporting: RunningBot, staff: Person) -> None:
    lan = reporting.person(503, "Lan")
    await lan.says("/follow TDP01")
    assert reporting.wiring is not None
    async with unit_of_work(reporting.wiring.factory) as uow:
        person = await uow.people.find("telegram", "503")
        assert person is not None
        code = await issue_link(uow, person.id, WARD, now=NOW)  # as if it had been given before
    base = (await web_link(staff))[0]
    async with browser() as client:
        page = await signed_in_anyway(client, base, code)
        assert page.status == 403 and "Tổ dân phố số 1" not in await page.text()
        assert (await client.get(f"{base}/groups/TDP01")).status == 403


async def signed_in_anyway(client: aiohttp.ClientSession, base: str, code: str) -> aiohttp.ClientResponse:
    form = await client.get(f"{base}/signin/{code}")
    return await client.post(f"{base}/signin", data={"code": code, "csrf": csrf_of(await form.text())})


async def test_a_resident_gets_no_link(reporting: RunningBot, staff: Person) -> None:
    lan = reporting.person(503, "Lan")
    await lan.says("/follow TDP01")
    refused = texts(await lan.says("/web"))
    assert "/signin/" not in refused
    assert reporting.wiring is not None
    async with unit_of_work(reporting.wiring.factory) as uow:
        assert (await uow.session.scalars(select(WebLink))).all() == []


async def test_cookies_are_secure_behind_https(reporting: RunningBot, staff: Person) -> None:
    assert reporting.wiring is not None
    local = f"http://127.0.0.1:{reporting.wiring.web_port}"  # what nginx passes HTTPS requests to
    reporting.wiring.settings = reporting.wiring.settings.model_copy(
        update={"web_public_url": "https://bot.example.gov.vn"}
    )
    answer = texts(await staff.says("/web"))
    found = re.search(r"https://bot\.example\.gov\.vn/signin/([A-Za-z0-9_-]{40,})", answer)
    assert found is not None, answer
    async with aiohttp.ClientSession() as client:
        form = await client.get(f"{local}/signin/{found[1]}")
        signin_cookie = form.cookies["wardbot_signin"]
        assert signin_cookie["secure"] and signin_cookie["httponly"]
        landed = await client.post(
            f"{local}/signin",
            data={"code": found[1], "csrf": csrf_of(await form.text())},
            cookies={"wardbot_signin": signin_cookie.value},
            allow_redirects=False,
        )
        assert landed.status == 303 and landed.headers["Location"] == "/"
        session = landed.cookies["wardbot_session"]
        assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


async def test_odd_addresses_and_fields_get_an_explanation_and_change_nothing(
    reporting: RunningBot, staff: Person
) -> None:
    base, code = await web_link(staff)
    async with browser() as client:
        page = await signed_in(client, base, code)
        odd = {
            "/?month=2026-13": "YYYY-MM",
            "/standings?period=hôm qua": "2026-Q3",
            "/standings?period=%2399": "Không có phong trào #99",
            "/standings?block=Khu vực 9": "Phường không có khối “Khu vực 9”",
            "/groups/TDP99": "Không có tổ này",
            "/groups/%3Cscript%3E": "Không có tổ này",
            "/downloads/2026-10.exe": "Không có tệp này",
            "/downloads/..xlsx": "Không có tệp này",
            "/downloads/2026-1.xlsx": "Không có tệp này",
        }
        for path, explanation in odd.items():
            answer = await client.get(base + path)
            body = await answer.text()
            assert answer.status == 404, path
            assert explanation in body, (path, body[-400:])
            assert "<script>" not in body
        for month in ("", "2026-13", "=1+1", "2026-10; DROP"):
            answer = await client.post(
                f"{base}/reopen", data={"month": month, "code": "TDP01", "csrf": csrf_of(page)}
            )
            assert answer.status == 404 and "YYYY-MM" in await answer.text(), month
        future = await client.post(
            f"{base}/reopen", data={"month": "2027-01", "code": "TDP01", "csrf": csrf_of(page)}
        )
        assert future.status == 404 and "tháng đã qua" in await future.text()
    assert await count(reporting, Reopening) == 0


async def test_standings_of_a_block_and_a_groups_page(reporting: RunningBot, staff: Person) -> None:
    base, code = await web_link(staff)
    async with browser() as client:
        await signed_in(client, base, code)
        table = await (await client.get(f"{base}/standings?period=2026-10")).text()
        assert "Bảng xếp hạng Tháng 10/2026" in table
        assert "TDP01" in table and "Chưa báo cáo (1):" in table and "TDP02 Tổ dân phố số 2" in table
        chart = await client.get(f"{base}/standings/chart.png?period=2026-10")
        assert chart.content_type == "image/png" and (await chart.read()).startswith(b"\x89PNG")
        await report_october(reporting.person(502, "Bình"), "3", "95", "2.000.000", "Có")
        table = await (await client.get(f"{base}/standings?period=2026-10")).text()  # not the one kept
        assert "Chưa báo cáo" not in table and "TDP02" in table
        group = await (await client.get(f"{base}/groups/TDP01")).text()
        assert "TDP01 · Tổ dân phố số 1" in group and "Nam gửi" in group and "<polyline" in group
        english = await client.get(f"{base}/language/en?next=/groups/TDP01")
        assert "Reports" in await english.text() and "The last twelve months" in await english.text()
        assert (await client.get(f"{base}/language/en?next=//evil.example")).url.path == "/"


def test_benchmark_quick_run() -> None:
    """The page benchmark runs end to end on a small ward (the CI smoke test)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.web", "--quick", "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "queries independent of the number of groups (3 vs 30): yes" in done.stdout


async def test_any_period_downloads_as_excel_or_csv(reporting: RunningBot, staff: Person) -> None:
    base, code = await web_link(staff)
    async with browser() as client:
        page = await signed_in(client, base, code)
        downloads = await (await client.get(f"{base}/downloads")).text()
        assert downloads.index("/downloads/2026-11.xlsx") < downloads.index("/downloads/2026-10.xlsx")
        answer = await client.get(f"{base}/download", params={"period": "10/2026", "format": "csv"})
        assert answer.status == 200 and "bao-cao-2026-10.csv" in answer.headers["Content-Disposition"]
        assert "TDP01" in (await answer.read()).decode("utf-8-sig")
        answer = await client.get(f"{base}/download", params={"period": "2026-Q4"})
        assert answer.headers["Content-Disposition"] == 'attachment; filename="bao-cao-2026-Q4.xlsx"'
        refused = await client.get(f"{base}/download", params={"period": "=1+1"})
        assert refused.status == 404 and "2026-Q3" in await refused.text()
        assert page
    assert "web_download" in await audit_actions(reporting)


async def test_after_the_deadline_the_month_shows_late_missing_unusual_and_reopen(
    reporting: RunningBot, staff: Person
) -> None:
    assert reporting.wiring is not None
    async with unit_of_work(reporting.wiring.factory) as uow:
        value = await uow.session.scalar(select(ReportValue).where(ReportValue.key == "births"))
        assert value is not None
        value.flagged = True  # as when the head kept an unusual value after the second question
    reporting.wiring.clock = lambda: NOW + timedelta(days=3)  # 6 November: October is locked
    base, code = await web_link(staff)
    async with browser() as client:
        landing = await signed_in(client, base, code)
        assert "Báo cáo Tháng 11/2026" in landing  # the month now being reported
        page = await (await client.get(f"{base}/?month=2026-10")).text()
        assert "Báo cáo Tháng 10/2026" in page and "đã khóa" in page
        assert "⚠️ Số trẻ sinh = 2 người" in page
        assert "❌ không báo cáo" in page and "1 trễ hạn" in page
        assert page.count('action="/reopen"') == 2 and 'action="/remind"' not in page
        late = await client.post(f"{base}/remind", data={"month": "2026-10", "csrf": csrf_of(page)})
        assert late.status == 404 and "mở lại" in await late.text()
        reopened = await client.post(
            f"{base}/reopen", data={"month": "2026-10", "code": "TDP02", "csrf": csrf_of(page)}
        )
        text = await reopened.text()
        assert "Đã mở lại cho TDP02." in text and "mở lại đến 09/11/2026" in text
        assert text.count('action="/reopen"') == 1


async def test_campaigns_show_pledges_and_delivery(reporting: RunningBot, staff: Person) -> None:
    number = await launched_campaign(reporting, "Toàn dân đoàn kết", date(2026, 11, 1))
    base, code = await web_link(staff)
    async with browser() as client:
        await signed_in(client, base, code)
        page = await (await client.get(f"{base}/campaigns")).text()
        assert f"#{number} «Toàn dân đoàn kết»" in page and "01/11/2026 – …" in page
        assert "2 tổ, 0 tổ đã ký giao ước" in page and "chưa ký: TDP01, TDP02" in page
        assert "0 đang chờ" in page and 'http-equiv="refresh"' not in page  # delivered: no refreshing
        sent = re.search(r"(\d+) đã gửi", page)
        assert sent is not None and int(sent[1]) >= 2
        standings = await client.get(f"{base}/standings", params={"period": f"#{number}"})
        assert "«Toàn dân đoàn kết»" in await standings.text()


async def test_the_year_end_page_follows_the_assessment(reporting: RunningBot, staff: Person) -> None:
    base, code = await web_link(staff)
    async with browser() as client:
        await signed_in(client, base, code)
        before = await (await client.get(f"{base}/year-end")).text()
        assert "Chưa mở đợt bình xét cuối năm nào" in before
        await staff.says("/assessment 2026")
        page = await (await client.get(f"{base}/year-end")).text()
        assert "Bình xét cuối năm 2026" in page and "0/2 biên bản đã xác nhận" in page
        assert "TDP01 Tổ dân phố số 1" in page and "TDP02 Tổ dân phố số 2" in page
        assert "Ý kiến đã nhận (0)" in page
    nam = reporting.person(501, "Nam")
    base, code = await web_link(nam)
    async with browser() as client:
        await signed_in(client, base, code)
        assert (await client.get(f"{base}/year-end")).status == 403
