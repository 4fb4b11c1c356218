"""Several `wardbot run` workers on one PostgreSQL database behind a reverse proxy (webhook mode).

The test plays the proxy: it posts each update to one worker or the other, in turn, and waits for
the 200 before posting the next, as Telegram does. Needs the PostgreSQL server at 127.0.0.1:5432.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from bot.application import make_wiring
from bot.dispatcher import Dispatcher
from bot.membership import issue_invite, link_chat, set_staff
from bot.outbox import OutboxWorker
from bot.periods import Month, lock_time
from bot.simulator import FakeBotApi, FakeUser
from bot.simulator.workers import Workers, answer, ward_file
from bot.simulator.workers import workers as running_workers
from bot.ward_config import load_ward_config
from storage.models import utcnow
from tests.databases import postgres_available, postgres_database_url
from tests.harness import make_settings

pytestmark = pytest.mark.skipif(not postgres_available(), reason="needs PostgreSQL at 127.0.0.1:5432")


def workers(
    fake: FakeBotApi, folder: Path, ward: Path, *, lease: int = 60
) -> AbstractAsyncContextManager[Workers]:
    """Two workers on a fresh PostgreSQL database of this test, each with a small pool (at most 9
    connections): four such tests side by side stay well inside the server's 100 connections."""
    return running_workers(fake, folder, ward, postgres_database_url(folder), lease=lease, pool_size=6)


