"""Group chats: /link and /unlink, and noticing when the bot is added to or removed from a chat."""

from __future__ import annotations

from bot.access import ChatKind, Role
from bot.delivery import retarget
from bot.features import command, event
from bot.i18n import gettext as _
from bot.membership import (
    link_chat,
    move_chat,
    require_group,
    require_group_by_id,
    set_chat_active,
    set_person_active,
    unlink_chat,
)
from bot.turns import CHAT_MIGRATED, MEMBER_CHANGE, Turn
from handlers.membership_texts import explained


@command("link", "lienket")
@explained
async def link(turn: Turn) -> None:
    """Make this chat the caller's group's chat (staff name the group: /link TDP01)."""
    caller = turn.caller
    if turn.args:
        group = await require_group(turn.uow, turn.args[0], turn.ward_id)
        if not caller.has(Role.STAFF) and group.id not in caller.reports_for:
            turn.reply(_("You can only link the chat of the group you lead. Send /link without a code."))
            return
    elif len(caller.reports_for) == 1:
        group = await require_group_by_id(turn.uow, caller.reports_for[0])
    else:
        turn.reply(_("Which group is this chat for? Send /link GROUP-CODE, for example /link TDP01."))
        return
    await link_chat(
        turn.uow, turn.platform, turn.chat_id, group, actor=caller.person_id, title=turn.chat_title
    )
    turn.reply(
        _(
            "This chat is now the chat of {name} ({code}). Announcements and standings for the group "
            "will be posted here. Anyone here can send /help to see what they can do."
        ).format(name=group.name, code=group.code)
    )


@command("unlink", "golienket")
@explained
async def unlink(turn: Turn) -> None:
    """Detach this chat from its group (its head or staff)."""
    caller = turn.caller
    chat = await turn.uow.chats.find(turn.platform, turn.chat_id)
    linked_elsewhere = chat is not None and chat.group_id not in (None, *caller.reports_for)
    if linked_elsewhere and not caller.has(Role.STAFF):
        turn.reply(_("Only this group's head, deputy or ward staff can unlink this chat."))
        return
    group = await unlink_chat(turn.uow, turn.platform, turn.chat_id, actor=caller.person_id)
    turn.reply(
        _("This chat is no longer the chat of {code}. Link it again with /link.").format(code=group.code)
    )


@event(MEMBER_CHANGE, policy="chat_member")
async def membership_changed(turn: Turn) -> None:
    """The bot was added to a group chat (say how to link it), removed (send nothing more there), or
    blocked or unblocked by a person in their private chat."""
    change = turn.member_change
    if change is None:
        return
    if turn.chat is ChatKind.PRIVATE:
        await set_person_active(turn.uow, turn.platform, turn.chat_id, change.present)
        return
    await set_chat_active(
        turn.uow, turn.platform, turn.chat_id, change.present, kind="group", title=turn.chat_title
    )
    if change.present and not change.was_present:
        turn.reply(
            _(
                "Hello! I am the emulation assistant of {ward}. The group head, please send /link here "
                "to make this your group's chat."
            ).format(ward=turn.ward.ward.name)
        )


@event(CHAT_MIGRATED, policy="chat_member")
async def chat_migrated(turn: Turn) -> None:
    """A group chat got a new id (upgraded to a supergroup): its link and queued messages follow it."""
    if turn.migrated_to:
        await move_chat(turn.uow, turn.platform, turn.chat_id, turn.migrated_to)
        await retarget(turn.uow, turn.platform, turn.chat_id, turn.migrated_to)
