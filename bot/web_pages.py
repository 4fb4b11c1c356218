"""What the ward's web page shows, as plain values: gathered from the same services as the chat
commands (/status, /standings, /campaigns, /export, /reopen) with a fixed number of queries per page,
whatever the number of groups. The web channel (bot/channels/web.py) only renders these."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from bot.answers import format_number, format_value
from bot.assessment import result_line, results, totals, ward_line
from bot.campaigns import weights_of, window
from bot.i18n import current_language
from bot.i18n import gettext as _
from bot.indicators import Indicator, Kind
from bot.periods import (
    Month,
    Period,
    deadline_date,
    is_locked,
    month_period,
    open_months,
    parse_period,
    period_not_understood,
    quarter_period,
    year_period,
)
from bot.reporting import reopened_last_day
from bot.scoring import Standing, combine, value_keys
from bot.standings import StandingsResult, score_months, weighted
from bot.standings_view import default_period
from bot.ward_config import WardFile
from storage.models import Campaign
from storage.unit_of_work import UnitOfWork

T = TypeVar("T")
HISTORY_MONTHS = 12  # a group's page: its last twelve months
PERIOD_CHOICES_MONTHS = 12


class StandingsCache:
    """Standings of recent requests, and of each month they were combined from, kept while nothing they
    depend on changed.

    A year of a 300-group ward takes a few hundred milliseconds to score and longer to draw; the page
    asks for it again at every click of the picker. A key holds everything a result depends on: the
    groups' own figures, the weights, and for each month how many reports it has and the newest
    submission — so a report sent or changed (by any worker) makes the next request score that month
    afresh, and only that month. Only this process's memory: losing it costs one computation.
    """

    def __init__(self, size: int = 32, months: int = 600) -> None:
        self._periods: _Lru[tuple[StandingsResult, dict[str, bytes]]] = _Lru(size)
        self._months: _Lru[list[Standing]] = _Lru(months)

    def period(self, key: Hashable) -> tuple[StandingsResult, dict[str, bytes]] | None:
        return self._periods.get(key)

    def keep_period(self, key: Hashable, result: StandingsResult) -> tuple[StandingsResult, dict[str, bytes]]:
        entry: tuple[StandingsResult, dict[str, bytes]] = (result, {})  # the chart, by language, once drawn
        return self._periods.put(key, entry)

    def month(self, key: Hashable) -> list[Standing] | None:
        return self._months.get(key)

    def keep_month(self, key: Hashable, standings: list[Standing]) -> None:
        self._months.put(key, standings)


class _Lru(Generic[T]):
    """The newest `size` entries by key."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, T] = OrderedDict()

    def get(self, key: Hashable) -> T | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: Hashable, value: T) -> T:
        self._items[key] = value
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value


async def cached_standings(
    uow: UnitOfWork,
    cache: StandingsCache,
    ward: WardFile,
    ward_id: int,
    period: Period,
    *,
    group_ids: Sequence[int] | None,
    weights: dict[str, float] | None,
    tz: ZoneInfo,
) -> tuple[StandingsResult, dict[str, bytes]]:
    """The standings `compute_standings` gives, from what is kept: three small queries when nothing
    changed, and the values of only the months whose reports changed otherwise."""
    months = [str(month) for month in period.months]
    scoring_rule = ward.ward.scoring
    groups = await uow.standings.groups(ward_id, group_ids)
    stamps = await uow.standings.stamps(months, ward_id)
    bonuses = await uow.bonuses.points(months, ward_id=ward_id, group_ids=group_ids)
    scoring = weighted(ward.indicators, weights, scoring_rule)
    base = (
        ward_id,
        tuple((g.id, g.code, g.name, g.households, g.block, g.created_at) for g in groups),
        tuple(sorted((weights or {}).items())),
    )

    def month_key(text: str) -> tuple[Hashable, ...]:
        extra = tuple(sorted((g, p) for (g, at), p in bonuses.items() if at == text))
        return (*base, text, stamps.get(text), extra)

    key = (*base, period.key, tuple(month_key(month) for month in months))
    found = cache.period(key)
    if found is not None:
        return found
    monthly: dict[str, list[Standing]] = {}
    for text in months:
        kept = cache.month(month_key(text))
        if kept is not None:
            monthly[text] = kept
    stale = [month for month in period.months if str(month) not in monthly]
    if stale:
        values = await uow.standings.report_values(
            [str(month) for month in stale],
            ward_id=ward_id,
            group_ids=group_ids,
            keys=value_keys(scoring, scoring_rule),
        )
        for month, scored in zip(
            stale, score_months(stale, groups, values, scoring, ward, bonuses, tz), strict=True
        ):
            monthly[str(month)] = scored
            cache.keep_month(month_key(str(month)), scored)
    ordered = [monthly[text] for text in months]
    standings = ordered[0] if len(ordered) == 1 else combine(ordered, ward.bands)
    result = StandingsResult(
        period=period, standings=standings, indicators=scoring, bands=ward.bands, scoring=scoring_rule
    )
    return cache.keep_period(key, result)


