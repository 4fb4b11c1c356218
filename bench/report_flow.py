"""Deadline-day rush: group heads walking the monthly report at once, against a bare echo bot.

Run `python -m bench.report_flow [--heads 200 --stepping 20] [--quick] [--stats]`. In one run it
starts the fake Bot API on 127.0.0.1 and, one after the other,

- the baseline, a bare python-telegram-bot echo bot (`bench/echo_bot.py`), and
- the real bot, `python -m bot run` on a fresh SQLite database (or DATABASE_URL's PostgreSQL with
  `--database`) with a ward file of `heads + stepping` groups,

each in its own process, and plays the same crowd against each: `--heads` people walking a whole
report at the same moment (throughput), then `--stepping` people doing the same (latency of a step
when the bot is busy but not flooded). A step is one message or button press until the bot's next
message to that chat. The echo bot gets as many text messages per person as a report takes.
It prints one markdown table with updates/s, complete reports/s, p50/p95/p99 step latency, CPU
per update, and the ratios against the echo bot. `--stats` runs the bot under
`bench.instrumented_bot` and adds SQL statements and transactions per update.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.rush import (
    BotProcess,
    WatchedBotApi,
    bot_environment,
    load,
    percentile,
    read_json,
    run_cli,
    start_process,
    table,
    wait_polling,
)
from bot.simulator import FakeUser, SentMessage

STAFF_ID = 1
HEAD_IDS = 100_000  # head n is user HEAD_IDS + n
STEP_TIMEOUT = 120.0
WARD_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")

INDICATORS = """
[[indicators]]
key = "births"
label = { vi = "Số trẻ sinh", en = "Births" }
unit = "người"
kind = "integer"
min = 0
max = 30
soft_max = 15

[[indicators]]
key = "waste_sorting_pct"
label = { vi = "Hộ phân loại rác tại nguồn", en = "Households sorting waste" }
kind = "percent"
direction = "higher"

[[indicators]]
key = "meeting_attendance_pct"
label = { vi = "Hộ dự họp, sinh hoạt tổ", en = "Households at the group's meetings" }
kind = "percent"
direction = "higher"

[[indicators]]
key = "vneid_level2_pct"
label = { vi = "Công dân có VNeID mức 2", en = "Citizens with VNeID level 2" }
kind = "percent"
direction = "higher"

[[indicators]]
key = "fund_contributions"
label = { vi = "Ủng hộ các quỹ", en = "Fund contributions" }
unit = "đồng"
kind = "money"
min = 0
max = 500000000
direction = "neutral"

[[indicators]]
key = "cleanup_done"
label = { vi = "Có tổng vệ sinh trong tháng", en = "Clean-up held this month" }
kind = "yesno"
direction = "higher"

[[indicators]]
key = "no_fire"
label = { vi = "Không để xảy ra cháy, nổ", en = "No fire or explosion" }
kind = "yesno"
direction = "higher"

