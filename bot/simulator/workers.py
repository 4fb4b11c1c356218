"""Several `wardbot run` workers on one PostgreSQL database, and a reverse proxy in front of them.

The proxy posts each update to one worker or the other, in turn, and waits for the 200 before
posting the next, as Telegram does. Used by the tests and the benchmark of several workers.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.application import load_ward_files, make_wiring, prepare
from bot.settings import Settings
from bot.simulator.fake_bot_api import FakeBotApi, FakeUser, SentMessage
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.unit_of_work import unit_of_work

SECRET = "workers-share-this-secret-0123456789"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
INDICATORS = """
[[indicators]]
key = "births"
label = { vi = "Số trẻ sinh", en = "Births" }
unit = "trẻ"
kind = "integer"
min = 0
max = 30

[[indicators]]
key = "waste_sorting_pct"
label = { vi = "Hộ phân loại rác tại nguồn", en = "Households sorting waste" }
kind = "percent"
direction = "higher"

[[indicators]]
key = "cleanup_done"
label = { vi = "Có tổng vệ sinh trong tháng", en = "Clean-up held this month" }
kind = "yesno"
direction = "higher"
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ward_file(folder: Path, groups: int, *, deadline_day: int = 5) -> Path:
    lines = ['[ward]\nname = "Phường Tràng Cát"', f"report_deadline_day = {deadline_day}", ""]
    for number in range(1, groups + 1):
        lines += [
            "[[groups]]",
            f'code = "TDP{number:03d}"',
            f'name = "Tổ dân phố số {number}"',
            "households = 200",
            "",
        ]
    path = folder / "ward.toml"
    path.write_text("\n".join(lines) + INDICATORS, encoding="utf-8")
    return path


class Workers:
    """Worker processes serving one bot token from one database; `post` plays the reverse proxy."""

    def __init__(
        self,
        fake: FakeBotApi,
        folder: Path,
        ward: Path,
        database_url: str,
        *,
        lease: int = 60,
        count: int = 2,
        pool_size: int | None = None,
    ) -> None:
        self.fake, self.folder = fake, folder
        self.database_url = database_url
        self.ports = [_free_port() for _ in range(count)]
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "WEBHOOK_", "WARD_", "ZALO_", "DATABASE_", "OUTBOX_", "WEB_"))
        } | {
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_URL": self.database_url,
            "WARD_CONFIG": str(ward),
            "WEBHOOK_URL": "https://ward.example.invalid/telegram",
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "OUTBOX_LEASE_SECONDS": str(lease),
            **({"DATABASE_POOL_SIZE": str(pool_size)} if pool_size is not None else {}),
            "WEB_PORT": "0",  # each worker's web page on a free port of its own
            "HOME": str(folder),
        }
        self.processes: list[asyncio.subprocess.Process | None] = [None] * count
        self.turn = 0
        self.http = aiohttp.ClientSession()
        self._reader: AsyncEngine | None = None  # for `scalar`, made on first use

    def settings(self) -> Settings:
        names = set(Settings.model_fields)
        values = {k.lower(): v for k, v in self.env.items() if k.lower() in names}
        return Settings.model_validate(values)  # these values only: no environment, no .env file

    async def seed(self, work: Callable[[Any, Any], Any]) -> Any:
        """Prepare the database as staff would (in this process, before or beside the workers)."""
        settings = self.settings()
        wards = load_ward_files(settings)
        wiring = make_wiring(settings, wards[0], wards)
        try:
            await upgrade(wiring.engine)
            await prepare(wiring)
            async with unit_of_work(wiring.factory) as uow:
                return await work(uow, wiring)
        finally:
            await wiring.engine.dispose()

    async def start(self, index: int) -> None:
        env = self.env | {"WEBHOOK_PORT": str(self.ports[index])}
        log = (self.folder / f"worker-{index}.log").open("ab")  # read when a test fails
        self.processes[index] = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=env,
            cwd=self.folder,
            stdout=log,
            stderr=log,
        )
        url = f"http://127.0.0.1:{self.ports[index]}/telegram"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                async with self.http.post(url, json={}) as answer:
                    if answer.status == 403:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        raise TimeoutError(f"worker {index} did not start")

    def kill(self, index: int) -> None:
        process = self.processes[index]
        assert process is not None
        process.kill()

    async def post(self, update: dict[str, Any], *, worker: int | None = None) -> None:
        """Post one update to the next worker (or the one given), as the proxy would; wait for its 200."""
        alive = [i for i, p in enumerate(self.processes) if p is not None and p.returncode is None]
        if worker is None:
            worker = alive[self.turn % len(alive)]
            self.turn += 1
        url = f"http://127.0.0.1:{self.ports[worker]}/telegram"
        async with self.http.post(url, json=update, headers={SECRET_HEADER: SECRET}) as answer:
            assert answer.status == 200, answer.status

    async def stop(self) -> None:
        for process in self.processes:
            if process is not None and process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 20)
                except TimeoutError:
                    process.kill()
                    await process.wait()
        await self.http.close()
        if self._reader is not None:
            await self._reader.dispose()
            self._reader = None

    async def scalar(self, sql: str) -> Any:
        """One value read from the database, on one connection kept for these reads: no migration
        check and no ward set-up each time (the workers did that), so it is quick to poll and a count
        taken right after a kill is of that moment."""
        if self._reader is None:
            self._reader = create_engine(self.database_url, pool_size=1)
        async with self._reader.connect() as connection:
            return await connection.scalar(text(sql))


@asynccontextmanager
async def workers(
    fake: FakeBotApi,
    folder: Path,
    ward: Path,
    database_url: str,
    *,
    lease: int = 60,
    count: int = 2,
    pool_size: int | None = None,
) -> AsyncIterator[Workers]:
    """`count` workers (started one by one with `start`), stopped at the end."""
    fake.forward_to_webhook = False
    running = Workers(fake, folder, ward, database_url, lease=lease, count=count, pool_size=pool_size)
    try:
        yield running
    finally:
        await running.stop()


async def answer(
    fake: FakeBotApi,
    running: Workers,
    user: FakeUser,
    text: str | None = None,
    *,
    press: str | None = None,
    replies: int = 1,
    settle: bool = True,
) -> str:
    """One step of a person: a message or a button, posted through the proxy, and the bot's answer."""
    since = fake.mark()
    if press is not None:
        message: SentMessage = next(m for m in reversed(fake.messages_to(user.id)) if m.buttons)
        update = fake.press(user, message, press)
    else:
        update = fake.push_message(user, text)
    await running.post(update)
    await fake.wait_for(replies, chat_id=user.id, since=since, timeout=120)
    if settle:
        await fake.wait_idle(timeout=120)  # a step may answer with more than one message
    return "\n".join(m.text or "" for m in fake.sent[since:] if m.chat_id == user.id)
