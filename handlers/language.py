"""/language: pick Vietnamese or English; the choice is stored and outlives restarts."""

from __future__ import annotations

from bot.access import Role
from bot.features import button, command
from bot.i18n import LANGUAGES, set_language
from bot.i18n import gettext as _
from bot.membership import choose_language
from bot.replies import Choice
from bot.turns import Turn

CHOOSE = "language:"
NAMES = {"vi": "🇻🇳 Tiếng Việt", "en": "🇬🇧 English"}


@command("language", "ngonngu")
async def ask_language(turn: Turn) -> None:
    """Offer the languages as buttons."""
    turn.reply(_("Choose your language:"), [[Choice(NAMES[code], CHOOSE + code) for code in LANGUAGES]])


@button(CHOOSE, policy="language")
async def pick_language(turn: Turn) -> None:
    """Store the pressed language and answer in it."""
    code = turn.data.removeprefix(CHOOSE)
    if code not in LANGUAGES:
        turn.reply(_("That choice is no longer available. Send /language to choose again."))
        return
    await choose_language(turn.uow, turn.caller.person_id, code)
    if turn.caller.roles - {Role.ANYONE}:
        turn.menus_changed.add(turn.caller.person_id)
    set_language(code)
    turn.reply(_("I will speak English with you from now on."), edit=True)
