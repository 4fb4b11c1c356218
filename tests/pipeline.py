"""Drive the turn pipeline in-process: one update at a time, straight into `bot.pipeline.run_turn`.

The channel verifies button data before the pipeline sees it (Telegram's is signed), so a test that
feeds arbitrary button data has to start after the channel: this helper writes the update's inbox row
as the dispatcher does and runs its turn against the database, returning the replies as written to
the outbox. An exception in a handler reaches the test (the dispatcher would apologise instead).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from bot.access import ChatKind
from bot.delivery import ClaimedMessage
from bot.pipeline import chat_key, encode, run_turn
from bot.replies import Reply
from bot.turns import Inbound, PhotoFetcher
from bot.wiring import Wiring
from storage.unit_of_work import UnitOfWork, unit_of_work

PLATFORM = "telegram"


class TrustingChannel:
    """The channel's side of a turn, for data that is taken as already verified."""

    platform = PLATFORM
    username = "ward_test_bot"

    async def resolve(self, uow: UnitOfWork, inbound: Inbound) -> Inbound:
        return inbound

    async def remember(self, uow: UnitOfWork, inbound: Inbound, replies: Sequence[Reply]) -> None:
        """Nothing to remember: Telegram buttons carry their own data."""

    def photo_fetcher(self, inbound: Inbound) -> PhotoFetcher | None:
        return None


class Pipeline:
    """Updates from people, handled one by one as the dispatcher would."""

    def __init__(self, wiring: Wiring) -> None:
        self.wiring = wiring
        self.channel = TrustingChannel()
        self._update_ids = itertools.count(1)

    async def send(
        self,
        user_id: int,
        *,
        text: str = "",
        data: str = "",
        chat_id: int | None = None,
        has_attachment: bool = False,
        name: str = "",
    ) -> list[ClaimedMessage]:
        """One message (or a pressed button's `data`) from `user_id`; the replies the turn queued."""
        chat = ChatKind.PRIVATE if chat_id is None else ChatKind.GROUP
        inbound = Inbound(
            platform=PLATFORM,
            update_id=next(self._update_ids),
            user_id=str(user_id),
            chat_id=str(user_id if chat_id is None else chat_id),
            chat=chat,
            user_name=name or f"Người {user_id}",
            user_language="vi",
            chat_title="" if chat_id is None else "Nhóm tổ",
            text="" if data else text.strip(),
            data=data,
            has_attachment=has_attachment,
        )
        async with unit_of_work(self.wiring.factory) as uow:
            row = (PLATFORM, inbound.update_id, chat_key(inbound), encode(inbound))
            inbox_ids = await uow.inbox.add_many([row], now=self.wiring.clock())
        outcome = await run_turn(
            self.wiring, self.channel, inbound, inbox_id=inbox_ids[(PLATFORM, inbound.update_id)]
        )
        return outcome.replies
