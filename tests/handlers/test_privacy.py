"""Personal data over the fake Bot API: /privacy tells, /forgetme and `wardbot person erase` erase.

After an erasure the person's name and chat id are searched for in every text column of every
table — the received updates and the outbox included — and must be found nowhere.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String, Text, inspect, text
from sqlalchemy.engine import Connection

from bench.rush import CliResult as Result
from bench.rush import wardbot_in_process
from bot.membership import audit, set_staff
from bot.simulator import FakeBotApi
from bot.ward_config import WardFile
from storage.unit_of_work import unit_of_work
from tests.fakes.fake_zalo_api import FakeZaloApi, ZaloUser
from tests.harness import RunningBot, make_settings, texts, wardbot_audit, wardbot_cli
from tests.wards import NOW, answer_october, appoint, launched_campaign

RESIDENT_ID, RESIDENT_NAME = 880012345, "Đỗ Thị Ngọc Trâm"
HEAD_ID, HEAD_NAME = 770054321, "Lưu Quang Vịnh"
GROUP_CHAT = -100424242


def _traces(connection: Connection, needles: tuple[str, ...]) -> list[str]:
    """Every "table.column" whose text holds one of `needles`."""
    found = []
    inspector = inspect(connection)
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            if not isinstance(column["type"], String | Text):
                continue
            name = column["name"]
            for needle in needles:
                count = connection.execute(
                    text(f'SELECT count(*) FROM "{table}" WHERE "{name}" LIKE :pattern'),
                    {"pattern": f"%{needle}%"},
                ).scalar_one()
                if count:
                    found.append(f"{table}.{name} ({needle!r} × {count})")
    return found


async def traces(running: RunningBot, *needles: str) -> list[str]:
    assert running.wiring is not None
    async with running.wiring.engine.connect() as connection:
        return await connection.run_sync(_traces, needles)


async def stored(running: RunningBot, sql: str) -> list[tuple[Any, ...]]:
    assert running.wiring is not None
    async with running.wiring.engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql))]


async def test_privacy_tells_a_resident_what_is_kept_why_how_long_and_who_sees_it(
    running: RunningBot,
) -> None:
    tram = running.person(RESIDENT_ID, RESIDENT_NAME)
    await tram.says("/follow TDP01")

    told = texts(await tram.says("/baomat"))

    assert "Bot lưu những gì về anh/chị, và để làm gì:" in told
    assert f"Tên của anh/chị trên Telegram (“{RESIDENT_NAME}”)" in told
    assert "Các tổ anh/chị theo dõi (TDP01)" in told
    assert "giữ 30 ngày" in told  # prune_after_days of the ward file (its default)
    assert "Ai được xem: cán bộ phường" in told
    assert "/forgetme" in told
    assert "bạn" not in told.lower()

    in_group = texts(await tram.in_group(GROUP_CHAT, "Tổ 1").says("/privacy"))
    assert "Bot lưu những gì về anh/chị" in in_group
    assert RESIDENT_NAME not in in_group and "TDP01" not in in_group  # nobody's details in a group

    refused = texts(await tram.in_group(GROUP_CHAT, "Tổ 1").says("/forgetme"))
    assert "trò chuyện riêng" in refused  # erasing is asked for in private only

    assert "/privacy" in texts(await tram.says("/help"))
    assert "/forgetme" in texts(await tram.says("/help"))


async def test_forgetme_erases_a_resident_from_every_table(running: RunningBot) -> None:
    tram = running.person(RESIDENT_ID, RESIDENT_NAME)
    assert "TDP01" in texts(await tram.says("/follow TDP01"))
    await tram.in_group(GROUP_CHAT, "Tổ 1").says("/privacy")  # a raw update from her in a group chat
    await launched_campaign(running, "Toàn dân đoàn kết", NOW.date())  # a broadcast that reached her
    before = {trace.split(".")[0] for trace in await traces(running, RESIDENT_NAME, str(RESIDENT_ID))}
    assert before == {"people", "inbox", "outbox_messages"}  # her account, her updates, messages to her

    asked = await tram.says("/xoadulieu")
    assert "Không thể hoàn tác" in texts(asked)
    assert [button.text for button in asked[-1].flat_buttons] == ["✅ Xoá dữ liệu của tôi", "❌ Giữ lại"]
    kept = await tram.presses("❌ Giữ lại")
    assert "Chưa xoá gì cả." in texts(kept)
    assert await stored(running, "SELECT count(*) FROM memberships WHERE role = 'follower'") == [(1,)]

    await tram.says("/forgetme")
    done = await tram.presses("✅ Xoá dữ liệu của tôi")

    assert "Đã xoá: tên, số tài khoản của anh/chị" in texts(done)
    assert await traces(running, RESIDENT_NAME, str(RESIDENT_ID)) == []
    assert await stored(running, "SELECT count(*) FROM memberships WHERE role = 'follower'") == [(0,)]
    assert await stored(running, "SELECT action, detail FROM audit_log WHERE action = 'person_erased'") == [
        ("person_erased", "Người dân (đã xoá)")
    ]

    again = texts(await tram.says("/start"))  # a new acquaintance from now on
    assert again
    assert await traces(running, RESIDENT_NAME) != []


async def test_a_name_that_is_someone_else_s_words_is_erased_only_from_what_is_theirs(
    running: RunningBot,
) -> None:
    assert running.wiring is not None
    async with unit_of_work(running.wiring.factory) as uow:
        staff = await set_staff(uow, "telegram", "1", name="Cán bộ Hoa", is_staff=True)
        group = await uow.groups.by_code("TDP01", running.wiring.first_ward_id)
        assert group is not None
        await audit(
            uow,
            "households_set",
            actor=staff.id,
            actor_label="Cán bộ Hoa",
            group_id=group.id,
            detail="TDP01: 300 → 320",
        )
    ward_records = "SELECT actor_label, detail FROM audit_log WHERE action = 'households_set'"
    before = await stored(running, ward_records)

    mischief = running.person(880099999, "TDP01")  # a stranger who calls themselves by a group's code
    await mischief.says("/forgetme")
    done = texts(await mischief.presses("✅ Xoá dữ liệu của tôi"))

    assert "Đã xoá" in done
    assert await stored(running, ward_records) == before == [("Cán bộ Hoa", "TDP01: 300 → 320")]


async def test_forgetme_sends_a_head_to_the_ward_which_erases_them_keeping_their_report(
    reporting: RunningBot, tmp_path: Path
) -> None:
    vinh = await appoint(reporting, HEAD_ID, HEAD_NAME)
    await vinh.says("/report")
    await vinh.presses("Tháng 10/2026")
    await answer_october(vinh)
    await vinh.presses("✅ Xác nhận")
    assert "TDP01" in texts(await vinh.says("/privacy"))

    told = texts(await vinh.says("/forgetme"))
    assert "đề nghị cán bộ phường xoá" in told
    assert f"Telegram {HEAD_ID}" in told
    assert await stored(reporting, "SELECT count(*) FROM memberships WHERE role = 'head'") == [(1,)]

    printed = await wardbot_cli(reporting, tmp_path, "person", "erase", "Telegram", str(HEAD_ID), "--yes")

    assert "Tổ trưởng TDP01 (đã xoá)" in printed
    assert await traces(reporting, HEAD_NAME, str(HEAD_ID)) == []
    assert await stored(
        reporting,
        "SELECT r.month, p.display_name FROM reports r JOIN people p ON p.id = r.submitted_by",
    ) == [("2026-10", "Tổ trưởng TDP01 (đã xoá)")]
    assert await stored(reporting, "SELECT count(*) FROM memberships WHERE role = 'head'") == [(0,)]
    audit = await wardbot_audit(reporting, tmp_path)
    assert "person_erased  by command line" in audit
    assert HEAD_NAME not in audit


async def person_erase(running: RunningBot, folder: Path, *args: str, answer: str = "") -> Result:
    """`wardbot person erase ARGS` as staff type it, answering the question with `answer` (in-process)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WARD_", "ZALO_"))}
    return await asyncio.to_thread(
        wardbot_in_process,
        "person",
        "erase",
        *args,
        env=environment | {"DATABASE_URL": running.settings.database_url, "HOME": str(folder)},
        answer=answer,
    )


