"""The year-end assessment (bình xét): groups' forms, the computed titles, public posting, the decision.

Rules live here with plain values: a group qualifies for the group title when every criterion of the
ward file's checklist is met and the share of its households achieving the family title is at least
`min_family_pct` (staff may override one group with a reason). Every announcement is a broadcast in
the outbox; the decision writes each title into the award register (bot/awards.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bot.answers import format_number
from bot.awards import FAMILY_TITLE_KEY, GROUP_RECIPIENT, GROUP_TITLE_KEY, HOUSEHOLD_RECIPIENT
from bot.delivery import Outgoing, Recipient, enqueue_broadcast
from bot.errors import RuleError
from bot.i18n import gettext as _
from bot.i18n import pick_language, use_language
from bot.indicators import text_in
from bot.membership import audit, language_of
from bot.replies import Choice
from bot.ward_config import WardFile
from storage.models import Assessment, AssessmentFeedback, AssessmentForm, Award, Person, ResidentialGroup
from storage.unit_of_work import UnitOfWork

START_FORM = "assess:start"  # the 📝 button of the invitation: opens /assess
_TENTH = Decimal("0.1")


class AssessmentError(RuleError):
    """A request the rules refuse; `reason` picks the reply, `details` fill it."""


# --- the computation ----------------------------------------------------------------------------


def share(achieved: int, households: int) -> Decimal | None:
    """achieved / households in percent, rounded half up to one decimal (82.05 → 82.1); None without
    households."""
    if households <= 0:
        return None
    return (Decimal(achieved) * 100 / Decimal(households)).quantize(_TENTH, rounding=ROUND_HALF_UP)


def format_share(value: Decimal | None, language: str) -> str:
    """A share as wards write it: "82,0" in Vietnamese, "82.0" in English (always one decimal)."""
    if value is None:
        return "—"
    text = f"{value:.1f}"
    return text if pick_language(language) == "en" else text.replace(".", ",")


@dataclass
class FormValues:
    """A group's answers, as a draft or as confirmed."""

    households: int | None = None
    registered: int | None = None
    achieved: int | None = None
    meeting_date: date | None = None
    attended: int | None = None
    criteria: dict[str, bool] = field(default_factory=dict)
    nominations: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """For the draft column (dates as ISO text)."""
        return {
            "households": self.households,
            "registered": self.registered,
            "achieved": self.achieved,
            "meeting_date": self.meeting_date.isoformat() if self.meeting_date else None,
            "attended": self.attended,
            "criteria": dict(self.criteria),
            "nominations": list(self.nominations),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FormValues:
        day = data.get("meeting_date")
        return cls(
            households=data.get("households"),
            registered=data.get("registered"),
            achieved=data.get("achieved"),
            meeting_date=date.fromisoformat(day) if day else None,
            attended=data.get("attended"),
            criteria={str(k): bool(v) for k, v in dict(data.get("criteria") or {}).items()},
            nominations=[str(n) for n in data.get("nominations") or []],
        )

    @classmethod
    def submitted(cls, form: AssessmentForm) -> FormValues:
        """What the group confirmed (the form's columns)."""
        return cls(
            households=form.households,
            registered=form.registered,
            achieved=form.achieved,
            meeting_date=form.meeting_date,
            attended=form.attended,
            criteria={str(k): bool(v) for k, v in json.loads(form.criteria_json or "{}").items()},
            nominations=[str(n) for n in json.loads(form.nominations_json or "[]")],
        )


def criteria_met(values: FormValues, keys: Sequence[str]) -> int:
    """How many of the checklist's criteria the group met."""
    return sum(1 for key in keys if values.criteria.get(key) is True)


def qualifies(values: FormValues, keys: Sequence[str], min_family_pct: float) -> bool:
    """Every criterion met and achieved / households ≥ min_family_pct (exact, not the rounded share)."""
    if not values.households or values.achieved is None:
        return False
    if criteria_met(values, keys) != len(keys):
        return False
    return Decimal(values.achieved) * 100 >= Decimal(str(min_family_pct)) * values.households


@dataclass(frozen=True)
class GroupResult:
    """One group's line of the assessment."""

    group_id: int
    code: str
    name: str
    submitted: bool
    values: FormValues
    met: int
    criteria: int
    computed: bool
    override: bool | None
    override_reason: str

    @property
    def qualifies(self) -> bool:
        """The result that counts: staff's override, else the computation."""
        return self.computed if self.override is None else self.override

    @property
    def share(self) -> Decimal | None:
        return share(self.values.achieved or 0, self.values.households or 0)


@dataclass(frozen=True)
class Totals:
    """The ward's figures: groups holding the group title, households holding the family title."""

    groups: int
    qualified: int
    achieved: int
    households: int

    @property
    def share(self) -> Decimal | None:
        return share(self.achieved, self.households)


def totals(results: Sequence[GroupResult]) -> Totals:
    """Over every group of the ward; a group without a form counts with its households and no title."""
    return Totals(
        groups=len(results),
        qualified=sum(1 for r in results if r.submitted and r.qualifies),
        achieved=sum(r.values.achieved or 0 for r in results if r.submitted),
        households=sum(r.values.households or 0 for r in results),
    )


def result_of(group: ResidentialGroup, form: AssessmentForm | None, ward: WardFile) -> GroupResult:
    """A group's result from its confirmed form (no form: not submitted, its known households)."""
    keys = [c.key for c in ward.assessment.criteria]
    submitted = form is not None and form.submitted_at is not None
    values = FormValues.submitted(form) if form is not None and submitted else FormValues(group.households)
    return GroupResult(
        group_id=group.id,
        code=group.code,
        name=group.name,
        submitted=submitted,
        values=values,
        met=criteria_met(values, keys),
        criteria=len(keys),
        computed=submitted and qualifies(values, keys, ward.assessment.min_family_pct),
        override=form.override if form is not None and submitted else None,
        override_reason=form.override_reason if form is not None else "",
    )


async def results(uow: UnitOfWork, assessment: Assessment, ward: WardFile) -> list[GroupResult]:
    """Every group of the ward, by code."""
    forms = {f.group_id: f for f in await uow.assessments.forms(assessment.id)}
    return [result_of(g, forms.get(g.id), ward) for g in await uow.groups.all(assessment.ward_id)]


# --- the season -----------------------------------------------------------------------------------


async def open_assessment(
    uow: UnitOfWork,
    ward_id: int,
    year: int,
    *,
    ward: WardFile,
    opened_by: int,
    now: datetime,
    default_language: str,
) -> tuple[Assessment, int]:
    """Open the year's assessment and invite every head and deputy with a 📝 button; (it, invited)."""
    if await uow.assessments.of_year(ward_id, year) is not None:
        raise AssessmentError("exists", year=year)
    assessment = await uow.assessments.add(
        Assessment(ward_id=ward_id, year=year, opened_by=opened_by, opened_at=now)
    )
    messages: list[tuple[Recipient, Outgoing]] = []
    seen: set[tuple[str, str]] = set()
    for membership in await uow.groups.leaders(ward_id):
        person = membership.person
        if not person.active or (person.platform, person.external_id) in seen:
            continue
        seen.add((person.platform, person.external_id))
        language = language_of(person, default_language)
        with use_language(language):
            text = _(
                "📋 The year-end assessment (bình xét) {year} is open. After your group's meeting, send "
                "its results for “{family_title}” and “{group_title}” with the form: press the button "
                "or send /assess."
            ).format(
                year=year,
                family_title=text_in(ward.assessment.family_title, language),
                group_title=text_in(ward.assessment.group_title, language),
            )
            button = Choice(_("📝 Fill in the form"), START_FORM)
        messages.append((_person(person), Outgoing(text, ((button,),))))
    if messages:  # no head yet, no broadcast (and no empty delivery report)
        await enqueue_broadcast(
            uow,
            kind="assessment",
            ward_id=ward_id,
            title=f"bình xét {year}",
            messages=messages,
            requested_by=opened_by,
            key=f"assessment:{ward_id}:{year}:open",
            now=now,
        )
    await audit(uow, "assessment opened", actor=opened_by, ward_id=ward_id, detail=str(year))
    return assessment, len(messages)


async def open_form(uow: UnitOfWork, assessment: Assessment, group: ResidentialGroup) -> AssessmentForm:
    """The group's form, created on first use with the group's current household count offered."""
    form = await uow.assessments.form(assessment.id, group.id)
    if form is None:
        form = await uow.assessments.add_form(
            AssessmentForm(ward_id=assessment.ward_id, assessment_id=assessment.id, group_id=group.id)
        )
    return form


def draft_of(form: AssessmentForm) -> FormValues:
    """The answers typed so far (after a confirmation: the confirmed ones)."""
    data = json.loads(form.draft_json or "{}")
    if not data and form.submitted_at is not None:
        return FormValues.submitted(form)
    return FormValues.from_json(data)


def save_draft(form: AssessmentForm, values: FormValues) -> None:
    form.draft_json = json.dumps(values.to_json(), ensure_ascii=False, sort_keys=True)


def check_form(values: FormValues, keys: Sequence[str]) -> str | None:
    """The first missing answer's name, or None when the form is complete and consistent."""
    for name in ("households", "registered", "achieved", "meeting_date", "attended"):
        if getattr(values, name) is None:
            return name
    for key in keys:
        if key not in values.criteria:
            return key
    households, registered, achieved = values.households or 0, values.registered or 0, values.achieved or 0
    if registered > households:
        return "registered"
    if achieved > registered:
        return "achieved"
    if (values.attended or 0) > households:
        return "attended"
    return None


async def submit_form(
    uow: UnitOfWork, form: AssessmentForm, values: FormValues, *, person_id: int, now: datetime
) -> None:
    """Keep the confirmed answers; a later confirmation replaces them (staff's override stays)."""
    form.households, form.registered, form.achieved = values.households, values.registered, values.achieved
    form.meeting_date, form.attended = values.meeting_date, values.attended
    form.criteria_json = json.dumps(values.criteria, ensure_ascii=False, sort_keys=True)
    form.nominations_json = json.dumps(values.nominations, ensure_ascii=False)
    form.submitted_at, form.submitted_by = now, person_id
    form.draft_json = "{}"
    await audit(
        uow, "assessment form confirmed", actor=person_id, group_id=form.group_id, ward_id=form.ward_id
    )


async def set_override(
    uow: UnitOfWork,
    assessment: Assessment,
    group: ResidentialGroup,
    qualifies_: bool,
    reason: str,
    *,
    actor: int,
    actor_label: str,
) -> None:
    """Staff decide one group's result instead of the computation, with the reason (in the audit log)."""
    if assessment.decided_at is not None:
        raise AssessmentError("decided", year=assessment.year)
    form = await uow.assessments.form(assessment.id, group.id)
    if form is None or form.submitted_at is None:
        raise AssessmentError("no_form", code=group.code)
    form.override, form.override_reason = qualifies_, reason
    await audit(
        uow,
        "assessment result set",
        actor=actor,
        actor_label=actor_label,
        group_id=group.id,
        ward_id=assessment.ward_id,
        detail=f"{assessment.year} {'yes' if qualifies_ else 'no'}: {reason}",
    )


def result_line(result: GroupResult, ward: WardFile, language: str) -> str:
    """One group's proposed result, in `language`: households achieving, share, the group title."""
    family = text_in(ward.assessment.family_title, language)
    group_title = text_in(ward.assessment.group_title, language)
    with use_language(language):
        if not result.submitted:
            return _("{code} {name}: no form yet").format(code=result.code, name=result.name)
        line = _("{code} {name}: {achieved}/{households} households ({share}%) “{family_title}”").format(
            code=result.code,
            name=result.name,
            achieved=format_number(result.values.achieved or 0, language=language),
            households=format_number(result.values.households or 0, language=language),
            share=format_share(result.share, language),
            family_title=family,
        )
        title = (
            _("“{group_title}”: yes").format(group_title=group_title)
            if result.qualifies
            else _("“{group_title}”: no").format(group_title=group_title)
        )
        return f"{line}; {title}"


def ward_line(year: int, found: Totals, ward: WardFile, language: str) -> str:
    """The ward's result as wards write it: "Năm 2026: 7/7 tổ dân phố đạt danh hiệu …; 1.234/1.330 hộ
    (92,8%) đạt danh hiệu …"."""
    with use_language(language):
        unit = str(ward.ward.unit) if pick_language(language) == "vi" else _("residential groups")
        return _(
            "Year {year}: {qualified}/{groups} {unit} achieved the title {group_title}; "
            "{achieved}/{households} households ({share}%) achieved the title {family_title}"
        ).format(
            year=year,
            qualified=format_number(found.qualified, language=language),
            groups=format_number(found.groups, language=language),
            unit=unit,
            group_title=text_in(ward.assessment.group_title, language),
            achieved=format_number(found.achieved, language=language),
            households=format_number(found.households, language=language),
            share=format_share(found.share, language),
            family_title=text_in(ward.assessment.family_title, language),
        )


@dataclass(frozen=True)
class Audience:
    """Who hears about the groups: each chat or person with their language and the groups they follow."""

    recipient: Recipient
    language: str
    group_ids: tuple[int, ...]


async def _audience(uow: UnitOfWork, ward_id: int, *, default_language: str, staff: bool) -> list[Audience]:
    """Linked group chats (the ward's language), followers (their own) and, when asked, staff."""
    found: dict[tuple[str, str], Audience] = {}
    for chat in await uow.outbox.active_group_chats(None, None, ward_id=ward_id):
        recipient = Recipient(chat.platform, chat.external_id, chat.title or chat.external_id, True)
        found.setdefault(
            (chat.platform, chat.external_id), Audience(recipient, default_language, (chat.group_id or 0,))
        )
    for group in await uow.groups.all(ward_id):
        for person in await uow.groups.followers(group.id):
            if not person.active:
                continue
            key = (person.platform, person.external_id)
            known = found.get(key)
            if known is not None and not known.recipient.is_group:
                found[key] = Audience(known.recipient, known.language, (*known.group_ids, group.id))
            elif known is None:
                found[key] = Audience(_person(person), language_of(person, default_language), (group.id,))
    if staff:
        for person in await uow.outbox.active_staff(None, ward_id=ward_id):
            key = (person.platform, person.external_id)
            if key not in found:
                found[key] = Audience(_person(person), language_of(person, default_language), ())
    return list(found.values())


def _person(person: Person) -> Recipient:
    return Recipient(person.platform, person.external_id, person.display_name or person.external_id, False)


@dataclass(frozen=True)
class Posted:
    """What a post or a decision sent: how many chats and people, and the text staff are shown."""

    sent: int
    text: str


async def post(
    uow: UnitOfWork,
    assessment: Assessment,
    *,
    ward: WardFile,
    today: date,
    now: datetime,
    language: str,
    default_language: str,
    requested_by: int,
) -> Posted:
    """Public posting (niêm yết): each group's proposed result to its chat and followers; the window
    for /feedback runs `posting_days` days (0: the decision may follow at once)."""
    if assessment.decided_at is not None:
        raise AssessmentError("decided", year=assessment.year)
    found = await results(uow, assessment, ward)
    if not any(r.submitted for r in found):
        raise AssessmentError("nothing_submitted", year=assessment.year)
    ends = today + timedelta(days=ward.assessment.posting_days)
    assessment.posted_at, assessment.posting_ends_on = now, ends
    by_group = {r.group_id: r for r in found}
    forms = {f.group_id: f for f in await uow.assessments.forms(assessment.id)}

    def text_for(group_ids: Sequence[int], reader: str) -> str:
        with use_language(reader):
            lines = [
                _("📋 PUBLIC POSTING (niêm yết): proposed year-end results {year}").format(
                    year=assessment.year
                )
            ]
            for group_id in group_ids:
                result = by_group.get(group_id)
                if result is None:
                    continue
                lines.append(result_line(result, ward, reader))
                form = forms.get(group_id)
                nominations = FormValues.submitted(form).nominations if form and result.submitted else []
                if nominations:
                    lines.append(_("Nominations: {names}").format(names="; ".join(nominations)))
            lines.append(
                _(
                    "Comments until {day}: send /feedback followed by your comment in a private chat with me."
                ).format(day=ends.strftime("%d/%m/%Y"))
                if ward.assessment.posting_days
                else _("Comments: send /feedback followed by your comment in a private chat with me.")
            )
            return "\n".join(lines)

    audience = await _audience(uow, assessment.ward_id, default_language=default_language, staff=False)
    messages = [(a.recipient, Outgoing(text_for(a.group_ids, a.language))) for a in audience if a.group_ids]
    if messages:
        await enqueue_broadcast(
            uow,
            kind="assessment-post",
            ward_id=assessment.ward_id,
            title=f"niêm yết {assessment.year}",
            messages=messages,
            requested_by=requested_by,
            now=now,
        )
    await audit(
        uow, "assessment posted", actor=requested_by, ward_id=assessment.ward_id, detail=str(assessment.year)
    )
    return Posted(len(messages), text_for([r.group_id for r in found], language))


async def add_feedback(
    uow: UnitOfWork, ward_id: int, person_id: int, label: str, text: str, *, now: datetime
) -> Assessment:
    """Keep a comment on the posted results, with who and when; taken from the posting until the
    decision (a late comment still reaches the council before it signs)."""
    assessment = await uow.assessments.latest(ward_id)
    if assessment is None or assessment.posted_at is None or assessment.decided_at is not None:
        raise AssessmentError("not_posted")
    await uow.assessments.add_feedback(
        AssessmentFeedback(
            ward_id=ward_id,
            assessment_id=assessment.id,
            person_id=person_id,
            person_label=label,
            text=text,
            at=now,
        )
    )
    return assessment


async def decide(
    uow: UnitOfWork,
    assessment: Assessment,
    number: str,
    signed_on: date,
    *,
    ward: WardFile,
    today: date,
    now: datetime,
    language: str,
    default_language: str,
    requested_by: int,
) -> Posted:
    """Record the decision, write every title into the award register and announce the result."""
    if assessment.decided_at is not None:
        raise AssessmentError("decided", year=assessment.year)
    if assessment.posted_at is None or assessment.posting_ends_on is None:
        raise AssessmentError("not_posted", year=assessment.year)
    if today < assessment.posting_ends_on:
        raise AssessmentError("posting_open", day=assessment.posting_ends_on)
    found = await results(uow, assessment, ward)
    assessment.decision_number, assessment.decision_date, assessment.decided_at = number, signed_on, now
    level = text_in(ward.awards.levels[0], "vi")
    family_vi, group_vi = (
        text_in(ward.assessment.family_title, "vi"),
        text_in(ward.assessment.group_title, "vi"),
    )
    for result in found:
        if not result.submitted:
            continue
        common: dict[str, Any] = {
            "ward_id": assessment.ward_id,
            "year": assessment.year,
            "group_id": result.group_id,
            "level": level,
            "decision_number": number,
            "decision_date": signed_on,
            "assessment_id": assessment.id,
            "created_by": requested_by,
            "created_at": now,
        }
        await uow.awards.add(
            Award(
                recipient_kind=HOUSEHOLD_RECIPIENT,
                recipient_name=result.name,
                households=result.values.achieved or 0,
                title_key=FAMILY_TITLE_KEY,
                form=family_vi,
                reason=f"{result.values.achieved or 0}/{result.values.households or 0} hộ",
                **common,
            )
        )
        if result.qualifies:
            await uow.awards.add(
                Award(
                    recipient_kind=GROUP_RECIPIENT,
                    recipient_name=result.name,
                    title_key=GROUP_TITLE_KEY,
                    form=group_vi,
                    reason=result.override_reason if result.override is not None else "",
                    **common,
                )
            )
    ward_totals = totals(found)
    by_group = {r.group_id: r for r in found}

    def text_for(group_ids: Sequence[int], reader: str) -> str:
        with use_language(reader):
            lines = [
                _("🏅 YEAR-END RESULTS {year} (decision {number} of {day})").format(
                    year=assessment.year, number=number, day=signed_on.strftime("%d/%m/%Y")
                ),
                ward_line(assessment.year, ward_totals, ward, reader),
            ]
            lines += [result_line(by_group[g], ward, reader) for g in group_ids if g in by_group]
            return "\n".join(lines)

    audience = await _audience(uow, assessment.ward_id, default_language=default_language, staff=True)
    messages = [(a.recipient, Outgoing(text_for(a.group_ids, a.language))) for a in audience]
    if messages:
        await enqueue_broadcast(
            uow,
            kind="assessment-decision",
            ward_id=assessment.ward_id,
            title=f"bình xét {assessment.year}",
            messages=messages,
            requested_by=requested_by,
            key=f"assessment:{assessment.id}:decision",
            now=now,
        )
    await audit(
        uow,
        "assessment decided",
        actor=requested_by,
        ward_id=assessment.ward_id,
        detail=f"{assessment.year} {number} {signed_on.isoformat()}",
    )
    return Posted(len(messages), text_for([r.group_id for r in found], language))
