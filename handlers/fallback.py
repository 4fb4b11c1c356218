"""Anything no other handler took: unknown commands, stray text, stickers, photos, voice."""

from __future__ import annotations

from telegram.ext import MessageHandler, filters

from bot.access import ChatKind
from bot.channels.telegram import turn
from bot.channels.turns import Turn
from bot.i18n import gettext as _
from conversations import router


@turn("fallback")
async def not_understood(turn: Turn) -> None:
    """Continue the caller's open flow; otherwise say what the bot can do (quietly in groups)."""
    if await router.resume(turn):
        return
    text = turn.text
    if turn.chat is ChatKind.GROUP and not (text.startswith("/") and turn.addressed):
        return
    if text.startswith("/"):
        turn.reply(_("I do not know that command. Send /help to see what you can do."))
    elif turn.has_attachment:
        turn.reply(_("I can only read text messages. Send /help to see what you can do."))
    else:
        turn.reply(_("I did not understand that. Send /help to see what you can do."))


HANDLERS = [MessageHandler(filters.ALL & ~filters.StatusUpdate.ALL, not_understood)]
