"""The durable inbox, as a black box: `python -m bot run` killed (-9) right after Telegram saw the offset
move, then started again — every acknowledged update is handled, none twice."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import text

from bot.simulator import FakeBotApi, FakeUser
from storage.engine import create_engine
from tests.bot.test_run import _environment, bot_process


async def _until(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.01)


async def test_a_burst_acknowledged_before_a_kill_9_is_answered_after_the_restart(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    env = _environment(fake_api, tmp_path)
    people = [FakeUser(id=3000 + n, first_name=f"Người {n}", language_code="vi") for n in range(40)]
    async with bot_process(env, tmp_path) as process:
        await _until(lambda: any(method == "getUpdates" for method, _ in fake_api.calls), 60, "polling")
        fake_api.delays["sendMessage"] = 0.3  # answering takes a while: the kill comes mid-burst
        pushed = [fake_api.push_message(person, "/help") for person in people]
        last = max(update["update_id"] for update in pushed)
        await _until(lambda: fake_api.confirmed_offset > last, 30, "the offset to move past the burst")
        process.kill()
        await process.wait()
    answered_before = {m.chat_id for m in fake_api.sent}
    assert len(answered_before) < len(people), "the kill came after every answer; nothing was tested"
    engine = create_engine(env["DATABASE_URL"])
    async with engine.connect() as connection:
        in_flight = await connection.scalar(
            text("SELECT count(*) FROM outbox_messages WHERE status = 'sending'")
        )
        received = await connection.scalar(text("SELECT count(*) FROM inbox"))
    await engine.dispose()
    assert in_flight is not None and received is not None
    assert received >= len(people)  # every acknowledged update was in the inbox before the kill

    fake_api.delays.clear()
    async with bot_process(env, tmp_path):
        await _until(
            lambda: all(fake_api.messages_to(person.id) for person in people), 60, "every person answered"
        )
        await fake_api.wait_idle()
    answers = {person.id: len(fake_api.messages_to(person.id)) for person in people}
    assert all(count >= 1 for count in answers.values())
    # Only replies in flight at the kill may go out twice; no update is handled twice.
    assert sum(count - 1 for count in answers.values()) <= in_flight