[[indicators]]
key = "security_rating"
label = { vi = "Tình hình an ninh", en = "Security situation" }
kind = "choice"
choices = ["Tốt", "Khá", "Cần cố gắng"]
"""

# What a head answers to each question, found by its label: typed text, or a button to press.
ANSWERS: list[tuple[str, str, bool]] = [
    ("Số trẻ sinh", "2", False),
    ("Hộ phân loại rác", "85", False),
    ("Hộ dự họp", "80,5", False),
    ("VNeID", "92", False),
    ("Ủng hộ các quỹ", "1.500.000", False),
    ("Có tổng vệ sinh", "Có", True),
    ("cháy, nổ", "Có", True),
    ("Tình hình an ninh", "Tốt", True),
]
DONE = "✅ Đã gửi báo cáo"
CONFIRM = "✅ Xác nhận"


def ward_file(groups: int) -> str:
    """A ward of `groups` groups and eight indicators of every kind a report asks."""
    parts = ['[ward]\nname = "Phường Rush"\ncode = "RUSH"\nreport_deadline_day = 5\n']
    for number in range(1, groups + 1):
        code, name = f"TDP{number:03d}", f"Tổ dân phố số {number}"
        parts.append(f'[[groups]]\ncode = "{code}"\nname = "{name}"\nhouseholds = {100 + number}\n')
    return "\n".join(parts) + INDICATORS


@dataclass
class Crowd:
    """What one crowd of people measured: step latencies, updates, finished walks, wall time."""

    latencies: list[float] = field(default_factory=list)
    updates: int = 0
    walks: int = 0
    seconds: float = 0.0
    cpu: float = 0.0

    @property
    def updates_per_second(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    @property
    def walks_per_second(self) -> float:
        return self.walks / self.seconds if self.seconds else 0.0

    def ms(self, share: float) -> float:
        return percentile(self.latencies, share) * 1000


class Walker:
    """One person in a private chat; a step is an update and the wait for the bot's next message."""

    def __init__(self, fake: WatchedBotApi, user_id: int, crowd: Crowd) -> None:
        self.fake, self.crowd = fake, crowd
        self.user = FakeUser(id=user_id, first_name=f"Người {user_id}", language_code="vi")

    async def _step(self, push: Callable[[], object], until: Callable[[SentMessage], bool]) -> SentMessage:
        """Push, then read the bot's messages until one `until` accepts; the latency is to the first."""
        index = len(self.fake.by_chat[self.user.id])
        started = time.perf_counter()
        push()
        message = await asyncio.wait_for(self.fake.message(self.user.id, index), STEP_TIMEOUT)
        self.crowd.latencies.append(time.perf_counter() - started)
        self.crowd.updates += 1
        while not until(message):
            index += 1
            message = await asyncio.wait_for(self.fake.message(self.user.id, index), STEP_TIMEOUT)
        return message

    async def says(self, text: str, until: Callable[[SentMessage], bool] = lambda _m: True) -> SentMessage:
        return await self._step(lambda: self.fake.push_message(self.user, text), until)

    async def presses(
        self, message: SentMessage, label: str, until: Callable[[SentMessage], bool] = lambda _m: True
    ) -> SentMessage:
        return await self._step(lambda: self.fake.press(self.user, message, label), until)


def actionable(message: SentMessage) -> bool:
    """A message a head acts on: a question, the summary, the receipt."""
    text = message.text or ""
    if message.edited_message_id is not None:
        return False
    return (
        DONE in text
        or any(b.text == CONFIRM for b in message.flat_buttons)
        or any(label in text for label, _reply, _button in ANSWERS)
    )


async def report(walker: Walker) -> None:
    """A head walks a whole report: /report for this month, eight answers, the summary's confirmation."""
    month = datetime.now(WARD_TIMEZONE).strftime(
        "%Y-%m"
    )  # this month: no month choice, the same steps any day
    said = await walker.says(f"/report {month}", actionable)
    for _ in range(len(ANSWERS) + 2):
        text = said.text or ""
        if DONE in text:
            walker.crowd.walks += 1
            return
        if any(b.text == CONFIRM for b in said.flat_buttons):
            said = await walker.presses(said, CONFIRM, actionable)
            continue
        answer = next(((reply, button) for label, reply, button in ANSWERS if label in text), None)
        if answer is None:
            raise RuntimeError(f"head {walker.user.id}: unexpected message {text[:200]!r}")
        reply, button = answer
        said = await (walker.presses(said, reply, actionable) if button else walker.says(reply, actionable))
    raise RuntimeError(f"head {walker.user.id}: the report did not finish; last message {said.text!r}")


def steps_of_report() -> int:
    """Updates one report takes: /report, the answers, the confirmation."""
    return 1 + len(ANSWERS) + 1


async def echo_walk(walker: Walker) -> None:
    """The baseline's person sends as many messages as a report takes, each after the echo came back."""
    for number in range(steps_of_report()):
        await walker.says(f"{number + 1}")
    walker.crowd.walks += 1


