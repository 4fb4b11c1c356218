"""/help: the commands this person may use here, in their language."""

from __future__ import annotations

from bot.access import allowed_commands
from bot.features import command
from bot.i18n import gettext as _
from bot.turns import Turn


@command("help")
async def show_help(turn: Turn) -> None:
    """List the commands the caller's roles allow in this chat."""
    lines = [_("What you can do here:")]
    lines += [f"/{name} — {description}" for name, description in allowed_commands(turn.caller, turn.chat)]
    turn.reply("\n".join(lines))
