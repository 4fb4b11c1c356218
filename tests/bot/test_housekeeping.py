"""The scheduler's chores: pruning only what may go, and the nightly backup (old ones removed, staff
told when one fails)."""

from __future__ import annotations

import asyncio
import time
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

import bot.housekeeping
from bot.backup import nightly_file_name
from bot.housekeeping import BACKUP_FAILED, last_backup_slot, next_backup_time
from bot.membership import set_staff
from bot.scheduler import SCHEDULES, Scheduler
from bot.simulator import FakeBotApi
from bot.ward_config import WardFile, default_ward_file, load_ward_config
from bot.wiring import Wiring
from storage.models import (
    AuditEntry,
    Broadcast,
    Catalogue,
    InboxUpdate,
    OutboxAttachment,
    OutboxMessage,
    Report,
    ResidentialGroup,
)
from storage.unit_of_work import unit_of_work
from tests.harness import RunningBot, make_settings, migrated_wiring, texts
from tests.wards import NOW, SMALL_WARD, WARD

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
NIGHTLY = next(schedule for schedule in SCHEDULES if schedule.name == "nightly-backup")


def ward_file(folder: Path, extra: str) -> WardFile:
    path = folder / "ward.toml"
    path.write_text(SMALL_WARD.replace("report_deadline_day = 5", f"report_deadline_day = 5\n{extra}"))
    return load_ward_config(path)


async def seed_both_sides(wiring: Wiring, days: int) -> None:
    """Rows one day older and one day younger than the cut-off (`days` before NOW), of every kind."""
    old, young = NOW - timedelta(days=days + 1), NOW - timedelta(days=days - 1)
    async with unit_of_work(wiring.factory) as uow:
        session = uow.session
        session.add_all(
            [
                InboxUpdate(
                    platform="telegram",
                    update_id=1,
                    chat_key="t:1",
                    payload="old",
                    received_at=old,
                    handled_at=old,
                ),
                InboxUpdate(
                    platform="telegram",
                    update_id=2,
                    chat_key="t:1",
                    payload="young",
                    received_at=young,
                    handled_at=young,
                ),
                InboxUpdate(
                    platform="telegram",
                    update_id=3,
                    chat_key="t:1",
                    payload="unhandled",
                    received_at=old - timedelta(days=30),
                ),
            ]
        )
        old_file = OutboxAttachment(filename="old.png", content=b"old")
        young_file = OutboxAttachment(filename="young.png", content=b"young")
        broadcast = Broadcast(
            kind="standings", key="standings:old", title="old", created_at=old, ward_id=WARD
        )
        session.add_all([old_file, young_file, broadcast])
        await session.flush()
        for status, created, file in [
            ("sent", old, old_file),
            ("failed", old, None),
            ("blocked", old, None),
            ("pending", old, None),
            ("sending", old, None),
            ("sent", young, young_file),
        ]:
            session.add(
                OutboxMessage(
                    broadcast_id=broadcast.id,
                    platform="telegram",
                    chat_external_id="1",
                    text=f"{status} {created:%d}",
                    status=status,
                    created_at=created,
                    attachment_id=file.id if file else None,
                )
            )
        group = ResidentialGroup(ward_id=WARD, code="TDP09", name="Tổ 9", households=10)
        catalogue = Catalogue(fingerprint="f" * 32, indicators_json="[]")
        session.add_all(
            [group, catalogue, AuditEntry(ward_id=WARD, at=old - timedelta(days=400), action="x")]
        )
        await session.flush()
        session.add(
            Report(
                group_id=group.id,
                month="2024-01",
                catalogue_id=catalogue.id,
                first_submitted_at=old - timedelta(days=900),
                submitted_at=old - timedelta(days=900),
            )
        )


async def left(wiring: Wiring) -> dict[str, list[str] | int]:
    async with unit_of_work(wiring.factory) as uow:
        session = uow.session
        return {
            "inbox": sorted((await session.scalars(select(InboxUpdate.payload))).all()),
            "outbox": sorted((await session.scalars(select(OutboxMessage.text))).all()),
            "files": sorted((await session.scalars(select(OutboxAttachment.filename))).all()),
            "broadcasts": await session.scalar(select(func.count()).select_from(Broadcast)) or 0,
            "audit": await session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
            "reports": await session.scalar(select(func.count()).select_from(Report)) or 0,
        }


