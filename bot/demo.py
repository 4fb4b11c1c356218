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
from bot.indicators import Direction, Indicator, Kind, asked_in
from bot.membership import HEAD as HEAD_ROLE
from bot.membership import follow, link_chat, set_staff
from bot.periods import Month, lock_time, month_period
from bot.reporting import current_catalogue
from bot.sample_figures import plausible_value
from bot.settings import Settings
from bot.simulator import FakeBotApi, FakeUser
from bot.simulator.fake_bot_api import USER_PHOTO
from bot.simulator.terminal import Persona, run_terminal
from bot.standings import compute_standings
from bot.ward_config import GroupEntry, WardFile, default_ward_file
from bot.wiring import Wiring
from storage.migrate import upgrade
from storage.models import Report, ReportPhoto, ReportValue, ResidentialGroup
from storage.unit_of_work import UnitOfWork, unit_of_work

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


#: Questions the demo adds to the default catalogue, so every kind of answer can be tried.
DEMO_QUESTIONS = (
    Indicator(
        key="no_fire",
        label={"vi": "Không để xảy ra cháy, nổ", "en": "No fire or explosion"},
        help={
            "vi": "Trong tháng, địa bàn tổ không có vụ cháy, nổ nào.",
            "en": "No fire or explosion this month.",
        },
        unit="",
        kind=Kind.YESNO,
        min=None,
        max=None,
        direction=Direction.HIGHER,
        weight=10,
    ),
    Indicator(
        key="security_rating",
        label={"vi": "Tình hình an ninh trật tự", "en": "Security and public order"},
        help={"vi": "Tổ tự đánh giá; có thể bỏ qua.", "en": "The group's own view; may be skipped."},
        unit="",
        kind=Kind.CHOICE,
        min=None,
        max=None,
        required=False,
        choices=("Tốt", "Khá", "Trung bình"),
    ),
)
#: Proposals groups wrote in the seeded history (some months have none).
DEMO_PROPOSALS = (
    "Đề nghị phường sửa đèn chiếu sáng ngõ 12.",
    "Đề nghị bổ sung thùng rác phân loại ở đầu ngõ.",
    "Kiến nghị tăng cường tuần tra buổi tối khu vực chợ.",
)
HISTORY_MONTHS = 12
SEED = 2026
#: How well each demo group does (0..1), so the seeded year falls across the ward's bands.
DEMO_QUALITY = {"TDP01": 0.95, "TDP02": 0.8, "TDP03": 0.6, "TDP04": 0.35}


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
        await seed_history(uow, wiring, wiring.first_ward_id)


async def seed_history(uow: UnitOfWork, wiring: Wiring, ward_id: int) -> int:
    """A year of submitted reports for every group of the ward, up to last month, so /standings, the
    chart and /status have something to show from the first command; the number of reports made."""
    ward = wiring.ward_of(ward_id)
    tz = wiring.timezone_of(ward_id)
    catalogue_id = await current_catalogue(uow, ward.indicators)
    months = history_months(wiring, ward_id)
    rng = random.Random(SEED)
    groups = await uow.groups.all(ward_id)
    quality = {group.id: DEMO_QUALITY.get(group.code, rng.uniform(0.2, 1.0)) for group in groups}
    first_lock = lock_time(months[0], ward.ward.report_deadline_day, tz)
    for group in groups:  # groups made just now would not be expected in the seeded months
        group.created_at = min(group.created_at, first_lock - timedelta(days=40))
    made = 0
    for back, month in zip(range(len(months), 0, -1), months, strict=True):
        on_time_by = lock_time(month, ward.ward.report_deadline_day, tz)
        for group in groups:
            late = rng.random() < 0.1
            at = on_time_by + timedelta(hours=rng.randint(2, 90) * (1 if late else -1))
            values = [
                ReportValue(key=indicator.key, value=value, text=text)
                for indicator in asked_in(ward.indicators, month.month)
                for value, text in [_seeded_answer(indicator, group, quality[group.id], rng)]
            ]
            _settle_shares(values, ward.indicators)
            report = await uow.reports.add_report(
                Report(
                    group_id=group.id,
                    month=str(month),
                    catalogue_id=catalogue_id,
                    first_submitted_at=at,
                    submitted_at=at,
                    submitted_by=None,
                    on_time=not late,
                    values=values,
                )
            )
            if back == 1:  # last month's clean-up came with a photo, so staff can try /photos
                await _seed_photos(uow, report, values, ward_id, ward.indicators)
            made += 1
    return made


