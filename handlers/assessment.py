"""/assessment (/binhxet) for staff: open, progress, set, post, feedback, decide, report; /feedback
(/gopy) during the public posting; /awards and /titles read the award register."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.answers import format_number, keyword, whole_number
from bot.assessment import (
    AssessmentError,
    add_feedback,
    decide,
    format_share,
    open_assessment,
    post,
    result_of,
    results,
    set_override,
    totals,
    ward_line,
)
from bot.awards import GROUP_RECIPIENT, HOUSEHOLD_RECIPIENT, title_years
from bot.documents import assessment_report_docx, minutes_docx
from bot.features import command
from bot.i18n import current_language
from bot.i18n import gettext as _
from bot.indicators import text_in
from bot.membership import require_group
from bot.periods import FIRST_YEAR, LAST_YEAR, parse_day
from bot.replies import Attachment
from bot.turns import Turn
from handlers.membership_texts import explained
from storage.models import Assessment, Person

FEEDBACK_LIMIT = 2000
REASON_LIMIT = 500
NUMBER_LIMIT = 60
YES_WORDS, NO_WORDS = frozenset({"yes", "có", "co", "đạt", "dat"}), frozenset({"no", "không", "khong"})


def _usage() -> str:
    return _(
        "Year-end assessment: /assessment YEAR opens it; /assessment shows progress; "
        "/assessment set CODE yes|no REASON; /assessment post; /assessment feedback; "
        "/assessment decide NUMBER dd/mm/yyyy; /assessment report [CODE]."
    )


@command("assessment", "binhxet", slow=True)
async def assessment_command(turn: Turn) -> None:
    """Staff's one command for the season; the first word says what to do."""
    word = turn.args[0].lower() if turn.args else ""
    year = whole_number(word, digits=4) if word else None
    if year is not None:
        await _open(turn, year)
        return
    actions = {
        "": _progress,
        "set": _set,
        "post": _post,
        "feedback": _feedback_list,
        "decide": _decide,
        "report": _report,
    }
    # The same steps in Vietnamese, with or without diacritics: /binhxet niêm-yết, /binhxet quyetdinh …
    vietnamese = {
        "dieuchinh": "set",
        "niemyet": "post",
        "gopy": "feedback",
        "quyetdinh": "decide",
        "baocao": "report",
    }
    action = actions.get(vietnamese.get(keyword(word).replace(" ", ""), word))
    if action is None:
        turn.reply(_usage())
        return
    assessment = await turn.uow.assessments.latest(turn.ward_id)
    if assessment is None:
        turn.reply(
            _("No year-end assessment yet. Open one with /assessment YEAR, for example /assessment 2026.")
        )
        return
    try:
        await action(turn, assessment)
    except AssessmentError as error:
        turn.reply(_refusal(error))


def _refusal(error: AssessmentError) -> str:
    details = error.details
    texts = {
        "exists": _("The assessment of {year} is already open. Send /assessment to see its progress."),
        "decided": _("The assessment of {year} is decided; nothing more can change."),
        "no_form": _(
            "{code} has not sent its form yet, so there is no result to set. "
            "Its head or deputy sends it with /assess."
        ),
        "nothing_submitted": _("No group has sent its form for {year} yet, so there is nothing to post."),
        "not_posted": _("Post the proposed results first with /assessment post."),
        "posting_open": _("The public posting runs until {day}: the decision can be recorded from then on."),
    }
    values = {"year": "", "code": "", "day": ""} | {
        k: (v.strftime("%d/%m/%Y") if hasattr(v, "strftime") else v) for k, v in details.items()
    }
    return texts[error.reason].format(**values)


async def _open(turn: Turn, year: int) -> None:
    today = turn.now().date()
    if not (FIRST_YEAR <= year <= LAST_YEAR) or abs(year - today.year) > 1:
        turn.reply(
            _("Please give the year of the assessment, for example /assessment {year}.").format(
                year=today.year
            )
        )
        return
    try:
        _assessment, invited = await open_assessment(
            turn.uow,
            turn.ward_id,
            year,
            ward=turn.ward,
            opened_by=turn.caller.person_id,
            now=turn.wiring.clock(),
            default_language=turn.wiring.settings.default_language,
        )
    except AssessmentError as error:
        turn.reply(_refusal(error))
        return
    turn.broadcast = invited > 0
    turn.reply(
        _(
            "The year-end assessment {year} is open. {count} heads and deputies got a 📝 button to fill "
            "in their group's form. Send /assessment to follow the progress."
        ).format(year=year, count=invited)
    )


