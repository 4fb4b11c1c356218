"""The broadcast benchmark, as a smoke run: a campaign reaches every linked group chat once, also when
the bot is killed with SIGKILL in the middle and started again (repeats only of what was in flight)."""

from __future__ import annotations

from pathlib import Path

from bench.broadcast import broadcast, render
from bot.outbox import BATCH
from tests.databases import fresh_database_url


def migrated(folder: Path) -> Path:
    """The benchmark's database file, copied from the session's migrated template beforehand: its
    `wardbot admin add` then finds it migrated (a migration from scratch is not what is checked)."""
    fresh_database_url(folder, "loa", postgres=False)
    return folder


async def test_a_launch_reaches_every_group_chat_once(tmp_path: Path) -> None:
    run = await broadcast(migrated(tmp_path), 30, kill_at=None)
    assert (run.reached, run.lost, run.repeated) == (30, 0, 0)
    assert "| campaign launch | 30 |" in render([("campaign launch", run)])


async def test_a_kill_in_the_middle_loses_nothing_and_repeats_only_what_was_in_flight(tmp_path: Path) -> None:
    run = await broadcast(migrated(tmp_path), 30, kill_at=1 / 3)
    assert run.killed_at is not None and run.killed_at < 30
    assert run.lost == 0 and run.reached == 30
    assert run.repeated <= BATCH
