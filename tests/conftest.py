"""Fixtures: a fresh migrated database, a fake Bot API on 127.0.0.1 and the real application."""

from __future__ import annotations

import compileall
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.simulator import FakeBotApi
from bot.ward_config import WardFile, load_ward_config
from bot.wiring import Wiring
from tests import databases
from tests.harness import RunningBot, make_settings, migrated_wiring
from tests.wards import NOW, SMALL_WARD

# Every bot a test starts (in this process or as `wardbot run`) serves its web page on a free port, so
# tests running side by side never fight over WEB_PORT's default 8080.
os.environ["WEB_PORT"] = "0"

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_WARD = ROOT / "examples" / "ward.toml"
PACKAGES = ("bot", "storage", "handlers", "conversations", "bench", "tests")


# The longest tests (bot processes, flood limits), longest first. Each goes to a worker of its own
# when the run starts (`-n`), so the last of them does not begin when everything else is done.
SLOW_FIRST = (
    "tests/bot/test_workers.py::test_200_heads",
    "tests/bench/test_broadcast.py::test_a_kill",
    "tests/bot/test_workers.py::test_a_campaign_to_300_chats",
    "tests/bot/test_backup.py::test_a_backup_taken_while_fifty_heads_report",
    "tests/bot/test_workers.py::test_a_worker_killed_mid_broadcast",
    "tests/conversations/test_any_input_properties.py::",
    "tests/conversations/test_report_properties.py::",
    "tests/bench/test_report_flow.py::",
    "tests/bot/test_workers.py::",
    "tests/bench/",
    "tests/bot/test_backup.py::test_wardbot_run_holds_the_lock",
    "tests/conversations/test_report_process.py::",
    "tests/conversations/test_assessment_process.py::",
    "tests/bot/test_inbox.py::",
    "tests/bot/channels/test_web.py::test_benchmark_quick_run",
    "tests/bot/test_standings.py::test_benchmark_quick_run",
    "tests/bot/simulator/test_terminal.py::",
)


def pytest_configure(config: pytest.Config) -> None:
    """pytest-xdist hands tests out one at a time (beyond two each at the start) rather than in runs
    of consecutive tests, which would give every slow test to the first worker.

    The project's code is compiled once, before the workers start: every worker and every bot or
    command-line process a test starts then reads it compiled instead of compiling it again (about a
    second of CPU each), also where PYTHONDONTWRITEBYTECODE stops Python from saving what it compiles.
    """
    if getattr(config.option, "maxschedchunk", False) is None:
        config.option.maxschedchunk = 1
    if not hasattr(config, "workerinput"):  # the controller of an xdist run, or a plain run
        for package in PACKAGES:
            compileall.compile_dir(ROOT / package, quiet=1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first, each followed by a quick one (a worker starts with two tests)."""

    def rank(item: pytest.Item) -> int:
        return next((n for n, slow in enumerate(SLOW_FIRST) if item.nodeid.startswith(slow)), len(SLOW_FIRST))

    slow = sorted((item for item in items if rank(item) < len(SLOW_FIRST)), key=rank)
    quick = [item for item in items if rank(item) == len(SLOW_FIRST)]
    ordered: list[pytest.Item] = []
    for item in slow:
        ordered.append(item)
        if quick:
            ordered.append(quick.pop(0))
    items[:] = ordered + quick


@pytest.fixture(scope="session", autouse=True)
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Migrations run once per session; each test copies the migrated database."""
    databases.template_folder = tmp_path_factory.mktemp("template")
    yield
    databases.drop_created()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def ward() -> WardFile:
    return load_ward_config(EXAMPLE_WARD)


@pytest.fixture
async def wiring(settings: Settings, ward: WardFile) -> AsyncIterator[Wiring]:
    """A migrated database without a running bot, for service tests."""
    built = await migrated_wiring(settings, ward)
    try:
        yield built
    finally:
        await built.engine.dispose()


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as fake:
        yield fake


@pytest.fixture
async def running(fake_api: FakeBotApi, settings: Settings, ward: WardFile) -> AsyncIterator[RunningBot]:
    """The real application, long-polling the fake Bot API."""
    bot = RunningBot(fake_api, settings, ward, clock=lambda: NOW)  # no deadline or reminder by chance
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


@pytest.fixture
def small_ward(tmp_path: Path) -> WardFile:
    path = tmp_path / "ward.toml"
    path.write_text(SMALL_WARD, encoding="utf-8")
    return load_ward_config(path)


@pytest.fixture
async def reporting(fake_api: FakeBotApi, tmp_path: Path, small_ward: WardFile) -> AsyncIterator[RunningBot]:
    """The application on the small ward, with the clock at 3 November 2026."""
    bot = RunningBot(fake_api, make_settings(tmp_path), small_ward, clock=lambda: NOW)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()