async def test_person_erase_of_an_unknown_account_or_not_confirmed_changes_nothing(
    running: RunningBot, tmp_path: Path
) -> None:
    assert running.wiring is not None
    async with unit_of_work(running.wiring.factory) as uow:
        await set_staff(uow, "telegram", "1", name="Cán bộ", is_staff=True)
    people = "SELECT id, display_name, external_id, is_staff FROM people ORDER BY id"
    before = await stored(running, people)

    unknown = await person_erase(running, tmp_path, "telegram", "424242", "--yes")
    assert unknown.returncode == 1
    assert "knows no telegram account 424242; nothing changed" in unknown.stderr

    declined = await person_erase(running, tmp_path, "telegram", "1", answer="no\n")
    assert declined.returncode == 1
    assert "Erase telegram 1 (Cán bộ)? Their records will read “Cán bộ phường (đã xoá)”." in declined.stdout
    assert "Nothing was erased." in declined.stderr

    bad = await person_erase(running, tmp_path, "telegram", "1; DROP TABLE people", "--yes")
    assert bad.returncode == 2

    assert await stored(running, people) == before


@pytest.fixture
async def on_zalo(
    fake_api: FakeBotApi, tmp_path: Path, small_ward: WardFile
) -> AsyncIterator[tuple[RunningBot, FakeZaloApi]]:
    """The bot serving Zalo (and Telegram), with its fake Zalo API."""
    async with FakeZaloApi() as fake:
        settings = make_settings(tmp_path, zalo_bot_token=fake.token, zalo_api_base_url=fake.base_url)
        running = RunningBot(fake_api, settings, small_ward, clock=lambda: NOW)
        await running.start()
        try:
            yield running, fake
        finally:
            await running.stop()


async def test_forgetme_on_zalo_leaves_no_trace_either(on_zalo: tuple[RunningBot, FakeZaloApi]) -> None:
    running, zalo = on_zalo
    tram = ZaloUser("zalo-880012345", RESIDENT_NAME)

    async def says(words: str) -> str:
        since = zalo.mark()
        zalo.push_text(tram, words)
        await zalo.wait_for(1, chat_id=tram.id, since=since, timeout=20)
        await zalo.wait_idle()
        return "\n".join(m.shown for m in zalo.sent[since:] if m.chat_id == tram.id)

    assert "TDP01" in await says("/follow TDP01")
    asked = await says("/forgetme")
    assert "1 ✅ Xoá dữ liệu của tôi" in asked
    assert await traces(running, RESIDENT_NAME, tram.id)

    assert "Đã xoá" in await says("1")
    assert await traces(running, RESIDENT_NAME, tram.id) == []
