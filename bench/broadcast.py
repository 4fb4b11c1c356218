"""A campaign launched to 1,000 group chats under Telegram's flood limits, and the same across a kill -9.

Run `python -m bench.broadcast [--chats 1000] [--quick]`. The fake Bot API enforces Telegram's limits
(30 messages/s overall, 20 per minute per group chat) and answers 429 beyond them. The real bot
(`python -m bot run`, a fresh SQLite database, a ward file of `--chats` groups whose chats are linked)
runs as a process; ward staff launch a campaign through /campaign in their private chat, and the
time is taken from the launch to the last group chat reached. Printed: seconds, messages/s, 429
answers, chats never reached (lost) and messages repeated. The second run kills the bot with
SIGKILL when a third of the chats were reached, starts it again, and counts the same: nothing may
be lost, and only messages that were in flight at the kill (at most a claimed batch and the sends
waiting for their record) may come twice.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.rush import (
    BotProcess,
    WatchedBotApi,
    bot_environment,
    load,
    run_cli,
    start_process,
    table,
    wait_polling,
)
from bot.outbox import BATCH
from bot.simulator import FakeUser, SentMessage
from storage.engine import create_engine, create_session_factory
from storage.models import Chat, ResidentialGroup
from storage.unit_of_work import unit_of_work

STAFF_ID = 1
FIRST_CHAT = -1_000_000_000  # group chat n is FIRST_CHAT - n
TITLE = "Toàn dân đoàn kết xây dựng đời sống văn hóa"
DELIVERY_TIMEOUT = 600.0
CEILING = 30.0  # Telegram's messages per second for one bot


def ward_file(groups: int) -> str:
    parts = ['[ward]\nname = "Phường Loa"\ncode = "LOA"\n']
    for number in range(1, groups + 1):
        parts.append(
            f'[[groups]]\ncode = "TDP{number:04d}"\nname = "Tổ dân phố số {number}"\nhouseholds = 200\n'
        )
    return "\n".join(parts)


async def link_chats(url: str, groups: int) -> None:
    """Every group's chat, linked (as `/link` in each chat would leave it), written before the bot starts."""
    engine = create_engine(url)
    try:
        async with unit_of_work(create_session_factory(engine)) as uow:
            rows = await uow.groups.all(None)
            uow.session.add_all(
                Chat(
                    platform="telegram",
                    external_id=str(FIRST_CHAT - number),
                    kind="group",
                    title=group.name,
                    group_id=group.id,
                )
                for number, group in enumerate(sorted(rows, key=lambda g: g.code), start=1)
                if isinstance(group, ResidentialGroup)
            )
    finally:
        await engine.dispose()
    if len(rows) != groups:
        raise RuntimeError(f"expected {groups} groups, found {len(rows)}")


class Staff:
    """The ward officer in their private chat with the bot."""

    def __init__(self, fake: WatchedBotApi) -> None:
        self.fake = fake
        self.user = FakeUser(id=STAFF_ID, first_name="Cán bộ", language_code="vi")

    async def says(self, text: str, expect: str) -> SentMessage:
        index = len(self.fake.by_chat[STAFF_ID])
        self.fake.push_message(self.user, text)
        return await self._until(index, expect)

    async def presses(self, message: SentMessage, label: str, expect: str) -> SentMessage:
        index = len(self.fake.by_chat[STAFF_ID])
        self.fake.press(self.user, message, label)
        return await self._until(index, expect)

    async def _until(self, index: int, expect: str) -> SentMessage:
        while True:
            message = await asyncio.wait_for(self.fake.message(STAFF_ID, index), 120)
            if expect in (message.text or "") or any(expect in b.text for b in message.flat_buttons):
                return message
            index += 1


async def prepare_campaign(fake: WatchedBotApi) -> tuple[Staff, SentMessage]:
    """/campaign: title, announcement, dates, every group, no criteria: the preview with its launch button."""
    staff = Staff(fake)
    await staff.says("/campaign", "Tên phong trào")
    await staff.says(TITLE, "nội dung thông báo")
    await staff.says("Hưởng ứng phong trào thi đua năm 2027", "Ngày bắt đầu")
    await staff.says("01/01/2027", "Ngày kết thúc")
    groups = await staff.says("31/12/2027", "Tất cả các tổ")
    criteria = await staff.presses(groups, "Tất cả các tổ", "Xong")
    preview = await staff.presses(criteria, "Xong", "Phát động")
    return staff, preview


