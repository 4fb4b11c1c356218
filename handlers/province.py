"""/wards (province staff): every ward's reporting at a glance, to compare wards."""

from __future__ import annotations

from bot.features import command
from bot.i18n import current_language
from bot.i18n import gettext as _
from bot.province import ward_lines
from bot.turns import Turn


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "—"


@command("wards", "cacphuong")
async def wards(turn: Turn) -> None:
    """One line per ward: the month being collected, and the last closed month with timeliness."""
    lines = await ward_lines(turn.uow, turn.wiring, turn.wiring.clock())
    if not lines:
        turn.reply(_("No ward yet."))
        return
    language = current_language()
    text = [_("Wards ({count}):").format(count=len(lines))]
    for line in lines:
        text.append(
            _(
                "{code} · {name} ({groups} groups)\n"
                "   {month}: {reported}/{groups} reported ({share})\n"
                "   {closed}: {closed_reported}/{groups} reported, {on_time} on time"
            ).format(
                code=line.code,
                name=line.name,
                groups=line.groups,
                month=line.collecting.label(language),
                reported=line.reported,
                share=_share(line.reported, line.groups),
                closed=line.closed.label(language),
                closed_reported=line.closed_reported,
                on_time=line.closed_on_time,
            )
        )
    turn.reply("\n".join(text))
