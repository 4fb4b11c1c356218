"""Group chats: /link and /unlink, and noticing when the bot is added to or removed from a chat."""

from __future__ import annotations

from telegram import ChatMember, Update
from telegram.ext import ChatMemberHandler, CommandHandler

from bot.access import Role
from bot.channels.telegram import PLATFORM, turn
from bot.channels.turns import Turn
from bot.i18n import gettext as _
from bot.membership import (
    MembershipError,
    link_chat,
    require_group,
    require_group_by_id,
    set_chat_active,
    set_person_active,
    unlink_chat,
)
from handlers.membership_texts import explain

GONE = (ChatMember.LEFT, ChatMember.BANNED)


@turn("link")
async def link(turn: Turn) -> None:
    """Make this chat the caller's group's chat (staff name the group: /link TDP01)."""
    caller = turn.caller
    try:
        if turn.args:
            group = await require_group(turn.uow, turn.args[0])
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
    except MembershipError as error:
        turn.reply(explain(error))
        return
    turn.reply(
        _(
            "This chat is now the chat of {name} ({code}). Announcements and standings for the group "
            "will be posted here. Anyone here can send /help to see what they can do."
        ).format(name=group.name, code=group.code)
    )


@turn("unlink")
async def unlink(turn: Turn) -> None:
    """Detach this chat from its group (its head or staff)."""
    caller = turn.caller
    chat = await turn.uow.chats.find(turn.platform, turn.chat_id)
    linked_elsewhere = chat is not None and chat.group_id not in (None, *caller.reports_for)
    if linked_elsewhere and not caller.has(Role.STAFF):
        turn.reply(_("Only this group's head, deputy or ward staff can unlink this chat."))
        return
    try:
        group = await unlink_chat(turn.uow, turn.platform, turn.chat_id, actor=caller.person_id)
    except MembershipError as error:
        turn.reply(explain(error))
        return
    turn.reply(
        _("This chat is no longer the chat of {code}. Link it again with /link.").format(code=group.code)
    )


@turn("chat_member")
async def membership_changed(turn: Turn) -> None:
    """The bot was added to a group chat (say how to link it) or removed (send nothing more there)."""
    update = turn.event
    change = update.my_chat_member if isinstance(update, Update) else None
    chat = update.effective_chat if isinstance(update, Update) else None
    if change is None or chat is None:
        return
    if chat.type == chat.PRIVATE:
        await set_person_active(turn.uow, PLATFORM, turn.chat_id, change.new_chat_member.status not in GONE)
        return
    present = change.new_chat_member.status not in GONE
    await set_chat_active(turn.uow, PLATFORM, turn.chat_id, present, kind="group", title=chat.title or "")
    if present and change.old_chat_member.status in GONE:
        turn.reply(
            _(
                "Hello! I am the emulation assistant of {ward}. The group head, please send /link here "
                "to make this your group's chat."
            ).format(ward=turn.wiring.ward.ward.name)
        )


HANDLERS = [
    CommandHandler("link", link),
    CommandHandler("unlink", unlink),
    ChatMemberHandler(membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
]
