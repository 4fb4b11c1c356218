"""/start: the welcome, and the entry point of invite links (deep links)."""

from __future__ import annotations

from telegram.ext import CommandHandler

from bot.channels.telegram import Turn, turn
from bot.i18n import gettext as _


@turn("start")
async def start(turn: Turn) -> None:
    """Greet the person and point them to /help."""
    turn.reply(
        _(
            "Hello {name}! I am the emulation assistant of {ward}.\n"
            "Group heads send their monthly report here, ward staff follow the campaigns, "
            "and everyone can see the standings.\n"
            "Send /help to see what you can do."
        ).format(name=turn.caller.name or _("there"), ward=turn.wiring.ward.ward.name)
    )


HANDLERS = [CommandHandler("start", start)]
