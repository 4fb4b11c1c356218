"""Backups and restores as a ward office lives them: while heads report, from old schemas, from bad files."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import random
import re
import secrets
import sqlite3
import sys
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

import bot.backup
from bot.backup import (
    BackupError,
    backup_database,
    database_state,
    nightly_backup,
    restore_database,
)
from bot.cli import main
from bot.membership import HEAD as HEAD_ROLE
from bot.membership import Redemption, issue_invite, redeem_invite, require_group
from bot.run_lock import RunLockBusy, hold_run_lock, keep_run_lock, lock_file
from bot.simulator import FakeBotApi, FakeUser, SentMessage
from bot.ward_config import load_ward_config
from storage.engine import create_engine
from storage.migrate import alembic_config, upgrade
from storage.unit_of_work import unit_of_work
from tests.bot.test_run import _answer, _environment, bot_process
from tests.databases import POSTGRES
from tests.harness import RunningBot, make_settings
from tests.wards import NOW, SMALL_WARD, WARD

# SQLite's online backup and file lock; PostgreSQL's pg_dump and run lock have tests of their own below.
SQLITE_ONLY = pytest.mark.skipif(POSTGRES, reason="SQLite's backup and lock (PostgreSQL's are tested below)")
HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
OLD = "0005"
HEADS = 50
THINK = (0.2, 0.6)  # seconds a head takes between two steps


def sqlite_url(folder: Path, name: str = "ward.sqlite3") -> str:
    return f"sqlite+aiosqlite:///{folder / name}"


async def seed(database_url: str, revision: str = "head", groups: int = 3, reports: int = 2) -> None:
    """A migrated database with a few groups and reports, written with plain SQL (any schema from 0003)."""
    engine = create_engine(database_url)
    try:
        await upgrade(engine, revision)
        at = datetime(2026, 11, 2, 3, 0)
        async with engine.begin() as connection:
            columns = {c["name"] for c in await connection.run_sync(_columns, "residential_groups")}
            ward = "ward_id" in columns  # the schema has wards (0009 on)
            if ward:
                await connection.execute(
                    text("INSERT INTO wards (id, code, name, created_at) VALUES (1, 'P1', 'Phường', :at)"),
                    {"at": at},
                )
            for number in range(1, groups + 1):
                await connection.execute(
                    text(
                        f"INSERT INTO residential_groups ({'ward_id, ' if ward else ''}code, name, "
                        f"households, created_at) VALUES ({'1, ' if ward else ''}:code, :name, 100, :at)"
                    ),
                    {"code": f"TDP{number:02d}", "name": f"Tổ dân phố số {number}", "at": at},
                )
            await connection.execute(
                text(
                    "INSERT INTO catalogues (fingerprint, indicators_json, created_at) "
                    "VALUES ('f', '[]', :at)"
                ),
                {"at": at},
            )
            for number in range(1, reports + 1):
                await connection.execute(
                    text(
                        "INSERT INTO reports (group_id, month, catalogue_id, first_submitted_at, "
                        "submitted_at, on_time) SELECT id, '2026-10', (SELECT min(id) FROM catalogues), "
                        ":at, :at, true "
                        "FROM residential_groups WHERE code = :code"
                    ),
                    {"code": f"TDP{number:02d}", "at": at},
                )
    finally:
        await engine.dispose()


def _columns(connection: Connection, table: str) -> list[dict[str, Any]]:
    return list(inspect(connection).get_columns(table))


def fingerprint(database: Path) -> dict[str, str]:
    """The bytes of a SQLite database and its -wal, to prove nothing changed."""
    files = [database, database.with_name(database.name + "-wal")]
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.exists()}


def integrity(database: Path) -> str:
    connection = sqlite3.connect(database)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(database)
    try:
        return [tuple(row) for row in connection.execute(sql)]
    finally:
        connection.close()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """`wardbot ARGS` in this process, from an empty folder, with DATABASE_URL as given."""
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "WEBHOOK_", "DATABASE_", "WARD_", "ZALO_")):
            monkeypatch.delenv(name)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return CliRunner(monkeypatch, capsys)


class CliRunner:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self.monkeypatch, self.capsys = monkeypatch, capsys

    async def __call__(
        self, database_url: str, *args: str, answer: str | None = None
    ) -> tuple[int, str, str]:
        """Exit status, stdout and stderr; `answer` is typed at the confirmation question."""
        self.monkeypatch.setenv("DATABASE_URL", database_url)
        if answer is not None:
            self.monkeypatch.setattr("sys.stdin", io.StringIO(answer + "\n"))
        self.capsys.readouterr()
        status = await asyncio.to_thread(main, list(args))
        out, err = self.capsys.readouterr()
        return status, out, err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip() and " INFO " not in line]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


# --- a backup while the bot works ------------------------------------------------------------------


def fifty_group_ward(folder: Path) -> Path:
    extra = "".join(
        f'\n[[groups]]\ncode = "TDP{n:02d}"\nname = "Tổ dân phố số {n}"\nhouseholds = {100 + n}\n'
        for n in range(3, HEADS + 1)
    )
    path = folder / "ward.toml"
    path.write_text(SMALL_WARD + extra, encoding="utf-8")
    return path


# What the bot answers when a turn failed and nothing was saved (e.g. "database is locked" when many
# heads write at the same instant); a person sends the same thing again, and so do these heads.
TRY_AGAIN = "Xin lỗi, đã có lỗi và chưa có gì được lưu"


class Head:
    """A group head driven step by step, waiting only for their own chat (no global idle barrier),
    so fifty of them can report at the same time."""

    def __init__(self, fake: FakeBotApi, user: FakeUser, think: tuple[float, float] = (0.0, 0.0)) -> None:
        self.fake, self.user, self.think = fake, user, think
        self.random = random.Random(user.id)
        self.retries = 0

    async def says(self, text: str, expect: str, *, buttons: bool = False, pause: bool = True) -> SentMessage:
        return await self._step(lambda: self.fake.push_message(self.user, text), expect, buttons, pause)

    async def presses(
        self, message: SentMessage, button: str, expect: str, *, buttons: bool = False
    ) -> SentMessage:
        return await self._step(lambda: self.fake.press(self.user, message, button), expect, buttons, True)

    async def _step(self, act: Callable[[], object], needle: str, buttons: bool, pause: bool) -> SentMessage:
        for _ in range(5):
            if pause:  # a person reads the question and types: the heads overlap without acting in lockstep
                await asyncio.sleep(self.random.uniform(*self.think))
            since = self.fake.mark()
            act()
            answer = await self._expect(since, needle, buttons)
            if answer is not None:
                return answer
            self.retries += 1
        raise AssertionError(f"{self.user.id}: the bot kept failing at {needle!r}")

    async def _expect(self, since: int, needle: str, buttons: bool) -> SentMessage | None:
        """The newest message to this chat since `since` that contains `needle` (and has buttons);
        None when the bot said that nothing was saved."""
        count = 1
        while True:
            got = await self.fake.wait_for(count, chat_id=self.user.id, since=since, timeout=60)
            for message in reversed(got):
                if TRY_AGAIN in (message.text or ""):
                    return None
                if needle in (message.text or "") and (message.buttons or not buttons):
                    return message
            count = len(got) + 1

    async def report_october(self) -> None:
        """The whole monthly report, as in tests/conversations/test_report.py."""
        month = await self.says("/report", "Anh/chị báo cáo cho tháng nào?", buttons=True)
        await self.presses(month, "Tháng 10/2026", "Số trẻ sinh (người)")
        await self.says("2", "Hộ phân loại rác tại nguồn (%)")
        await self.says("85 %", "Ủng hộ các quỹ")
        cleanup = await self.says("1.500.000", "Có tổng vệ sinh", buttons=True)
        security = await self.presses(cleanup, "Có", "Tình hình an ninh", buttons=True)
        summary = await self.presses(security, "Khá", "5. Tình hình an ninh: Khá", buttons=True)
        await self.presses(summary, "✅ Xác nhận", "Đã gửi báo cáo tháng 10/2026")


async def appoint_heads(running: RunningBot, count: int, think: tuple[float, float]) -> list[Head]:
    """Each group's head, through the services /invite and /start use (tests/wards.py `appoint` does it
    in chat, one message at a time, which is slow for fifty)."""
    assert running.wiring is not None
    heads = []
    async with unit_of_work(running.wiring.factory) as uow:
        for number in range(1, count + 1):
            user = FakeUser(id=5000 + number, first_name=f"Tổ trưởng {number}", language_code="vi")
            person = await uow.people.ensure(
                "telegram", str(user.id), display_name=user.first_name, client_language="vi"
            )
            group = await require_group(uow, f"TDP{number:02d}", WARD)
            code = await issue_invite(uow, group, HEAD_ROLE, actor=None, now=NOW, valid_for=timedelta(days=7))
            assert (await redeem_invite(uow, code, person.id, now=NOW)).outcome is Redemption.JOINED
            heads.append(Head(running.fake, user, think))
    return heads


@SQLITE_ONLY
async def test_a_backup_taken_while_fifty_heads_report_holds_every_report_confirmed_before_it(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    live_folder, fresh = tmp_path / "live", tmp_path / "fresh"
    live_folder.mkdir()
    ward = load_ward_config(fifty_group_ward(tmp_path))
    running = RunningBot(fake_api, make_settings(live_folder), ward, clock=lambda: NOW)
    await running.start()
    try:
        heads = await appoint_heads(running, HEADS, THINK)
        started: list[str] = []
        confirmed: list[str] = []
        enough = asyncio.Event()

        async def head_reports(number: int, head: Head) -> None:
            await asyncio.sleep(number * 0.1)  # heads start one after another, as people do
            started.append(f"TDP{number:02d}")
            await head.report_october()
            confirmed.append(f"TDP{number:02d}")
            if len(confirmed) >= 12:
                enough.set()

        reporting = [asyncio.create_task(head_reports(n, head)) for n, head in enumerate(heads, start=1)]
        await enough.wait()
        before = set(confirmed)  # every one of these heads saw "sent" before the backup began
        in_flight = len(started) - len(before)
        made = await backup_database(running.settings.database_url, tmp_path / "during.zip")
        await asyncio.gather(*reporting)
    finally:
        await running.stop()

    assert in_flight >= HEADS // 2, f"only {in_flight} heads were reporting when the backup began"
    assert len(confirmed) == HEADS
    restored = await restore_database(sqlite_url(fresh), made.path)
    database = fresh / "ward.sqlite3"
    assert integrity(database) == "ok"
    in_backup = {
        code
        for (code,) in query(
            database,
            "SELECT g.code FROM reports r JOIN residential_groups g ON g.id = r.group_id "
            "WHERE r.month = '2026-10'",
        )
    }
    assert before <= in_backup
    complete = query(
        database,
        "SELECT r.id FROM reports r JOIN report_values v ON v.report_id = r.id "
        "GROUP BY r.id HAVING count(*) = 5",
    )
    assert len(complete) == len(in_backup) == made.manifest.reports == restored.state.reports
    assert restored.state.groups == HEADS and restored.kept_aside is None


# --- schemas, aside copies, bad files --------------------------------------------------------------


async def test_restoring_a_backup_from_an_older_schema_migrates_it(tmp_path: Path) -> None:
    old_url = sqlite_url(tmp_path / "old")
    await seed(old_url, OLD, groups=4, reports=3)
    made = await backup_database(old_url, tmp_path)
    assert made.manifest.schema_version == OLD
    assert re.fullmatch(r"wardbot-\d{4}-\d{2}-\d{2}-\d{6}\.zip", made.path.name)

    live_url = sqlite_url(tmp_path / "live")
    await seed(live_url, groups=7, reports=1)  # the newest schema, other data
    live = tmp_path / "live" / "ward.sqlite3"
    before = await database_state(live_url)

    restored = await restore_database(live_url, made.path, now=datetime(2026, 11, 4, 10, 15))

    assert (restored.schema_before, restored.state.schema_version) == (OLD, HEAD)
    assert (restored.state.groups, restored.state.reports) == (4, 3)
    assert await database_state(live_url) == restored.state
    assert integrity(live) == "ok"
    aside = tmp_path / "live" / "ward.sqlite3.before-restore-2026-11-04-101500"
    assert restored.kept_aside == aside
    assert await database_state(sqlite_url(aside.parent, aside.name)) == before
    assert f"schema 0005 → {HEAD}, 4 groups, 3 reports" in restored.summary()


def truncated(backup: Path, folder: Path) -> Path:
    cut = folder / "cut-short.zip"
    cut.write_bytes(backup.read_bytes()[: backup.stat().st_size // 2])
    return cut


def foreign_zip(backup: Path, folder: Path) -> Path:
    other = folder / "photos.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("IMG_0001.jpg", secrets.token_bytes(2000))
    return other


def text_file(backup: Path, folder: Path) -> Path:
    notes = folder / "notes.zip"
    notes.write_text("Danh sách tổ dân phố\n", encoding="utf-8")
    return notes


def bit_flipped(backup: Path, folder: Path) -> Path:
    """A wardbot archive whose database bytes were damaged (same size, so only checksums notice)."""
    damaged = folder / "flipped.zip"
    with zipfile.ZipFile(backup) as source, zipfile.ZipFile(damaged, "w") as target:
        for name in source.namelist():
            data = bytearray(source.read(name))
            if name != "manifest.json":
                data[len(data) // 2] ^= 0xFF
            target.writestr(name, bytes(data))
    return damaged


def forged_manifest(backup: Path, folder: Path) -> Path:
    """The manifest says the database inside is fine, but it is not a database at all."""
    forged = folder / "forged.zip"
    garbage = secrets.token_bytes(8192)
    with zipfile.ZipFile(backup) as source:
        manifest = json.loads(source.read("manifest.json"))
    manifest.update(size=len(garbage), sha256=hashlib.sha256(garbage).hexdigest())
    with zipfile.ZipFile(forged, "w") as target:
        target.writestr("manifest.json", json.dumps(manifest))
        target.writestr("wardbot.sqlite3", garbage)
    return forged


def from_the_future(backup: Path, folder: Path) -> Path:
    newer = folder / "newer.zip"
    with zipfile.ZipFile(backup) as source, zipfile.ZipFile(newer, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "manifest.json":
                data = json.dumps({**json.loads(data), "schema_version": "0099"}).encode()
            target.writestr(name, data)
    return newer


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (truncated, "incomplete or damaged"),
        (foreign_zip, "not a wardbot backup (no manifest.json inside)"),
        (text_file, "not a wardbot backup (not a zip archive)"),
        (bit_flipped, "damaged"),
        (forged_manifest, "the database inside is damaged"),
        (from_the_future, "made by a newer wardbot (schema 0099"),
    ],
)
async def test_a_bad_file_is_refused_in_one_line_and_the_live_database_is_untouched(
    tmp_path: Path, cli: CliRunner, make: Callable[[Path, Path], Path], says: str
) -> None:
    url = sqlite_url(tmp_path / "live")
    await seed(url)
    good = (await backup_database(url, tmp_path)).path
    live = tmp_path / "live" / "ward.sqlite3"
    engine = create_engine(url)  # the last changes still in the -wal file, as after a running bot
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE residential_groups SET households = 321"))
    before = fingerprint(live)
    bad = make(good, tmp_path)

    status, out, err = await cli(url, "restore", str(bad), "--yes")

    assert fingerprint(live) == before
    await engine.dispose()
    assert status == 2 and out == ""
    line = one_error_line(err)
    assert says in line and str(bad) in line
    assert "Traceback" not in err
    assert query(live, "SELECT DISTINCT households FROM residential_groups") == [(321,)]
    assert (
        sorted(p.name for p in live.parent.iterdir() if "before-restore" in p.name or "restoring" in p.name)
        == []
    )


async def test_a_sqlite_backup_is_not_restored_into_postgresql(tmp_path: Path, cli: CliRunner) -> None:
    url = sqlite_url(tmp_path)
    await seed(url)
    good = (await backup_database(url, tmp_path)).path
    status, _, err = await cli("postgresql+asyncpg://postgres@127.0.0.1:5432/nowhere", "restore", str(good))
    assert status == 2
    assert "is a SQLite backup but DATABASE_URL is a PostgreSQL database" in one_error_line(err)


async def test_a_damaged_live_database_is_not_backed_up_over_good_backups(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    await seed(url)
    database = tmp_path / "ward.sqlite3"
    data = bytearray(database.read_bytes())
    page_size = 4096
    data[page_size * 2 : page_size * 2 + 512] = secrets.token_bytes(512)  # scribble over a table's page
    database.write_bytes(bytes(data))
    with pytest.raises(BackupError, match=r"damaged|cannot copy|malformed"):
        await backup_database(url, tmp_path / "backups.zip")
    assert not (tmp_path / "backups.zip").exists()
    assert [p.name for p in os.scandir(tmp_path) if p.name.endswith((".zip", ".partial"))] == []


# --- the run lock ----------------------------------------------------------------------------------


async def test_restore_refuses_while_the_run_lock_is_held(tmp_path: Path, cli: CliRunner) -> None:
    url = sqlite_url(tmp_path / "live")
    await seed(url)
    good = (await backup_database(url, tmp_path)).path
    before = fingerprint(tmp_path / "live" / "ward.sqlite3")

    async with hold_run_lock(url):
        status, _, err = await cli(url, "restore", str(good), "--yes")
        with pytest.raises(RunLockBusy):
            await restore_database(url, good)
        with pytest.raises(RunLockBusy):
            async with hold_run_lock(url):
                pass
    assert status == 2
    line = one_error_line(err)
    assert "in use by a running wardbot" in line and f"process {os.getpid()}" in line
    assert "systemctl stop wardbot" in line and "Ctrl-C in the window running `wardbot run`" in line
    assert fingerprint(tmp_path / "live" / "ward.sqlite3") == before

    held = keep_run_lock(url)  # what `wardbot run` does, for the rest of the process
    try:
        assert (await cli(url, "restore", str(good), "--yes"))[0] == 2
    finally:
        held.release()
    status, out, _ = await cli(url, "restore", str(good), "--yes")
    assert status == 0 and out.startswith("Restored ")
    assert lock_file(url) == tmp_path / "live" / "ward.sqlite3.lock"


@SQLITE_ONLY
async def test_wardbot_run_holds_the_lock_for_its_whole_life(
    fake_api: FakeBotApi, tmp_path: Path, cli: CliRunner
) -> None:
    env = _environment(fake_api, tmp_path)
    url = env["DATABASE_URL"]
    user = FakeUser(id=2101, first_name="Hoa", language_code="vi")
    async with bot_process(env, tmp_path) as process:
        assert "Xin chào Hoa" in await _answer(fake_api, user, "/start", timeout=60)
        status, out, _ = await cli(url, "backup", "--out", str(tmp_path / "while-running.zip"))
        assert status == 0 and "while-running.zip" in out
        status, _, err = await cli(url, "restore", str(tmp_path / "while-running.zip"), "--yes")
        assert status == 2 and f"process {process.pid}" in one_error_line(err)

        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, second_err = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode == 2
        assert "in use by a running wardbot" in one_error_line(second_err.decode())
    status, out, _ = await cli(url, "restore", str(tmp_path / "while-running.zip"), "--yes")
    assert status == 0 and ", 6 groups, 0 reports;" in out  # the example ward's groups


# --- nightly -----------------------------------------------------------------------------------------


async def test_nightly_backup_keeps_only_the_newest_within_keep_days(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    await seed(url)
    backups = tmp_path / "backups"
    backups.mkdir()
    tonight = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    for days in (1, 6, 7, 8, 30, 400):
        (backups / bot.backup.nightly_file_name(tonight - timedelta(days=days, minutes=1))).write_bytes(
            b"old"
        )
    others = [
        "wardbot-2020-01-01-000000.zip",  # made by hand with `wardbot backup`: never removed
        "wardbot-nightly-2020-13-45-000000.zip",  # not a date
        "wardbot-nightly-2020-01-01-000000.zip.bak",
        "notes.txt",
    ]
    for name in others:
        (backups / name).write_bytes(b"keep")

    made = await nightly_backup(url, backups, keep_days=7, now=tonight)

    assert made == backups / "wardbot-nightly-2026-11-20-020000.zip"
    assert sorted(p.name for p in backups.iterdir()) == sorted(
        [
            made.name,
            "wardbot-nightly-2026-11-19-015900.zip",
            "wardbot-nightly-2026-11-14-015900.zip",
            *others,
        ]
    )
    assert zipfile.ZipFile(made).testzip() is None

    later = await nightly_backup(url, backups, keep_days=0, now=tonight + timedelta(days=1))
    assert sorted(p.name for p in backups.iterdir() if p.name.startswith("wardbot-nightly-2026")) == [
        later.name
    ]


async def test_a_failing_nightly_backup_says_why_and_removes_nothing(tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    old = backups / "wardbot-nightly-2026-01-01-020000.zip"
    old.write_bytes(b"the last good one")
    with pytest.raises(BackupError, match=r"no database at .*missing\.sqlite3"):
        await nightly_backup(
            sqlite_url(tmp_path, "missing.sqlite3"), backups, 7, datetime(2026, 11, 20, 2, 0)
        )
    assert old.exists()
    with pytest.raises(ValueError):
        await nightly_backup(sqlite_url(tmp_path), backups, -1, datetime(2026, 11, 20, 2, 0))


# --- the command line --------------------------------------------------------------------------------


async def test_backup_and_restore_from_the_command_line(tmp_path: Path, cli: CliRunner) -> None:
    url = sqlite_url(tmp_path / "data")
    status, _, err = await cli(url, "backup")
    assert status == 2 and "no database at" in one_error_line(err)

    await seed(url, groups=5, reports=4)
    status, out, err = await cli(url, "backup")
    assert status == 0, err
    assert len(out.splitlines()) == 1
    match = re.fullmatch(
        r"Backup written to (\S+wardbot-\d{4}-\d{2}-\d{2}-\d{6}\.zip) \([\d.]+ KB\): "
        f"schema {HEAD}, 5 groups, "
        r"4 reports \(SQLite database ward\.sqlite3\)\.\n",
        out,
    )
    assert match, out
    archive = Path(match.group(1))
    assert archive.parent == Path.cwd()
    with zipfile.ZipFile(archive) as opened:
        assert sorted(opened.namelist()) == ["manifest.json", "wardbot.sqlite3"]
        manifest = json.loads(opened.read("manifest.json"))
    assert manifest["format"] == "wardbot-backup" and manifest["format_version"] == 1
    assert manifest["schema_version"] == HEAD and manifest["counts"] == {"groups": 5, "reports": 4}
    assert datetime.fromisoformat(manifest["created_at"]).tzinfo is not None

    status, _, err = await cli(url, "backup", "--out", str(archive))
    assert status == 2 and "already exists" in one_error_line(err)

    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM reports"))
    await engine.dispose()

    status, out, err = await cli(url, "restore", str(archive), answer="không")
    assert status == 1 and "cancelled; nothing changed" in err
    assert "This REPLACES:" in out and "0 reports" in out and "Type yes to continue" in out
    assert (await database_state(url)).reports == 0

    status, out, err = await cli(url, "restore", str(archive), answer="yes")
    assert status == 0, err
    assert f"Restored {archive.name} (backup of " in out.splitlines()[-1]
    assert f"schema {HEAD} → {HEAD}, 5 groups, 4 reports; the previous database is kept in" in out
    assert (await database_state(url)).reports == 4
    assert len(list((tmp_path / "data").glob("ward.sqlite3.before-restore-*"))) == 1

    status, out, _ = await cli(url, "restore", str(archive), "--yes")
    assert status == 0 and "Type yes" not in out
    status, _, err = await cli(url, "restore", str(tmp_path / "nowhere.zip"))
    assert status == 2 and one_error_line(err).endswith("nowhere.zip: file not found")


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_backup_commands_have_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert f"usage: wardbot {command}" in capsys.readouterr().out


# --- PostgreSQL ----------------------------------------------------------------------------------------

PG_HOST, PG_PORT = "127.0.0.1", 5432
NewDatabase = Callable[[], Awaitable[str]]


@pytest.fixture
async def new_pg_database() -> AsyncIterator[NewDatabase]:
    """Databases `wardbot_test_<random>` on 127.0.0.1:5432, dropped afterwards; skip without a server."""
    asyncpg = pytest.importorskip("asyncpg")
    made: list[str] = []

    async def admin() -> Any:
        return await asyncpg.connect(
            host=PG_HOST, port=PG_PORT, user="postgres", database="postgres", timeout=5
        )

    try:
        (await admin()).terminate()
    except (OSError, TimeoutError) as error:
        pytest.skip(f"no PostgreSQL server answers on {PG_HOST}:{PG_PORT} ({error})")

    async def make() -> str:
        name = f"wardbot_test_{secrets.token_hex(5)}"
        connection = await admin()
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        made.append(name)
        return f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"

    yield make
    connection = await admin()
    try:
        for name in made:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def with_password(url: str, password: str) -> str:
    return url.replace("postgres@", f"postgres:{password}@", 1)


async def test_postgresql_backup_and_restore_of_an_older_schema(
    new_pg_database: NewDatabase, tmp_path: Path, cli: CliRunner
) -> None:
    old_url, live_url = await new_pg_database(), await new_pg_database()
    await seed(old_url, OLD, groups=4, reports=3)
    await seed(live_url, groups=2, reports=1)  # the newest schema: tables the old backup does not have
    engine = create_engine(live_url)
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO pending_choices VALUES ('telegram', '9', '{}', now())")
        )  # a table newer than the backup, with a row: must not survive the restore
    await engine.dispose()

    status, out, err = await cli(old_url, "backup", "--out", str(tmp_path))
    assert status == 0, err
    assert "schema 0005, 4 groups, 3 reports (PostgreSQL database wardbot_test_" in out
    archive = next(Path(p) for p in os.scandir(tmp_path) if p.name.startswith("wardbot-"))
    with zipfile.ZipFile(archive) as opened:
        assert sorted(opened.namelist()) == ["manifest.json", "wardbot.pgdump"]
        assert opened.read("wardbot.pgdump").startswith(b"PGDMP")

    status, out, err = await cli(live_url, "restore", str(archive), "--yes")
    assert status == 0, err
    assert f"schema 0005 → {HEAD}, 4 groups, 3 reports; the previous database is kept in" in out
    state = await database_state(live_url)
    assert (state.schema_version, state.groups, state.reports) == (HEAD, 4, 3)
    engine = create_engine(live_url)
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM pending_choices"))).scalar_one() == 0
    await engine.dispose()
    kept = list(Path.cwd().glob("wardbot_test_*.before-restore-*.zip"))
    assert len(kept) == 1
    with zipfile.ZipFile(kept[0]) as opened:
        assert json.loads(opened.read("manifest.json"))["counts"] == {"groups": 2, "reports": 1}


async def test_postgresql_restore_refuses_while_a_bot_runs_and_bad_dumps(
    new_pg_database: NewDatabase, tmp_path: Path, cli: CliRunner
) -> None:
    url = await new_pg_database()
    await seed(url, groups=3, reports=2)
    archive = (await backup_database(url, tmp_path)).path

    async with hold_run_lock(url):
        status, _, err = await cli(url, "restore", str(archive), "--yes")
    assert status == 2
    line = one_error_line(err)
    assert "PostgreSQL database wardbot_test_" in line and "systemctl stop wardbot" in line
    held = await asyncio.to_thread(keep_run_lock, url)  # as `wardbot run` holds it: its own connection
    try:
        assert (await cli(url, "restore", str(archive), "--yes"))[0] == 2
        with pytest.raises(RunLockBusy):
            await asyncio.to_thread(keep_run_lock, url)  # a second bot on the same database
    finally:
        await asyncio.to_thread(held.release)
    async with hold_run_lock(url):
        pass  # released

    garbage = secrets.token_bytes(4096)
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(archive) as source:
        manifest = json.loads(source.read("manifest.json"))
    manifest.update(size=len(garbage), sha256=hashlib.sha256(garbage).hexdigest())
    with zipfile.ZipFile(forged, "w") as target:
        target.writestr("manifest.json", json.dumps(manifest))
        target.writestr("wardbot.pgdump", garbage)
    status, _, err = await cli(url, "restore", str(forged), "--yes")
    assert status == 2 and "the database dump inside is damaged" in one_error_line(err)
    for bad in (truncated(archive, tmp_path), text_file(archive, tmp_path)):
        status, _, err = await cli(url, "restore", str(bad), "--yes")
        assert status == 2 and str(bad) in one_error_line(err)
    state = await database_state(url)
    assert (state.groups, state.reports) == (3, 2)
    assert list(Path.cwd().glob("*.before-restore-*")) == []


async def test_postgresql_password_travels_only_in_pgpassword(
    new_pg_database: NewDatabase,
    tmp_path: Path,
    cli: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    password = "s3cret-Pa55-" + secrets.token_hex(4)
    url = with_password(await new_pg_database(), password)  # trust authentication ignores it
    await seed(url)
    launched: list[tuple[tuple[str, ...], dict[str, str]]] = []
    original = asyncio.create_subprocess_exec

    async def recording(*argv: str, **kwargs: Any) -> asyncio.subprocess.Process:
        launched.append((argv, dict(kwargs["env"])))
        return await original(*argv, **kwargs)

    monkeypatch.setattr(bot.backup.asyncio, "create_subprocess_exec", recording)
    caplog.set_level("DEBUG")
    caplog.set_level("DEBUG", logger="bot.backup")
    status, out, err = await cli(url, "-v", "backup", "--out", str(tmp_path))
    assert status == 0, err
    archive = next(Path(p) for p in os.scandir(tmp_path) if p.name.startswith("wardbot-"))
    status, out2, err2 = await cli(url, "-v", "restore", str(archive), "--yes")
    assert status == 0, err2

    assert {Path(argv[0]).name for argv, _ in launched} >= {"pg_dump", "pg_restore", "psql"}
    for argv, env in launched:
        assert not any(password in arg for arg in argv)
        assert env["PGPASSWORD"] == password
    for shown in (out, err, out2, err2, caplog.text, archive.read_bytes().decode("latin-1")):
        assert password not in shown


async def test_without_pg_dump_one_line_says_what_to_install(
    new_pg_database: NewDatabase, tmp_path: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = await new_pg_database()
    await seed(url)
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))
    status, out, err = await cli(url, "backup")
    assert status == 2 and out == ""
    line = one_error_line(err)
    assert re.fullmatch(
        r"error: pg_dump is not installed; install the PostgreSQL client tools with: "
        r"sudo apt install postgresql-client-\d+",
        line,
    ), line
    assert list(Path.cwd().iterdir()) == []
