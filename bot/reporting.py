"""Monthly reports: which months are open, drafts saved at every step, submission and its audit trail.

Plain values in and out; the conversation in conversations/report.py decides what to ask and say.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import RuleError
from bot.indicators import (
    Indicator,
    Kind,
    asked_in,
    catalogue_fingerprint,
    catalogue_from_json,
    catalogue_json,
)
from bot.periods import Month, deadline_date, is_locked, lock_time, open_months
from bot.ward_config import WardSettings
from storage.models import (
    Reopening,
    Report,
    ReportChange,
    ReportDraft,
    ReportPhoto,
    ReportValue,
    ResidentialGroup,
)
from storage.unit_of_work import UnitOfWork

REOPEN_DAYS = 3


@dataclass(frozen=True)
class Answer:
    """One answer in a draft: a value, or skipped; `flagged` when outside the plausible range.

    A text answer has its words in `text` (and no value); a photo answer the ids of its stored
    photos in `photos` and their number as `value`.
    """

    value: float | None
    skipped: bool = False
    flagged: bool = False
    text: str | None = None
    photos: tuple[int, ...] = ()


@dataclass
class Draft:
    """A person's report in progress for one group and month, as plain values."""

    id: int
    group_id: int
    group_code: str
    group_name: str
    households: int
    month: Month
    catalogue_id: int
    indicators: tuple[Indicator, ...]
    answers: dict[str, Answer] = field(default_factory=dict)
    position: int = 0
    has_report: bool | None = None  # whether the month has a submitted report, when looked up
    base: dict[str, Answer] | None = None  # the submitted values this draft started from, if any
    previous: dict[str, float | None] | None = None  # last month's submitted values, when looked up

    def edited_keys(self) -> set[str]:
        """The answers this person changed: all of them for a draft that did not start from a report."""
        if self.base is None:
            return set(self.answers)
        return {key for key, answer in self.answers.items() if self.base.get(key) != answer}

    @property
    def count(self) -> int:
        return len(self.indicators)

    def indicator(self, position: int | None = None) -> Indicator:
        """The indicator at `position` (default: the current question)."""
        return self.indicators[self.position if position is None else position]

    def first_unanswered(self) -> int | None:
        """The first question without an answer, or None when every question has one."""
        for index, indicator in enumerate(self.indicators):
            if indicator.key not in self.answers:
                return index
        return None

    def position_of(self, key: str) -> int | None:
        for index, indicator in enumerate(self.indicators):
            if indicator.key == key:
                return index
        return None


@dataclass(frozen=True)
class SubmitResult:
    """What a confirmation did: the first submission, or which values it changed."""

    first: bool
    changed: tuple[tuple[str, float | None, float | None], ...]


@dataclass(frozen=True)
class ReportView:
    """A submitted report, for /myreport and the summary of a re-run."""

    month: Month
    indicators: tuple[Indicator, ...]
    values: dict[str, Answer]
    submitted_at: datetime
    submitted_by: str
    on_time: bool


class ReportingError(RuleError):
    """A request the report rules refuse; `reason` picks the reply."""


async def current_catalogue(uow: UnitOfWork, indicators: Sequence[Indicator]) -> int:
    """The id of the stored version of this catalogue (stored the first time it is used)."""
    stored = await uow.reports.ensure_catalogue(catalogue_fingerprint(indicators), catalogue_json(indicators))
    return stored.id


async def reportable_months(
    uow: UnitOfWork, group_id: int, now: datetime, ward: WardSettings, tz: ZoneInfo
) -> list[Month]:
    """Months the group may report for now: the open ones and any that staff reopened; newest first."""
    months = set(open_months(now, ward.report_deadline_day, tz))
    months.update(Month.parse(m) for m in await uow.reports.reopened_months(group_id, now))
    return sorted(months, reverse=True)


async def month_is_open(
    uow: UnitOfWork, group_id: int, month: Month, now: datetime, ward: WardSettings, tz: ZoneInfo
) -> bool:
    """False after the month's deadline, unless staff reopened it for this group."""
    if month > Month.of(now.astimezone(tz).date()):
        return False
    if not is_locked(month, now, ward.report_deadline_day, tz):
        return True
    until = await uow.reports.reopened_until(group_id, str(month))
    return until is not None and until > now