def history_months(wiring: Wiring, ward_id: int) -> list[Month]:
    """The months `seed_history` fills: the HISTORY_MONTHS before this one, oldest first."""
    this_month = Month.of(wiring.clock().astimezone(wiring.timezone_of(ward_id)).date())
    return [this_month.shifted(-back) for back in range(HISTORY_MONTHS, 0, -1)]


def _settle_shares(values: Sequence[ReportValue], indicators: Sequence[Indicator]) -> None:
    """A share (cases settled) is never more than the count it is a share of (cases arising)."""
    by_key = {value.key: value for value in values}
    for indicator in indicators:
        part = by_key.get(indicator.key)
        whole = by_key.get(indicator.share_of) if indicator.share_of else None
        if part is not None and whole is not None and part.value is not None and whole.value is not None:
            part.value = min(part.value, whole.value)


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
        await seed_demo(wiring)
        months = history_months(wiring, wiring.first_ward_id)
        counts = await band_distribution(wiring, months)
        total = sum(count for _name, count in counts)
        print(f"{ward.ward.name}: {len(months)} months ({months[0]} to {months[-1]}), {total} group-months")
        for name, count in counts:
            print(f"  {name}: {count} ({100 * count / max(total, 1):.0f}%)")
    finally:
        await wiring.engine.dispose()


async def _seed_photos(
    uow: UnitOfWork, report: Report, values: list[ReportValue], ward_id: int, indicators: Sequence[Indicator]
) -> None:
    """One picture (the simulator's) for each photo question of a seeded report."""
    photo_keys = {indicator.key for indicator in indicators if indicator.kind is Kind.PHOTO}
    for value in values:
        if value.key in photo_keys:
            value.value = 1.0
            photo = ReportPhoto(
                ward_id=ward_id,
                group_id=report.group_id,
                month=report.month,
                key=value.key,
                media_type="image/png",
                size=len(USER_PHOTO),
                content=USER_PHOTO,
            )
            await uow.reports.add_photo(photo)
            await uow.reports.keep_photos(report, value.key, [photo.id])


def _seeded_answer(
    indicator: Indicator, group: ResidentialGroup, quality: float, rng: random.Random
) -> tuple[float | None, str | None]:
    """A plausible answer of one group to one question: (value, text)."""
    if indicator.kind is Kind.TEXT:
        return None, rng.choice(DEMO_PROPOSALS) if rng.random() < 0.3 else None
    if indicator.kind is Kind.PHOTO:
        return None, None  # last month's get a picture (see _seed_photos); try :photo in a report
    if indicator.kind is Kind.YESNO:
        return (1.0 if rng.random() < 0.8 + 0.2 * quality else 0.0), None
    if indicator.kind is Kind.CHOICE:
        return float(rng.randrange(len(indicator.choices))), None
    value = plausible_value(indicator.key, rng, group.households, quality)
    low, high = indicator.min, indicator.max
    if indicator.max_is_households:
        high = group.households if high is None else min(high, group.households)
    if high is not None:
        value = min(value, high)
    if low is not None:
        value = max(value, low)
    return value, None


def demo_ward(settings: Settings) -> WardFile:
    """The ward file given by WARD_CONFIG, or a small demo ward with four groups and every kind of
    question: the default catalogue with a yes/no and an optional choice before its photo and text."""
    if settings.ward_config is not None:
        return load_ward(settings)
    ward = default_ward_file(name="Phường Tràng Cát (bản thử)")
    keys = {indicator.key for indicator in ward.indicators}
    added = tuple(question for question in DEMO_QUESTIONS if question.key not in keys)
    free = tuple(i for i in ward.indicators if i.kind in (Kind.TEXT, Kind.PHOTO))
    fixed = tuple(i for i in ward.indicators if i.kind not in (Kind.TEXT, Kind.PHOTO))
    return replace(ward, groups=DEMO_GROUPS, indicators=fixed + added + free)


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
                # The web page too (/web as staff gives its link), on a free port unless WEB_PORT says one.
                "web_port": settings.web_port if "web_port" in settings.model_fields_set else 0,
            }
        )
        wiring = make_wiring(demo_settings, ward)
        await upgrade(wiring.engine)
        await seed_demo(wiring)
        channel = TelegramChannel(
            wiring, token=fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url, poll_timeout=1
        )
        async with WardBot(wiring, telegram=channel) as app:
            await run_terminal(
                fake,
                personas(),
                stdin=sys.stdin,
                stdout=sys.stdout,
                banner=BANNER.format(ward=ward.ward.name),
                idle=lambda: app.dispatcher.idle,
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
