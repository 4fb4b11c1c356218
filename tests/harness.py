"""Test harness: run the real application against the fake Bot API, and talk to it like people do."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.rush import wardbot_in_process
from bot.application import WardBot, make_wiring, prepare
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel
from bot.channels.zalo_api import ZaloClient
from bot.settings import Settings
from bot.simulator import FakeBotApi, FakeUser, SentMessage
from bot.ward_config import WardFile
from bot.wiring import Wiring
from storage.migrate import upgrade
from storage.unit_of_work import unit_of_work
from tests.databases import fresh_database_url

TEST_TOKEN = "123456:TEST-token-for-the-fake-bot-api-0000"


def make_settings(folder: Path, **overrides: Any) -> Settings:
    """Settings for one test: its own SQLite file, no .env, the fake token."""
    values: dict[str, Any] = {
        "telegram_bot_token": TEST_TOKEN,
        "web_port": 0,  # the web page on a free port: tests run side by side
        **overrides,
    }
    if "database_url" not in values:
        values["database_url"] = fresh_database_url(folder)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def migrated_wiring(settings: Settings, ward: WardFile, wards: tuple[WardFile, ...] = ()) -> Wiring:
    """Wiring on a database brought to the newest migration."""
    built = make_wiring(settings, ward, wards)
    await upgrade(built.engine)
    await prepare(built, groups=False)
    return built


class RunningBot:
    """The production application polling a fake Bot API; can be stopped and started again."""

    def __init__(
        self,
        fake: FakeBotApi,
        settings: Settings,
        ward: WardFile | tuple[WardFile, ...],
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.wards = ward if isinstance(ward, tuple) else (ward,)
        self.fake, self.settings, self.ward, self.clock = fake, settings, self.wards[0], clock
        self.app: WardBot | None = None
        self.wiring: Wiring | None = None

    async def start(self) -> None:
        """Migrate, build and start polling, as `wardbot run` does."""
        self.wiring = await migrated_wiring(self.settings, self.ward, self.wards)
        if self.clock is not None:
            self.wiring.clock = self.clock
        channel = TelegramChannel(
            self.wiring,
            token=self.fake.token,
            base_url=self.fake.base_url,
            base_file_url=self.fake.base_file_url,
            poll_timeout=1,
        )
        zalo = None
        if self.settings.zalo_bot_token:
            zalo = ZaloChannel(
                self.wiring, ZaloClient(self.settings.zalo_bot_token, self.settings.zalo_api_base_url)
            )
        self.app = WardBot(
            self.wiring, telegram=channel, zalo=zalo, webhook_secret=self.settings.webhook_secret
        )
        await self.app.start()

    async def stop(self) -> None:
        """Stop polling and shut down cleanly."""
        if self.app is not None:
            app, self.app = self.app, None
            await app.stop()
        if self.wiring is not None:
            await self.wiring.engine.dispose()

    async def restart(self) -> None:
        """A restart of the process: everything in memory is gone, the database stays."""
        await self.stop()
        await self.start()

    async def caught_up(self, timeout: float = 30.0) -> None:
        """Until the scheduler has run its start-up catch-up (what fell due while the bot was down)."""
        assert self.app is not None
        async with asyncio.timeout(timeout):
            await self.app.scheduler.caught_up.wait()

    async def drained(self, timeout: float = 30.0) -> None:
        """Until the outbox has nothing left to send (no row pending or sending) and the fake API has
        gone quiet: whatever was queued so far has been sent."""
        assert self.wiring is not None
        deadline = time.monotonic() + timeout
        while True:
            async with unit_of_work(self.wiring.factory) as uow:
                left = await uow.session.scalar(
                    text("SELECT count(*) FROM outbox_messages WHERE status IN ('pending', 'sending')")
                )
            if not left:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{left} outbox message(s) still unsent after {timeout}s")
            await asyncio.sleep(0.02)
        await self.fake.wait_idle(timeout=max(deadline - time.monotonic(), 1.0))

    def person(self, user_id: int, first_name: str, language_code: str | None = "vi") -> Person:
        """Someone who talks to the bot in a private chat."""
        user = FakeUser(id=user_id, first_name=first_name, language_code=language_code)
        return Person(self.fake, user, settle=self.settle)

    async def settle(self, timeout: float = 15.0) -> None:
        """Until the bot has taken every update pushed so far and answered it (no fixed quiet spell:
        the bot acknowledges updates only once they are queued, and says when its queue is empty)."""
        deadline = time.monotonic() + timeout
        while True:
            app = self.app
            if app is not None and self.fake.acknowledged and app.dispatcher.idle and not self.fake.busy:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot did not settle within {timeout}s")
            await asyncio.sleep(0.005)


@dataclass
class Person:
    """A test user; `says` and `presses` return what the bot sent back to their chat."""

    fake: FakeBotApi
    user: FakeUser
    chat_id: int | None = None
    chat_type: str = "private"
    chat_title: str | None = None
    history: list[SentMessage] = field(default_factory=list)
    settle: Callable[[], Awaitable[None]] | None = None

    @property
    def chat(self) -> int:
        return self.chat_id if self.chat_id is not None else self.user.id

    def in_group(self, chat_id: int, title: str = "Tổ dân phố") -> Person:
        """The same person, writing in a group chat."""
        return Person(self.fake, self.user, chat_id, "supergroup", title, settle=self.settle)

    async def says(self, text: str | None, *, kind: str = "text", replies: int = 1) -> list[SentMessage]:
        """Send a message and wait for the bot's replies to this chat (none when replies=0)."""
        since = self.fake.mark()
        self.fake.push_message(
            self.user,
            text,
            chat_id=self.chat_id,
            chat_type=self.chat_type,
            chat_title=self.chat_title,
            kind=kind,
        )
        return await self._collect(since, replies)

    async def presses(
        self, button: str | int, message: SentMessage | None = None, *, replies: int = 1
    ) -> list[SentMessage]:
        """Press a button of `message` (default: the newest message to this chat that has buttons)."""
        target = message or self.last_with_buttons()
        since = self.fake.mark()
        self.fake.press(self.user, target, button)
        return await self._collect(since, replies)

    async def _collect(self, since: int, replies: int) -> list[SentMessage]:
        if replies:
            await self.fake.wait_for(replies, chat_id=self.chat, since=since)
        await (self.settle() if self.settle is not None else self.fake.wait_idle())
        got = [m for m in self.fake.sent[since:] if m.chat_id == self.chat]
        self.history.extend(got)
        return got

    def last_with_buttons(self) -> SentMessage:
        for message in reversed(self.fake.messages_to(self.chat)):
            if message.buttons:
                return message
        raise LookupError("no message with buttons in this chat")


def texts(messages: list[SentMessage]) -> str:
    """All texts joined, for `in` assertions."""
    return "\n".join(m.text or "" for m in messages)


async def wardbot_cli(running: RunningBot, folder: Path, *args: str, **variables: str) -> str:
    """`wardbot ARGS` run as a ward officer would, on the running bot's database and ward file, with
    these extra environment variables (in-process, in a thread beside the running bot)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_", "WARD_", "ZALO_"))
    }
    env |= {"HOME": str(folder), "DATABASE_URL": running.settings.database_url, **variables}
    if running.ward.path is not None:
        env["WARD_CONFIG"] = str(running.ward.path)
    done = await asyncio.to_thread(wardbot_in_process, *args, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def wardbot_audit(running: RunningBot, folder: Path) -> str:
    """`wardbot audit --last 50` on the running bot's database."""
    return await wardbot_cli(running, folder, "audit", "--last", "50")
