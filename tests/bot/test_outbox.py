"""The Telegram outbox worker over the fake Bot API: flood limits, retries, 403s, crashes, reports."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.delivery import (
    BLOCKED,
    SENDING,
    SENT,
    DeliveryReport,
    Outgoing,
    Recipient,
    broadcast_status,
    enqueue_broadcast,
    mark_sent,
    queue_replies,
    recipients,
    report_text,
)
from bot.i18n import use_language
from bot.membership import choose_language, set_staff
from bot.outbox import OutboxWorker, Recorder, Sent
from bot.ratelimit import FloodLimiter, RollingWindow
from bot.replies import Attachment, Reply
from bot.simulator import FakeBotApi
from bot.wiring import Wiring
from storage.models import Chat, OutboxAttachment, OutboxMessage, Person
from storage.unit_of_work import UnitOfWork, unit_of_work
from tests.harness import RunningBot
from tests.wards import WARD

TG = "telegram"


def private(user_id: int, name: str = "") -> Recipient:
    return Recipient(TG, str(user_id), name or f"Person {user_id}", False)


def group(chat_id: int, title: str = "") -> Recipient:
    return Recipient(TG, str(chat_id), title or f"Chat {chat_id}", True)


def wiring_of(running: RunningBot) -> Wiring:
    assert running.wiring is not None
    return running.wiring


def worker_of(running: RunningBot) -> OutboxWorker:
    assert running.app is not None
    worker = running.app.outbox
    assert worker.running
    return worker


def slow_down(running: RunningBot, per_second: int) -> None:
    """Telegram's sender paced slower than Telegram's limits."""
    assert running.app is not None and running.app.telegram is not None
    running.app.telegram.sender.limiter = FloodLimiter(per_second, 18)


async def broadcast(
    running: RunningBot,
    messages: list[tuple[Recipient, Outgoing]],
    *,
    key: str | None = None,
    requested_by: int | None = None,
    title: str = "Announcement",
) -> int | None:
    """Enqueue as a handler does, then wake the worker."""
    wiring = wiring_of(running)
    async with unit_of_work(wiring.factory) as uow:
        broadcast_id = await enqueue_broadcast(
            uow,
            kind="announcement",
            title=title,
            messages=messages,
            requested_by=requested_by,
            key=key,
            now=wiring.clock(),
        )
    worker_of(running).wake()
    return broadcast_id


async def wait_finished(running: RunningBot, broadcast_id: int, timeout: float = 15.0) -> dict[str, int]:
    """Poll the outbox until nothing of the broadcast is pending or sending."""
    wiring = wiring_of(running)
    async with asyncio.timeout(timeout):
        while True:
            async with unit_of_work(wiring.factory) as uow:
                counts = await broadcast_status(uow, broadcast_id)
            if counts["pending"] == counts["sending"] == 0:
                return counts
            await asyncio.sleep(0.05)


HELD = 4.0


def texts_to(fake: FakeBotApi, chat_id: int) -> list[str]:
    return [m.text or "" for m in fake.messages_to(chat_id)]


async def test_a_broadcast_within_flood_limits_arrives_once_without_a_429(running: RunningBot) -> None:
    fake = running.fake
    fake.enforce_flood_limits = True
    people = list(range(1001, 1041))
    groups = [-2001, -2002]
    messages = [(private(p), Outgoing(f"Thông báo {p}")) for p in people]
    messages += [(group(g), Outgoing(f"Tin {g} #{n}")) for g in groups for n in range(10)]
    since = fake.mark()
    started = time.monotonic()
    broadcast_id = await broadcast(running, messages)
    await fake.wait_for(60, since=since, timeout=20)
    elapsed = time.monotonic() - started
    assert broadcast_id is not None
    assert (await wait_finished(running, broadcast_id))["sent"] == 60
    await fake.wait_idle()

    per_chat = Counter(m.chat_id for m in fake.sent[since:])
    assert per_chat == Counter({**{p: 1 for p in people}, **{g: 10 for g in groups}})
    assert sorted(texts_to(fake, -2001)) == sorted(f"Tin -2001 #{n}" for n in range(10))
    assert fake.too_many_requests == 0
    # 60 messages at 25/s need a little over two seconds; the limiter must not be much slower.
    assert 1.9 < elapsed < 6, elapsed


async def test_answers_go_out_while_the_overall_limit_holds_the_broadcasts(running: RunningBot) -> None:
    fake = running.fake
    fake.enforce_flood_limits = True
    assert running.app is not None and running.app.telegram is not None
    limiter = running.app.telegram.sender.limiter
    limiter.overall = RollingWindow(1, HELD)  # the bot's bulk messages used up for the next HELD seconds
    limiter.overall.record(time.monotonic())
    since = fake.mark()
    broadcast_id = await broadcast(running, [(private(p), Outgoing("Tin")) for p in range(3001, 3011)])
    assert broadcast_id is not None
    crowd = [running.person(3_100_000 + n, f"Người {n}") for n in range(10)]
    for person in crowd:
        fake.push_message(person.user, "/help")
    await fake.wait_for(len(crowd), since=since, timeout=HELD - 0.5)  # answered, not held
    assert {m.chat_id for m in fake.sent[since:]} == {person.chat for person in crowd}
    assert (await wait_finished(running, broadcast_id))["sent"] == 10  # the broadcast, after the hold
    assert fake.too_many_requests == 0


async def test_a_429_and_a_502_are_retried_and_everything_arrives_once(running: RunningBot) -> None:
    fake = running.fake
    fake.fail_next("sendMessage", 429, retry_after=1)
    fake.fail_next("sendMessage", 502)
    people = list(range(1101, 1107))
    since = fake.mark()
    broadcast_id = await broadcast(running, [(private(p), Outgoing("Họp tổ tối nay")) for p in people])
    assert broadcast_id is not None
    assert (await wait_finished(running, broadcast_id))["sent"] == 6
    assert Counter(m.chat_id for m in fake.sent[since:]) == Counter(people)
    assert fake.too_many_requests == 1  # only the one planted
    async with unit_of_work(wiring_of(running).factory) as uow:
        attempts = sorted((await uow.session.scalars(select(OutboxMessage.attempts))).all())
    assert attempts == [1, 1, 1, 1, 1, 2]  # the 429 costs no attempt, the 502 one


async def test_a_blocked_chat_ends_blocked_and_inactive_and_others_arrive(running: RunningBot) -> None:
    fake = running.fake
    wiring = wiring_of(running)
    async with unit_of_work(wiring.factory) as uow:
        for user_id in (1201, 1202, 1203):
            await uow.people.ensure(TG, str(user_id), display_name=f"Person {user_id}")
        group_row = await uow.groups.add(WARD, "TDP09", "Tổ dân phố số 9", 10, None)
        await uow.chats.ensure(TG, "-3001", "group", "Chat TDP09")
        chat = await uow.chats.find(TG, "-3001")
        assert chat is not None
        chat.group_id = group_row.id
    fake.block(1202)
    fake.block(-3001)
    targets = [private(1201), private(1202), private(1203), group(-3001), group(-3002)]
    broadcast_id = await broadcast(running, [(t, Outgoing("Tin mới")) for t in targets])
    assert broadcast_id is not None
    counts = await wait_finished(running, broadcast_id)
    assert (counts["sent"], counts["blocked"]) == (3, 2)
    await fake.wait_idle()
    assert [len(fake.messages_to(c)) for c in (1201, 1202, 1203, -3001, -3002)] == [1, 0, 1, 0, 1]

    async with unit_of_work(wiring.factory) as uow:
        person = await uow.session.scalar(select(Person).where(Person.external_id == "1202"))
        chat = await uow.session.scalar(select(Chat).where(Chat.external_id == "-3001"))
        still = await recipients(uow, None, followers=True)
        rows = (await uow.session.execute(select(OutboxMessage.chat_external_id, OutboxMessage.status))).all()
    assert person is not None and not person.active
    assert chat is not None and not chat.active
    assert still == []  # the blocked group chat is no longer a recipient
    assert dict(rows)["1202"] == dict(rows)["-3001"] == BLOCKED


async def test_the_requester_gets_one_report_naming_the_blocked_recipient(running: RunningBot) -> None:
    fake = running.fake
    wiring = wiring_of(running)
    async with unit_of_work(wiring.factory) as uow:
        hoa = await set_staff(uow, TG, "900", name="Hoa", is_staff=True)
        await choose_language(uow, hoa.id, "en")
    worker_of(running).batch = 1  # one at a time, so the planted 400 meets An
    fake.block(1302)
    fake.fail_next("sendMessage", 400, description="Bad Request: chat not found")
    targets = [private(1301, "An"), private(1302, "Bình"), private(1303, "Chi")]
    since = fake.mark()
    broadcast_id = await broadcast(
        running, [(t, Outgoing("Tin mới")) for t in targets], requested_by=hoa.id, title="Phát động"
    )
    assert broadcast_id is not None
    (report,) = await fake.wait_for(1, chat_id=900, since=since)
    await asyncio.sleep(1.2)  # a second report would have been sent by now
    await fake.wait_idle()
    assert len(fake.messages_to(900)) == 1
    text = report.text or ""
    assert text.startswith("Delivery of “Phát động” finished: 1 sent, 1 failed, 1 blocked.")
    assert text.splitlines()[1:] == ["Not delivered: An", "Blocked the bot or removed it: Bình"]


async def test_the_same_key_twice_sends_once(running: RunningBot) -> None:
    fake = running.fake
    since = fake.mark()
    message = [(private(1401), Outgoing("Bảng xếp hạng tháng 10"))]
    first = await broadcast(running, message, key="standings:2026-10")
    second = await broadcast(running, message, key="standings:2026-10")
    assert first is not None and second is None
    await wait_finished(running, first)
    await asyncio.sleep(1.2)
    await fake.wait_idle()
    assert len([m for m in fake.sent[since:] if m.chat_id == 1401]) == 1


async def test_a_kill_mid_broadcast_loses_nothing_and_resends_only_what_was_in_flight(
    running: RunningBot,
) -> None:
    fake = running.fake
    wiring = wiring_of(running)
    slow_down(running, 10)  # slow enough to kill it half-way
    people = list(range(1501, 1531))
    since = fake.mark()
    broadcast_id = await broadcast(running, [(private(p), Outgoing("Mời họp")) for p in people])
    assert broadcast_id is not None
    await fake.wait_for(10, since=since)
    await worker_of(running).stop(grace=0)  # the process dies: no time to record anything
    await running.stop()

    async with unit_of_work(wiring.factory) as uow:
        before = await broadcast_status(uow, broadcast_id)
        assert before["pending"] > 0 and before["sent"] >= 6
        # Sent, but killed before the confirmation was written: these are the only possible repeats.
        sent_ids = (
            await uow.session.scalars(select(OutboxMessage.id).where(OutboxMessage.status == SENT))
        ).all()
        await uow.session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(sent_ids[:3])).values(status=SENDING)
        )
        # On PostgreSQL a restarted worker leaves another's rows until their lease ends (SQLite's one
        # process takes its own back at once): here the dead process's leases have run out.
        await uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == SENDING)
            .values(lease_until=wiring.clock() - timedelta(seconds=1))
        )
        in_flight = await uow.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == SENDING)
        )
    await wiring.engine.dispose()
    assert in_flight is not None and in_flight >= 3

    await running.start()
    counts = await wait_finished(running, broadcast_id)
    await fake.wait_idle()
    assert counts["sent"] == 30
    per_person = Counter(m.chat_id for m in fake.sent[since:])
    assert set(per_person) == set(people)
    duplicates = sum(per_person.values()) - len(people)
    assert 3 <= duplicates <= in_flight


async def test_interactive_replies_do_not_wait_behind_a_broadcast(running: RunningBot) -> None:
    fake = running.fake
    slow_down(running, 10)
    broadcast_id = await broadcast(running, [(private(p), Outgoing("Tin")) for p in range(1601, 1701)])
    assert broadcast_id is not None
    await fake.wait_for(5)
    lan = running.person(1_700_000, "Lan")
    started = time.monotonic()
    since = fake.mark()
    fake.push_message(lan.user, "/help")
    await fake.wait_for(1, chat_id=lan.chat, since=since, timeout=5)
    assert time.monotonic() - started < 2
    async with unit_of_work(wiring_of(running).factory) as uow:
        assert (await broadcast_status(uow, broadcast_id))["pending"] > 50


async def test_an_attachment_is_uploaded_once_then_sent_by_file_id(running: RunningBot) -> None:
    fake = running.fake
    chart = Attachment(b"\x89PNG fake chart", "standings.png", is_photo=True)
    people = [1801, 1802, 1803, 1804, 1805]
    broadcast_id = await broadcast(
        running, [(private(p), Outgoing("Bảng xếp hạng", attachment=chart)) for p in people]
    )
    assert broadcast_id is not None
    await wait_finished(running, broadcast_id)
    photos = [params for method, params in fake.calls if method == "sendPhoto"]
    assert len(photos) == 5
    uploads = [p for p in photos if isinstance(p["photo"], tuple)]
    assert len(uploads) == 1 and uploads[0]["photo"][0] == chart.content
    file_ids = {p["photo"] for p in photos if p not in uploads}
    assert len(file_ids) == 1 and isinstance(file_ids.pop(), str)
    assert all(p["caption"] == "Bảng xếp hạng" for p in photos)
    async with unit_of_work(wiring_of(running).factory) as uow:
        stored = await uow.session.scalar(select(OutboxAttachment.telegram_file_id))
    assert stored is not None and stored.startswith("photo-")


def test_the_rolling_window_and_the_limiter_pace_by_their_clock() -> None:
    now = [0.0]
    limiter = FloodLimiter(per_second=25, per_group_minute=18, clock=lambda: now[0])
    window = RollingWindow(2, 1.0)
    window.record(0.0)
    window.record(0.5)
    assert window.wait(0.6) == pytest.approx(0.4) and window.wait(0.9) == pytest.approx(0.1)
    assert window.wait(1.0) == 0.0  # the event of 0.0 has left the window

    for _ in range(18):
        assert limiter.waits("-1", True) == (0.0, 0.0)
        limiter.overall.record(now[0])
        limiter.broadcasts.record(now[0])
        limiter.groups["-1"].record(now[0])
        now[0] += 1.0
    assert limiter.group_wait("-1") == 60 - 18 and limiter.saturated_groups() == {"-1"}
    assert limiter.waits("5", False) == (0.0, 0.0)  # private chats only share the global limit
    limiter.pause(3)
    assert limiter.waits("5", False) == (3.0, 0.0)
    now[0] += 60
    assert limiter.saturated_groups() == set() and limiter.groups == {}


async def test_the_global_limit_holds_in_any_second() -> None:
    limiter = FloodLimiter(per_second=25)
    stamps = []
    for _ in range(60):
        await limiter.acquire("1", False)
        stamps.append(limiter.overall.events[-1])  # the moment it counted (a later stamp may lag behind)
    assert max(sum(1 for t in stamps if s <= t < s + 1) for s in stamps) == 25
    assert stamps[-1] - stamps[0] >= 2.0


async def test_a_busy_group_chat_is_handed_back_without_holding_up_others(running: RunningBot) -> None:
    fake = running.fake
    assert running.app is not None and running.app.telegram is not None
    limiter = running.app.telegram.sender.limiter
    for _ in range(17):  # the chat had 17 messages this minute: room for one more
        limiter.groups.setdefault("-4001", RollingWindow(18, 60.0)).record(time.monotonic())
    since = fake.mark()
    targets = [group(-4001)] * 4 + [private(p) for p in (1901, 1902, 1903)]
    broadcast_id = await broadcast(running, [(t, Outgoing("Tin")) for t in targets])
    assert broadcast_id is not None
    await fake.wait_for(4, since=since)
    await asyncio.sleep(0.3)
    assert Counter(m.chat_id for m in fake.sent[since:]) == Counter({-4001: 1, 1901: 1, 1902: 1, 1903: 1})
    async with unit_of_work(wiring_of(running).factory) as uow:
        rows = (
            await uow.session.execute(
                select(OutboxMessage.status, OutboxMessage.attempts).where(
                    OutboxMessage.chat_external_id == "-4001", OutboxMessage.status != SENT
                )
            )
        ).all()
    assert sorted(rows) == [("pending", 0)] * 3  # waiting for the chat's minute, at no cost


def test_the_report_names_who_did_not_get_it_and_stays_under_the_limit() -> None:
    many = [f"Người nhận số {n} có một cái tên khá dài" for n in range(400)]
    report = DeliveryReport(7, "Tổng kết", 1, TG, "900", "en", 12, many, many[:3])
    with use_language("en"):
        text = report_text(report)
    lines = text.splitlines()
    assert lines[0] == "Delivery of “Tổng kết” finished: 12 sent, 400 failed, 3 blocked."
    assert len(text) <= 4096 and lines[1].endswith("…") and many[0] in lines[1]
    assert lines[2] == "Blocked the bot or removed it: " + ", ".join(many[:3])
    short = DeliveryReport(8, "t", None, None, None, "en", 3, [], [])
    with use_language("en"):
        assert report_text(short) == "Delivery of “t” finished: 3 sent, 0 failed, 0 blocked."


async def paced(
    limiter: FloodLimiter, now: list[float], count: int, *, until: float | None = None
) -> list[float]:
    """Broadcast calls to private chats on the limiter's clock, each as soon as the limiter allows."""
    stamps: list[float] = []
    for _ in range(count):
        now[0] += max(limiter.waits("7", False))
        if until is not None and now[0] >= until:
            break
        await limiter.acquire("7", False)
        stamps.append(now[0])
    return stamps


