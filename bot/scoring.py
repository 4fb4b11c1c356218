"""Standings (bảng xếp hạng thi đua): monthly scores per group, ranks and the ward's bands.

Pure arithmetic on plain values, so the rules can be pinned by hand-worked tests and
explained to ward staff line by line. Two ways of scoring (the ward file's `scoring`):

The points sheet (bảng chấm điểm, `Scoring.POINTS`, the default). Each scored indicator has
`points`, the most it earns, and one rule; values are compared with targets as reported:

- higher with a target: points × min(value / target, 1); a target of 0 is always met. Without
  a target the most the answer can be is the target (100 for a percentage, else `max`).
- higher with `share_of`: the value is first made a share, 100 × value / that count (cases
  settled of the cases arising); full points when the count is 0 (nothing arose).
- lower: full points at or below the target (default 0), `deduct` points off per unit above
  it, never below 0.
- yes/no: full points for the good answer ("yes" when higher, "no" when lower), else 0.
- choice: `choice_points`, one number per choice.
- A blank answer earns 0: leaving a figure out must never pay better than reporting it.

score = 100 × Σ earned / Σ points of the indicators asked that month, rounded half up to one
decimal, plus the month's bonus (điểm thưởng, điểm trừ), never below 0.

Relative scoring (`Scoring.RELATIVE`, the older format, kept exactly as it was):

- Only indicators with a direction and weight > 0 count.
- Without a target, an indicator is normalised within the ward among the groups that
  reported a value for it: the best value earns 1, the worst 0, linear in between
  ("lower is better" flips it). All equal, or a single value, earns everyone 1.
- With a target, the value is compared with the target instead (see `_against_target`).
- Counts (integer, number, money) are divided by the group's households first, see
  `per_household`; percentages, yes/no and choices are already rates.
- score = 100 × Σ(weight × normalised) / Σ(weight), rounded half up to 1 decimal.

Bands are the ward's own (`[[bands]]`, highest first); a score below the lowest has none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from bot.indicators import Direction, Indicator, Kind
from bot.ward_config import BandEntry, Bands, Scoring, band_of

FULL_SCORE = 100.0

#: Kinds whose values grow with the size of the group, so they are compared per household.
COUNT_KINDS: frozenset[Kind] = frozenset({Kind.INTEGER, Kind.NUMBER, Kind.MONEY})

#: Bands as the ward file gives them, or the older `[ward] bands` table.
BandList = Sequence[BandEntry] | Bands


@dataclass(frozen=True)
class GroupFigures:
    """One group's reported values for one month; `values` is None when it did not report."""

    group_id: int
    code: str
    name: str
    households: int
    values: Mapping[str, float | None] | None
    block: str | None = None


@dataclass(frozen=True)
class Standing:
    """A group's place in a period; score, rank and band are None when it did not report.

    `bonus` is the bonus or penalty included in `score` (averaged over a multi-month period).
    """

    group_id: int
    code: str
    name: str
    households: int
    score: float | None
    rank: int | None
    band: BandEntry | None
    months_reported: int = 0
    months_expected: int = 0
    bonus: float = 0.0
    block: str | None = None

    @property
    def reported(self) -> bool:
        """Whether the group has a score in this period."""
        return self.score is not None


def band_list(bands: BandList) -> tuple[BandEntry, ...]:
    """The bands highest first, whichever form they were given in."""
    return bands.entries() if isinstance(bands, Bands) else tuple(bands)


def band_for(score: float, bands: BandList) -> BandEntry | None:
    """The band a score earns; thresholds are inclusive (90 with a band at 90 earns that band)."""
    return band_of(band_list(bands), score)


def counts(indicator: Indicator, scoring: Scoring) -> bool:
    """Whether the indicator counts towards standings under this way of scoring."""
    return indicator.on_sheet if scoring is Scoring.POINTS else indicator.scored


def value_keys(indicators: Sequence[Indicator], scoring: Scoring) -> list[str]:
    """The keys whose values scoring reads: the counted indicators and the counts they are shares of."""
    keys: list[str] = []
    for indicator in indicators:
        if counts(indicator, scoring):
            keys.extend(key for key in (indicator.key, indicator.share_of) if key and key not in keys)
    return keys


