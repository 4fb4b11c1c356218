"""/follow and /unfollow: residents subscribe to a group's announcements in their private chat."""

from __future__ import annotations

from bot.features import command
from bot.i18n import gettext as _
from bot.membership import MembershipError, follow, require_group, unfollow
from bot.turns import Turn
from handlers.membership_texts import explain


@command("follow", "theodoi")
async def follow_command(turn: Turn) -> None:
    """Follow the group named by its code."""
    if not turn.args:
        turn.reply(
            _(
                "Which group? Send /follow GROUP-CODE, for example /follow TDP01. "
                "Your group head or your group's chat can tell you the code."
            )
        )
        return
    try:
        group = await require_group(turn.uow, turn.args[0], turn.ward_id)
    except MembershipError as error:
        turn.reply(explain(error))
        return
    if await follow(turn.uow, turn.caller.person_id, group):
        turn.reply(
            _(
                "You now follow {name} ({code}). Its announcements will come here. "
                "Send /unfollow {code} to stop."
            ).format(name=group.name, code=group.code)
        )
    else:
        turn.reply(_("You already follow {name} ({code}).").format(name=group.name, code=group.code))


@command("unfollow", "botheodoi")
async def unfollow_command(turn: Turn) -> None:
    """Stop following one group, or every group when no code is given."""
    try:
        group = await require_group(turn.uow, turn.args[0], turn.ward_id) if turn.args else None
    except MembershipError as error:
        turn.reply(explain(error))
        return
    dropped = await unfollow(turn.uow, turn.caller.person_id, group)
    if not dropped:
        turn.reply(_("You do not follow that group. Send /follow GROUP-CODE to follow one."))
    elif group is None:
        turn.reply(_("You no longer follow any group."))
    else:
        turn.reply(_("You no longer follow {code}.").format(code=group.code))
