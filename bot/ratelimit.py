"""Pacing sends below a platform's flood limits: one rolling window, one limiter for every channel."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


class ChatBusy(Exception):
    """A group chat has used its messages for the minute: hand the message back, send others."""


class RollingWindow:
    """At most `limit` events in any `period` seconds."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit, self.period = limit, period
        self.events: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more event fits (0 when it fits now)."""
        while self.events and self.events[0] <= now - self.period:
            self.events.popleft()
        if len(self.events) < self.limit:
            return 0.0
        return self.events[0] + self.period - now

    def record(self, now: float) -> None:
        self.events.append(now)


class FloodLimiter:
    """Paces API calls below a platform's overall and per-group-chat limits, on monotonic time.

    Interactive replies use `per_second`; broadcasts stay under `broadcast_per_second`, leaving the
    rest of each second to people waiting for an answer.
    """

    def __init__(
        self,
        per_second: int,
        per_group_minute: int | None = None,
        *,
        broadcast_per_second: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.base = (per_second, broadcast_per_second or per_second, per_group_minute)
        self.per_group_minute = per_group_minute
        self.overall = RollingWindow(per_second, 1.0)
        self.broadcasts = RollingWindow(broadcast_per_second or per_second, 1.0)
        self.groups: dict[str, RollingWindow] = {}
        self.paused_until = 0.0

    def set_share(self, fraction: float) -> None:
        """Pace at `fraction` of the limits: the other workers sharing the bot's token use the rest."""
        per_second, broadcast, group = self.base
        self.overall.limit = max(1, int(per_second * fraction))
        self.broadcasts.limit = max(1, int(broadcast * fraction))
        if group is not None:
            self.per_group_minute = max(1, int(group * fraction))
            for window in self.groups.values():
                window.limit = self.per_group_minute

    def group_wait(self, chat: str) -> float:
        """Seconds until this group chat may get one more message."""
        window = self.groups.get(chat)
        return window.wait(self.clock()) if window is not None else 0.0

    def saturated_groups(self) -> set[str]:
        """Group chats that may get nothing right now (forgetting windows that emptied)."""
        now = self.clock()
        busy = {chat for chat, window in self.groups.items() if window.wait(now) > 0}
        self.groups = {chat: w for chat, w in self.groups.items() if w.events or chat in busy}
        return busy

    def pause(self, seconds: float) -> None:
        """The platform said 429: no call at all for `seconds`."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    def waits(self, chat: str, is_group: bool, *, broadcast: bool = True) -> tuple[float, float]:
        """Seconds to wait for the overall limit (and any 429 pause), and for the group chat's."""
        now = self.clock()
        overall = max(self.paused_until - now, self.overall.wait(now))
        if broadcast:
            overall = max(overall, self.broadcasts.wait(now))
        if not is_group or self.per_group_minute is None:
            return overall, 0.0
        window = self.groups.setdefault(chat, RollingWindow(self.per_group_minute, 60.0))
        return overall, window.wait(now)

    async def acquire(
        self, chat: str, is_group: bool, *, max_group_wait: float | None = None, broadcast: bool = True
    ) -> None:
        """Wait until one more call to `chat` fits every limit, and count it.

        Raises `ChatBusy` rather than wait longer than `max_group_wait` for a group chat's room.
        """
        while True:
            overall, grouped = self.waits(chat, is_group, broadcast=broadcast)
            if max_group_wait is not None and grouped > max_group_wait:
                raise ChatBusy(chat)
            wait = max(overall, grouped)
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        now = self.clock()
        self.overall.record(now)
        if broadcast:
            self.broadcasts.record(now)
        if is_group and self.per_group_minute is not None:
            self.groups[chat].record(now)
