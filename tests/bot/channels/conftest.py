"""Fixtures shared by the channel tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.channels import zalo_api
from tests.handlers.test_standings import report_october
from tests.harness import Person, RunningBot
from tests.wards import appoint


@pytest.fixture(autouse=True)
def fresh_shape_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no unreadable update shape logged yet (the client logs each once)."""
    monkeypatch.setattr(zalo_api, "_logged_shapes", set())


@pytest.fixture
async def staff(reporting: RunningBot) -> AsyncIterator[Person]:
    """Ward staff (user 1) and two heads; TDP01 reported October, TDP02 did not."""
    nam = await appoint(reporting, 501, "Nam", group="TDP01")
    await appoint(reporting, 502, "Bình", group="TDP02")
    await report_october(nam, "2", "60", "1.000.000", "Có")
    yield reporting.person(1, "Cán bộ")