class PageError(Exception):
    """A request the page cannot answer (an unknown period, group or campaign); `str()` says what to do."""


@dataclass(frozen=True)
class MonthRow:
    """One group on the month page."""

    group_id: int
    code: str
    name: str
    block: str | None
    state: str  # "on_time" | "late" | "waiting" | "missing" (deadline passed, no report)
    submitted: str  # when, in the ward's time, or ""
    by: str
    reopened_until: str  # the reopening's last day, or ""
    flags: tuple[str, ...]  # unusual values, as "label = value"


@dataclass(frozen=True)
class MonthPage:
    """This month: who has reported, who has not, unusual values, the deadline."""

    month: Month
    deadline: date
    locked: bool
    rows: list[MonthRow]
    months: list[Month]  # months to pick from, newest first
    reported: int
    waiting: int
    late: int
    remind_possible: bool


async def month_page(
    uow: UnitOfWork, ward: WardFile, ward_id: int, month: Month | None, *, now: datetime, tz: ZoneInfo
) -> MonthPage:
    """Four queries: groups, the month's reports, its unusual values and its reopenings."""
    settings = ward.ward
    language = current_language()
    if month is None:
        month = min(open_months(now, settings.report_deadline_day, tz))
    locked = is_locked(month, now, settings.report_deadline_day, tz)
    groups = await uow.standings.groups(ward_id)
    reports = {row[0]: row for row in await uow.reports.month_rows(str(month), ward_id)}
    flags: dict[str, list[str]] = {}
    indicators = {indicator.key: indicator for indicator in ward.indicators}
    for code, key, value in await uow.reports.flagged(str(month), ward_id):
        indicator = indicators.get(key)
        if indicator is not None:
            shown = format_value(indicator, value, language)
            flags.setdefault(code, []).append(f"{indicator.label_in(language)} = {shown}")
    reopened = await uow.reports.reopened_groups(str(month), ward_id, now)
    rows = []
    for group in groups:
        report = reports.get(group.id)
        until = reopened.get(group.id)
        if report is not None:
            state = "on_time" if report[2] else "late"
        else:
            state = "missing" if locked and until is None else "waiting"
        rows.append(
            MonthRow(
                group_id=group.id,
                code=group.code,
                name=group.name,
                block=group.block,
                state=state,
                submitted=report[1].astimezone(tz).strftime("%H:%M %d/%m/%Y") if report else "",
                by=(report[3] or "") if report else "",
                reopened_until=reopened_last_day(until, tz).strftime("%d/%m/%Y") if until else "",
                flags=tuple(flags.get(group.code, ())),
            )
        )
    current = Month.of(now.astimezone(tz).date())
    months = [current.shifted(-offset) for offset in range(PERIOD_CHOICES_MONTHS)]
    waiting = sum(1 for row in rows if row.state in ("waiting", "missing"))
    return MonthPage(
        month=month,
        deadline=deadline_date(month, settings.report_deadline_day),
        locked=locked,
        rows=rows,
        months=months,
        reported=sum(1 for row in rows if row.state in ("on_time", "late")),
        waiting=waiting,
        late=sum(1 for row in rows if row.state in ("late", "missing")),
        remind_possible=waiting > 0 and not locked and month <= current,
    )