def reopened_last_day(until: datetime, tz: ZoneInfo) -> date:
    """The last local day of a reopening that ends at the instant `until` (the midnight after it)."""
    return (until.astimezone(tz) - timedelta(seconds=1)).date()


async def change_deadline(
    uow: UnitOfWork, group_id: int, month: Month, *, now: datetime, ward: WardSettings, tz: ZoneInfo
) -> date:
    """The last local day the group may still change its report for `month`: the ward's deadline, or
    the end of a reopening by staff that is still running (whichever is later)."""
    deadline = deadline_date(month, ward.report_deadline_day)
    until = await uow.reports.reopened_until(group_id, str(month))
    if until is None or until <= now:
        return deadline
    return max(deadline, reopened_last_day(until, tz))


def _answers_from_json(text: str) -> dict[str, Answer]:
    raw = json.loads(text or "{}")
    return {
        key: Answer(
            item.get("value"),
            bool(item.get("skipped")),
            bool(item.get("flagged")),
            item.get("text"),
            tuple(int(photo) for photo in item.get("photos", ())),
        )
        for key, item in raw.items()
    }


def _answer_json(answer: Answer) -> dict[str, object]:
    row: dict[str, object] = {"value": answer.value, "skipped": answer.skipped, "flagged": answer.flagged}
    if answer.text is not None:
        row["text"] = answer.text
    if answer.photos:
        row["photos"] = list(answer.photos)
    return row


def _answers_to_json(answers: dict[str, Answer]) -> str:
    return json.dumps({k: _answer_json(a) for k, a in answers.items()}, sort_keys=True, ensure_ascii=False)


# A stored catalogue version never changes (a changed ward file makes a new version), so its parsed
# indicators are kept per database engine: every step of a report needs them.
_CATALOGUES: WeakKeyDictionary[AsyncEngine, dict[int, tuple[Indicator, ...]]] = WeakKeyDictionary()


async def _indicators(uow: UnitOfWork, catalogue_id: int) -> tuple[Indicator, ...]:
    engine = uow.session.bind
    known = _CATALOGUES.setdefault(engine, {}) if isinstance(engine, AsyncEngine) else {}
    indicators = known.get(catalogue_id)
    if indicators is None:
        catalogue = await uow.reports.catalogue(catalogue_id)
        if catalogue is None:
            raise ReportingError("no_catalogue")
        indicators = known[catalogue_id] = catalogue_from_json(catalogue.indicators_json)
    return indicators


def _report_answers(report: Report) -> dict[str, Answer]:
    """The submitted answers (the report's values and photos must be loaded)."""
    photos: dict[str, list[int]] = {}
    for photo in report.photos:
        photos.setdefault(photo.key, []).append(photo.id)
    return {
        v.key: Answer(
            v.value,
            v.value is None and v.text is None,
            v.flagged,
            v.text,
            tuple(photos.get(v.key, ())),
        )
        for v in report.values
    }


async def _as_draft(
    uow: UnitOfWork,
    row: ReportDraft,
    group: ResidentialGroup,
    has_report: bool | None = None,
) -> Draft:
    return Draft(
        id=row.id,
        group_id=group.id,
        group_code=group.code,
        group_name=group.name,
        households=group.households,
        month=Month.parse(row.month),
        catalogue_id=row.catalogue_id,
        indicators=asked_in(await _indicators(uow, row.catalogue_id), Month.parse(row.month).month),
        answers=_answers_from_json(row.answers_json),
        position=row.position,
        has_report=has_report,
        base=_answers_from_json(row.base_json) if row.base_json is not None else None,
    )