@dataclass
class Delivery:
    """What reached the group chats."""

    seconds: float
    reached: int
    expected: int
    repeated: int
    too_many: int
    killed_at: int | None = None

    @property
    def lost(self) -> int:
        return self.expected - self.reached

    @property
    def per_second(self) -> float:
        return (self.reached + self.repeated) / self.seconds if self.seconds else 0.0


def group_sends(fake: WatchedBotApi, chats: int) -> Counter[int]:
    """Messages each linked group chat received."""
    wanted = range(FIRST_CHAT - chats, FIRST_CHAT)
    return Counter(m.chat_id for m in fake.sent if m.chat_id in wanted and TITLE in (m.text or ""))


async def broadcast(folder: Path, chats: int, *, kill_at: float | None) -> Delivery:
    """One campaign launch to `chats` linked group chats; with `kill_at`, a kill -9 at that share reached."""
    ward = folder / "loa.toml"
    ward.write_text(ward_file(chats), encoding="utf-8")
    url = f"sqlite+aiosqlite:///{folder / 'loa.sqlite3'}"
    async with WatchedBotApi() as fake:
        env = bot_environment(fake, folder, DATABASE_URL=url, WARD_CONFIG=str(ward))
        run_cli(["admin", "add", str(STAFF_ID), "--name", "Cán bộ"], env, folder)
        await link_chats(url, chats)
        bot: BotProcess = start_process("bot", ["run"], env, folder, "broadcast")
        killed_at: int | None = None
        try:
            await wait_polling(fake, bot)
            staff, preview = await prepare_campaign(fake)
            fake.enforce_flood_limits = True
            fake.too_many_requests = 0
            started = time.perf_counter()
            await staff.presses(preview, "🚀 Phát động", "Đã phát động")
            deadline = started + DELIVERY_TIMEOUT
            while time.perf_counter() < deadline:
                reached = len(group_sends(fake, chats))
                if kill_at is not None and killed_at is None and reached >= kill_at * chats:
                    bot.kill()
                    killed_at = reached
                    fake.polled.clear()
                    bot = start_process("bot", ["run"], env, folder, "broadcast")
                    await wait_polling(fake, bot)
                if reached >= chats:
                    break
                await asyncio.sleep(0.05)
            seconds = time.perf_counter() - started
            await asyncio.sleep(1.0)  # anything repeated right after the last one counts too
        finally:
            bot.stop()
    sends = group_sends(fake, chats)
    repeated = sum(count - 1 for count in sends.values())
    return Delivery(seconds, len(sends), chats, repeated, fake.too_many_requests, killed_at)


def render(runs: list[tuple[str, Delivery]]) -> str:
    header = ["run", "group chats", "seconds", "msg/s", "of 30/s", "429s", "lost", "repeated"]
    rows = [
        [
            name,
            run.expected,
            run.seconds,
            run.per_second,
            f"{100 * run.per_second / CEILING:.0f}%",
            run.too_many,
            run.lost,
            run.repeated,
        ]
        for name, run in runs
    ]
    return table(header, rows)


async def main_async(args: argparse.Namespace) -> None:
    runs: list[tuple[str, Delivery]] = []
    with tempfile.TemporaryDirectory(prefix="wardbot-broadcast-") as name:
        plain = Path(name) / "plain"
        plain.mkdir()
        runs.append(("campaign launch", await broadcast(plain, args.chats, kill_at=None)))
    if not args.no_kill:
        with tempfile.TemporaryDirectory(prefix="wardbot-broadcast-") as name:
            run = await broadcast(Path(name), args.chats, kill_at=1 / 3)
            runs.append((f"kill -9 after {run.killed_at} chats, restart", run))
    print(
        f"Broadcast to {args.chats} linked group chats, {load()} (after); at most {BATCH} claimed at once:\n"
    )
    print(render(runs))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--chats", type=int, default=1000, help="linked group chats")
    parser.add_argument("--no-kill", action="store_true", help="skip the kill -9 run")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 40 chats")
    args = parser.parse_args(argv)
    if args.quick:
        args.chats = 40
    return args


def main(argv: list[str] | None = None) -> None:
    asyncio.run(main_async(parse(argv)))


if __name__ == "__main__":
    main()