@dataclass(frozen=True)
class StandingRow:
    """One line of the standings table."""

    rank: int | None
    code: str
    name: str
    score: str
    band: str
    band_public: bool
    bonus: str  # bonus or penalty points when the points sheet has them (issue 11), else ""
    months: str  # "reported/expected" over a multi-month period, else ""


@dataclass(frozen=True)
class PeriodChoice:
    """An option of the period picker: its key for the URL and its label."""

    key: str
    label: str


@dataclass(frozen=True)
class StandingsPage:
    """The ranked table of a period (or campaign) and block, with the choices of the picker."""

    period_key: str
    title: str
    block: str
    rows: list[StandingRow]
    not_reported: list[str]
    choices: list[tuple[str, list[PeriodChoice]]]  # (group label, options)
    blocks: list[str]
    result: StandingsResult = field(repr=False)
    pictures: dict[str, bytes] = field(repr=False)  # the chart, by language, once drawn

    @property
    def bonus(self) -> bool:
        """Whether any group has bonus or penalty points (a column only then)."""
        return any(row.bonus for row in self.rows)


def _score(value: float | None, language: str) -> str:
    return format_number(round(value, 1), language=language) if value is not None else ""


async def standings_page(
    uow: UnitOfWork,
    ward: WardFile,
    ward_id: int,
    period_key: str,
    block: str,
    *,
    now: datetime,
    tz: ZoneInfo,
    cache: StandingsCache,
) -> StandingsPage:
    """Standings as the chat computes them, only the block's groups when one is chosen; a fixed handful
    of queries (the campaigns, blocks, groups, and the period's values unless cached)."""
    language = current_language()
    today = now.astimezone(tz).date()
    campaigns = list(await uow.campaigns.launched(ward_id))
    blocks = await uow.campaigns.blocks(ward_id)
    if block and block not in blocks:
        raise PageError(
            _("There is no block “{block}” in this ward. Pick one in the list above the table.").format(
                block=block[:40]
            )
        )
    group_ids = None
    if block:
        group_ids = [group.id for group in await uow.campaigns.groups_in(ward_id, block)]
    weights = None
    if period_key.startswith("#"):
        campaign = next((c for c in campaigns if f"#{c.id}" == period_key), None)
        if campaign is None:
            raise PageError(
                _("There is no campaign {number}. Pick one in the list of periods.").format(
                    number=period_key[:12]
                )
            )
        period, weights = window(campaign, today), weights_of(campaign)
        taking = [link.group_id for link in campaign.groups]
        group_ids = taking if group_ids is None else [g for g in taking if g in set(group_ids)]
        title = f"#{campaign.id} «{campaign.title}» · {period.label(language)}"
    else:
        period = _period(period_key, now, ward, tz)
        period_key = period.key
        title = period.label(language)
    result, pictures = await cached_standings(
        uow, cache, ward, ward_id, period, group_ids=group_ids, weights=weights, tz=tz
    )
    rows = []
    for standing in result.standings:
        if standing.score is None:
            continue
        band = ward.band_of(standing.score)
        bonus = getattr(standing, "bonus", None)
        multi = standing.months_expected > 1
        rows.append(
            StandingRow(
                rank=standing.rank,
                code=standing.code,
                name=standing.name,
                score=_score(standing.score, language),
                band=band.name_in(language) if band is not None else "",
                band_public=band.public if band is not None else True,
                bonus=_score(bonus, language) if isinstance(bonus, int | float) and bonus else "",
                months=f"{standing.months_reported}/{standing.months_expected}" if multi else "",
            )
        )
    return StandingsPage(
        period_key=period_key,
        title=title,
        block=block,
        rows=rows,
        not_reported=[f"{s.code} {s.name}" for s in result.standings if s.score is None],
        choices=period_choices(now, tz, campaigns),
        blocks=blocks,
        result=result,
        pictures=pictures,
    )