async def start_draft(
    uow: UnitOfWork,
    person_id: int,
    group: ResidentialGroup,
    month: Month,
    indicators: Sequence[Indicator],
    *,
    now: datetime,
) -> Draft:
    """The person's draft for this month: kept if newer than the submitted report, else a fresh copy of it.

    A new draft uses the current catalogue; a copy of a submitted report keeps the report's version.
    """
    report = await uow.reports.report(group.id, str(month))
    row = await uow.reports.draft(group.id, str(month), person_id)
    if row is not None and report is not None and row.updated_at <= report.submitted_at:
        # Someone submitted since this draft was saved: take their values, keep this person's own edits.
        submitted = _report_answers(report)
        mine = _answers_from_json(row.answers_json)
        base = _answers_from_json(row.base_json) if row.base_json is not None else None
        own = {key: answer for key, answer in mine.items() if base is None or base.get(key) != answer}
        row.answers_json = _answers_to_json(submitted | own)
        row.base_json = _answers_to_json(submitted)
        row.catalogue_id = report.catalogue_id
        row.position = len(asked_in(await _indicators(uow, report.catalogue_id), month.month))
        row.updated_at = now
    if row is None:
        if report is not None:
            catalogue_id, answers = report.catalogue_id, _report_answers(report)
            position = len(asked_in(await _indicators(uow, catalogue_id), month.month))
        else:
            catalogue_id, answers, position = await current_catalogue(uow, indicators), {}, 0
        row = await uow.reports.add_draft(
            ReportDraft(
                group_id=group.id,
                month=str(month),
                person_id=person_id,
                catalogue_id=catalogue_id,
                answers_json=_answers_to_json(answers),
                base_json=_answers_to_json(answers) if report is not None else None,
                position=position,
                updated_at=now,
            )
        )
    return await _as_draft(uow, row, group, report is not None)


async def load_draft(uow: UnitOfWork, draft_id: int) -> Draft | None:
    """A draft by id, or None when it is gone (submitted or never there). Whether the month has a
    report and last month's values are looked up when a step needs them (most steps do not)."""
    row = await uow.reports.draft_by_id(draft_id)
    if row is None:
        return None
    group = await uow.groups.get(row.group_id)
    if group is None:
        return None
    return await _as_draft(uow, row, group)


async def save_draft(uow: UnitOfWork, draft: Draft, *, now: datetime) -> None:
    """Store the draft's answers and position (every step calls this)."""
    row = await uow.reports.draft_by_id(draft.id)
    if row is None:
        raise ReportingError("no_draft")
    row.answers_json = _answers_to_json(draft.answers)
    row.position, row.updated_at = draft.position, now


async def previous_values(uow: UnitOfWork, draft: Draft) -> dict[str, float | None]:
    """Last month's submitted values, shown as hints (looked up once per draft loaded)."""
    if draft.previous is None:
        await _look_up_months(uow, draft)
        assert draft.previous is not None
    return draft.previous


async def has_submitted_report(uow: UnitOfWork, draft: Draft) -> bool:
    """Whether the draft's month has a submitted report (looked up once per draft loaded)."""
    if draft.has_report is None:
        await _look_up_months(uow, draft)
        assert draft.has_report is not None
    return draft.has_report


async def _look_up_months(uow: UnitOfWork, draft: Draft) -> None:
    """This month's report (is there one?) and last month's values (the hints) in one query."""
    month, previous = str(draft.month), str(draft.month.previous())
    found = await uow.reports.values_of_months(draft.group_id, [month, previous])
    if draft.has_report is None:
        draft.has_report = month in found
    draft.previous = found.get(previous, {})