async def crowd(
    fake: WatchedBotApi, bot: BotProcess, ids: range, walk: Callable[[Walker], Awaitable[None]]
) -> Crowd:
    """Everyone in `ids` walks at once; wall time from the first update to the last answer."""
    result = Crowd()
    walkers = [Walker(fake, user_id, result) for user_id in ids]
    cpu = bot.cpu_seconds()
    started = time.perf_counter()
    await asyncio.gather(*(walk(walker) for walker in walkers))
    result.seconds = time.perf_counter() - started
    result.cpu = bot.cpu_seconds() - cpu
    return result


async def appoint_heads(fake: WatchedBotApi, groups: int) -> None:
    """Ward staff invite a head for every group (/invite), and each head opens their link."""
    staff = Walker(fake, STAFF_ID, Crowd())
    codes: list[str] = []
    for number in range(1, groups + 1):
        said = await staff.says(f"/invite TDP{number:03d}")
        codes.append((said.text or "").split("start=")[1].split()[0])

    async def opens(number: int, code: str) -> None:
        head = Walker(fake, HEAD_IDS + number, Crowd())
        said = await head.says(f"/start {code}")
        if "TDP" not in (said.text or "") and "Tổ" not in (said.text or ""):
            raise RuntimeError(f"head {number} was not appointed: {said.text!r}")

    await asyncio.gather(*(opens(number, code) for number, code in enumerate(codes, start=1)))


@dataclass
class Run:
    """One bot's figures: the flood of heads and the stepping crowd."""

    name: str
    rush: Crowd
    stepping: Crowd
    stats: dict[str, Any] = field(default_factory=dict)


async def run_echo(folder: Path, heads: int, stepping: int) -> Run:
    async with WatchedBotApi() as fake:
        bot = start_process("bench.echo_bot", [], bot_environment(fake, folder), folder, "echo")
        try:
            await wait_polling(fake, bot)
            rush = await crowd(fake, bot, range(HEAD_IDS + 1, HEAD_IDS + heads + 1), echo_walk)
            base = HEAD_IDS + heads
            step = await crowd(fake, bot, range(base + 1, base + stepping + 1), echo_walk)
        finally:
            bot.stop()
    return Run("echo bot (PTB, baseline)", rush, step)


async def run_wardbot(
    folder: Path,
    heads: int,
    stepping: int,
    *,
    database: str | None,
    stats: bool,
    profile: str | None = None,
    trace: str | None = None,
) -> Run:
    groups = heads + stepping
    ward = folder / "rush.toml"
    ward.write_text(ward_file(groups), encoding="utf-8")
    url = database or f"sqlite+aiosqlite:///{folder / 'rush.sqlite3'}"
    stats_file = folder / "stats.json"
    async with WatchedBotApi() as fake:
        env = bot_environment(fake, folder, DATABASE_URL=url, WARD_CONFIG=str(ward))
        run_cli(["admin", "add", str(STAFF_ID), "--name", "Cán bộ"], env, folder)
        module = "bot"
        if stats:
            module = "bench.instrumented_bot"
            env["BENCH_STATS"] = str(stats_file)
            if trace:
                env["BENCH_TRACE"] = trace
            if os.environ.get("BENCH_INLINE_SQLITE"):
                env["BENCH_INLINE_SQLITE"] = "1"
            if profile:
                env["BENCH_PROFILE"] = profile
        bot = start_process(module, ["run"], env, folder, "wardbot")
        try:
            await wait_polling(fake, bot)
            await appoint_heads(fake, groups)
            rush = await crowd(fake, bot, range(HEAD_IDS + 1, HEAD_IDS + heads + 1), report)
            step = await crowd(fake, bot, range(HEAD_IDS + heads + 1, HEAD_IDS + groups + 1), report)
            updates = rush.updates + step.updates
        finally:
            code = bot.stop()
        if code not in (0, None):
            print(bot.tail(), file=sys.stderr)
    result = Run("wardbot (report flow)", rush, step)
    if stats:
        # The counters cover the whole run: subtract nothing, but say it includes the setup.
        counted = read_json(stats_file)
        setup = groups * 2 + 1
        result.stats = counted | {"updates": updates + setup}
    return result


