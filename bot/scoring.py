"""Standings (bảng xếp hạng thi đua): monthly scores 0–100 per group, ranks and emulation bands.

Pure arithmetic on plain values, so the rules can be pinned by hand-worked tests and
explained to ward staff line by line:

- Only scored indicators count (direction higher/lower and weight > 0).
- Without a target, an indicator is normalised within the ward among the groups that
  reported a value for it: the best value earns 1, the worst 0, linear in between
  ("lower is better" flips it). All equal, or a single value, earns everyone 1.
- With a target, the value is compared with the target instead (see `_against_target`):
  a ward can then say "90 % of households sorting waste is full marks" and every group
  can reach it, rather than competing for one best value.
- A group that reported but left a scored indicator blank gets 0 for it, the same as the
  worst value: leaving a figure out must never pay better than reporting a bad one.
- Counts (integer, number, money) are divided by the group's households first, see
  `per_household`; percentages, yes/no and choices are already rates.
- score = 100 × Σ(weight × normalised) / Σ(weight), rounded half up to 1 decimal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from bot.i18n import gettext as _
from bot.i18n import mark
from bot.indicators import Direction, Indicator, Kind
from bot.ward_config import Bands

FULL_SCORE = 100.0

#: Kinds whose values grow with the size of the group, so they are compared per household.
COUNT_KINDS: frozenset[Kind] = frozenset({Kind.INTEGER, Kind.NUMBER, Kind.MONEY})


@dataclass(frozen=True)
class GroupFigures:
    """One group's reported values for one month; `values` is None when it did not report."""

    group_id: int
    code: str
    name: str
    households: int
    values: Mapping[str, float | None] | None


class Band(StrEnum):
    """The emulation titles a score earns; the values are stable keys for storage and callbacks."""

    EXCELLENT = "xuat_sac"
    ADVANCED = "tien_tien"
    COMPLETED = "hoan_thanh"
    NOT_COMPLETED = "chua_hoan_thanh"

    def label(self) -> str:
        """The title in the current language (Xuất sắc, Tiên tiến, …)."""
        return _(_BAND_LABELS[self])


_BAND_LABELS: dict[Band, str] = {
    Band.EXCELLENT: mark("Excellent"),
    Band.ADVANCED: mark("Advanced"),
    Band.COMPLETED: mark("Completed"),
    Band.NOT_COMPLETED: mark("Not completed"),
}


@dataclass(frozen=True)
class Standing:
    """A group's place in a period; score, rank and band are None when it did not report."""

    group_id: int
    code: str
    name: str
    households: int
    score: float | None
    rank: int | None
    band: Band | None
    months_reported: int = 0
    months_expected: int = 0

    @property
    def reported(self) -> bool:
        """Whether the group has a score in this period."""
        return self.score is not None


def band_for(score: float, bands: Bands) -> Band:
    """The title a score earns; thresholds are inclusive (90 with xuat_sac = 90 is Excellent)."""
    if score >= bands.xuat_sac:
        return Band.EXCELLENT
    if score >= bands.tien_tien:
        return Band.ADVANCED
    if score >= bands.hoan_thanh:
        return Band.COMPLETED
    return Band.NOT_COMPLETED


def per_household(indicator: Indicator) -> bool:
    """Whether the indicator is compared per household rather than as reported.

    Counts (incidents, petitions, clean-up drives, money given, poor households) grow with
    the size of a group, so a 900-household group and a 100-household group are compared
    per household. Percentages, yes/no and choices are already rates. An indicator with a
    target is compared with the target as reported, because the ward states the target in
    the unit the group reports.
    """
    return indicator.scored and indicator.kind in COUNT_KINDS and indicator.target is None


def round_score(value: float) -> float:
    """Round half up to one decimal, as people do by hand (87.25 → 87.3, not 87.2)."""
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def score_month(
    indicators: Sequence[Indicator], groups: Sequence[GroupFigures], bands: Bands
) -> list[Standing]:
    """Scores, ranks and bands of one month; groups that did not report come last."""
    scored = [indicator for indicator in indicators if indicator.scored]
    reporting = [group for group in groups if group.values is not None]
    totals = {group.group_id: 0.0 for group in reporting}
    for indicator in scored:
        points = _normalise(indicator, reporting)
        for group in reporting:
            totals[group.group_id] += indicator.weight * points[group.group_id]
    weight_sum = sum(indicator.weight for indicator in scored)
    scores = {
        group_id: FULL_SCORE if weight_sum <= 0 else round_score(FULL_SCORE * total / weight_sum)
        for group_id, total in totals.items()
    }
    standings = [
        Standing(
            group_id=group.group_id,
            code=group.code,
            name=group.name,
            households=group.households,
            score=scores.get(group.group_id),
            rank=None,
            band=None,
            months_reported=1 if group.values is not None else 0,
            months_expected=1,
        )
        for group in groups
    ]
    return rank(standings, bands)


