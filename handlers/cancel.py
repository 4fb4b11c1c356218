"""/cancel: always answers, whether or not something is in progress."""

from __future__ import annotations

from telegram.ext import CommandHandler

from bot.channels.telegram import turn
from bot.channels.turns import Turn
from bot.i18n import gettext as _
from conversations import router


@turn("cancel")
async def cancel(turn: Turn) -> None:
    """Stop the flow in progress (it says what it kept), or say that nothing was."""
    if await router.cancel(turn):
        return
    turn.reply(_("Nothing is in progress, so there is nothing to cancel. Send /help to see what you can do."))


HANDLERS = [CommandHandler("cancel", cancel)]