async def submit(
    uow: UnitOfWork, draft: Draft, person_id: int, *, now: datetime, ward: WardSettings, tz: ZoneInfo
) -> SubmitResult:
    """Store the draft as the group's report; every value changed after the first submission is audited."""
    missing = [i.key for i in draft.indicators if i.required and draft.answers.get(i.key) is None]
    if missing:
        raise ReportingError("incomplete", key=missing[0])
    month = str(draft.month)
    await uow.reports.lock(draft.group_id, month)  # head and deputy confirming at once, on two workers
    report = await uow.reports.report(draft.group_id, month)
    changed: list[tuple[str, float | None, float | None]] = []
    if report is None:
        report = Report(
            group_id=draft.group_id,
            month=month,
            catalogue_id=draft.catalogue_id,
            first_submitted_at=now,
            submitted_at=now,
            submitted_by=person_id,
            on_time=now < lock_time(draft.month, ward.report_deadline_day, tz),
        )
        values = [
            {
                "key": i.key,
                "value": draft.answers[i.key].value,
                "flagged": draft.answers[i.key].flagged,
                "text": draft.answers[i.key].text,
            }
            for i in draft.indicators
            if i.key in draft.answers
        ]
        await uow.reports.add_report(report, values)
        for indicator in draft.indicators:
            if indicator.kind is Kind.PHOTO and indicator.key in draft.answers:
                await uow.reports.keep_photos(report, indicator.key, draft.answers[indicator.key].photos)
        first = True
    else:
        first = False
        stored = {v.key: v for v in report.values}
        edited = draft.edited_keys()  # what this person changed; the rest may be someone else's newer fix
        for indicator in draft.indicators:
            answer = draft.answers.get(indicator.key)
            if answer is None or indicator.key not in edited:
                continue
            row = stored.get(indicator.key)
            other_photos = False  # the same number of photos, but other ones
            if indicator.kind is Kind.PHOTO:
                kept = {photo.id for photo in report.photos if photo.key == indicator.key}
                other_photos = kept != set(answer.photos)
                await uow.reports.keep_photos(report, indicator.key, answer.photos)
            if row is None:
                report.values.append(
                    ReportValue(
                        key=indicator.key, value=answer.value, flagged=answer.flagged, text=answer.text
                    )
                )
                changed.append((indicator.key, None, answer.value))
            elif (
                row.value != answer.value
                or row.flagged != answer.flagged
                or row.text != answer.text
                or other_photos
            ):
                if row.value != answer.value or row.text != answer.text or other_photos:
                    changed.append((indicator.key, row.value, answer.value))
                row.value, row.flagged, row.text = answer.value, answer.flagged, answer.text
        report.catalogue_id = draft.catalogue_id
        report.submitted_at, report.submitted_by = now, person_id
        for key, old, new in changed:
            await uow.reports.add_change(
                ReportChange(
                    report_id=report.id,
                    at=now,
                    person_id=person_id,
                    action="changed",
                    key=key,
                    old_value=old,
                    new_value=new,
                )
            )
    await uow.reports.add_change(
        ReportChange(report_id=report.id, at=now, person_id=person_id, action="submitted")
    )
    finished = await uow.reports.draft_by_id(draft.id)
    if finished is not None:
        await uow.session.delete(finished)
    await uow.reports.drop_loose_photos(draft.group_id, month, person_id)  # sent, then removed or replaced
    return SubmitResult(first, tuple(changed))


async def reopen_month(
    uow: UnitOfWork, group: ResidentialGroup, month: Month, *, actor: int, now: datetime, tz: ZoneInfo
) -> datetime:
    """Reopen one group's month for REOPEN_DAYS days (to the end of the last local day); returns until."""
    if month > Month.of(now.astimezone(tz).date()):
        raise ReportingError("future_month", month=str(month))
    last_day = now.astimezone(tz).date() + timedelta(days=REOPEN_DAYS)
    until = datetime(last_day.year, last_day.month, last_day.day, tzinfo=tz) + timedelta(days=1)
    await uow.reports.add_reopening(
        Reopening(group_id=group.id, month=str(month), until=until, by=actor, at=now)
    )
    report = await uow.reports.report(group.id, str(month))
    if report is not None:
        await uow.reports.add_change(
            ReportChange(report_id=report.id, at=now, person_id=actor, action="reopened")
        )
    return until


async def report_view(uow: UnitOfWork, group_id: int, month: Month) -> ReportView | None:
    """The submitted report of a group's month, or None."""
    report = await uow.reports.report(group_id, str(month))
    if report is None:
        return None
    submitter = report.submitter.display_name if report.submitter is not None else ""
    return ReportView(
        month=month,
        indicators=asked_in(await _indicators(uow, report.catalogue_id), month.month),
        values=_report_answers(report),
        submitted_at=report.submitted_at,
        submitted_by=submitter,
        on_time=report.on_time,
    )


async def add_photo(
    uow: UnitOfWork, draft: Draft, key: str, content: bytes, media_type: str, *, person_id: int, ward_id: int
) -> Answer:
    """Store a photo received for the draft's question `key`; the answer with it added."""
    photo = await uow.reports.add_photo(
        ReportPhoto(
            ward_id=ward_id,
            group_id=draft.group_id,
            month=str(draft.month),
            key=key,
            person_id=person_id,
            media_type=media_type,
            size=len(content),
            content=content,
        )
    )
    current = draft.answers.get(key)
    photos = (current.photos if current is not None else ()) + (photo.id,)
    return Answer(float(len(photos)), photos=photos)


async def remove_photos(uow: UnitOfWork, draft: Draft, key: str, *, person_id: int) -> None:
    """Take the photos off the draft's answer to `key`; those no submitted report keeps are deleted."""
    answer = draft.answers.pop(key, None)
    if answer is not None and answer.photos:
        await uow.reports.drop_loose_photos(draft.group_id, str(draft.month), person_id, answer.photos)