async def test_pruning_removes_only_finished_rows_older_than_prune_after_days(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.housekeeping, "PRUNE_BATCH", 2)  # three old messages: two batches and the rest
    wiring = await migrated_wiring(make_settings(tmp_path), ward_file(tmp_path, "prune_after_days = 10"))
    try:
        wiring.clock = lambda: NOW
        await seed_both_sides(wiring, days=10)

        await Scheduler(wiring, wake=lambda: None).prune()

        young, old = (NOW - timedelta(days=9)).day, (NOW - timedelta(days=11)).day
        assert await left(wiring) == {
            "inbox": ["unhandled", "young"],  # an update not yet handled is never dropped
            "outbox": sorted([f"pending {old}", f"sending {old}", f"sent {young}"]),
            "files": ["young.png"],  # a file no message needs any more goes with them
            "broadcasts": 1,  # kept: its key stops the announcement from going out twice
            "audit": 1,
            "reports": 1,
        }
    finally:
        await wiring.engine.dispose()


async def test_pruning_keeps_rows_for_the_longest_prune_after_days_by_default(tmp_path: Path) -> None:
    wiring = await migrated_wiring(make_settings(tmp_path), ward_file(tmp_path, ""))
    try:
        wiring.clock = lambda: NOW
        await seed_both_sides(wiring, days=10)

        await Scheduler(wiring, wake=lambda: None).prune()  # 30 days: nothing seeded is that old

        assert (await left(wiring))["inbox"] == ["old", "unhandled", "young"]
    finally:
        await wiring.engine.dispose()


def test_the_nightly_backup_is_due_at_two_in_the_morning_ward_time() -> None:
    at_nine = NOW  # 09:00 in Hanoi
    assert last_backup_slot(at_nine, HANOI) == datetime(2026, 11, 3, 2, 0, tzinfo=HANOI)
    assert last_backup_slot(at_nine - timedelta(hours=8), HANOI) == datetime(2026, 11, 2, 2, 0, tzinfo=HANOI)
    assert next_backup_time(at_nine, default_ward_file(), HANOI) == datetime(2026, 11, 4, 2, 0, tzinfo=HANOI)


async def wait_for_file(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(path.exists):
        assert time.monotonic() < deadline, f"{path.name} was not written within {timeout}s"
        await asyncio.sleep(0.1)


async def test_the_scheduler_takes_the_nights_backup_once_and_removes_old_ones(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    local_now = NOW.astimezone(HANOI)
    stale = backups / nightly_file_name(local_now - timedelta(days=4))
    recent = backups / nightly_file_name(local_now - timedelta(days=1))
    mine = backups / "wardbot-2020-01-01-000000.zip"  # made by hand: never removed
    for path in (stale, recent, mine):
        path.write_bytes(b"an older backup")
    ward = ward_file(tmp_path, 'backup_dir = "backups"\nbackup_keep_days = 3')
    running = RunningBot(fake_api, make_settings(tmp_path), ward, clock=lambda: NOW)
    await running.start()
    try:
        tonight = backups / "wardbot-nightly-2026-11-03-090000.zip"  # NOW in Hanoi: last night's was missed
        await wait_for_file(tonight)
        assert running.app is not None
        await running.app.scheduler.run_schedule(NIGHTLY)  # again the same night: nothing new
        await running.restart()  # a restart the same night: nothing new either
        assert running.app is not None
        await running.app.scheduler.run_schedule(NIGHTLY)

        assert sorted(p.name for p in backups.iterdir()) == sorted([tonight.name, recent.name, mine.name])
        with zipfile.ZipFile(tonight) as archive:
            assert archive.testzip() is None
            assert "manifest.json" in archive.namelist()
    finally:
        await running.stop()


async def test_staff_are_told_in_chat_once_when_the_nightly_backup_fails(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    (tmp_path / "blocker").write_text("a file where the backup folder should be")
    ward = ward_file(tmp_path, 'backup_dir = "blocker/backups"')
    settings = make_settings(tmp_path)
    prepared = await migrated_wiring(settings, ward)
    async with unit_of_work(prepared.factory) as uow:
        await set_staff(uow, "telegram", "1", name="Cán bộ", is_staff=True, ward_id=WARD)
    await prepared.engine.dispose()
    running = RunningBot(fake_api, settings, ward, clock=lambda: NOW)
    await running.start()
    try:
        told = await fake_api.wait_for(1, chat_id=1, timeout=30)
        assert "⚠️ Bản sao lưu hằng đêm dữ liệu của bot không thành công" in texts(told)
        assert "blocker" in texts(told)
        assert running.app is not None
        await running.app.scheduler.run_schedule(NIGHTLY)  # tried again the same night: told once
        assert running.wiring is not None
        async with unit_of_work(running.wiring.factory) as uow:
            notices = await uow.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .join(Broadcast)
                .where(Broadcast.kind == BACKUP_FAILED)
            )
        assert notices == 1
    finally:
        await running.stop()
