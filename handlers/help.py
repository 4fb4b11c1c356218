"""/help: the commands this person may use here, in their language."""

from __future__ import annotations

from telegram.ext import CommandHandler

from bot.access import allowed_commands
from bot.channels.telegram import turn
from bot.channels.turns import Turn
from bot.i18n import gettext as _


@turn("help")
async def show_help(turn: Turn) -> None:
    """List the commands the caller's roles allow in this chat."""
    lines = [_("What you can do here:")]
    lines += [f"/{name} — {description}" for name, description in allowed_commands(turn.caller, turn.chat)]
    turn.reply("\n".join(lines))


HANDLERS = [CommandHandler("help", show_help)]
