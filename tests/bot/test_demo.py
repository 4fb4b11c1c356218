"""The demo a newcomer tries first: a year of history, every kind of question, and clean ways out."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.demo import DEMO_GROUPS, HISTORY_MONTHS, demo_ward, seed_demo
from bot.indicators import Kind
from bot.periods import Month, month_period
from bot.standings import compute_standings, photo_files
from bot.standings_view import default_period
from storage.unit_of_work import unit_of_work
from tests.bot.test_cli import env  # noqa: F401  (the clean-environment fixture)
from tests.harness import make_settings, migrated_wiring
from tests.wards import NOW, WARD


def test_the_demo_ward_asks_every_kind_of_question(tmp_path: Path) -> None:
    ward = demo_ward(make_settings(tmp_path))
    kinds = {indicator.kind for indicator in ward.indicators}
    assert {Kind.YESNO, Kind.CHOICE, Kind.TEXT, Kind.PHOTO, Kind.INTEGER, Kind.PERCENT, Kind.MONEY} <= kinds
    optional = [indicator for indicator in ward.indicators if not indicator.required]
    assert {Kind.CHOICE, Kind.TEXT, Kind.PHOTO} <= {indicator.kind for indicator in optional}
    assert [indicator.kind for indicator in ward.indicators[-2:]] == [Kind.PHOTO, Kind.TEXT]
    assert len({indicator.key for indicator in ward.indicators}) == len(ward.indicators)


async def test_every_demo_group_has_a_year_of_reports_and_a_score(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    ward = demo_ward(settings)
    wiring = await migrated_wiring(settings, ward)
    wiring.clock = lambda: NOW
    try:
        await seed_demo(wiring)
        tz = wiring.timezone_of(wiring.first_ward_id)
        async with unit_of_work(wiring.factory) as uow:
            period = default_period(NOW, ward.ward, tz)
            result = await compute_standings(
                uow, period, ward.indicators, ward.ward.bands, ward_id=wiring.first_ward_id
            )
            first = Month.of(NOW.astimezone(tz).date()).shifted(-HISTORY_MONTHS)
            months = [str(first.shifted(step)) for step in range(HISTORY_MONTHS)]
            reports = await uow.standings.reports(months)
        assert [standing.code for standing in sorted(result.standings, key=lambda s: s.code)] == [
            group.code for group in DEMO_GROUPS
        ]
        assert all(standing.score is not None for standing in result.standings)
        assert len(reports) == HISTORY_MONTHS * len(DEMO_GROUPS)
        async with unit_of_work(wiring.factory) as uow:
            photos = await photo_files(uow, month_period(first.shifted(HISTORY_MONTHS - 1)), ward_id=WARD)
        assert [photo.code for photo in photos] == [group.code for group in DEMO_GROUPS]  # for /photos
    finally:
        await wiring.engine.dispose()


def demo(env: dict[str, str], tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:  # noqa: F811
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input=script,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_standings_and_the_chart_show_a_year_from_the_first_command(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    env.pop("DATABASE_URL")
    result = demo(env, tmp_path, "3\n/standings\n:quit\n")
    assert result.returncode == 0, result.stderr
    assert "🏆 Bảng xếp hạng" in result.stdout
    for group in DEMO_GROUPS:
        assert f"{group.code} {group.name} — " in result.stdout  # a score, not "not reported"
    assert list((tmp_path / "data" / "demo-files").glob("*.png"))


def test_quit_leaves_from_the_first_prompt(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    env.pop("DATABASE_URL")
    result = demo(env, tmp_path, ":quit\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("[1-3, :quit]")  # asked once, then left


def test_ctrl_c_leaves_at_once_while_the_demo_waits_for_a_line(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    env.pop("DATABASE_URL")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo"],
        stdin=subprocess.PIPE,  # kept open: nobody presses Enter
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        shown = b""
        deadline = time.monotonic() + 60
        while b"Who are you?" not in shown:
            assert time.monotonic() < deadline, shown
            ready, _, _ = select.select([process.stdout], [], [], 1)
            if ready:
                shown += os.read(process.stdout.fileno(), 4096)
        process.send_signal(signal.SIGINT)
        started = time.monotonic()
        returncode = process.wait(timeout=20)
        assert time.monotonic() - started < 15
        assert returncode == 130
        assert process.stderr is not None
        assert b"Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
