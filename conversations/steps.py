"""Pieces every one-question-at-a-time flow shares (the monthly report, the year-end form): the typed
words for back and skip, the navigation row, the summary's buttons, saving the step."""

from __future__ import annotations

from typing import Any

from bot.i18n import gettext as _
from bot.replies import Choice
from bot.turns import Turn
from conversations.timeouts import idle_clock_slack

SKIP_WORDS = frozenset({"skip", "bỏ qua", "bo qua", "bỏ", "bo"})  # typed instead of the buttons
BACK_WORDS = frozenset({"back", "quay lại", "quay lai", "lùi", "lui"})
DONE_WORDS = frozenset({"done", "xong", "xong rồi", "xong roi", "hết", "het"})  # no more to add


def navigation(back: str | None, skip: str | None) -> list[list[Choice]]:
    """The row under a question: ⬅️ Back and Skip (each only when given its callback data)."""
    row = []
    if back is not None:
        row.append(Choice(_("⬅️ Back"), back, word=_("back")))
    if skip is not None:
        row.append(Choice(_("Skip"), skip, word=_("skip")))
    return [row] if row else []


def summary_choices(confirm: str, edit: str, cancel: str) -> list[list[Choice]]:
    """The summary's buttons: ✅ Confirm, ✏️ Edit an answer, ❌ Cancel."""
    return [
        [Choice(_("✅ Confirm"), confirm)],
        [Choice(_("✏️ Edit an answer"), edit), Choice(_("❌ Cancel"), cancel)],
    ]


async def save_step(turn: Turn, flow: str, state: str, step: dict[str, Any]) -> None:
    """Where the person is, written in the turn's transaction with the step's data (kill-safe)."""
    await turn.uow.conversations.save(
        turn.caller.person_id,
        flow,
        state,
        step,
        turn.chat_id,
        now=turn.wiring.clock(),
        still_fresh=idle_clock_slack(turn.wiring),
    )
