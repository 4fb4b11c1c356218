"""The one retry helper: calls that a later attempt can fix are retried with capped backoff, saying so."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

Classifier = Callable[[BaseException], float | None]
"""After this error: the wait the other side asked for (0 when it asked none), or None when retrying
cannot help. The helper waits at least its own growing backoff."""


def backoff(attempt: int, *, base: float = 0.5, cap: float = 30.0) -> float:
    """base, 2×base, 4×base… seconds, never more than `cap` (attempt counts from 0)."""
    return min(cap, base * 2.0 ** min(attempt, 30))


async def retry(
    call: Callable[[], Awaitable[T]],
    *,
    classify: Classifier,
    what: str,
    attempts: int | None = 4,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run `call`; after an error `classify` says can pass, wait as it says and try again.

    `attempts=None` retries until the call succeeds or fails for good (start-up: a network that
    comes back later). Each retry is logged in one line naming `what` failed and why.
    """
    attempt = 0
    while True:
        try:
            return await call()
        except Exception as error:
            asked = classify(error)
            if asked is None or (attempts is not None and attempt + 1 >= attempts):
                raise
            delay = max(asked, backoff(attempt))
            attempt += 1
            log.warning(
                "%s failed (%s); trying again in %.1f s (attempt %d)",
                what,
                type(error).__name__,
                delay,
                attempt + 1,
            )
            await sleep(max(0.0, delay))
