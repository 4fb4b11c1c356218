"""Multi-step flows keep their state in the database; the router hands a person's next message to theirs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.access import ChatKind, authorize
from bot.turns import Turn
from storage.models import Conversation

Step = Callable[[Turn, Conversation], Awaitable[None]]


@dataclass(frozen=True)
class Flow:
    """A multi-step flow: the policy entry that guards it and what it does with messages and /cancel."""

    name: str
    command: str
    on_message: Step
    on_cancel: Step


FLOWS: dict[str, Flow] = {}


def register_flow(flow: Flow) -> None:
    FLOWS[flow.name] = flow


async def open_conversation(turn: Turn) -> tuple[Flow, Conversation] | None:
    """The caller's open flow in this private chat, if any (a flow nobody knows is closed)."""
    if turn.chat is not ChatKind.PRIVATE:
        return None
    conversation = await turn.uow.conversations.get(turn.caller.person_id)
    if conversation is None or conversation.chat_external_id != turn.chat_id:
        return None
    flow = FLOWS.get(conversation.flow)
    if flow is None:
        await turn.uow.conversations.end(turn.caller.person_id)
        return None
    return flow, conversation


async def resume(turn: Turn) -> bool:
    """Give the message to the caller's open flow, checked against the policy; False when there is none."""
    found = await open_conversation(turn)
    if found is None:
        return False
    flow, conversation = found
    refusal = authorize(flow.command, turn.caller, turn.chat)
    if refusal is not None:
        await turn.uow.conversations.end(turn.caller.person_id)
        turn.reply(refusal)
        return True
    await flow.on_message(turn, conversation)
    return True


async def cancel(turn: Turn) -> bool:
    """End the caller's open flow the way that flow ends; False when nothing was open."""
    found = await open_conversation(turn)
    if found is None:
        return False
    flow, conversation = found
    await flow.on_cancel(turn, conversation)
    await turn.uow.conversations.end(turn.caller.person_id)
    return True
