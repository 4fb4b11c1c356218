"""Fixtures shared by the channel tests."""

from __future__ import annotations

import pytest

from bot.channels import zalo_api


@pytest.fixture(autouse=True)
def fresh_shape_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no unreadable update shape logged yet (the client logs each once)."""
    monkeypatch.setattr(zalo_api, "_logged_shapes", set())
