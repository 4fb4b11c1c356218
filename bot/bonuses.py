"""Bonus and penalty points (điểm thưởng / điểm trừ): the ward adds or takes points from one group's
month, with a reason. One per group and month; a new one replaces it and 0 removes it. Every change
is written to the audit log (who, when, why), in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bot.membership import audit
from bot.periods import Month
from storage.models import Bonus, ResidentialGroup
from storage.unit_of_work import UnitOfWork

#: The most a bonus may add or take away: a whole sheet.
BONUS_LIMIT = Decimal(100)
REASON_MAX = 300


class BonusError(ValueError):
    """A bonus that breaks a rule; `reason` is a stable key the handler explains."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class BonusChange:
    """What /bonus did: the points before and after (0 when there was none / it was removed)."""

    before: float
    after: float


def check_points(points: Decimal) -> float:
    """The points as stored: within ±100, at most one decimal ("2,5" is fine, "2,55" is not)."""
    if abs(points) > BONUS_LIMIT:
        raise BonusError("too_many")
    if points != points.quantize(Decimal("0.1")):
        raise BonusError("decimals")
    return float(points)


async def set_bonus(
    uow: UnitOfWork,
    group: ResidentialGroup,
    month: Month,
    points: Decimal,
    reason: str,
    *,
    actor: int,
    now: datetime,
) -> BonusChange:
    """Give (or with 0 remove) the group's bonus for the month, and write it to the audit log."""
    amount = check_points(points)
    reason = " ".join(reason.split())
    if not reason:
        raise BonusError("no_reason")
    if len(reason) > REASON_MAX:
        raise BonusError("long_reason")
    current = await uow.bonuses.get(group.id, str(month))
    before = current.points if current is not None else 0.0
    if amount == 0:
        if current is not None:
            await uow.bonuses.remove(current)
    elif current is None:
        await uow.bonuses.put(
            Bonus(
                ward_id=group.ward_id,
                group_id=group.id,
                month=str(month),
                points=amount,
                reason=reason,
                set_by=actor,
                set_at=now,
            )
        )
    else:
        current.points, current.reason, current.set_by, current.set_at = amount, reason, actor, now
    signed = f"{amount:+g}" if amount else "0"
    await audit(
        uow,
        "bonus_removed" if amount == 0 else "bonus_set",
        actor=actor,
        group_id=group.id,
        ward_id=group.ward_id,
        detail=f"{group.code} {month}: {signed} (was {before:+g}); reason: {reason}",
    )
    return BonusChange(before=before, after=amount)
