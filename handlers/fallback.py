"""Anything no other handler took: unknown commands, stray text, stickers, photos, voice — and edits."""

from __future__ import annotations

from bot.access import ChatKind
from bot.features import event, fallback
from bot.i18n import gettext as _
from bot.turns import EDITED, Turn
from conversations import router


@fallback
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


@event(EDITED, policy="fallback")
async def edited(turn: Turn) -> None:
    """An edited message never answers a later question nor runs a command again; say how to change."""
    if await router.open_conversation(turn) is not None:
        turn.reply(
            _(
                "I saw that you edited a message. Edits do not change answers already taken: "
                "the summary at the end has ✏️ Edit an answer for that."
            )
        )
    elif turn.chat is ChatKind.PRIVATE and turn.text.startswith("/"):
        turn.reply(_("Edited commands are not run again. If you meant to run it, send the command anew."))
