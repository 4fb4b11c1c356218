"""/cancel: always answers, whether or not something is in progress."""

from __future__ import annotations

from bot.features import command
from bot.i18n import gettext as _
from bot.turns import Turn
from conversations import router


@command("cancel", "huy")
async def cancel(turn: Turn) -> None:
    """Stop the flow in progress (it says what it kept), or say that nothing was."""
    if await router.cancel(turn):
        return
    turn.reply(_("Nothing is in progress, so there is nothing to cancel. Send /help to see what you can do."))