def per_household(indicator: Indicator) -> bool:
    """Whether relative scoring compares the indicator per household rather than as reported.

    Counts (incidents, petitions, clean-up drives, money given, poor households) grow with
    the size of a group, so a 900-household group and a 100-household group are compared
    per household. Percentages, yes/no and choices are already rates. An indicator with a
    target (or a share of another count) is compared as reported, because the ward states the
    target in the unit the group reports.
    """
    return (
        indicator.scored
        and indicator.kind in COUNT_KINDS
        and indicator.target is None
        and indicator.share_of is None
    )


def round_score(value: float) -> float:
    """Round half up to one decimal, as people do by hand (87.25 → 87.3, not 87.2)."""
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


#: One indicator's rule, ready to apply to a group's values (decided once per month, not per group).
Rule = Callable[[Mapping[str, float | None]], float]


def _rule(indicator: Indicator) -> Rule:
    """The points rule of one indicator as a function of a group's values (see the module text)."""
    key, most = indicator.key, indicator.points or 0.0
    if indicator.kind is Kind.YESNO:
        good = 1.0 if indicator.direction is Direction.HIGHER else 0.0
        return lambda values: 1.0 if values.get(key) == good else 0.0
    if indicator.kind is Kind.CHOICE:
        shares = [min(points / most, 1.0) if most > 0 else 0.0 for points in indicator.choice_points]

        def choice(values: Mapping[str, float | None]) -> float:
            value = values.get(key)
            index = -1 if value is None else int(value)
            return shares[index] if 0 <= index < len(shares) else 0.0

        return choice
    if indicator.direction is Direction.LOWER:
        target, deduct = indicator.target or 0.0, indicator.deduct or 0.0

        def lower(values: Mapping[str, float | None]) -> float:
            value = values.get(key)
            if value is None:
                return 0.0
            if value <= target or most <= 0:
                return 1.0
            return max(0.0, most - deduct * (value - target)) / most

        return lower
    if (whole_key := indicator.share_of) is not None:
        share_target = FULL_SCORE if indicator.target is None else indicator.target

        def share(values: Mapping[str, float | None]) -> float:
            value, whole = values.get(key), values.get(whole_key)
            if value is None or whole is None:
                return 0.0
            if whole <= 0 or share_target <= 0:
                return 1.0  # nothing arose: nothing was left unsettled
            return min(max(FULL_SCORE * min(value / whole, 1.0) / share_target, 0.0), 1.0)

        return share
    target = _usual_target(indicator)

    def higher(values: Mapping[str, float | None]) -> float:
        value = values.get(key)
        if value is None:
            return 0.0
        return 1.0 if target <= 0 else min(max(value / target, 0.0), 1.0)

    return higher


def _usual_target(indicator: Indicator) -> float:
    """The target of a "higher" indicator: as written, else 100 % or the most it can be (else any)."""
    if indicator.target is not None:
        return indicator.target
    if indicator.kind is Kind.PERCENT:
        return FULL_SCORE if indicator.max is None else indicator.max
    return indicator.max if indicator.max is not None else 0.0


def _sheet_score(
    sheet: Sequence[tuple[Rule, float]], possible: float, values: Mapping[str, float | None]
) -> float:
    if possible <= 0:
        return FULL_SCORE
    earned = 0.0
    for rule, points in sheet:
        earned += points * rule(values)
    return FULL_SCORE * earned / possible


def with_bonus(score: float, bonus: float) -> float:
    """A score with its bonus or penalty added, rounded; never below 0."""
    return max(0.0, round_score(score + bonus))


def score_month(
    indicators: Sequence[Indicator],
    groups: Sequence[GroupFigures],
    bands: BandList,
    *,
    scoring: Scoring = Scoring.RELATIVE,
    month: int | None = None,
    bonuses: Mapping[int, float] | None = None,
    ranked: bool = True,
) -> list[Standing]:
    """Scores, ranks and bands of one month; groups that did not report come last.

    `month` (1–12) keeps to the indicators asked that month (a yearly question counts in its
    month only); `bonuses` are points added by group id. `ranked=False` leaves ranks and bands
    out, for months that are only averaged (`combine` ranks the result).
    """
    asked = [i for i in indicators if counts(i, scoring) and (month is None or month in i.months)]
    reporting = [group for group in groups if group.values is not None]
    if scoring is Scoring.POINTS:
        sheet = [(_rule(indicator), indicator.points or 0.0) for indicator in asked]
        possible = sum(points for _rule_of, points in sheet)
        raw = {group.group_id: _sheet_score(sheet, possible, group.values or {}) for group in reporting}
    else:
        raw = _relative_scores(asked, reporting)
    extra = bonuses or {}
    standings = [
        Standing(
            group_id=group.group_id,
            code=group.code,
            name=group.name,
            households=group.households,
            score=with_bonus(raw[group.group_id], extra.get(group.group_id, 0.0))
            if group.group_id in raw
            else None,
            rank=None,
            band=None,
            months_reported=1 if group.values is not None else 0,
            months_expected=1,
            bonus=extra.get(group.group_id, 0.0) if group.group_id in raw else 0.0,
            block=group.block,
        )
        for group in groups
    ]
    return rank(standings, bands) if ranked else standings