async def _progress(turn: Turn, assessment: Assessment) -> None:
    language = current_language()
    found = await results(turn.uow, assessment, turn.ward)
    sent = [r for r in found if r.submitted]
    forms = {f.group_id: f for f in await turn.uow.assessments.forms(assessment.id)}
    people = {p.id: p for p in await turn.uow.people.by_ids(f.submitted_by for f in forms.values())}
    lines = [
        _("Year-end assessment {year}: {sent}/{count} groups sent their form.").format(
            year=assessment.year, sent=len(sent), count=len(found)
        )
    ]
    for r in found:
        if not r.submitted:
            lines.append(_("⏳ {code} {name}: not sent").format(code=r.code, name=r.name))
            continue
        lines.append(
            _(
                "✔️ {code} {name}: {achieved}/{households} households ({share}%), "
                "criteria {met}/{total}, {result}"
            ).format(
                code=r.code,
                name=r.name,
                achieved=format_number(r.values.achieved or 0, language=language),
                households=format_number(r.values.households or 0, language=language),
                share=format_share(r.share, language),
                met=r.met,
                total=r.criteria,
                result=(_("qualifies") if r.qualifies else _("does not qualify"))
                + (_(" (set by staff)") if r.override is not None else ""),
            )
            + _sender(forms[r.group_id].submitted_by, forms[r.group_id].submitted_at, people, turn)
        )
    lines.append(ward_line(assessment.year, totals(found), turn.ward, language))
    if assessment.decided_at is not None:
        lines.append(
            _("Decided: {number} of {day}.").format(
                number=assessment.decision_number,
                day=assessment.decision_date.strftime("%d/%m/%Y") if assessment.decision_date else "",
            )
        )
    elif assessment.posting_ends_on is not None:
        lines.append(
            _("Posted; the decision can be recorded from {day}.").format(
                day=assessment.posting_ends_on.strftime("%d/%m/%Y")
            )
        )
    turn.reply("\n".join(lines))


def _sender(person_id: int | None, at: datetime | None, people: Mapping[int, Person], turn: Turn) -> str:
    """ " — Nam, 03/11/2026": who confirmed the group's form, and when."""
    person = people.get(person_id or 0)
    when = at.astimezone(turn.timezone).strftime("%d/%m/%Y") if at is not None else ""
    return f" — {person.display_name if person is not None else '?'}, {when}"


@explained
async def _set(turn: Turn, assessment: Assessment) -> None:
    words = turn.text.split(maxsplit=4)
    if len(words) < 5 or words[3].lower() not in YES_WORDS | NO_WORDS:
        turn.reply(
            _(
                "Please write /assessment set CODE yes|no REASON, for example "
                "/assessment set TDP02 yes Hội đồng xét lại."
            )
        )
        return
    reason = " ".join(words[4].split())
    if len(reason) > REASON_LIMIT:
        turn.reply(_("The reason is at most {limit} characters.").format(limit=REASON_LIMIT))
        return
    group = await require_group(turn.uow, words[2], turn.ward_id)
    qualifies = words[3].lower() in YES_WORDS
    await set_override(
        turn.uow,
        assessment,
        group,
        qualifies,
        reason,
        actor=turn.caller.person_id,
        actor_label=turn.caller.name,
    )
    turn.reply(
        (
            _("{code} qualifies, as set by staff: {reason}. Kept in the audit log.")
            if qualifies
            else _("{code} does not qualify, as set by staff: {reason}. Kept in the audit log.")
        ).format(code=group.code, reason=reason)
    )


async def _post(turn: Turn, assessment: Assessment) -> None:
    posted = await post(
        turn.uow,
        assessment,
        ward=turn.ward,
        today=turn.now().date(),
        now=turn.wiring.clock(),
        language=current_language(),
        default_language=turn.wiring.settings.default_language,
        requested_by=turn.caller.person_id,
    )
    turn.broadcast = turn.broadcast or posted.sent > 0
    turn.reply(
        _("The proposed results went to {count} group chats and followers. This is what they say:").format(
            count=posted.sent
        )
    )
    turn.reply(posted.text)


async def _feedback_list(turn: Turn, assessment: Assessment) -> None:
    entries = await turn.uow.assessments.feedback(assessment.id)
    if not entries:
        turn.reply(_("No feedback on the assessment of {year} yet.").format(year=assessment.year))
        return
    lines = [_("Feedback on the assessment of {year}:").format(year=assessment.year)]
    for entry in entries:
        moment = entry.at.astimezone(turn.timezone).strftime("%H:%M %d/%m/%Y")
        lines.append(f"• {moment} · {entry.person_label}: {entry.text}")
    turn.reply("\n".join(lines))


async def _decide(turn: Turn, assessment: Assessment) -> None:
    words = turn.args
    signed = parse_day(words[-1]) if len(words) >= 3 else None
    number = " ".join(words[1:-1])
    if signed is None or not number or len(number) > NUMBER_LIMIT:
        turn.reply(
            _(
                "Please write /assessment decide NUMBER dd/mm/yyyy with the decision's number and a date "
                "that exists, for example /assessment decide 125/QĐ-UBND 20/12/{year}."
            ).format(year=assessment.year)
        )
        return
    posted = await decide(
        turn.uow,
        assessment,
        number,
        signed,
        ward=turn.ward,
        today=turn.now().date(),
        now=turn.wiring.clock(),
        language=current_language(),
        default_language=turn.wiring.settings.default_language,
        requested_by=turn.caller.person_id,
    )
    turn.broadcast = turn.broadcast or posted.sent > 0
    turn.reply(
        _(
            "Decision {number} recorded; the titles are in the award register (/awards {year}). The "
            "announcement went to {count} chats and people. This is what it says:"
        ).format(number=number, year=assessment.year, count=posted.sent)
    )
    turn.reply(posted.text)


