"""Benchmark: the report flow served by one worker and by two, on PostgreSQL, in the same run.

Run `python -m bench.workers [--heads 200] [--concurrency 50] [--quick]`. Needs the PostgreSQL
server at 127.0.0.1:5432 (user postgres, no password; `WARDBOT_BENCH_POSTGRES` names another).
For each setting it makes a fresh database, starts the workers as `wardbot run` processes in
webhook mode behind the same stand-in for a reverse proxy the tests use, and lets every head of
the ward walk a whole monthly report (join, open the report, three answers, confirm) with
`concurrency` heads at a time. It prints updates handled per second, complete reports per second
and the step latency (an update posted until the bot's answer reached the fake Bot API), with the
ratio of two workers to one. Both workers run on this one machine, so the ratio says what a
second worker costs or brings here, not on two machines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.membership import issue_invite
from bot.periods import Month
from bot.simulator import FakeBotApi, FakeUser
from bot.simulator.workers import Workers, ward_file, workers
from storage.models import utcnow

SERVER = os.environ.get("WARDBOT_BENCH_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432").rstrip("/")
STEPS = 6  # updates per report: /start CODE, /report MONTH, two answers, yes, confirm


@dataclass
class Run:
    """What one setting measured."""

    workers: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    reports: int = 0

    @property
    def updates_per_second(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def reports_per_second(self) -> float:
        return self.reports / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _admin(statement: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(SERVER.replace("postgresql+asyncpg", "postgresql") + "/postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _step(
    fake: FakeBotApi, running: Workers, head: FakeUser, update: dict[str, Any], replies: int
) -> float:
    """Post one update through the proxy; seconds until its `replies` answers were sent."""
    since = fake.mark()
    started = time.perf_counter()
    await running.post(update)
    await fake.wait_for(replies, chat_id=head.id, since=since, timeout=300)
    return time.perf_counter() - started


async def _report(fake: FakeBotApi, running: Workers, head: FakeUser, code: str, run: Run) -> None:
    month = str(Month.of(utcnow().date()))
    steps = [
        (fake.push_message(head, f"/start {code}"), 1),
        (fake.push_message(head, f"/report {month}"), 2),
        (fake.push_message(head, "2"), 1),
        (fake.push_message(head, "85"), 1),
    ]
    for update, replies in steps:
        run.latencies.append(await _step(fake, running, head, update, replies))
    for button in ("Có", "✅ Xác nhận"):
        message = next(m for m in reversed(fake.messages_to(head.id)) if m.buttons)
        run.latencies.append(await _step(fake, running, head, fake.press(head, message, button), 1))
    if "Đã gửi báo cáo" in (fake.messages_to(head.id)[-1].text or ""):
        run.reports += 1


async def measure(count: int, heads: int, concurrency: int, folder: Path) -> Run:
    """One setting: `count` workers, a fresh database, every head reporting once."""
    database = f"wardbot_bench_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{database}"')
    run = Run(workers=count)
    try:
        async with FakeBotApi() as fake:
            ward = ward_file(folder, heads)
            async with workers(fake, folder, ward, f"{SERVER}/{database}", count=count) as running:

                async def invites(uow: Any, wiring: Any) -> list[str]:
                    groups = await uow.groups.all(wiring.first_ward_id)
                    return [
                        await issue_invite(
                            uow, g, "head", actor=None, now=utcnow(), valid_for=timedelta(days=7)
                        )
                        for g in groups
                    ]

                codes = await running.seed(invites)
                for index in range(count):
                    await running.start(index)
                people = [
                    FakeUser(id=50_000 + n, first_name=f"Tổ trưởng {n}", language_code="vi")
                    for n in range(heads)
                ]
                slots = asyncio.Semaphore(concurrency)

                async def one(head: FakeUser, code: str) -> None:
                    async with slots:
                        await _report(fake, running, head, code, run)

                started = time.perf_counter()
                await asyncio.gather(*(one(h, c) for h, c in zip(people, codes, strict=True)))
                run.seconds = time.perf_counter() - started
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return run


def table(runs: list[Run]) -> str:
    base = runs[0]
    lines = [
        "| workers | updates/s | reports/s | p50 step ms | p95 step ms | updates/s vs 1 worker |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        lines.append(
            f"| {run.workers} | {run.updates_per_second:.1f} | {run.reports_per_second:.1f} | "
            f"{run.percentile(0.5):.0f} | {run.percentile(0.95):.0f} | "
            f"{run.updates_per_second / base.updates_per_second:.2f}× |"
        )
    return "\n".join(lines)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heads", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="a few heads, to check that it runs")
    args = parser.parse_args(argv)
    heads, concurrency = (6, 3) if args.quick else (args.heads, args.concurrency)
    runs = []
    for count in (1, 2):
        with tempfile.TemporaryDirectory() as folder:
            runs.append(await measure(count, heads, concurrency, Path(folder)))
    for run in runs:
        if run.reports != heads:
            print(
                f"only {run.reports} of {heads} reports completed with {run.workers} worker(s)",
                file=sys.stderr,
            )
            return 1
    print(f"{heads} heads, {concurrency} at a time, {STEPS} updates each, load {os.getloadavg()[0]:.1f}\n")
    print(table(runs))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