def _relative_scores(scored: Sequence[Indicator], reporting: Sequence[GroupFigures]) -> dict[int, float]:
    totals = {group.group_id: 0.0 for group in reporting}
    for indicator in scored:
        points = _normalise(indicator, reporting)
        for group in reporting:
            totals[group.group_id] += indicator.weight * points[group.group_id]
    weight_sum = sum(indicator.weight for indicator in scored)
    return {
        group_id: FULL_SCORE if weight_sum <= 0 else FULL_SCORE * total / weight_sum
        for group_id, total in totals.items()
    }


def combine(months: Sequence[Sequence[Standing]], bands: BandList) -> list[Standing]:
    """Standings of a multi-month period from its monthly standings.

    A group's score is the average over the months it was listed in, a month without a
    report counting as zero. A group missing from a month's list (not yet created, or
    removed) was not expected that month, so that month does not count against it. A
    group that reported in none of its months is "not reported". Name, code and households
    come from the latest month that lists the group.
    """
    latest: dict[int, Standing] = {}
    sums: dict[int, float] = {}
    bonuses: dict[int, float] = {}
    reported: dict[int, int] = {}
    expected: dict[int, int] = {}
    for month in months:
        for standing in month:
            key = standing.group_id
            latest[key] = standing
            expected[key] = expected.get(key, 0) + 1
            sums.setdefault(key, 0.0)
            bonuses[key] = bonuses.get(key, 0.0) + standing.bonus
            reported.setdefault(key, 0)
            if standing.score is not None:
                sums[key] += standing.score
                reported[key] += 1
    combined = [
        replace(
            last,
            score=round_score(sums[key] / expected[key]) if reported[key] else None,
            rank=None,
            band=None,
            months_reported=reported[key],
            months_expected=expected[key],
            bonus=round_score(bonuses[key] / expected[key]) if reported[key] else 0.0,
        )
        for key, last in latest.items()
    ]
    return rank(combined, bands)


def rank(standings: Sequence[Standing], bands: BandList) -> list[Standing]:
    """Order by score with competition ranks (1, 2, 2, 4) and bands; ties and non-reporters by code."""
    entries = band_list(bands)
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
        ranked.append(_placed(standing, score, place, band_of(entries, score)))
    ranked.extend(_placed(standing, None, None, None) for standing in missing)
    return ranked


def _placed(standing: Standing, score: float | None, place: int | None, band: BandEntry | None) -> Standing:
    """The standing with its place; built directly (dataclasses.replace is slow in a 300-group year)."""
    return Standing(
        standing.group_id,
        standing.code,
        standing.name,
        standing.households,
        score,
        place,
        band,
        standing.months_reported,
        standing.months_expected,
        standing.bonus,
        standing.block,
    )


def by_block(standings: Sequence[Standing], bands: BandList) -> list[tuple[str, list[Standing]]]:
    """One table per block (khối thi đua), by block name, ranked inside the block; groups without
    a block are left out (they appear in the ward table)."""
    blocks: dict[str, list[Standing]] = {}
    for standing in standings:
        if standing.block:
            blocks.setdefault(standing.block, []).append(standing)
    return [(name, rank(members, bands)) for name, members in sorted(blocks.items())]


def _comparable(indicator: Indicator, group: GroupFigures) -> float | None:
    """The value that is compared: as reported, a share of its count, or per household for counts."""
    assert group.values is not None
    value = group.values.get(indicator.key)
    if value is None:
        return None
    if indicator.share_of is not None:
        whole = group.values.get(indicator.share_of)
        if whole is None:
            return None
        return FULL_SCORE if whole <= 0 else FULL_SCORE * min(value / whole, 1.0)
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
    """Points 0..1 for a value measured against a target (relative scoring).

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
