"""`wardbot demo`: the real application against a local chat simulator, with a seeded demo ward."""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from pathlib import Path

from bot.application import WardBot, load_ward, make_wiring, prepare
from bot.channels.telegram import PLATFORM, TelegramChannel
from bot.membership import HEAD as HEAD_ROLE
from bot.membership import follow, link_chat, set_staff
from bot.settings import Settings
from bot.simulator import FakeBotApi, FakeUser
from bot.simulator.terminal import Persona, run_terminal
from bot.ward_config import GroupEntry, WardFile, default_ward_file
from bot.wiring import Wiring
from storage.migrate import upgrade
from storage.unit_of_work import unit_of_work

DEMO_DATABASE = Path("data") / "demo.sqlite3"

# Whole names in the first-name field, as most Vietnamese accounts give them: one name everywhere
STAFF = FakeUser(id=9001, first_name="Nguyễn Thị Hoa", language_code="vi")
HEAD = FakeUser(id=9002, first_name="Trần Văn Nam", language_code="vi")
RESIDENT = FakeUser(id=9003, first_name="Lê Thị Lan", language_code="vi")
GROUP_CHAT_ID = -100_900_001

BANNER = """\
Bản thử / Demo — {ward}
Bot thật chạy với một máy chủ Telegram giả trên máy này; không cần token.
The real bot runs against a local fake Telegram server; no token needed.
Gõ :help để xem lệnh của trình mô phỏng / type :help for simulator commands.
"""


DEMO_GROUPS = (
    GroupEntry("TDP01", "Tổ dân phố số 1", 312, "Khu vực 1"),
    GroupEntry("TDP02", "Tổ dân phố số 2", 458, "Khu vực 1"),
    GroupEntry("TDP03", "Tổ dân phố số 3", 187, "Khu vực 2"),
    GroupEntry("TDP04", "Tổ dân phố số 4", 826, "Khu vực 2"),
)


def _full_name(user: FakeUser) -> str:
    """The name as the platform gives it (Telegram: first name, then last name)."""
    return f"{user.first_name} {user.last_name}" if user.last_name else user.first_name


async def seed_demo(wiring: Wiring) -> None:
    """Staff Hoa; Nam heads the first group, whose chat is linked; Lan follows it."""
    await prepare(wiring)
    async with unit_of_work(wiring.factory) as uow:
        await set_staff(uow, PLATFORM, str(STAFF.id), name=_full_name(STAFF), is_staff=True)
        group = (await uow.groups.all(wiring.first_ward_id))[0]
        head = await uow.people.ensure(PLATFORM, str(HEAD.id), display_name=_full_name(HEAD))
        resident = await uow.people.ensure(PLATFORM, str(RESIDENT.id), display_name=_full_name(RESIDENT))
        await uow.groups.add_membership(head.id, group.id, HEAD_ROLE)
        await follow(uow, resident.id, group)
        await link_chat(uow, PLATFORM, str(GROUP_CHAT_ID), group, actor=head.id, title=group.name)


def demo_ward(settings: Settings) -> WardFile:
    """The ward file given by WARD_CONFIG, or a small demo ward with four groups."""
    if settings.ward_config is not None:
        return load_ward(settings)
    return replace(default_ward_file(name="Phường Tràng Cát (bản thử)"), groups=DEMO_GROUPS)


async def run_demo(settings: Settings, *, database: Path = DEMO_DATABASE) -> None:
    """Start a fresh demo database, the fake Bot API, the application and the terminal chat."""
    logging.getLogger().setLevel(logging.WARNING)
    _remove_database(database)
    ward = demo_ward(settings)
    async with FakeBotApi(bot_username="phuong_demo_bot", bot_name="Trợ lý thi đua") as fake:
        demo_settings = settings.model_copy(
            update={
                "database_url": f"sqlite+aiosqlite:///{database}",
                "telegram_bot_token": fake.token,
                "telegram_api_base_url": fake.base_url,
            }
        )
        wiring = make_wiring(demo_settings, ward)
        await upgrade(wiring.engine)
        await seed_demo(wiring)
        channel = TelegramChannel(
            wiring, token=fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url, poll_timeout=1
        )
        async with WardBot(wiring, telegram=channel):
            await run_terminal(
                fake,
                personas(),
                stdin=sys.stdin,
                stdout=sys.stdout,
                banner=BANNER.format(ward=ward.ward.name),
            )


def _remove_database(database: Path) -> None:
    """Each demo starts from the seed, not from the last session's chat."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


def personas() -> list[Persona]:
    """Who you can be in the demo."""
    return [
        Persona("staff", "Chị Hoa — cán bộ phường / ward staff", STAFF),
        Persona("head", "Anh Nam — tổ trưởng TDP01 / group head", HEAD, GROUP_CHAT_ID, "Tổ dân phố số 1"),
        Persona("resident", "Cô Lan — người dân / resident", RESIDENT, GROUP_CHAT_ID, "Tổ dân phố số 1"),
    ]
