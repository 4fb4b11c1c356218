"""Local stand-ins for chat platforms: a fake Bot API server and a terminal chat on top of it."""

from __future__ import annotations

from bot.simulator.fake_bot_api import Button, FakeBotApi, FakeUser, SentMessage

__all__ = ["Button", "FakeBotApi", "FakeUser", "SentMessage"]
