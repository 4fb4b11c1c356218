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

    def wait(self, now: float, *, limit: int | None = None) -> float:
        """Seconds until one more event fits (0 when it fits now); `limit` lowers the limit for this ask."""
        while self.events and self.events[0] <= now - self.period:
            self.events.popleft()
        limit = self.limit if limit is None else max(1, limit)
        if len(self.events) < limit:
            return 0.0
        return self.events[len(self.events) - limit] + self.period - now

    def record(self, now: float) -> None:
        self.events.append(now)


class FloodLimiter:
    """Paces API calls below a platform's overall and per-group-chat limits, on monotonic time.

    Broadcasts stay under `per_second` and `broadcast_per_second`, evenly spaced (a burst that arrives
    bunched at the platform would cross its one-second window), and while people are being answered
    they leave `reply_reserve` calls of each second to the answers. Replies to someone who just wrote
    share that limit too, unless `pace_replies` is off: Telegram's overall limit is for bulk
    notifications, so its answers wait only for a 429's pause and a group chat's minute.
    """

    def __init__(
        self,
        per_second: int,
        per_group_minute: int | None = None,
        *,
        broadcast_per_second: int | None = None,
        reply_reserve: int = 0,
        broadcast_gap: float | None = None,
        pace_replies: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock, self.pace_replies = clock, pace_replies
        self.base = (per_second, broadcast_per_second or per_second, per_group_minute)
        self.per_group_minute = per_group_minute
        self.overall = RollingWindow(per_second, 1.0)
        self.broadcasts = RollingWindow(broadcast_per_second or per_second, 1.0)
        self.groups: dict[str, RollingWindow] = {}
        self.paused_until = 0.0
        self.reply_reserve = reply_reserve
        self.replies = RollingWindow(per_second, 1.0)
        self.next_broadcast = 0.0  # the earliest moment of the next broadcast call (even spacing)
        self.broadcast_gap = self.base_gap = broadcast_gap  # seconds between broadcasts; default 1 / limit

    def set_share(self, fraction: float) -> None:
        """Pace at `fraction` of the limits: the other workers sharing the bot's token use the rest."""
        per_second, broadcast, group = self.base
        self.overall.limit = max(1, int(per_second * fraction))
        self.broadcasts.limit = max(1, int(broadcast * fraction))
        if self.base_gap is not None:
            self.broadcast_gap = self.base_gap / max(fraction, 1e-6)
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
        paced = broadcast or self.pace_replies
        overall = max(self.paused_until - now, self.overall.wait(now) if paced else 0.0)
        if broadcast:
            answering = self.reply_reserve and self.replies.wait(now, limit=1) > 0
            reserve = (
                self.overall.wait(now, limit=self.overall.limit - self.reply_reserve) if answering else 0.0
            )
            overall = max(overall, reserve, self.broadcasts.wait(now), self.next_broadcast - now)
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
        if broadcast or self.pace_replies:
            self.overall.record(now)
        if broadcast:
            self.broadcasts.record(now)
            gap = max(self.broadcast_gap or 0.0, 1.0 / self.broadcasts.limit)
            # A call that woke a little late keeps the schedule (the next one may catch up within
            # the window); after a pause the schedule starts again from now, with no burst.
            start = self.next_broadcast if now - self.next_broadcast < gap else now
            self.next_broadcast = start + gap
        else:
            self.replies.record(now)
        if is_group and self.per_group_minute is not None:
            self.groups[chat].record(now)