async def _report(turn: Turn, assessment: Assessment) -> None:
    if len(turn.args) > 1:
        await _minutes(turn, assessment, turn.args[1])
        return
    found = await results(turn.uow, assessment, turn.ward)
    feedback = len(await turn.uow.assessments.feedback(assessment.id))
    content = assessment_report_docx(turn.ward, assessment, found, feedback)
    turn.reply(
        _("The report on the assessment of {year}, to edit and sign in Word.").format(year=assessment.year),
        attachment=Attachment(content, f"bao-cao-binh-xet-{assessment.year}.docx"),
    )


@explained
async def _minutes(turn: Turn, assessment: Assessment, code: str) -> None:
    """/assessment report CODE: one group's minutes (biên bản họp bình xét), as its head got them."""
    group = await require_group(turn.uow, code, turn.ward_id)
    form = await turn.uow.assessments.form(assessment.id, group.id)
    if form is None or form.submitted_at is None:
        turn.reply(_refusal(AssessmentError("no_form", code=group.code)))
        return
    turn.reply(
        _("Minutes of the group meeting (biên bản họp bình xét) — {code}").format(code=group.code),
        attachment=Attachment(
            minutes_docx(turn.ward, assessment, group, result_of(group, form, turn.ward)),
            f"bien-ban-binh-xet-{group.code}-{assessment.year}.docx",
        ),
    )


@command("feedback", "gopy")
async def feedback_command(turn: Turn) -> None:
    """/feedback TEXT: a comment on the posted results, kept with who and when."""
    text = " ".join(turn.text.split()[1:])
    if not text:
        turn.reply(
            _("Please write your comment after the command, for example /feedback Tổ 3 còn hộ chưa đạt.")
        )
        return
    if len(text) > FEEDBACK_LIMIT:
        turn.reply(_("A comment is at most {limit} characters.").format(limit=FEEDBACK_LIMIT))
        return
    ward_id = turn.caller.ward_id or turn.ward_id
    try:
        assessment = await add_feedback(
            turn.uow,
            ward_id,
            turn.caller.person_id,
            turn.caller.name,
            text,
            now=turn.wiring.clock(),
        )
    except AssessmentError:
        turn.reply(_("No proposed results are posted for comments now."))
        return
    turn.reply(
        _("Thank you. Your comment on the results of {year} is with the ward office.").format(
            year=assessment.year
        )
    )


@command("awards", "sokhenthuong")
async def awards_command(turn: Turn) -> None:
    """/awards [YEAR]: the award register of a year (default: this year)."""
    year = whole_number(turn.args[0], digits=4) if turn.args else turn.now().year
    if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
        turn.reply(_("Please give a year, for example /awards {year}.").format(year=turn.now().year))
        return
    awards = await turn.uow.awards.of_ward(turn.ward_id, years=[year])
    if not awards:
        turn.reply(_("No award recorded for {year}.").format(year=year))
        return
    language = current_language()
    kinds = {GROUP_RECIPIENT: _("group"), HOUSEHOLD_RECIPIENT: _("household")}
    lines = [_("Award register {year}:").format(year=year)]
    for award in awards:
        what = award.form or _("award")
        decision = (
            _(" · decision {number} of {day}").format(
                number=award.decision_number,
                day=award.decision_date.strftime("%d/%m/%Y") if award.decision_date else "",
            )
            if award.decision_number
            else ""
        )
        level = f" ({award.level})" if award.level else ""
        who = (
            _("{count} households").format(count=format_number(award.households, language=language))
            if award.households is not None
            else kinds.get(award.recipient_kind, _("person"))
        )
        reason = f" — {award.reason}" if award.reason else ""
        lines.append(f"#{award.id} {what}{level}: {award.recipient_name} [{who}]{decision}{reason}")
    turn.reply("\n".join(lines))


@command("titles", "danhhieu")
@explained
async def titles_command(turn: Turn) -> None:
    """/titles [CODE]: the years each group held the group title; ⭐ marks several years running."""
    groups = list(await turn.uow.groups.all(turn.ward_id))
    if turn.args:
        groups = [await require_group(turn.uow, turn.args[0], turn.ward_id)]
    awards = await turn.uow.awards.of_ward(turn.ward_id)
    language = current_language()
    title = text_in(turn.ward.assessment.group_title, language)
    lines = [_("Years holding “{title}”:").format(title=title)]
    for found in title_years(awards, groups):
        years = ", ".join(str(y) for y in found.years) or "—"
        mark = _(" ⭐ {count} years running").format(count=found.running) if found.running >= 2 else ""
        lines.append(f"{found.code} {found.name}: {years}{mark}")
    if len(groups) == 1:
        others = [a for a in awards if a.group_id == groups[0].id and a.title_key is None]
        for award in others:
            lines.append(f"• {award.year}: {award.form or _('award')} — {award.reason}")
    turn.reply("\n".join(lines))