def render(echo: Run, ward: Run, heads: int, stepping: int) -> str:
    """The table of both runs and the ratios."""
    rows: list[list[object]] = []
    for run in (echo, ward):
        rows.append(
            [
                run.name,
                run.rush.updates_per_second,
                run.rush.walks_per_second,
                run.stepping.ms(0.5),
                run.stepping.ms(0.95),
                run.stepping.ms(0.99),
                run.rush.ms(0.95),
                1000 * (run.rush.cpu + run.stepping.cpu) / max(1, run.rush.updates + run.stepping.updates),
            ]
        )
    rows.append(
        [
            "ratio wardbot / echo",
            ward.rush.updates_per_second / echo.rush.updates_per_second,
            ward.rush.walks_per_second / echo.rush.walks_per_second,
            ward.stepping.ms(0.5) / echo.stepping.ms(0.5),
            ward.stepping.ms(0.95) / echo.stepping.ms(0.95),
            ward.stepping.ms(0.99) / echo.stepping.ms(0.99),
            ward.rush.ms(0.95) / echo.rush.ms(0.95),
            float(rows[1][-1]) / float(rows[0][-1]),  # type: ignore[arg-type]
        ]
    )
    header = [
        "bot",
        f"updates/s ({heads} at once)",
        "reports/s",
        f"p50 ms ({stepping} at once)",
        "p95 ms",
        "p99 ms",
        f"p95 ms ({heads})",
        "CPU ms/update",
    ]
    out = [table(header, rows)]
    if ward.stats:
        updates = int(ward.stats["updates"])
        transactions = ward.stats.get("transactions", {})
        begun = int(transactions.get("begin", 0)) if isinstance(transactions, dict) else 0
        out.append(
            f"\nSQL per update (whole run incl. start and setup, {updates} updates): "
            f"{int(ward.stats['statements']) / updates:.1f} statements, "
            f"{begun / updates:.2f} transactions"
        )
    timing = ward.stats.get("timing") if ward.stats else None
    if timing:
        seconds = ward.rush.seconds + ward.stepping.seconds
        out.append(
            f"Time inside transactions: {timing.get('transaction_seconds', 0):.1f} s, in statements "
            f"{timing.get('statement_seconds', 0):.1f} s (whole run; the two crowds took {seconds:.1f} s)"
        )
    return "\n".join(out)


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="wardbot-rush-") as name:
        folder = Path(name)
        echo = await run_echo(folder, args.heads, args.stepping)
        ward = await run_wardbot(
            folder,
            args.heads,
            args.stepping,
            database=args.database,
            stats=args.stats or bool(args.profile),
            profile=args.profile,
            trace=args.trace,
        )
        print(f"Report flow rush, {load()} (before), steps per report {steps_of_report()}:\n")
        print(render(echo, ward, args.heads, args.stepping))
        if args.stats and ward.stats:
            print("\nMost frequent statements:")
            for text, count in ward.stats.get("by_statement", [])[:25]:
                print(f"{count:7d}  {text}")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--heads", type=int, default=200, help="people reporting at the same moment")
    parser.add_argument("--stepping", type=int, default=20, help="people for the latency figures")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 6 and 3 people")
    parser.add_argument("--stats", action="store_true", help="count SQL statements and transactions")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the bot's run to FILE")
    parser.add_argument("--trace", metavar="FILE", help="write every SQL statement of the bot to FILE")
    parser.add_argument("--database", help="a PostgreSQL URL instead of a fresh SQLite file")
    args = parser.parse_args(argv)
    if args.profile:
        args.profile = str(Path(args.profile).resolve())
    if args.trace:
        args.trace = str(Path(args.trace).resolve())
        args.stats = True
    if args.quick:
        args.heads, args.stepping = 6, 3
    return args


def main(argv: list[str] | None = None) -> None:
    asyncio.run(main_async(parse(argv)))


if __name__ == "__main__":
    main()