async def until_offered(fake: FakeBotApi, person: FakeUser, button: str, timeout: float = 120) -> None:
    """Wait until the newest message with buttons to `person` offers `button` (a question sent
    after the one before it: replies reaching the chat out of order never satisfy this)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = next((m for m in reversed(fake.messages_to(person.id)) if m.buttons), None)
        if shown is not None and any(b.text == button for b in shown.flat_buttons):
            return
        assert time.monotonic() < deadline, f"never asked with {button!r}; last: {shown}"
        await asyncio.sleep(0.05)


async def drained(fake: FakeBotApi, running: Workers, timeout: float = 60) -> None:
    """Until no outbox row is left pending or sending (what a killed worker held comes back after its
    lease) and the fake API has gone quiet: anything sent twice has arrived by then."""
    deadline = time.monotonic() + timeout
    while await running.scalar("SELECT count(*) FROM outbox_messages WHERE status IN ('pending', 'sending')"):
        assert time.monotonic() < deadline, "the outbox was not drained"
        await asyncio.sleep(0.1)
    await fake.wait_idle(timeout=max(deadline - time.monotonic(), 1.0))


async def test_200_heads_report_through_two_workers_each_answer_once_and_in_order(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    heads = [FakeUser(id=10_000 + n, first_name=f"Tổ trưởng {n}", language_code="vi") for n in range(1, 201)]
    async with workers(fake_api, tmp_path, ward_file(tmp_path, 200)) as running:

        async def invites(uow: Any, wiring: Any) -> list[str]:
            codes = []
            for group in await uow.groups.all(wiring.first_ward_id):
                codes.append(
                    await issue_invite(
                        uow, group, "head", actor=None, now=utcnow(), valid_for=timedelta(days=7)
                    )
                )
            return codes

        codes = await running.seed(invites)
        await running.start(0)
        await running.start(1)

        async def report(head: FakeUser, code: str, number: int) -> None:
            month = str(Month.of(utcnow().date()))
            await answer(fake_api, running, head, f"/start {code}", settle=False)
            asked = await answer(fake_api, running, head, f"/report {month}", replies=2, settle=False)
            assert "Số trẻ sinh" in asked, asked
            # Two answers back to back, to different workers: applied in the order sent.
            since = fake_api.mark()
            await running.post(fake_api.push_message(head, str(number % 10)))
            await running.post(fake_api.push_message(head, str(50 + number % 50)))
            await fake_api.wait_for(2, chat_id=head.id, since=since, timeout=120)
            await until_offered(fake_api, head, "Có")  # the third question is the last one shown
            summary = await answer(fake_api, running, head, press="Có", settle=False)
            assert "✅" in summary, summary
            done = await answer(fake_api, running, head, press="✅ Xác nhận", settle=False)
            assert "Đã gửi báo cáo" in done, done

        pairs = enumerate(zip(heads, codes, strict=True), start=1)
        await asyncio.gather(*(report(head, code, number) for number, (head, code) in pairs))

        async def stored(uow: Any, _wiring: Any) -> list[tuple[str, str, float]]:
            rows = await uow.session.execute(
                text(
                    "SELECT g.code, v.key, v.value FROM report_values v JOIN reports r ON r.id = v.report_id "
                    "JOIN residential_groups g ON g.id = r.group_id"
                )
            )
            return [(code, key, value) for code, key, value in rows]

        values = {(code, key): value for code, key, value in await running.seed(stored)}
        assert len(values) == 200 * 3
        for number in range(1, 201):
            code = f"TDP{number:03d}"
            assert values[(code, "births")] == number % 10, code
            assert values[(code, "waste_sorting_pct")] == 50 + number % 50, code
            assert values[(code, "cleanup_done")] == 1
        assert await running.scalar("SELECT count(*) FROM report_changes WHERE action <> 'submitted'") == 0
        assert await running.scalar("SELECT count(*) FROM inbox WHERE handled_at IS NULL") == 0


async def launch_campaign(fake: FakeBotApi, running: Workers, staff: FakeUser) -> None:
    """Staff prepare and launch a campaign for every group, through the proxy."""
    await answer(fake, running, staff, "/campaign")
    await answer(fake, running, staff, "Toàn dân đoàn kết xây dựng đời sống văn hóa")
    await answer(fake, running, staff, "Phát động phong trào năm 2026.")
    await answer(fake, running, staff, press="Hôm nay")
    await answer(fake, running, staff, press="Không có ngày kết thúc")
    await answer(fake, running, staff, press="Tất cả các tổ")
    await answer(fake, running, staff, press="Dùng tiêu chí của phường")
    await answer(fake, running, staff, press="🚀 Phát động")


async def seed_linked_chats(running: Workers, groups: int) -> list[int]:
    async def work(uow: Any, wiring: Any) -> list[int]:
        await set_staff(uow, "telegram", "1", name="Cán bộ Hoa", is_staff=True)
        chats = []
        for number, group in enumerate(await uow.groups.all(wiring.first_ward_id), 1):
            chat = -1_000_000 - number
            await link_chat(uow, "telegram", str(chat), group, actor=None, title=group.name)  # type: ignore[arg-type]
            chats.append(chat)
        return chats

    return list(await running.seed(work))


async def test_a_campaign_to_300_chats_reaches_each_once_within_the_shared_flood_limits(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    async with workers(fake_api, tmp_path, ward_file(tmp_path, 300)) as running:
        chats = await seed_linked_chats(running, 300)
        await running.start(0)
        await running.start(1)
        fake_api.enforce_flood_limits = True
        since = fake_api.mark()
        await launch_campaign(fake_api, running, FakeUser(id=1, first_name="Hoa", language_code="vi"))
        deadline = time.monotonic() + 120
        while len({m.chat_id for m in fake_api.sent[since:] if m.chat_id < 0}) < 300:
            assert time.monotonic() < deadline, "the broadcast did not finish"
            await asyncio.sleep(0.2)
        await drained(fake_api, running)
        per_chat = Counter(m.chat_id for m in fake_api.sent[since:] if m.chat_id < 0)
        assert per_chat == Counter({chat: 1 for chat in chats})
        assert fake_api.too_many_requests == 0


async def test_a_worker_killed_mid_broadcast_leaves_its_messages_to_the_other_after_the_lease(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    async with workers(fake_api, tmp_path, ward_file(tmp_path, 300), lease=5) as running:
        chats = await seed_linked_chats(running, 300)
        await running.start(0)
        await running.start(1)
        fake_api.enforce_flood_limits = True
        since = fake_api.mark()
        await launch_campaign(fake_api, running, FakeUser(id=1, first_name="Hoa", language_code="vi"))
        await fake_api.wait_for(100, since=since, timeout=60)
        running.kill(0)
        in_flight = await running.scalar(
            "SELECT count(*) FROM outbox_messages WHERE status = 'sending' AND broadcast_id IS NOT NULL"
        )
        deadline = time.monotonic() + 120
        while len({m.chat_id for m in fake_api.sent[since:] if m.chat_id < 0}) < 300:
            assert time.monotonic() < deadline, "the other worker did not finish the broadcast"
            await asyncio.sleep(0.2)
        await drained(fake_api, running)
        per_chat = Counter(m.chat_id for m in fake_api.sent[since:] if m.chat_id < 0)
        assert set(per_chat) == set(chats)  # nothing lost
        assert sum(per_chat.values()) - 300 <= in_flight  # only what was in flight may go twice


def _deadline_day_just_passed() -> int:
    """A report_deadline_day whose lock time passed a little while ago (so the standings post is due)."""
    now = utcnow()
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    best: tuple[timedelta, int] | None = None
    for day in range(1, 29):
        month = Month.of(now.astimezone(tz).date()).previous()
        while lock_time(month, day, tz) > now:
            month = month.previous()
        age = now - lock_time(month, day, tz)
        if timedelta(minutes=5) < age < timedelta(days=6) and (best is None or age < best[0]):
            best = (age, day)
    assert best is not None
    return best[1]


async def test_the_leader_killed_before_posting_the_standings_another_posts_them_once(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    ward = ward_file(tmp_path, 3, deadline_day=_deadline_day_just_passed())
    async with workers(fake_api, tmp_path, ward) as running:
        chats = await seed_linked_chats(running, 3)
        await running.start(0)  # the first worker leads; its catch-up post waits two seconds
        running.kill(0)
        await running.start(1)  # the second takes the lead and posts what is due, once
        deadline = time.monotonic() + 90
        while len({m.chat_id for m in fake_api.sent if m.chat_id < 0}) < 3:
            assert time.monotonic() < deadline, "nobody posted the standings"
            await asyncio.sleep(0.2)
        await drained(fake_api, running)
        per_chat = Counter(m.chat_id for m in fake_api.sent if m.chat_id < 0)
        assert per_chat == Counter({chat: 1 for chat in chats})


async def test_database_pool_size_sets_a_workers_connections_and_the_chats_it_handles_at_once(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, database_url=postgres_database_url(tmp_path), database_pool_size=8)
    wiring = make_wiring(settings, load_ward_config(ward_file(tmp_path, 2)))
    try:
        assert wiring.engine.pool.size() == 8  # type: ignore[attr-defined]
        assert Dispatcher(wiring, OutboxWorker(wiring, {})).concurrency == 8 - 4
    finally:
        await wiring.engine.dispose()
    with pytest.raises(ValidationError):
        make_settings(tmp_path, database_pool_size=2)
