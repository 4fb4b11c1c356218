"""Benchmark of the ward's web page: time and SQL statements per page, for a signed-in ward officer.

Run `python -m bench.web [--groups 300 --months 36] [--quick]`. It builds the same generated ward as
`bench.standings` (seeded, three years of reports), adds a campaign of every group with a delivered
announcement, starts the real web server on 127.0.0.1 and asks each page over HTTP: once with nothing cached
(after a warm-up pass that compiles the templates), then the best of several more requests. The
time is measured around the whole request, so it bounds the server's time from above. The same
pages on a small ward show that the number of statements does not grow with the groups.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.standings import (
    LAST_MONTH,
    RUNS,
    SMALL_WARD,
    WARD_ID,
    StatementCounter,
    build_ward,
)
from bot.channels.web import SESSION_COOKIE, WebPages
from bot.http import HttpServer
from bot.indicators import DEFAULT_INDICATORS
from bot.settings import Settings
from bot.ward_config import default_ward_file
from bot.web_pages import StandingsCache
from bot.web_signin import issue_link, sign_in
from bot.wiring import Wiring
from storage.engine import create_session_factory
from storage.models import Broadcast, Campaign, CampaignGroup, OutboxMessage, Person, Pledge, Report
from storage.unit_of_work import unit_of_work

PAGE_TARGET_MS = 150.0
NOW = datetime(LAST_MONTH.year + 1, 1, 3, 2, 0, tzinfo=UTC)  # 3 January: December is being reported


def pages(period_year: int) -> list[tuple[str, str, bool]]:
    """(what, path, a page people read rather than a file or picture) for every page measured."""
    year = str(period_year)
    return [
        ("this month", "/", True),
        ("standings: month", f"/standings?period={LAST_MONTH}", True),
        ("standings: quarter", f"/standings?period={year}-Q4", True),
        ("standings: year", f"/standings?period={year}", True),
        ("standings: year, one block", f"/standings?period={year}&block=Khu+v%E1%BB%B1c+1", True),
        ("standings: campaign", "/standings?period=%231", True),
        ("a group (12 months, trail)", "/groups/TDP001", True),
        ("campaigns", "/campaigns", True),
        ("downloads", "/downloads", True),
        ("chart PNG: year", f"/standings/chart.png?period={year}", False),
        ("export xlsx: month", f"/downloads/{LAST_MONTH}.xlsx", False),
        ("export xlsx: year", f"/downloads/{year}.xlsx", False),
    ]


async def add_campaign_and_officer(engine: AsyncEngine, groups: int) -> int:
    """A launched campaign of every group (half pledged, its announcement delivered) and ward staff;
    returns the officer's person id."""
    created = datetime(LAST_MONTH.year, 1, 1, tzinfo=UTC)
    async with engine.begin() as connection:
        await connection.execute(
            insert(Person),
            [
                {
                    "id": 1,
                    "platform": "telegram",
                    "external_id": "1",
                    "display_name": "Cán bộ",
                    "is_staff": True,
                    "ward_id": WARD_ID,
                    "is_province": False,
                    "active": True,
                    "created_at": created,
                    "updated_at": created,
                }
            ],
        )
        await connection.execute(
            insert(Broadcast),
            [{"id": 1, "ward_id": WARD_ID, "kind": "campaign", "title": "Phát động", "created_at": created}],
        )
        await connection.execute(
            insert(Campaign),
            [
                {
                    "id": 1,
                    "ward_id": WARD_ID,
                    "title": "Toàn dân đoàn kết xây dựng đời sống văn hóa",
                    "announcement": "",
                    "starts_on": date(LAST_MONTH.year, 1, 1),
                    "created_by": 1,
                    "created_at": created,
                    "launched_at": created,
                    "launch_broadcast_id": 1,
                }
            ],
        )
        members: list[dict[str, Any]] = [{"campaign_id": 1, "group_id": g} for g in range(1, groups + 1)]
        await connection.execute(insert(CampaignGroup), members)
        pledged = [{**row, "person_id": None, "at": created} for row in members[::2]]
        await connection.execute(insert(Pledge), pledged)
        messages = [
            {
                "broadcast_id": 1,
                "platform": "telegram",
                "chat_external_id": str(-1000 - g),
                "status": "sent" if g % 10 else "blocked",
                "next_attempt_at": created,
                "created_at": created,
            }
            for g in range(1, groups + 1)
        ]
        await connection.execute(insert(OutboxMessage), messages)
    return 1


@dataclass(frozen=True)
class PageTiming:
    """One page: the first request (nothing cached) and the best of the next ones, and its statements."""

    what: str
    groups: int
    first: float
    again: float
    queries: int


def page_table(rows: Sequence[PageTiming]) -> str:
    """A markdown table: what, groups, first ms, again ms, queries."""
    width = max(len("what"), *(len(row.what) for row in rows))
    lines = [
        f"| {'what':<{width}} | groups | first ms | again ms | queries |",
        f"|{'-' * (width + 2)}|-------:|---------:|---------:|--------:|",
    ]
    lines.extend(
        f"| {r.what:<{width}} | {r.groups:>6} | {r.first:>8.1f} | {r.again:>8.1f} | {r.queries:>7} |"
        for r in rows
    )
    return "\n".join(lines)


