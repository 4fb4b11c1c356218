"""Membership over the fake Bot API: staff, heads, group chats and residents, and who may do what."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from bot.membership import set_staff
from storage.models import utcnow
from storage.unit_of_work import unit_of_work
from tests.harness import Person, RunningBot, texts

INVITE = re.compile(r"https://t\.me/ward_test_bot\?start=([A-Za-z0-9_-]+)")
GROUP_CHAT = -1001234


async def make_staff(running: RunningBot, user_id: int, name: str) -> Person:
    """A ward officer, added as `wardbot admin add` does."""
    assert running.wiring is not None
    async with unit_of_work(running.wiring.factory) as uow:
        await set_staff(uow, "telegram", str(user_id), name=name, is_staff=True)
    return running.person(user_id, name)


def invite_code(messages: list[Any]) -> str:
    found = INVITE.search(texts(messages))
    assert found, texts(messages)
    return found.group(1)


async def snapshot(running: RunningBot) -> dict[str, list[tuple[Any, ...]]]:
    """Everything membership can change, to prove a refused request changed nothing.

    Meeting someone new (a `people` row) or a new chat is not a membership change; roles and links are.
    """
    assert running.wiring is not None
    queries = {
        "staff": "SELECT id FROM people WHERE is_staff ORDER BY id",
        "groups": "SELECT code, name, households FROM residential_groups ORDER BY code",
        "memberships": "SELECT person_id, group_id, role FROM memberships ORDER BY id",
        "chats": "SELECT external_id, group_id, active FROM chats WHERE group_id IS NOT NULL ORDER BY id",
        "invites": "SELECT id, used_at FROM invites ORDER BY id",
        "audit": "SELECT count(*) FROM audit_log",
    }
    async with running.wiring.engine.connect() as connection:
        return {
            name: [tuple(row) for row in await connection.execute(text(sql))] for name, sql in queries.items()
        }


async def test_staff_adds_a_group_head_joins_links_the_chat_and_a_resident_follows(
    running: RunningBot,
) -> None:
    hoa = await make_staff(running, 500, "Hoa")
    nam = running.person(501, "Nam")
    lan = running.person(502, "Lan")

    added = await hoa.says("/addgroup Tổ dân phố số 7; 120")
    assert "Đã thêm TDP07 — Tổ dân phố số 7 (120 hộ)." in texts(added)
    assert "chỉ dùng một lần và hết hạn sau 7 ngày" in texts(added)
    code = invite_code(added)
    assert len(code) >= 16

    joined = await nam.says(f"/start {code}")
    assert "Từ nay anh/chị là tổ trưởng của Tổ dân phố số 7 (TDP07)" in texts(joined)
    menu = [c["command"] for c in running.fake.commands[("chat:501", None)]]
    assert "baocao" in menu and "themto" not in menu

    since = running.fake.mark()
    running.fake.push_my_chat_member(nam.user, GROUP_CHAT, chat_title="Tổ 7 — Khu phố")
    greeting = await running.fake.wait_for(1, chat_id=GROUP_CHAT, since=since)
    assert "tổ trưởng gửi /link" in texts(greeting)

    linked = await nam.in_group(GROUP_CHAT, "Tổ 7 — Khu phố").says("/link")
    assert "Nhóm này giờ là nhóm chat của Tổ dân phố số 7 (TDP07)" in texts(linked)

    followed = await lan.says("/follow tdp07")
    assert "Anh/chị đã theo dõi Tổ dân phố số 7 (TDP07)" in texts(followed)
    assert "đã theo dõi" in texts(await lan.says("/follow TDP07"))

    listing = texts(await hoa.says("/groups"))
    assert "TDP07 · Tổ dân phố số 7 · 120 hộ" in listing
    assert "tổ trưởng: Nam · tổ phó: — · nhóm chat: Tổ 7 — Khu phố" in listing

    help_for_nam = texts(await nam.says("/help"))
    assert "/link" not in help_for_nam  # a group-chat command is not offered in private
    assert "/addgroup" in texts(await hoa.says("/help"))


async def test_an_invite_works_once_and_never_after_expiry(running: RunningBot) -> None:
    assert running.wiring is not None
    hoa = await make_staff(running, 500, "Hoa")
    nam, tuan, minh = running.person(501, "Nam"), running.person(503, "Tuấn"), running.person(504, "Minh")

    code = invite_code(await hoa.says("/invite TDP01"))
    assert "tổ trưởng" in texts(await nam.says(f"/start {code}"))
    before = await snapshot(running)

    assert "đã được dùng" in texts(await tuan.says(f"/start {code}"))
    assert "không hợp lệ" in texts(await tuan.says("/start AAAAAAAAAAAAAAAAAAAAAA"))
    assert "không hợp lệ" in texts(await tuan.says(f"/start {code[:-1]}"))
    assert await snapshot(running) == before

    late = invite_code(await hoa.says("/invite TDP02 deputy"))
    running.wiring.clock = lambda: utcnow() + timedelta(days=7, seconds=1)
    before = await snapshot(running)
    assert "đã hết hạn" in texts(await minh.says(f"/start {late}"))
    assert await snapshot(running) == before


async def test_a_head_of_one_group_cannot_silently_take_another(running: RunningBot) -> None:
    hoa = await make_staff(running, 500, "Hoa")
    nam, tuan = running.person(501, "Nam"), running.person(503, "Tuấn")
    await nam.says(f"/start {invite_code(await hoa.says('/invite TDP01'))}")

    other = invite_code(await hoa.says("/invite TDP02"))
    before = await snapshot(running)
    answer = texts(await nam.says(f"/start {other}"))
    assert "Anh/chị đang phụ trách tổ TDP01" in answer and "/removehead TDP01" in answer
    assert await snapshot(running) == before

    second_head = invite_code(await hoa.says("/invite TDP01"))
    before = await snapshot(running)
    assert "đã có tổ trưởng: Nam" in texts(await tuan.says(f"/start {second_head}"))
    assert await snapshot(running) == before

    assert "Nam không còn vai trò tổ trưởng của TDP01" in texts(await hoa.says("/removehead TDP01"))
    assert "Anh/chị không còn vai trò tổ trưởng của Tổ dân phố số 1" in texts(nam.fake.messages_to(501)[-1:])
    assert "anh/chị là tổ trưởng của Tổ dân phố số 1" in texts(await tuan.says(f"/start {second_head}"))


async def test_removed_or_blocked_chats_get_nothing_more(running: RunningBot) -> None:
    hoa = await make_staff(running, 500, "Hoa")
    nam = running.person(501, "Nam")
    await nam.says(f"/start {invite_code(await hoa.says('/invite TDP03'))}")
    running.fake.push_my_chat_member(nam.user, GROUP_CHAT, chat_title="Tổ 3")
    await nam.in_group(GROUP_CHAT, "Tổ 3").says("/link")

    running.fake.push_my_chat_member(
        nam.user, GROUP_CHAT, chat_title="Tổ 3", old_status="member", new_status="left"
    )
    await running.fake.wait_idle()
    assert "nhóm chat: Tổ 3 (bot đã bị xóa khỏi nhóm)" in texts(await hoa.says("/groups"))

    running.fake.block(501)
    await hoa.says("/removehead TDP03")  # the notice to Nam is refused with 403
    assert running.wiring is not None
    async with running.wiring.engine.connect() as connection:
        active = await connection.scalar(text("SELECT active FROM people WHERE external_id = '501'"))
    assert active is False or active == 0

    running.fake.unblock(501)
    await nam.says("/start")
    async with running.wiring.engine.connect() as connection:
        active = await connection.scalar(text("SELECT active FROM people WHERE external_id = '501'"))
    assert active


COMMANDS = {
    "addgroup": "/addgroup Tổ thử 10",
    "invite": "/invite TDP01",
    "groups": "/groups",
    "removehead": "/removehead TDP02",
    "link": "/link",
    "unlink": "/unlink",
    "follow": "/follow TDP01",
    "unfollow": "/unfollow",
}
STAFF_ONLY = "dành cho cán bộ phường"
LEADERS_ONLY = "dành cho tổ trưởng và tổ phó"
USE_PRIVATE = "trong trò chuyện riêng với tôi"
USE_GROUP = "trong nhóm chat của tổ"

# role → command → (refusal in private, refusal in the group chat); None means allowed there.
MATRIX: dict[str, dict[str, tuple[str | None, str | None]]] = {
    "stranger": {
        "addgroup": (STAFF_ONLY, USE_PRIVATE),
        "invite": (STAFF_ONLY, USE_PRIVATE),
        "groups": (STAFF_ONLY, USE_PRIVATE),
        "removehead": (STAFF_ONLY, USE_PRIVATE),
        "link": (USE_GROUP, LEADERS_ONLY),
        "unlink": (USE_GROUP, LEADERS_ONLY),
        "follow": (None, USE_PRIVATE),
        "unfollow": (None, USE_PRIVATE),
    },
}
MATRIX["resident"] = MATRIX["stranger"]
MATRIX["head"] = MATRIX["stranger"] | {"link": (USE_GROUP, None), "unlink": (USE_GROUP, None)}
MATRIX["deputy"] = MATRIX["head"]
MATRIX["staff"] = {
    command: (
        None if private is STAFF_ONLY or private is None else private,
        None if group == LEADERS_ONLY else group,
    )
    for command, (private, group) in MATRIX["stranger"].items()
}


async def cast_of_people(running: RunningBot) -> dict[str, Person]:
    """Staff, the head and deputy of TDP01, a resident following TDP01, and a stranger."""
    hoa = await make_staff(running, 600, "Hoa")
    people = {
        "staff": hoa,
        "head": running.person(601, "Nam"),
        "deputy": running.person(602, "Bình"),
        "resident": running.person(603, "Lan"),
        "stranger": running.person(604, "Khách", language_code=None),
    }
    await people["head"].says(f"/start {invite_code(await hoa.says('/invite TDP01'))}")
    await people["deputy"].says(f"/start {invite_code(await hoa.says('/invite TDP01 deputy'))}")
    await people["resident"].says("/follow TDP01")
    return people


@pytest.mark.parametrize("role", sorted(MATRIX))
async def test_every_role_and_command_is_decided_by_the_policy(running: RunningBot, role: str) -> None:
    people = await cast_of_people(running)
    person = people[role]
    for command, (private_refusal, group_refusal) in MATRIX[role].items():
        for where, refusal in (("private", private_refusal), ("group", group_refusal)):
            speaker = person.in_group(-900 - len(command), "Nhóm thử") if where == "group" else person
            before = await snapshot(running)
            answer = texts(await speaker.says(COMMANDS[command]))
            if refusal is None:
                for phrase in (STAFF_ONLY, LEADERS_ONLY, USE_PRIVATE, USE_GROUP):
                    assert phrase not in answer, (role, command, where, answer)
            else:
                assert refusal in answer, (role, command, where, answer)
                assert await snapshot(running) == before, (role, command, where)
