"""/start: the welcome, and the entry point of invite links (deep links: `/start CODE`)."""

from __future__ import annotations

from bot.access import ChatKind
from bot.features import command
from bot.i18n import gettext as _
from bot.i18n import set_ward_words
from bot.membership import STAFF_ROLES, Redemption, redeem_invite, role_name
from bot.turns import Turn
from handlers.staff import staff_invite_opened


@command("start", "batdau")
async def start(turn: Turn) -> None:
    """Redeem an invite code when the link carried one; otherwise greet and point to /help."""
    if turn.args and turn.chat is ChatKind.PRIVATE:
        await redeem(turn, turn.args[0])
        return
    turn.reply(
        _(
            "Hello {name}! I am the emulation assistant of {ward}.\n"
            "Group heads send their monthly report here, ward staff follow the campaigns, "
            "and everyone can see the standings.\n"
            "Send /help to see what you can do."
        ).format(name=turn.caller.name or _("there"), ward=turn.ward.ward.name)
    )


async def redeem(turn: Turn, code: str) -> None:
    """Make the caller head, deputy or staff if the code is good; otherwise say why and change nothing."""
    result = await redeem_invite(turn.uow, code[:100], turn.caller.person_id, now=turn.wiring.clock())
    if result.ward_id is not None:  # welcomed in the words of the ward joined, not the first ward's
        set_ward_words(turn.wiring.ward_of(result.ward_id).ward.words())
    if result.role in STAFF_ROLES and result.outcome is not Redemption.UNKNOWN:
        await staff_invite_opened(turn, result)
        return
    values = {
        "role": role_name(result.role),
        "name": result.group_name,
        "code": result.group_code,
        "other": result.other_group,
    }
    messages = {
        Redemption.JOINED: _(
            "Welcome! You are now {role} of {name} ({code}).\n"
            "Each month, send /report here to report your group's figures.\n"
            "Add me to your group's chat and send /link there, so your residents see the announcements."
        ),
        Redemption.UNKNOWN: _(
            "This invite code is not valid. Check that you opened the whole link, "
            "or ask ward staff for a new one."
        ),
        Redemption.USED: _(
            "This invite has already been used. Ask ward staff for a new one (/invite {code})."
        ),
        Redemption.EXPIRED: _("This invite has expired. Ask ward staff for a new one (/invite {code})."),
        Redemption.ALREADY_THERE: _(
            "You are already {role} of {name} ({code}). Send /help to see what you can do."
        ),
        Redemption.ALREADY_LEADS_OTHER: _(
            "You already lead group {other}; one person leads one group. Nothing was changed. "
            "If you are moving to {code}, ask ward staff to remove you from {other} first "
            "(/removehead {other})."
        ),
        Redemption.STAFF_ELSEWHERE: _(
            "You are ward staff of {other}, and {name} ({code}) belongs to another ward: its head or deputy "
            "must be someone of that ward. Nothing was changed. If you are moving there, ask a colleague "
            "in {other} to remove you from the staff (/removestaff) first."
        ),
        Redemption.ROLE_TAKEN: _(
            "{name} ({code}) already has a {role}: {other}. Nothing was changed. "
            "Ask ward staff to remove them first (/removehead {code}), then to send you a new invite."
        ),
    }
    turn.reply(messages[result.outcome].format(**values))
    if result.outcome is Redemption.JOINED:
        turn.menus_changed.add(turn.caller.person_id)
