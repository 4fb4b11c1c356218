"""Everything a handler or job needs, built once at start-up and passed in."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
    wards: dict[int, WardFile] = field(default_factory=dict)  # by ward id, filled at start-up
    ward_files: tuple[WardFile, ...] = ()  # every ward of the deployment; just `ward` when empty
    web_port: int | None = None  # the port the web page was bound to, once started (WEB_PORT may be 0)

    @property
    def lease(self) -> timedelta:
        """How long a worker owns the outbox rows it claimed; a worker that died leaves them after."""
        return timedelta(seconds=self.settings.outbox_lease_seconds)

    @property
    def all_ward_files(self) -> tuple[WardFile, ...]:
        return self.ward_files or (self.ward,)

    def ward_of(self, ward_id: int | None) -> WardFile:
        """A ward's file; the deployment's first ward when `ward_id` is unknown."""
        if ward_id is not None and ward_id in self.wards:
            return self.wards[ward_id]
        return self.ward

    @property
    def first_ward_id(self) -> int:
        """The deployment's first ward: where people who belong to no ward yet are answered from."""
        return min(self.wards, default=0)

    @property
    def single_ward_id(self) -> int | None:
        """The ward of a one-ward deployment, where everyone belongs to it; None with several."""
        return next(iter(self.wards)) if len(self.wards) == 1 else None

    def timezone_of(self, ward_id: int | None) -> ZoneInfo:
        """A ward's timezone (its ward file wins over the TIMEZONE setting)."""
        return ZoneInfo(self.ward_of(ward_id).ward.timezone or self.settings.timezone)

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
