"""`wardbot demo`: the real application against a local chat simulator, with a seeded demo ward."""

from __future__ import annotations

import logging
import random
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.application import WardBot, load_ward, make_wiring, prepare
from bot.channels.telegram import PLATFORM, TelegramChannel
from bot.membership import HEAD as HEAD_ROLE
from bot.membership import follow, link_chat, set_staff
from bot.periods import Month, is_locked, lock_time, month_period
from bot.reporting import current_catalogue
from bot.settings import Settings
from bot.simulator import FakeBotApi, FakeUser
from bot.simulator.terminal import Persona, run_terminal
from bot.standings import compute_standings
from bot.ward_config import GroupEntry, WardFile, default_ward_file
from bot.wiring import Wiring
from storage.migrate import upgrade
from storage.models import Report, ReportValue
from storage.unit_of_work import unit_of_work

DEMO_DATABASE = Path("data") / "demo.sqlite3"

STAFF = FakeUser(id=9001, first_name="Hoa", last_name="Nguyễn", language_code="vi")
HEAD = FakeUser(id=9002, first_name="Nam", last_name="Trần", language_code="vi")
RESIDENT = FakeUser(id=9003, first_name="Lan", last_name="Lê", language_code="vi")
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


#: How well each demo group does (0..1): the seeded months are plausible, not all alike.
DEMO_QUALITY = {"TDP01": 0.95, "TDP02": 0.8, "TDP03": 0.6, "TDP04": 0.35}
DEMO_MONTHS = 6
DEMO_SEED = 11


def demo_values(code: str, rng: random.Random) -> dict[str, float | None]:
    """One plausible month of a demo group on the built-in sheet (recorded figures included)."""
    quality = DEMO_QUALITY.get(code, 0.5)

    def percent(low: float, spread: float) -> float:
        return round(min(100.0, max(0.0, low + spread * quality + rng.uniform(-5, 5))), 1)

    cases = float(rng.choice((0, 0, 1, 2, 3)))
    settled = min(cases, float(round(cases * (0.5 + 0.5 * quality))))
    return {
        "births": float(rng.randint(0, 4)),
        "deaths": float(rng.randint(0, 2)),
        "moved_in": float(rng.randint(0, 8)),
        "moved_out": float(rng.randint(0, 6)),
        "temp_residents": float(rng.randint(0, 15)),
        "security_incidents": float(rng.choices((0, 1, 2), weights=(100 * quality, 20, 5))[0]),
        "mediation_cases": cases,
        "mediation_settled": settled,
        "petitions": float(rng.randint(0, 3)),
        "waste_sorting_pct": percent(55, 42),
        "cleanup_drives": float(rng.choice((1, 2, 2, 3)) if rng.random() < 0.5 + quality / 2 else 0),
        "fund_contributions": float(round(rng.uniform(2, 20)) * 1_000_000),
        "poor_households": float(rng.randint(2, 12)),
        "vneid_level2_pct": percent(62, 35),
        "cashless_pct": percent(40, 38),
        "meeting_attendance_pct": percent(55, 35),
        "health_insurance_pct": percent(82, 15),
        "no_fire": 1.0 if rng.random() < 0.85 + 0.15 * quality else 0.0,
        "no_mass_complaints": 1.0 if rng.random() < 0.9 + 0.1 * quality else 0.0,
    }


async def seed_demo_reports(wiring: Wiring, *, months: int = DEMO_MONTHS) -> list[Month]:
    """Reports of every demo group for the last `months` locked months, so standings have something
    to show; returns those months, oldest first."""
    ward_id, now = wiring.first_ward_id, wiring.clock()
    tz, deadline_day = wiring.timezone_of(ward_id), wiring.ward_of(ward_id).ward.report_deadline_day
    latest = Month.of(now.astimezone(tz).date()).previous()
    while not is_locked(latest, now, deadline_day, tz):
        latest = latest.previous()
    seeded = [latest.shifted(step - months + 1) for step in range(months)]
    rng = random.Random(DEMO_SEED)
    async with unit_of_work(wiring.factory) as uow:
        indicators = wiring.ward_of(ward_id).indicators
        catalogue = await current_catalogue(uow, indicators)
        groups = await uow.groups.all(ward_id)
        for month in seeded:
            at = lock_time(month, deadline_day, tz) - timedelta(days=2)
            for group in groups:
                values = demo_values(group.code, rng)
                uow.session.add(
                    Report(
                        group_id=group.id,
                        month=str(month),
                        catalogue_id=catalogue,
                        first_submitted_at=at,
                        submitted_at=at,
                        on_time=True,
                        values=[
                            ReportValue(key=i.key, value=values.get(i.key))
                            for i in indicators
                            if i.key in values
                        ],
                    )
                )
    return seeded


async def band_distribution(wiring: Wiring, months: Sequence[Month]) -> list[tuple[str, int]]:
    """How many group-months fell in each band (staff names), highest band first, over `months`."""
    ward_id = wiring.first_ward_id
    ward, tz = wiring.ward_of(ward_id), wiring.timezone_of(ward_id)
    counts = {band.name_in("vi"): 0 for band in ward.bands}
    async with unit_of_work(wiring.factory) as uow:
        for month in months:
            result = await compute_standings(uow, month_period(month), ward, ward_id=ward_id, tz=tz)
            for standing in result.standings:
                if standing.band is not None:
                    counts[standing.band.name_in("vi")] += 1
    return list(counts.items())


async def print_band_distribution(settings: Settings, *, database: Path) -> None:
    """`wardbot demo --bands`: seed the demo ward in `database` and print its band distribution."""
    _remove_database(database)
    ward = demo_ward(settings)
    wiring = make_wiring(
        settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{database}"}), ward
    )
    try:
        await upgrade(wiring.engine)
        await prepare(wiring)
        months = await seed_demo_reports(wiring)
        counts = await band_distribution(wiring, months)
        total = sum(count for _name, count in counts)
        print(f"{ward.ward.name}: {len(months)} months ({months[0]} to {months[-1]}), {total} group-months")
        for name, count in counts:
            print(f"  {name}: {count} ({100 * count / max(total, 1):.0f}%)")
    finally:
        await wiring.engine.dispose()


def _full_name(user: FakeUser) -> str:
    return f"{user.last_name} {user.first_name}" if user.last_name else user.first_name


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
        await seed_demo_reports(wiring)
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