async def test_broadcasts_are_evenly_spaced_below_the_limit_in_any_second() -> None:
    now = [100.0]
    limiter = FloodLimiter(30, broadcast_per_second=29, broadcast_gap=1 / 28.5, clock=lambda: now[0])
    stamps = await paced(limiter, now, 90)
    gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    assert min(gaps) == pytest.approx(1 / 28.5)  # no burst, not even at the start
    assert max(sum(1 for t in stamps if s <= t < s + 1) for s in stamps) == 29
    assert stamps[-1] - stamps[0] == pytest.approx(89 / 28.5)


async def test_while_people_are_answered_broadcasts_leave_them_room() -> None:
    now = [100.0]
    limiter = FloodLimiter(
        30, broadcast_per_second=29, reply_reserve=5, broadcast_gap=0.001, clock=lambda: now[0]
    )
    assert len(await paced(limiter, now, 40, until=101.0)) == 29  # nobody waiting for an answer

    now[0] = 200.0
    await limiter.acquire("8", False, broadcast=False)  # a reply to someone's message
    in_that_second = await paced(limiter, now, 40, until=201.0)
    assert len(in_that_second) == 30 - 5 - 1  # the reply and the reserve stay free for answers


async def test_telegram_answers_wait_only_for_a_429_while_broadcasts_keep_their_pace() -> None:
    now = [100.0]
    limiter = FloodLimiter(
        30,
        broadcast_per_second=29,
        reply_reserve=5,
        broadcast_gap=0.001,
        pace_replies=False,
        clock=lambda: now[0],
    )
    for person in range(200):  # a deadline-evening crowd, each answered at once
        assert limiter.waits(str(person), False, broadcast=False) == (0.0, 0.0)
        await limiter.acquire(str(person), False, broadcast=False)
    assert len(await paced(limiter, now, 40, until=101.0)) == 30 - 5  # broadcasts: the reserve stays free
    limiter.pause(2)
    assert limiter.waits("9", False, broadcast=False) == (2.0, 0.0)  # a 429 holds the answers too
    assert limiter.waits("-9", True, broadcast=False)[0] == 2.0


