"""/follow and /unfollow: residents subscribe to a group's announcements in their private chat."""

from __future__ import annotations

from bot.features import command
from bot.i18n import gettext as _
from bot.membership import follow, require_group, unfollow
from bot.turns import Turn
from handlers.membership_texts import explained
from storage.models import ResidentialGroup


async def _group_to_follow(turn: Turn) -> ResidentialGroup | None:
    """The group named by `/follow [WARD] GROUP`; asks which ward when the code is in several.

    A resident belongs to no ward until they follow a group, so in a deployment of many wards the
    code alone is looked up in every ward, and the ward's code settles a code two wards share.
    """
    if len(turn.args) >= 2:
        ward = await turn.uow.wards.by_code(turn.args[0])
        if ward is None:
            turn.reply(
                _(
                    "There is no ward {ward}. Send /follow GROUP-CODE, or /follow WARD-CODE GROUP-CODE."
                ).format(ward=turn.args[0].strip().upper())
            )
            return None
        return await require_group(turn.uow, turn.args[1], ward.id)
    if turn.wiring.single_ward_id is not None or turn.caller.ward_id is not None:
        return await require_group(turn.uow, turn.args[0], turn.ward_id)
    found = await turn.uow.groups.with_code(turn.args[0])
    if len(found) == 1:
        return found[0]
    if not found:
        return await require_group(turn.uow, turn.args[0], turn.ward_id)  # says there is no such group
    wards = {ward.id: ward for ward in await turn.uow.wards.all()}
    lines = [_("Several wards have a group {code}. Send one of these:").format(code=found[0].code)]
    lines += [
        f"/follow {wards[g.ward_id].code} {g.code} — {g.name}, {wards[g.ward_id].name}"
        for g in found
        if g.ward_id in wards
    ]
    turn.reply("\n".join(lines))
    return None


@command("follow", "theodoi")
@explained
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
    group = await _group_to_follow(turn)
    if group is None:
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
@explained
async def unfollow_command(turn: Turn) -> None:
    """Stop following one group, or every group when no code is given."""
    group = await require_group(turn.uow, turn.args[0], turn.ward_id) if turn.args else None
    dropped = await unfollow(turn.uow, turn.caller.person_id, group)
    if not dropped:
        turn.reply(_("You do not follow that group. Send /follow GROUP-CODE to follow one."))
    elif group is None:
        turn.reply(_("You no longer follow any group."))
    else:
        turn.reply(_("You no longer follow {code}.").format(code=group.code))
