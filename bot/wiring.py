"""Everything a handler or job needs, built once at start-up and passed in."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Settings
from bot.ward_config import WardFile
from storage.models import utcnow


@dataclass
class Wiring:
    """Settings, the ward file, the database and the clock of one running bot."""

    settings: Settings
    ward: WardFile
    engine: AsyncEngine
    factory: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime] = field(default=utcnow)
    instance: str = field(default_factory=lambda: instance_name())

    @property
    def timezone(self) -> ZoneInfo:
        """The ward's timezone (the ward file wins over the TIMEZONE setting)."""
        return ZoneInfo(self.ward.ward.timezone or self.settings.timezone)

    def now(self) -> datetime:
        """The current time in the ward's timezone."""
        return self.clock().astimezone(self.timezone)


def instance_name() -> str:
    """Who this process is among the bot's workers (host, pid and a random part for restarts)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(4)}"