async def test_outcomes_recorded_together_and_one_that_fails_harms_no_other(wiring: Wiring) -> None:
    async with unit_of_work(wiring.factory) as uow:
        claimed = await queue_replies(
            uow,
            platform=TG,
            chat_id="501",
            is_group=False,
            replies=[Reply("Một"), Reply("Hai"), Reply("Ba")],
            edit_message_id=None,
            claimed_by=wiring.instance,
            now=wiring.clock(),
        )
    first, second, third = (message.id for message in claimed)
    recorder = Recorder(wiring)

    async def broken(uow: UnitOfWork) -> None:
        await mark_sent(uow, third, now=wiring.clock())
        raise RuntimeError("this outcome cannot be recorded")

    done = await asyncio.gather(
        recorder.record(Sent(first, wiring.clock(), None)),
        recorder.record(Sent(second, wiring.clock(), None), broken),
        return_exceptions=True,
    )
    assert done[0] is None and isinstance(done[1], RuntimeError)  # its caller hears it; the other does not
    async with unit_of_work(wiring.factory) as uow:
        rows = await uow.session.execute(select(OutboxMessage.id, OutboxMessage.status))
        statuses = {message_id: status for message_id, status in rows}
    assert statuses == {first: SENT, second: SENDING, third: SENDING}  # a failed entry rolls back whole
