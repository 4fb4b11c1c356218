"""/help: the commands this person may use here, in their language."""

from __future__ import annotations

from bot.access import allowed_commands
from bot.features import command, registry
from bot.i18n import current_language
from bot.i18n import gettext as _
from bot.turns import Turn


@command("help", "trogiup")
async def show_help(turn: Turn) -> None:
    """List the commands the caller's roles allow in this chat; in Vietnamese each command's Vietnamese
    word comes first (/baocao), with the English one after it (both work everywhere)."""
    language = current_language()
    lines = [_("What you can do here:")]
    for name, description in allowed_commands(turn.caller, turn.chat):
        shown = registry.shown_name(name, language)
        also = f" (/{name})" if shown != name else ""
        lines.append(f"/{shown}{also} — {description}")
    turn.reply("\n".join(lines))
