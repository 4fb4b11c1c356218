"""/bonus (alias /diemthuong): staff add or take points from one group's month, with a reason."""

from __future__ import annotations

import re

from bot.answers import format_number, parse_number
from bot.bonuses import BONUS_LIMIT, REASON_MAX, BonusError, set_bonus
from bot.features import command
from bot.i18n import current_language
from bot.i18n import gettext as _
from bot.membership import require_group
from bot.periods import Month, PeriodKind, month_in_sentence, month_period, parse_period
from bot.standings import compute_standings
from bot.turns import Turn
from handlers.membership_texts import explained

#: "+5", "-3", "0", "2,5", "+1.5": a signed number of points (no thousands, no words).
POINTS = re.compile(r"[+-]?[0-9]{1,3}(?:[.,][0-9]+)?")


def _usage() -> str:
    return _(
        "Write: /bonus GROUP [MONTH] POINTS REASON, for example /bonus TDP03 2026-10 +5 Dẫn đầu "
        "phong trào hiến máu, or -3 to take points away; 0 removes the month's bonus. Without a month "
        "it is for this month."
    )


@command("bonus", "diemthuong")
@explained
async def bonus(turn: Turn) -> None:
    """Parse CODE [MONTH] ±N REASON, store the bonus with its audit entry, answer with the new score."""
    args = list(turn.args)
    if len(args) < 3:
        turn.reply(_usage())
        return
    code, rest = args[0], args[1:]
    today = turn.now().date()
    this_month = Month.of(today)
    month = this_month
    if not POINTS.fullmatch(rest[0]):
        try:
            period = parse_period(rest[0], today=today)
        except ValueError:
            turn.reply(_usage())
            return
        if period.kind is not PeriodKind.MONTH:
            turn.reply(_("Bonus points are given for one month, for example 2026-10.") + "\n" + _usage())
            return
        month, rest = period.first, rest[1:]
    if len(rest) < 2 or not POINTS.fullmatch(rest[0]):
        turn.reply(_usage())
        return
    if month > this_month:
        turn.reply(
            _("{month} has not begun yet; a bonus is for this month or an earlier one.").format(
                month=month_in_sentence(month, current_language())
            )
        )
        return
    points = parse_number(rest[0])
    reason = " ".join(rest[1:])
    group = await require_group(turn.uow, code, turn.ward_id)
    if points is None:
        turn.reply(_usage())
        return
    try:
        change = await set_bonus(
            turn.uow, group, month, points, reason, actor=turn.caller.person_id, now=turn.wiring.clock()
        )
    except BonusError as error:
        turn.reply(_refusal(error.reason))
        return
    await _answer(turn, group.id, group.code, month, change.after, reason)


def _refusal(reason: str) -> str:
    texts = {
        "too_many": _("A bonus or penalty is at most {limit} points.").format(limit=BONUS_LIMIT),
        "decimals": _("Use at most one decimal, for example +2,5."),
        "no_reason": _("Please give the reason after the points; it is kept in the audit log."),
        "long_reason": _("Please keep the reason under {limit} characters.").format(limit=REASON_MAX),
    }
    return texts.get(reason, _usage()) + "\n" + _usage()


async def _answer(turn: Turn, group_id: int, code: str, month: Month, points: float, reason: str) -> None:
    """Say what changed and the group's score for that month now (the bonus included)."""
    language = current_language()
    when = month_in_sentence(month, language)
    if points == 0:
        said = _("The bonus of {code} for {month} is removed.").format(code=code, month=when)
    else:
        shown = ("+" if points > 0 else "") + format_number(points, language=language)
        said = _("{code} gets {points} points for {month}. Reason: {reason}").format(
            code=code, points=shown, month=when, reason=reason
        )
    # The whole ward: relative scoring compares groups with each other.
    result = await compute_standings(
        turn.uow, month_period(month), turn.ward, ward_id=turn.ward_id, tz=turn.timezone
    )
    own = next((s for s in result.standings if s.group_id == group_id), None)
    if own is None or own.score is None:
        score = _("{code} has not reported for {month} yet; the bonus counts once it does.").format(
            code=code, month=when
        )
    else:
        score = _("Score of {code} for {month} now: {score}.").format(
            code=code, month=when, score=format_number(own.score, language=language)
        )
    turn.reply(said + "\n" + score)