def _period(key: str, now: datetime, ward: WardFile, tz: ZoneInfo) -> Period:
    """The period of a picker key (2026-10, 2026-Q3, 2026), or the newest locked month when empty."""
    if not key:
        return default_period(now, ward.ward, tz)
    try:
        return parse_period(key, today=now.astimezone(tz).date())
    except ValueError:
        raise PageError(period_not_understood()) from None


def period_choices(
    now: datetime, tz: ZoneInfo, campaigns: Sequence[Campaign]
) -> list[tuple[str, list[PeriodChoice]]]:
    """Recent months, quarters and years, and each launched campaign: what the picker offers."""
    language = current_language()
    today = now.astimezone(tz).date()
    current = Month.of(today)
    months = [month_period(current.shifted(-offset)) for offset in range(PERIOD_CHOICES_MONTHS)]
    quarters = []
    year, quarter = today.year, (today.month - 1) // 3 + 1
    for _step in range(8):
        quarters.append(quarter_period(year, quarter))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    years = [year_period(today.year - offset, today=today) for offset in range(3)]
    return [
        (_("Month"), [PeriodChoice(p.key, p.label(language)) for p in months]),
        (_("Quarter"), [PeriodChoice(p.key, p.label(language)) for p in quarters]),
        (_("Year"), [PeriodChoice(p.key, p.label(language)) for p in years]),
        (_("Campaign"), [PeriodChoice(f"#{c.id}", f"#{c.id} {c.title}") for c in campaigns]),
    ]


@dataclass(frozen=True)
class Series:
    """One indicator's values over the group's months, for a small plot."""

    label: str
    points: list[tuple[str, float | None]]  # (month key, value)
    shown: list[str]  # each value as people write it


@dataclass(frozen=True)
class ReportCard:
    """One submitted report of the group, with its audit trail."""

    month: Month
    submitted: str
    by: str
    on_time: bool
    values: list[tuple[str, str, bool]]  # (label, value, flagged)
    trail: list[str]


@dataclass(frozen=True)
class GroupPage:
    """A group's history per indicator and its reports."""

    code: str
    name: str
    households: int
    block: str | None
    series: list[Series]
    reports: list[ReportCard]


async def group_page(
    uow: UnitOfWork, ward: WardFile, group_id: int, *, now: datetime, tz: ZoneInfo
) -> GroupPage:
    """Four queries: the group, its values of the last twelve months, its reports and their trail."""
    language = current_language()
    group = await uow.groups.get(group_id)
    if group is None:
        raise PageError(_("There is no such group. Pick one from the list on the page."))
    current = Month.of(now.astimezone(tz).date())
    months = [current.shifted(-offset) for offset in reversed(range(HISTORY_MONTHS))]
    keys = [str(month) for month in months]
    reports = list(await uow.reports.of_group(group.id, keys))
    trail = await uow.reports.changes_of([report.id for report in reports])
    people = {p.id: p.display_name for p in await uow.people.by_ids({c.person_id for c in trail})}
    values = {report.month: {value.key: value.value for value in report.values} for report in reports}
    series = []
    for indicator in ward.indicators:
        if not _plotted(indicator):
            continue
        points = [(key, values.get(key, {}).get(indicator.key)) for key in keys]
        if all(value is None for _key, value in points):
            continue
        series.append(
            Series(
                label=indicator.label_in(language),
                points=points,
                shown=[
                    format_value(indicator, value, language) if value is not None else "—"
                    for _k, value in points
                ],
            )
        )
    labels = {indicator.key: indicator for indicator in ward.indicators}
    cards = []
    for report in reports:
        shown = []
        for value in report.values:
            asked = labels.get(value.key)
            if asked is not None:
                shown.append(
                    (asked.label_in(language), format_value(asked, value.value, language), value.flagged)
                )
        lines = []
        for change in trail:
            if change.report_id != report.id:
                continue
            when = change.at.astimezone(tz).strftime("%H:%M %d/%m/%Y")
            who = people.get(change.person_id or 0) or "—"
            if change.action == "changed":
                changed = labels.get(change.key)
                label = changed.label_in(language) if changed is not None else change.key
                old = format_value(changed, change.old_value, language) if changed else str(change.old_value)
                new = format_value(changed, change.new_value, language) if changed else str(change.new_value)
                lines.append(
                    _("{when} {who} changed {label}: {old} → {new}").format(
                        when=when, who=who, label=label, old=old, new=new
                    )
                )
            elif change.action == "reopened":
                lines.append(_("{when} reopened by {who}").format(when=when, who=who))
            else:
                lines.append(_("{when} sent by {who}").format(when=when, who=who))
        cards.append(
            ReportCard(
                month=Month.parse(report.month),
                submitted=report.submitted_at.astimezone(tz).strftime("%H:%M %d/%m/%Y"),
                by=report.submitter.display_name if report.submitter is not None else "—",
                on_time=report.on_time,
                values=shown,
                trail=lines,
            )
        )
    return GroupPage(group.code, group.name, group.households, group.block, series, cards)


