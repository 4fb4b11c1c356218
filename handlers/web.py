"""/web (alias /trangweb): a one-time sign-in link to the ward's web page, for staff and group heads."""

from __future__ import annotations

from bot.features import command
from bot.i18n import gettext as _
from bot.turns import Turn
from bot.web_signin import LINK_VALID_FOR, SIGN_IN_PATH, issue_link, web_base_url


@command("web", "trangweb")
async def web_link(turn: Turn) -> None:
    """Answer with a link that signs this person in once, within ten minutes."""
    code = await issue_link(turn.uow, turn.caller.person_id, turn.ward_id, now=turn.wiring.clock())
    link = f"{web_base_url(turn.wiring)}{SIGN_IN_PATH}{code}"
    turn.reply(
        _(
            "Your sign-in link to the web page of {ward}. It works once, within {minutes} minutes; "
            "do not forward it:\n{link}"
        ).format(ward=turn.ward.ward.name, minutes=int(LINK_VALID_FOR.total_seconds() // 60), link=link)
    )
