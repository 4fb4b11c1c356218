"""The outbox service: enqueueing, who a broadcast reaches, claiming, outcomes and delivery reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.delivery import (
    BLOCKED,
    FAILED,
    PENDING,
    SENDING,
    SENT,
    Outgoing,
    Recipient,
    broadcast_status,
    claim_due,
    enqueue_broadcast,
    finished_broadcasts,
    mark_blocked,
    mark_failed,
    mark_retry,
    mark_sent,
    queue_delivery_reports,
    queue_replies,
    recipients,
    recover_in_flight,
    release,
)
from bot.membership import choose_language, follow, link_chat, set_chat_active, set_person_active, set_staff
from bot.privacy import erase_person
from bot.replies import Attachment, Choice, Reply
from bot.wiring import Wiring
from storage.models import Broadcast, OutboxAttachment, OutboxMessage
from storage.unit_of_work import unit_of_work
from tests.wards import WARD

NOW = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
TG = "telegram"


def private(external_id: int, name: str = "") -> Recipient:
    return Recipient(TG, str(external_id), name or str(external_id), False)


async def enqueue(
    wiring: Wiring,
    targets: list[Recipient],
    *,
    text: str = "Hello",
    key: str | None = None,
    requested_by: int | None = None,
    title: str = "Announcement",
    attachment: Attachment | None = None,
    now: datetime = NOW,
) -> int | None:
    async with unit_of_work(wiring.factory) as uow:
        return await enqueue_broadcast(
            uow,
            kind="announcement",
            title=title,
            messages=[(target, Outgoing(text, attachment=attachment)) for target in targets],
            requested_by=requested_by,
            key=key,
            now=now,
        )


async def statuses(wiring: Wiring) -> dict[str, str]:
    """Status of each message by chat id."""
    async with unit_of_work(wiring.factory) as uow:
        rows = await uow.session.execute(select(OutboxMessage.chat_external_id, OutboxMessage.status))
        return {chat: status for chat, status in rows}


async def test_a_key_makes_the_second_enqueue_a_no_op(wiring: Wiring) -> None:
    first = await enqueue(wiring, [private(1), private(2)], key="standings:2026-10")
    second = await enqueue(wiring, [private(1), private(2), private(3)], key="standings:2026-10")
    other = await enqueue(wiring, [private(1)], key=None)
    assert first is not None and other is not None and second is None
    async with unit_of_work(wiring.factory) as uow:
        assert await broadcast_status(uow, first) == {PENDING: 2, SENDING: 0, SENT: 0, FAILED: 0, BLOCKED: 0}
        assert await uow.session.scalar(select(func.count()).select_from(Broadcast)) == 2


async def test_identical_attachments_are_stored_once_per_broadcast(wiring: Wiring) -> None:
    chart = Attachment(b"\x89PNG chart", "chart.png", is_photo=True)
    sheet = Attachment(b"PK sheet", "standings.xlsx")
    async with unit_of_work(wiring.factory) as uow:
        await enqueue_broadcast(
            uow,
            kind="standings",
            title="Standings",
            messages=[
                (private(1), Outgoing("a", attachment=chart)),
                (private(2), Outgoing("b", attachment=Attachment(b"\x89PNG chart", "chart.png", True))),
                (private(3), Outgoing("c", attachment=sheet)),
                (private(4), Outgoing("d")),
            ],
            requested_by=None,
            now=NOW,
        )
        assert await uow.session.scalar(select(func.count()).select_from(OutboxAttachment)) == 2
        claimed = await claim_due(uow, platforms=[TG], claimed_by="worker", now=NOW, limit=10)
    by_chat = {m.chat_external_id: m for m in claimed}
    assert by_chat["1"].attachment == by_chat["2"].attachment
    assert by_chat["1"].attachment is not None and by_chat["1"].attachment.content == b"\x89PNG chart"
    assert by_chat["3"].attachment is not None and not by_chat["3"].attachment.is_photo
    assert by_chat["4"].attachment is None


async def test_recipients_are_active_deduplicated_and_filtered(wiring: Wiring) -> None:
    async with unit_of_work(wiring.factory) as uow:
        one = await uow.groups.add(WARD, "TDP01", "Tổ dân phố số 1", 100, None)
        two = await uow.groups.add(WARD, "TDP02", "Tổ dân phố số 2", 100, None)
        hoa = await set_staff(uow, TG, "500", name="Hoa", is_staff=True)
        nam = await uow.people.ensure(TG, "501", display_name="Nam")
        lan = await uow.people.ensure(TG, "502", display_name="Lan")
        gone = await uow.people.ensure(TG, "503", display_name="Gone")
        zalo = await uow.people.ensure("zalo", "z1", display_name="Mai")
        await uow.groups.add_membership(nam.id, one.id, "head")
        await follow(uow, nam.id, one)  # head and follower: reached once
        await follow(uow, lan.id, two)
        await follow(uow, gone.id, one)
        await follow(uow, zalo.id, one)
        await follow(uow, hoa.id, two)  # staff and follower: reached once
        await link_chat(uow, TG, "-100", one, actor=nam.id, title="Chat TDP01")
        await link_chat(uow, TG, "-200", two, actor=nam.id, title="Chat TDP02")
        await set_person_active(uow, TG, "503", False)
        await set_chat_active(uow, TG, "-200", False)

    async with unit_of_work(wiring.factory) as uow:
        chats_only = await recipients(uow, None)
        everyone = await recipients(uow, None, leaders=True, followers=True, staff=True, platform=TG)
        group_one = await recipients(uow, [one.id], chats=False, followers=True)
        leaders = await recipients(uow, [two.id], chats=False, leaders=True)

    assert chats_only == [Recipient(TG, "-100", "Chat TDP01", True)]
    ids = [r.chat_external_id for r in everyone]
    assert sorted(ids) == ["-100", "500", "501", "502"] and len(ids) == len(set(ids))
    assert {r.label for r in everyone} == {"Chat TDP01", "Hoa", "Nam", "Lan"}
    assert not any(r.is_group for r in everyone if r.chat_external_id != "-100")
    assert {(r.platform, r.chat_external_id) for r in group_one} == {(TG, "501"), ("zalo", "z1")}
    assert leaders == []


async def test_claim_takes_due_messages_oldest_first_and_recovery_returns_them(wiring: Wiring) -> None:
    await enqueue(wiring, [private(1), private(2), private(3)])
    await enqueue(wiring, [private(4)], now=NOW + timedelta(minutes=5))  # not due yet
    await enqueue(wiring, [Recipient("zalo", "z", "z", False)])  # another platform
    async with unit_of_work(wiring.factory) as uow:
        first = await claim_due(uow, platforms=[TG], claimed_by="worker", now=NOW, limit=2)
        skipping = await claim_due(
            uow, platforms=[TG], claimed_by="worker", now=NOW, limit=5, skip_chats={"3"}
        )
    assert [m.chat_external_id for m in first] == ["1", "2"]
    assert all(m.attempts == 1 for m in first)
    assert skipping == []
    assert (await statuses(wiring))["1"] == SENDING

    async with unit_of_work(wiring.factory) as uow:
        assert await recover_in_flight(uow) == 2
    async with unit_of_work(wiring.factory) as uow:
        again = await claim_due(
            uow, platforms=[TG], claimed_by="worker", now=NOW + timedelta(minutes=5), limit=10
        )
    assert [m.chat_external_id for m in again] == ["1", "2", "3", "4"]
    assert [m.attempts for m in again] == [2, 2, 1, 1]


async def test_outcomes_and_giving_up_after_the_wards_hours(wiring: Wiring) -> None:
    chart = Attachment(b"png", "c.png", is_photo=True)
    await enqueue(wiring, [private(1), private(2), private(3), private(4), private(5)], attachment=chart)
    async with unit_of_work(wiring.factory) as uow:
        claimed = {
            m.chat_external_id: m.id
            for m in await claim_due(uow, platforms=[TG], claimed_by="worker", now=NOW, limit=10)
        }
        await mark_sent(uow, claimed["1"], now=NOW, file_id="photo-1")
        await mark_sent(uow, claimed["5"], now=NOW, file_id="photo-2")  # the first file_id is kept
        await mark_blocked(uow, claimed["2"], error="Forbidden")
        await mark_failed(uow, claimed["3"], error="Bad Request")
        assert await mark_retry(uow, claimed["4"], at=NOW + timedelta(seconds=1), error="Bad Gateway")
        await mark_sent(uow, claimed["3"], now=NOW)  # not 'sending' any more: ignored
        file_id = await uow.session.scalar(select(OutboxAttachment.telegram_file_id))
    assert file_id == "photo-1"
    assert await statuses(wiring) == {"1": SENT, "2": BLOCKED, "3": FAILED, "4": PENDING, "5": SENT}

    moment = NOW
    for attempt in range(2, 40):  # an outage of hours: retried as long as the message is young enough
        moment += timedelta(hours=1)
        async with unit_of_work(wiring.factory) as uow:
            (message,) = await claim_due(uow, platforms=[TG], claimed_by="worker", now=moment, limit=10)
            assert message.attempts == attempt
            assert message.attachment is not None and message.attachment.file_id == "photo-1"
            give_up = moment - timedelta(hours=24)
            retried = await mark_retry(
                uow, message.id, at=moment, error="Bad Gateway", give_up_before=give_up
            )
        assert retried == (moment - NOW <= timedelta(hours=24)), attempt
        if not retried:
            break
    assert (await statuses(wiring))["4"] == FAILED


async def test_waits_asked_by_the_platform_and_releases_cost_no_attempt(wiring: Wiring) -> None:
    await enqueue(wiring, [private(1)])
    for _ in range(12):
        async with unit_of_work(wiring.factory) as uow:
            (message,) = await claim_due(
                uow, platforms=[TG], claimed_by="worker", now=NOW + timedelta(hours=1), limit=1
            )
            assert message.attempts == 1
            assert await mark_retry(uow, message.id, at=NOW, error="429", counts=False)
        async with unit_of_work(wiring.factory) as uow:
            (message,) = await claim_due(
                uow, platforms=[TG], claimed_by="worker", now=NOW + timedelta(hours=1), limit=1
            )
            await release(uow, message.id)
    assert await statuses(wiring) == {"1": PENDING}


async def test_a_finished_broadcast_is_reported_once_in_the_requesters_language(wiring: Wiring) -> None:
    async with unit_of_work(wiring.factory) as uow:
        hoa = await set_staff(uow, TG, "500", name="Hoa", is_staff=True)
        await choose_language(uow, hoa.id, "en")
    labelled = [private(1, "An"), private(2, "Bình"), private(3, "Chi"), private(4, "Dũng")]
    broadcast = await enqueue(wiring, labelled, requested_by=hoa.id, title="Standings October")
    quiet = await enqueue(wiring, [], title="Nobody")  # nothing to send: finished at once, nobody to tell
    assert broadcast is not None and quiet is not None

    async with unit_of_work(wiring.factory) as uow:
        claimed = {
            m.chat_external_id: m.id
            for m in await claim_due(uow, platforms=[TG], claimed_by="worker", now=NOW, limit=3)
        }
        await mark_sent(uow, claimed["1"], now=NOW)
        await mark_blocked(uow, claimed["2"], error="Forbidden")
        await mark_failed(uow, claimed["3"], error="Bad Request")
        early = await finished_broadcasts(uow, now=NOW)
    assert [r.broadcast_id for r in early] == [quiet]  # message 4 is still pending
    assert early[0].requested_by is None and early[0].requested_by_platform is None

    async with unit_of_work(wiring.factory) as uow:
        (last,) = await claim_due(uow, platforms=[TG], claimed_by="worker", now=NOW, limit=3)
        await mark_sent(uow, last.id, now=NOW)
        (report,) = await finished_broadcasts(uow, now=NOW + timedelta(seconds=5))
        assert await finished_broadcasts(uow, now=NOW) == []
        stored = await uow.outbox.broadcast(broadcast)
        assert stored is not None and stored.reported and stored.finished_at == NOW + timedelta(seconds=5)
        assert await broadcast_status(uow, broadcast) == {
            PENDING: 0,
            SENDING: 0,
            SENT: 2,
            FAILED: 1,
            BLOCKED: 1,
        }

    assert (report.title, report.sent, report.failed, report.blocked) == (
        "Standings October",
        2,
        ["Chi"],
        ["Bình"],
    )
    assert (report.requested_by_platform, report.requested_by_external_id) == (TG, "500")
    assert report.requested_by_language == "en"


async def test_choices_survive_the_round_trip(wiring: Wiring) -> None:
    choices = ((Choice("Xem bảng", "standings:2026-10"), Choice("Báo cáo", "report")), (Choice("Đóng", "x"),))
    async with unit_of_work(wiring.factory) as uow:
        await enqueue_broadcast(
            uow,
            kind="standings",
            title="t",
            messages=[(private(1), Outgoing("Bảng xếp hạng", choices))],
            requested_by=None,
            now=NOW,
        )
        (message,) = await claim_due(uow, platforms=[TG], claimed_by="worker", now=NOW, limit=1)
    assert message.choices == choices and message.text == "Bảng xếp hạng"


async def test_replies_to_an_erased_person_are_deleted_once_the_platform_answered(wiring: Wiring) -> None:
    async with unit_of_work(wiring.factory) as uow:
        claimed = await queue_replies(
            uow,
            platform=TG,
            chat_id="880012345",
            is_group=False,
            replies=[Reply("Đã xoá"), Reply("sent elsewhere"), Reply("not sent"), Reply("kept")],
            edit_message_id=None,
            claimed_by="me",
            now=NOW,
            forget=True,
        )
        kept = await queue_replies(
            uow,
            platform=TG,
            chat_id="1",
            is_group=False,
            replies=[Reply("an ordinary reply")],
            edit_message_id=None,
            claimed_by="me",
            now=NOW,
        )
    first, second, third, fourth = (message.id for message in claimed)
    async with unit_of_work(wiring.factory) as uow:
        await mark_sent(uow, first, now=NOW)
        await mark_blocked(uow, second, error="403")
        await mark_failed(uow, third, error="400")
        assert await mark_retry(uow, fourth, at=NOW, error="502")  # not done with yet: stays
        await mark_sent(uow, kept[0].id, now=NOW)
    async with unit_of_work(wiring.factory) as uow:
        left = (await uow.session.scalars(select(OutboxMessage.text).order_by(OutboxMessage.id))).all()
    assert left == ["kept", "an ordinary reply"]


async def test_nobody_is_told_how_a_broadcast_went_when_its_sender_was_erased(wiring: Wiring) -> None:
    async with unit_of_work(wiring.factory) as uow:
        hoa = await set_staff(uow, TG, "500", name="Hoa", is_staff=True)
    broadcast = await enqueue(wiring, [private(1, "An")], requested_by=hoa.id)
    async with unit_of_work(wiring.factory) as uow:
        (message,) = await claim_due(uow, platforms=[TG], claimed_by="worker", now=NOW, limit=3)
        await mark_sent(uow, message.id, now=NOW)
        person = await uow.people.get(hoa.id)
        assert person is not None
        await erase_person(uow, person, actor=None, actor_label="command line")

    async with unit_of_work(wiring.factory) as uow:
        (report,) = await finished_broadcasts(uow, now=NOW)
        assert report.broadcast_id == broadcast and report.requested_by_external_id is None
        assert not await queue_delivery_reports(uow, now=NOW, default_language="vi")
