"""Telegram upgrades a group chat to a supergroup (a new id), and outages longer than any fixed number of
attempts: announcements still reach every chat, once."""

from __future__ import annotations

import asyncio

from bot.delivery import Outgoing, Recipient, broadcast_status, enqueue_broadcast
from storage.unit_of_work import unit_of_work
from tests.harness import RunningBot, texts
from tests.wards import appoint

OLD_CHAT, NEW_CHAT = -4001, -1004001


async def link_group_chat(running: RunningBot) -> None:
    nam = await appoint(running, 501, "Nam")
    assert "TDP01" in texts(await nam.in_group(OLD_CHAT, "Tổ dân phố số 1").says("/link"))


async def award_reaches(running: RunningBot) -> list[int]:
    staff = running.person(1, "Cán bộ")
    since = running.fake.mark()
    await staff.says("/award TDP01 Giấy khen tổ dân phố văn hóa")
    await running.fake.wait_for(1, chat_id=NEW_CHAT, since=since, timeout=20)
    await running.fake.wait_idle()
    return [m.chat_id for m in running.fake.sent[since:] if m.chat_id < 0]


async def test_a_migrated_chat_gets_the_next_announcement_at_its_new_id(reporting: RunningBot) -> None:
    await link_group_chat(reporting)
    reporting.fake.push_raw(
        {
            "update_id": 90_001,
            "message": {
                "message_id": 99,
                "date": 1767225600,
                "chat": {"id": OLD_CHAT, "type": "group", "title": "Tổ dân phố số 1"},
                "from": {"id": 501, "is_bot": False, "first_name": "Nam"},
                "migrate_to_chat_id": NEW_CHAT,
            },
        }
    )
    await reporting.settle()
    assert reporting.wiring is not None
    async with asyncio.timeout(20):  # the service message is handled like any update: wait for it
        while True:
            async with unit_of_work(reporting.wiring.factory) as uow:
                if await uow.chats.find("telegram", str(NEW_CHAT)) is not None:
                    break
            await asyncio.sleep(0.05)
    assert await award_reaches(reporting) == [NEW_CHAT]


async def test_a_send_refused_as_upgraded_follows_the_chat_to_its_new_id(reporting: RunningBot) -> None:
    await link_group_chat(reporting)
    reporting.fake.migrate(OLD_CHAT, NEW_CHAT)  # nobody told the bot: it learns from the 400
    assert await award_reaches(reporting) == [NEW_CHAT]
    assert await award_reaches(reporting) == [NEW_CHAT]  # and sends there directly from then on


async def test_an_outage_longer_than_any_attempt_count_ends_in_delivery(reporting: RunningBot) -> None:
    assert reporting.app is not None and reporting.wiring is not None
    worker = reporting.app.outbox
    worker.retry_base, worker.retry_cap = 0.01, 0.05  # the same backoff, in milliseconds
    worker.poll_interval = 0.02  # and the worker looks for due retries as often
    reporting.fake.fail_next("sendMessage", 502, times=30)  # the old worker gave up after 8
    async with unit_of_work(reporting.wiring.factory) as uow:
        broadcast = await enqueue_broadcast(
            uow,
            kind="announcement",
            title="Thông báo",
            messages=[(Recipient("telegram", "1201", "Lan", False), Outgoing("Họp tổ tối nay"))],
            requested_by=None,
            now=reporting.wiring.clock(),
        )
    assert broadcast is not None
    worker.wake()
    await reporting.fake.wait_for(1, chat_id=1201, timeout=30)
    async with asyncio.timeout(10):
        while True:
            async with unit_of_work(reporting.wiring.factory) as uow:
                counts = await broadcast_status(uow, broadcast)
            if counts["sent"] == 1:
                break
            await asyncio.sleep(0.05)
    assert [m.text for m in reporting.fake.messages_to(1201)] == ["Họp tổ tối nay"]