def _plotted(indicator: Indicator) -> bool:
    """Figures that make a line: numbers, not free text, photos or choices."""
    return indicator.kind in (Kind.INTEGER, Kind.NUMBER, Kind.PERCENT, Kind.MONEY, Kind.YESNO)


@dataclass(frozen=True)
class Download:
    """An export offered on the downloads page."""

    key: str
    label: str


def downloads(now: datetime, tz: ZoneInfo) -> list[tuple[str, list[Download]]]:
    """Every period an export can be made for, the current month first."""
    return [
        (group, [Download(choice.key, choice.label) for choice in options])
        for group, options in period_choices(now, tz, [])
        if options
    ]


def export_period(key: str, now: datetime, tz: ZoneInfo) -> Period:
    """The period of a download's key; `PageError` for anything else."""
    try:
        period: Period | None = parse_period(key, today=now.astimezone(tz).date())
    except ValueError:
        period = None
    if period is None or period.key != key:
        raise PageError(_("There is no such download. Pick one on the downloads page."))
    return period


@dataclass(frozen=True)
class YearEndPage:
    """The newest year-end assessment (bình xét): where it stands, each group's proposed result, the
    comments received while posted, the decision; None fields until that step."""

    year: int
    ward_line: str
    confirmed: int
    groups: int
    lines: list[str]
    posted: str  # when posted, or ""
    posting_ends: str
    decision: str  # "number, date", or ""
    feedback: list[tuple[str, str, str]]  # (when, who, text)


async def year_end_page(uow: UnitOfWork, ward: WardFile, ward_id: int, *, tz: ZoneInfo) -> YearEndPage | None:
    """The same figures and lines as /assessment in chat (four queries); None before any is opened."""
    assessment = await uow.assessments.latest(ward_id)
    if assessment is None:
        return None
    language = current_language()
    found = await results(uow, assessment, ward)
    day = "%d/%m/%Y"
    return YearEndPage(
        year=assessment.year,
        ward_line=ward_line(assessment.year, totals(found), ward, language),
        confirmed=sum(1 for result in found if result.submitted),
        groups=len(found),
        lines=[result_line(result, ward, language) for result in found],
        posted=assessment.posted_at.astimezone(tz).strftime(day) if assessment.posted_at else "",
        posting_ends=assessment.posting_ends_on.strftime(day) if assessment.posting_ends_on else "",
        decision=(
            f"{assessment.decision_number}, {assessment.decision_date.strftime(day)}"
            if assessment.decision_number and assessment.decision_date
            else assessment.decision_number or ""
        ),
        feedback=[
            (entry.at.astimezone(tz).strftime("%H:%M " + day), entry.person_label, entry.text)
            for entry in await uow.assessments.feedback(assessment.id)
        ],
    )