async def measure_pages(engine: AsyncEngine, groups: int, runs: int) -> list[PageTiming]:
    """Every page of one ward over HTTP, signed in as its officer."""
    person_id = await add_campaign_and_officer(engine, groups)
    settings = Settings(_env_file=None, database_url=str(engine.url), web_port=0)
    ward = default_ward_file("Phường Tràng Cát")
    assert ward.indicators == DEFAULT_INDICATORS
    wiring = Wiring(settings, ward, engine, create_session_factory(engine), clock=lambda: NOW)
    wiring.wards = {WARD_ID: ward}
    async with unit_of_work(wiring.factory) as uow:
        code = await issue_link(uow, person_id, WARD_ID, now=NOW)
        token = (await sign_in(uow, code, now=NOW)).token
    http = HttpServer("127.0.0.1")
    web_pages = WebPages(wiring)
    web_pages.mount(http, 0)
    await http.start()
    base = f"http://127.0.0.1:{http.ports[0]}"
    counter = StatementCounter(engine)
    rows = []
    try:
        async with aiohttp.ClientSession(cookies={SESSION_COOKIE: token}) as client:
            for _what, path, _page in pages(LAST_MONTH.year):  # templates compiled, modules imported
                await (await client.get(base + path)).read()
            for what, path, _page in pages(LAST_MONTH.year):
                web_pages.cache = StandingsCache()  # the first request computes everything
                with counter.measure() as queries:
                    start = time.perf_counter()
                    answer = await client.get(base + path)
                    await answer.read()
                    first = (time.perf_counter() - start) * 1000
                assert answer.status == 200, (path, answer.status, await answer.text())
                times = []
                for _ in range(runs):
                    start = time.perf_counter()
                    answer = await client.get(base + path)
                    await answer.read()
                    times.append((time.perf_counter() - start) * 1000)
                rows.append(PageTiming(what, groups, first, min(times), queries[0]))
            # A head sends December's report again: only December is scored afresh for the year.
            year = f"/standings?period={LAST_MONTH.year}"
            await (await client.get(base + year)).read()
            times, counts = [], []
            for step in range(runs):
                async with engine.begin() as connection:
                    await connection.execute(
                        update(Report)
                        .where(Report.id == select(func.max(Report.id)).scalar_subquery())
                        .values(submitted_at=NOW + timedelta(minutes=step + 1))
                    )
                with counter.measure() as queries:
                    start = time.perf_counter()
                    await (await client.get(base + year)).read()
                    times.append((time.perf_counter() - start) * 1000)
                counts.append(queries[0])
            what = "standings: year, after a report"
            rows.append(PageTiming(what, groups, times[0], min(times), counts[0]))
    finally:
        await http.stop()
    return rows


async def main_async(groups: int, months: int, runs: int) -> int:
    small = SMALL_WARD if groups > SMALL_WARD else 3
    with tempfile.TemporaryDirectory(prefix="wardbench-web-") as folder:
        start = time.perf_counter()
        big = await build_ward(Path(folder), "ward", groups, months, DEFAULT_INDICATORS)
        little = await build_ward(Path(folder), "small", small, months, DEFAULT_INDICATORS)
        print(
            f"Generated ward: {groups} groups × {months} months × {len(DEFAULT_INDICATORS)} indicators "
            f"(+ a {small}-group ward) in {time.perf_counter() - start:.1f} s; best of {runs} requests."
        )
        try:
            big_rows = await measure_pages(big, groups, runs)
            small_rows = await measure_pages(little, small, runs)
        finally:
            await big.dispose()
            await little.dispose()
    print()
    print(page_table(big_rows))
    print()
    readable = {what for what, _path, page in pages(LAST_MONTH.year) if page} | {
        "standings: year, after a report"
    }
    slow = [row for row in big_rows if row.what in readable and row.again >= PAGE_TARGET_MS]
    cold = [row for row in big_rows if row.what in readable and row.first >= PAGE_TARGET_MS]
    changed = [
        f"{b.what} ({s.queries} → {b.queries})"
        for b, s in zip(big_rows, small_rows, strict=True)
        if b.queries != s.queries
    ]
    print(
        f"queries independent of the number of groups ({small} vs {groups}): {'yes' if not changed else 'NO'}"
    )
    for line in changed:
        print(f"  differs: {line}")
    verdict = "met" if not slow else "missed by " + ", ".join(row.what for row in slow)
    print(f"target: every page under {PAGE_TARGET_MS:.0f} ms for {groups} groups (again): {verdict}")
    first = "met" if not cold else "missed by " + ", ".join(row.what for row in cold)
    print(f"the same for the first request of each page (nothing cached): {first}")
    return 0 if not changed else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__)
    parser.add_argument("--groups", type=int, default=300, help="groups in the ward (default 300)")
    parser.add_argument("--months", type=int, default=36, help="months of reports (default 36)")
    parser.add_argument("--runs", type=int, default=RUNS, help=f"requests per page (default {RUNS})")
    parser.add_argument("--quick", action="store_true", help="30 groups × 6 months, for a CI smoke test")
    args = parser.parse_args(argv)
    groups, months = (30, 6) if args.quick else (args.groups, args.months)
    if groups < 1 or months < 1 or args.runs < 1:
        parser.error("groups, months and runs must be at least 1")
    return asyncio.run(main_async(groups, months, args.runs))


if __name__ == "__main__":
    sys.exit(main())