def combine(months: Sequence[Sequence[Standing]], bands: Bands) -> list[Standing]:
    """Standings of a multi-month period from its monthly standings.

    A group's score is the average over the months it was listed in, a month without a
    report counting as zero. A group missing from a month's list (not yet created, or
    removed) was not expected that month, so that month does not count against it. A
    group that reported in none of its months is "not reported". Name, code and households
    come from the latest month that lists the group.
    """
    latest: dict[int, Standing] = {}
    sums: dict[int, float] = {}
    reported: dict[int, int] = {}
    expected: dict[int, int] = {}
    for month in months:
        for standing in month:
            key = standing.group_id
            latest[key] = standing
            expected[key] = expected.get(key, 0) + 1
            sums.setdefault(key, 0.0)
            reported.setdefault(key, 0)
            if standing.score is not None:
                sums[key] += standing.score
                reported[key] += 1
    combined = [
        Standing(
            group_id=key,
            code=last.code,
            name=last.name,
            households=last.households,
            score=round_score(sums[key] / expected[key]) if reported[key] else None,
            rank=None,
            band=None,
            months_reported=reported[key],
            months_expected=expected[key],
        )
        for key, last in latest.items()
    ]
    return rank(combined, bands)


def rank(standings: Sequence[Standing], bands: Bands) -> list[Standing]:
    """Order by score with competition ranks (1, 2, 2, 4) and bands; ties and non-reporters by code."""
    reported = sorted(
        (standing for standing in standings if standing.score is not None),
        key=lambda standing: (-(standing.score or 0.0), standing.code, standing.group_id),
    )
    missing = sorted(
        (standing for standing in standings if standing.score is None),
        key=lambda standing: (standing.code, standing.group_id),
    )
    ranked: list[Standing] = []
    for position, standing in enumerate(reported, start=1):
        score = standing.score if standing.score is not None else 0.0
        previous = ranked[-1] if ranked else None
        place = previous.rank if previous is not None and previous.score == score else position
        ranked.append(_replace(standing, score=score, rank=place, band=band_for(score, bands)))
    ranked.extend(_replace(standing, score=None, rank=None, band=None) for standing in missing)
    return ranked


def _replace(standing: Standing, *, score: float | None, rank: int | None, band: Band | None) -> Standing:
    return Standing(
        group_id=standing.group_id,
        code=standing.code,
        name=standing.name,
        households=standing.households,
        score=score,
        rank=rank,
        band=band,
        months_reported=standing.months_reported,
        months_expected=standing.months_expected,
    )


def _comparable(indicator: Indicator, group: GroupFigures) -> float | None:
    """The value that is compared: as reported, or per household for counts."""
    assert group.values is not None
    value = group.values.get(indicator.key)
    if value is None:
        return None
    if per_household(indicator):
        return value / max(group.households, 1)
    return float(value)


def _normalise(indicator: Indicator, reporting: Sequence[GroupFigures]) -> dict[int, float]:
    """Points 0..1 per reporting group for one scored indicator; a blank earns 0."""
    values = {group.group_id: _comparable(indicator, group) for group in reporting}
    if indicator.target is not None:
        target = indicator.target
        return {
            group_id: 0.0 if value is None else _against_target(value, target, indicator.direction)
            for group_id, value in values.items()
        }
    present = [value for value in values.values() if value is not None]
    if not present:
        return {group_id: 0.0 for group_id in values}
    low, high = min(present), max(present)
    points: dict[int, float] = {}
    for group_id, value in values.items():
        if value is None:
            points[group_id] = 0.0
        elif high == low:
            points[group_id] = 1.0
        elif indicator.direction is Direction.LOWER:
            points[group_id] = (high - value) / (high - low)
        else:
            points[group_id] = (value - low) / (high - low)
    return points


def _against_target(value: float, target: float, direction: Direction) -> float:
    """Points 0..1 for a value measured against a target.

    Higher is better: value / target, capped at 1 (a target of 0 or less is always met).
    Lower is better: 1 at or below the target, then 1 - (value - target) / max(target, 1),
    so exceeding the target by the whole target (or by 1 when the target is below 1, e.g.
    "no incidents") costs every point. Both fall to 0 after missing by the full target.
    """
    if direction is Direction.LOWER:
        if value <= target:
            return 1.0
        return max(0.0, 1.0 - (value - target) / max(target, 1.0))
    if target <= 0:
        return 1.0
    return min(max(value / target, 0.0), 1.0)
