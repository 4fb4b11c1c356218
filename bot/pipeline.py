"""The one turn pipeline every channel uses: claim → identify → language → authorize → handle → commit.

An update is one unit of work: it is claimed in the durable inbox (so a redelivery or a second
worker has no second effect), the caller identified and their language set, the access policy
consulted, the feature's handler run, and the replies written to the outbox — all in one
transaction, committed once. Replies are sent after the commit, so no transaction waits on the
network, and a reply lost in a crash goes out after the restart.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.access import ChatKind, authorize
from bot.delivery import ClaimedMessage, queue_replies
from bot.features import registry
from bot.i18n import gettext as _
from bot.i18n import set_language, set_ward_words
from bot.membership import identify
from bot.replies import Replies, Reply
from bot.turns import Inbound, MemberChange, PhotoFetcher, Turn
from bot.wiring import Wiring
from storage.locks import is_postgres, lock_for_transaction
from storage.unit_of_work import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)


class ChannelHooks(Protocol):
    """What the pipeline asks of the channel an update came from, inside the update's transaction."""

    platform: str
    username: str

    async def resolve(self, uow: UnitOfWork, inbound: Inbound) -> Inbound:
        """The update as the features should see it (a typed option number becomes its choice)."""

    async def remember(self, uow: UnitOfWork, inbound: Inbound, replies: Sequence[Reply]) -> None:
        """Keep what the channel needs of the replies (the options a number may refer to next)."""

    def photo_fetcher(self, inbound: Inbound) -> PhotoFetcher | None:
        """How to download the photo that came with the update, if any."""


@dataclass
class TurnOutcome:
    """What the channel does after the commit: send the replies, answer the button, refresh menus."""

    replies: list[ClaimedMessage] = field(default_factory=list)
    notice: str | None = None
    menus_changed: set[int] = field(default_factory=set)
    broadcast: bool = False
    handled: Inbound | None = None  # the update handled (an earlier one of the chat may go first)
    again: bool = False  # an earlier update of the chat was handled instead: run this one again


def chat_key(inbound: Inbound) -> str:
    """The updates of one chat are handled one at a time, in order."""
    return chat_key_of(inbound.platform, inbound.chat_id)


def chat_key_of(platform: str, chat_id: str) -> str:
    """How the inbox files the updates of one chat."""
    return f"{platform}:{chat_id}"


def encode(inbound: Inbound) -> str:
    """An update as stored in the inbox."""
    return json.dumps(dataclasses.asdict(inbound), ensure_ascii=False, separators=(",", ":"))


def decode(payload: str) -> Inbound:
    """An update read back from the inbox."""
    values: dict[str, Any] = json.loads(payload)
    change = values.pop("member_change", None)
    return Inbound(
        **values | {"chat": ChatKind(values["chat"])},
        member_change=MemberChange(**change) if change is not None else None,
    )


async def run_turn(wiring: Wiring, channel: ChannelHooks, inbound: Inbound, *, inbox_id: int) -> TurnOutcome:
    """Handle one update in one transaction; an update already handled has no second effect."""
    now = wiring.clock()
    again = False
    async with unit_of_work(wiring.factory) as uow:
        if is_postgres(uow.session):
            # Several workers: one chat's updates one at a time, in the order received, whichever
            # worker received them (a reverse proxy alternates between workers).
            await lock_for_transaction(uow.session, chat_key(inbound))
            earlier = await uow.inbox.earlier_unhandled(chat_key(inbound), inbox_id)
            if earlier:
                inbox_id, inbound, again = earlier[0].id, decode(earlier[0].payload), True
        if not await uow.inbox.claim(inbox_id, now=now):
            log.info("update %s was already handled; ignoring the redelivery", inbound.update_id)
            return TurnOutcome(again=again)
        if inbound.other_bot:
            return TurnOutcome(again=again)
        caller = await identify(
            uow,
            inbound.platform,
            inbound.user_id,
            display_name=inbound.user_name,
            client_language=inbound.user_language,
            default_language=wiring.settings.default_language,
            chat_external_id=inbound.chat_id,
            chat_kind=inbound.chat,
            chat_title=inbound.chat_title,
            default_ward_id=wiring.single_ward_id,
        )
        set_language(caller.language)
        set_ward_words(wiring.ward_of(caller.ward_id).ward.words())
        inbound = await channel.resolve(uow, inbound)
        out = Replies()
        outcome = TurnOutcome(handled=inbound, again=again)
        erased = False
        route = registry.route(inbound)
        if inbound.forged:
            outcome.notice = _("This button is no longer valid.")
            out.add(
                _("This button is no longer valid. Nothing was changed. Send /help to see what you can do.")
            )
        elif route is not None:
            refusal = authorize(route.policy, caller, inbound.chat)
            if refusal is not None:
                out.add(refusal)
            else:
                turn = Turn(
                    uow=uow,
                    caller=caller,
                    chat=inbound.chat,
                    out=out,
                    wiring=wiring,
                    ward_id=caller.ward_id if caller.ward_id is not None else wiring.first_ward_id,
                    ward=wiring.ward_of(caller.ward_id),
                    platform=inbound.platform,
                    chat_id=inbound.chat_id,
                    chat_title=inbound.chat_title,
                    text="" if inbound.data else inbound.text,
                    data=inbound.data,
                    args=inbound.args,
                    command=inbound.command or "",
                    has_attachment=inbound.has_attachment,
                    addressed=inbound.addressed,
                    bot_username=channel.username,
                    member_change=inbound.member_change,
                    migrated_to=inbound.migrated_to,
                    fetch_photo=channel.photo_fetcher(inbound),
                )
                await route.handler(turn)
                outcome.notice, outcome.menus_changed = turn.notice, turn.menus_changed
                outcome.broadcast, erased = turn.broadcast, turn.erased
        if not erased:  # an erased person's options are not kept either
            await channel.remember(uow, inbound, out.replies)
        outcome.replies = await queue_replies(
            uow,
            platform=inbound.platform,
            chat_id=inbound.chat_id,
            is_group=inbound.chat is ChatKind.GROUP,
            replies=out.replies,
            edit_message_id=inbound.pressed_message or None,
            claimed_by=wiring.instance,
            now=now,
            lease=wiring.lease,
            forget=erased,
        )
    return outcome


async def give_up_turn(wiring: Wiring, inbound: Inbound, *, inbox_id: int) -> TurnOutcome:
    """A handler failed: its transaction rolled back; mark the update handled and say nothing was saved."""
    now = wiring.clock()
    async with unit_of_work(wiring.factory) as uow:
        await uow.inbox.claim(inbox_id, now=now)
        text = _("Sorry, something went wrong and nothing was saved. Please try again in a moment.")
        replies = await queue_replies(
            uow,
            platform=inbound.platform,
            chat_id=inbound.chat_id,
            is_group=inbound.chat is ChatKind.GROUP,
            replies=[Reply(text)],
            edit_message_id=None,
            claimed_by=wiring.instance,
            now=now,
            lease=wiring.lease,
        )
    return TurnOutcome(replies=replies, handled=inbound)
