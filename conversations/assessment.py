"""/assess (/tudanhgia): a group's year-end form (bình xét), one question at a time, ending in a summary.

The same machinery as the monthly report (conversations/steps.py): every answer is written to the
form's draft in the transaction that moves the step, so a restart (even kill -9) resumes at the
same question; ⬅️ Back, Skip, /cancel, ✏️ Edit an answer and ✅ Confirm work the same way.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.answers import count_answer, format_number, whole_number, yes_no
from bot.assessment import (
    START_FORM,
    FormValues,
    check_form,
    draft_of,
    format_share,
    open_form,
    qualifies,
    result_of,
    save_draft,
    share,
    submit_form,
)
from bot.documents import minutes_docx
from bot.features import button, command
from bot.i18n import current_language
from bot.i18n import gettext as _
from bot.indicators import text_in
from bot.membership import MAX_HOUSEHOLDS
from bot.periods import parse_day
from bot.replies import Attachment, Choice
from bot.turns import Turn
from conversations.router import Flow, register_flow
from conversations.steps import BACK_WORDS, DONE_WORDS, SKIP_WORDS, navigation, save_step, summary_choices
from storage.models import Assessment, AssessmentForm, Conversation
from storage.repositories.conversations import conversation_data

FLOW = "assess"

# Conversation states
ASKING = "asking"
SUMMARY = "summary"
PICKING_EDIT = "picking_edit"

# Callback data
PREFIX = "assess:"
KEEP = PREFIX + "keep:"  # + step + ":" + value: the kept (or current) value, as a plain button
YES_NO = PREFIX + "yn:"  # + criterion key + ":" + 1|0
BACK = PREFIX + "back"
DONE = PREFIX + "done"
SKIP = PREFIX + "skip"
CONFIRM = PREFIX + "confirm"
EDIT = PREFIX + "edit"
CANCEL = PREFIX + "cancel"
PICK = PREFIX + "pick:"

NUMBERS = ("households", "registered", "achieved", "attended")
MEETING_DATE = "meeting_date"
NOMINATIONS = "nominations"
CRITERION = "c:"
NOMINATION_LIMIT, NOMINATIONS_MAX = 300, 50


def _steps(turn: Turn) -> list[str]:
    """The questions in order: the figures, the meeting, each criterion, the nominations."""
    criteria = [CRITERION + c.key for c in turn.ward.assessment.criteria]
    return ["households", "registered", "achieved", MEETING_DATE, "attended", *criteria, NOMINATIONS]


# --- entry points ----------------------------------------------------------------------------------


@command("assess", "tudanhgia")
async def start_form(turn: Turn) -> None:
    """/assess: open (or continue) the group's form of the open assessment."""
    await _open(turn)


@button(PREFIX, policy="assess")
async def on_button(turn: Turn) -> None:
    """A button of the form; one from an earlier step shows where the person is."""
    if turn.data == START_FORM:
        await _open(turn)
        return
    conversation = await turn.uow.conversations.get(turn.caller.person_id)
    if conversation is None or conversation.flow != FLOW:
        turn.notice = _("This button is from an earlier form.")
        turn.reply(_("That form is closed. Send /assess to continue your group's year-end form."))
        return
    opened = await _opened(turn, conversation_data(conversation))
    if opened is None:
        return
    form, values, step = opened
    state, data, steps = conversation.state, turn.data, _steps(turn)
    current = steps[min(int(step.get("position", 0)), len(steps) - 1)]
    if state == ASKING and data.startswith(KEEP):
        key, _sep, value = data.removeprefix(KEEP).rpartition(":")
        offered = await _offered(turn, values, current, form)
        if key == current and offered is not None and value == str(offered):
            await _take(turn, form, values, step, str(offered))
            return
    elif state == ASKING and data.startswith(YES_NO) and current.startswith(CRITERION):
        key, _sep, value = data.removeprefix(YES_NO).rpartition(":")
        if key == current.removeprefix(CRITERION) and value in ("0", "1"):
            values.criteria[key] = value == "1"
            await _advance(turn, form, values, step)
            return
    elif state == ASKING and data == BACK:
        await _back(turn, form, values, step)
        return
    elif state == ASKING and data in (DONE, SKIP) and current == NOMINATIONS:
        await _advance(turn, form, values, step)
        return
    elif state == SUMMARY and data == CONFIRM:
        await _confirm(turn, form, values, step)
        return
    elif state == SUMMARY and data == EDIT:
        await _offer_edits(turn, values, step)
        return
    elif data == CANCEL:
        await turn.uow.conversations.end(turn.caller.person_id)
        turn.reply(_kept_text(form))
        return
    elif state == PICKING_EDIT and data.startswith(PICK) and data.removeprefix(PICK) in steps:
        await _ask(
            turn, form, values, step | {"position": steps.index(data.removeprefix(PICK)), "editing": True}
        )
        return
    turn.notice = _("This button is from an earlier step.")
    await _show(turn, form, values, state, step)


async def on_message(turn: Turn, conversation: Conversation) -> None:
    """A typed answer (or a sticker, photo…) while the form waits for one."""
    opened = await _opened(turn, conversation_data(conversation))
    if opened is None:
        return
    form, values, step = opened
    state, text = conversation.state, turn.text
    if not text:
        turn.reply(_("I can only read typed answers here."))
        await _show(turn, form, values, state, step)
        return
    lowered = text.lower().strip()
    steps = _steps(turn)
    if state == ASKING:
        current = steps[min(int(step.get("position", 0)), len(steps) - 1)]
        if lowered in BACK_WORDS:
            await _back(turn, form, values, step)
        elif current == NOMINATIONS and (lowered in DONE_WORDS or lowered in SKIP_WORDS):
            await _advance(turn, form, values, step)
        else:
            await _take(turn, form, values, step, text)
    elif state == PICKING_EDIT:
        number = whole_number(lowered.rstrip(".)"), digits=3)
        if number is not None and 1 <= number <= len(steps):
            await _ask(turn, form, values, step | {"position": number - 1, "editing": True})
        else:
            turn.reply(
                _("Please press the answer to change, or type its number from 1 to {count}.").format(
                    count=len(steps)
                )
            )
            await _offer_edits(turn, values, step)
    else:
        turn.reply(_("Please use the buttons below the summary, or send /cancel."))
        await _summary(turn, form, values, step)


async def on_cancel(turn: Turn, conversation: Conversation) -> None:
    """/cancel: leave the form; the answers stay for later."""
    form = await turn.uow.assessments.form_by_id(int(conversation_data(conversation).get("form", 0)))
    turn.reply(_kept_text(form))


# --- steps -----------------------------------------------------------------------------------------


async def _open(turn: Turn) -> None:
    """Start or resume the form at its first unanswered question (the summary when all are answered)."""
    group = await turn.uow.groups.get(turn.caller.reports_for[0]) if turn.caller.reports_for else None
    if group is None:
        turn.reply(_("You do not lead a group. Ask ward staff for an invite link."))
        return
    assessment = await turn.uow.assessments.latest(turn.ward_id)
    if assessment is None:
        turn.reply(_("No year-end assessment is open. The ward office opens it with /assessment YEAR."))
        return
    if assessment.decided_at is not None:
        turn.reply(
            _("The assessment of {year} is decided; nothing more can change.").format(year=assessment.year)
        )
        return
    form = await open_form(turn.uow, assessment, group)
    values = draft_of(form)
    step: dict[str, Any] = {"form": form.id}
    position = _first_unanswered(turn, values)
    if position is None:
        await _summary(turn, form, values, step)
        return
    if position == 0:
        turn.reply(
            _(
                "Year-end form {year} — {group}. {count} questions; /cancel stops and keeps your answers."
            ).format(year=assessment.year, group=group.name, count=len(_steps(turn)))
        )
    else:
        turn.reply(
            _("Continuing your group's form at question {number} of {count}.").format(
                number=position + 1, count=len(_steps(turn))
            )
        )
    await _ask(turn, form, values, step | {"position": position})


def _first_unanswered(turn: Turn, values: FormValues) -> int | None:
    for position, name in enumerate(_steps(turn)):
        if name == NOMINATIONS:  # optional: every figure and criterion is in, so the summary
            return None
        if name.startswith(CRITERION):
            if name.removeprefix(CRITERION) not in values.criteria:
                return position
        elif getattr(values, name) is None:
            return position
    return None


async def _offered(turn: Turn, values: FormValues, name: str, form: AssessmentForm) -> int | None:
    """The plain button under a number question: the kept answer, or the group's current households."""
    if name not in NUMBERS:
        return None
    kept = getattr(values, name)
    if kept is not None:
        return int(kept)
    if name == "households":
        group = await turn.uow.groups.get(form.group_id)
        return group.households if group is not None and group.households else None
    return None


async def _ask(
    turn: Turn, form: AssessmentForm, values: FormValues, step: dict[str, Any], *, hint: str = ""
) -> None:
    """Save the draft and the position, then ask the question there."""
    steps = _steps(turn)
    position = min(int(step.get("position", 0)), len(steps) - 1)
    step = step | {"position": position}
    save_draft(form, values)
    await save_step(turn, FLOW, ASKING, step)
    language = current_language()
    ward = turn.ward.assessment
    family = text_in(ward.family_title, language)
    name = steps[position]
    if hint:
        turn.reply(hint)  # its own message: the question below names only what it asks
    lines = [_("Question {number} of {count}").format(number=position + 1, count=len(steps))]
    choices: list[list[Choice]] = []
    if name == "households":
        lines.append(_("❓ How many households does the group have now?"))
    elif name == "registered":
        lines.append(_("❓ How many families registered for “{title}” this year?").format(title=family))
    elif name == "achieved":
        lines.append(
            _("❓ How many families achieved “{title}”, as the group meeting voted?").format(title=family)
        )
    elif name == MEETING_DATE:
        lines.append(_("❓ The meeting date of the group's bình xét, as dd/mm/yyyy?"))
    elif name == "attended":
        lines.append(_("❓ How many families attended the group's bình xét?"))
    elif name.startswith(CRITERION):
        key = name.removeprefix(CRITERION)
        criterion = next(c for c in ward.criteria if c.key == key)
        lines.append(
            _("❓ For “{title}”: {label}?").format(
                title=text_in(ward.group_title, language), label=criterion.label_in(language)
            )
        )
        if key in values.criteria:
            lines.append(_("Now: {value}").format(value=_("Yes") if values.criteria[key] else _("No")))
        choices.append([Choice(_("Yes"), f"{YES_NO}{key}:1"), Choice(_("No"), f"{YES_NO}{key}:0")])
    else:
        lines.append(
            _(
                "❓ Your nominations for commendation (gương điển hình, người tốt việc tốt)? Send one per "
                "message as “Name — reason”, then press Done."
            )
        )
        lines += [f"• {n}" for n in values.nominations]
        choices.append([Choice(_("Done"), DONE)])
    offered = await _offered(turn, values, name, form)
    if offered is not None:
        choices.append([Choice(format_number(offered, language=language), f"{KEEP}{name}:{offered}")])
    if name == MEETING_DATE and values.meeting_date is not None:
        lines.append(_("Now: {value}").format(value=values.meeting_date.strftime("%d/%m/%Y")))
    choices += navigation(
        BACK if position > 0 or step.get("editing") else None,
        SKIP if name == NOMINATIONS and not values.nominations else None,
    )
    turn.reply("\n".join(lines), choices)


async def _take(
    turn: Turn, form: AssessmentForm, values: FormValues, step: dict[str, Any], text: str
) -> None:
    """Check a typed answer against the question; refused → the reason and the same question."""
    steps = _steps(turn)
    name = steps[min(int(step.get("position", 0)), len(steps) - 1)]
    if name in NUMBERS:
        number = count_answer(text)  # "95", "1.250", "95 hộ", "không có"
        if number is None:
            await _ask(turn, form, values, step, hint=_("⚠️ Please type a whole number, for example 95."))
            return
        limit, refusal = _limit(values, name)
        if number > limit or (name == "households" and number < 1):
            await _ask(turn, form, values, step, hint=refusal)
            return
        setattr(values, name, number)
    elif name == MEETING_DATE:
        day = parse_day(text)
        today = turn.now().date()
        if day is None:
            hint = _("⚠️ That date does not exist or is not written as dd/mm/yyyy, for example 20/11/{year}.")
            await _ask(turn, form, values, step, hint=hint.format(year=today.year))
            return
        if day > today:
            hint = _("⚠️ The meeting cannot be after today ({today}).").format(
                today=today.strftime("%d/%m/%Y")
            )
            await _ask(turn, form, values, step, hint=hint)
            return
        values.meeting_date = day
    elif name.startswith(CRITERION):
        answer = yes_no(text)
        if answer is None:
            await _ask(
                turn,
                form,
                values,
                step,
                hint=_("⚠️ Please press {yes} or {no}.").format(yes=_("Yes"), no=_("No")),
            )
            return
        values.criteria[name.removeprefix(CRITERION)] = answer
    else:
        if len(text) > NOMINATION_LIMIT or len(values.nominations) >= NOMINATIONS_MAX:
            hint = _("⚠️ A nomination is at most {limit} characters, and a form holds at most {count}.")
            await _ask(
                turn, form, values, step, hint=hint.format(limit=NOMINATION_LIMIT, count=NOMINATIONS_MAX)
            )
            return
        values.nominations.append(" ".join(text.split()))
        await _ask(turn, form, values, step, hint=_("Noted. Send the next one, or press Done."))
        return
    await _advance(turn, form, values, step)


def _limit(values: FormValues, name: str) -> tuple[int, str]:
    """The most a figure may be, and the refusal that says why."""
    households = values.households or 0
    if name == "households":
        return MAX_HOUSEHOLDS, _("⚠️ A group has from 1 to {max} households.").format(
            max=format_number(MAX_HOUSEHOLDS, language=current_language())
        )
    if name == "achieved":
        registered = values.registered or 0
        return registered, _("⚠️ Achieved cannot be more than the {registered} registered.").format(
            registered=registered
        )
    what = (
        _("⚠️ Registered cannot be more than the group's {households} households.")
        if name == "registered"
        else _("⚠️ Attended cannot be more than the group's {households} households.")
    )
    return households, what.format(households=households)


async def _advance(turn: Turn, form: AssessmentForm, values: FormValues, step: dict[str, Any]) -> None:
    """The next question; the summary after the last one or after an edit."""
    position = int(step.get("position", 0)) + 1
    if step.get("editing") or position >= len(_steps(turn)):
        await _summary(turn, form, values, {k: v for k, v in step.items() if k != "editing"})
        return
    await _ask(turn, form, values, step | {"position": position})


async def _back(turn: Turn, form: AssessmentForm, values: FormValues, step: dict[str, Any]) -> None:
    if step.get("editing"):
        await _summary(turn, form, values, {k: v for k, v in step.items() if k != "editing"})
        return
    position = int(step.get("position", 0))
    if position == 0:
        await _ask(turn, form, values, step, hint=_("This is the first question."))
        return
    await _ask(turn, form, values, step | {"position": position - 1})


def _summary_lines(turn: Turn, values: FormValues, language: str) -> list[str]:
    ward = turn.ward.assessment
    family, group_title = text_in(ward.family_title, language), text_in(ward.group_title, language)
    shown = [
        (_("Households"), _number(values.households, language)),
        (_("Registered for “{title}”").format(title=family), _number(values.registered, language)),
        (
            _("Achieved “{title}”").format(title=family),
            f"{_number(values.achieved, language)} ({format_share(_share(values), language)}%)",
        ),
        (_("Meeting date"), values.meeting_date.strftime("%d/%m/%Y") if values.meeting_date else "—"),
        (_("Attended"), _number(values.attended, language)),
    ]
    for criterion in ward.criteria:
        answer = values.criteria.get(criterion.key)
        shown.append(
            (criterion.label_in(language), "—" if answer is None else _("Yes") if answer else _("No"))
        )
    shown.append((_("Nominations"), "; ".join(values.nominations) or _("none")))
    lines = [f"{number}. {label}: {value}" for number, (label, value) in enumerate(shown, start=1)]
    keys = [c.key for c in ward.criteria]
    lines.append(
        (
            _("Computed: qualifies for “{title}”.")
            if qualifies(values, keys, ward.min_family_pct)
            else _("Computed: does not qualify for “{title}”.")
        ).format(title=group_title)
    )
    return lines


def _share(values: FormValues) -> Decimal | None:
    return share(values.achieved or 0, values.households or 0)


def _number(value: int | None, language: str) -> str:
    return "—" if value is None else format_number(value, language=language)


async def _summary(turn: Turn, form: AssessmentForm, values: FormValues, step: dict[str, Any]) -> None:
    """Every answer and the computed result, with ✅ Confirm / ✏️ Edit an answer / ❌ Cancel."""
    steps = _steps(turn)
    wrong = check_form(values, [c.key for c in turn.ward.assessment.criteria])
    if wrong is not None:
        name = wrong if wrong in steps else CRITERION + wrong
        answered = name in NUMBERS and getattr(values, name) is not None  # then it is too large
        await _ask(
            turn,
            form,
            values,
            step | {"position": steps.index(name), "editing": True},
            hint=_limit(values, name)[1] if answered else _("This question still needs an answer."),
        )
        return
    save_draft(form, values)
    await save_step(turn, FLOW, SUMMARY, {k: v for k, v in step.items() if k != "editing"})
    group = await turn.uow.groups.get(form.group_id)
    language = current_language()
    lines = [
        _("Year-end form — {group} ({code})").format(
            group=group.name if group else "", code=group.code if group else ""
        )
    ]
    lines += _summary_lines(turn, values, language)
    lines.append(_("Check the answers, then press ✅ Confirm."))
    turn.reply("\n".join(lines), summary_choices(CONFIRM, EDIT, CANCEL))


async def _offer_edits(turn: Turn, values: FormValues, step: dict[str, Any]) -> None:
    await save_step(turn, FLOW, PICKING_EDIT, step)
    language = current_language()
    labels = [line.split(". ", 1)[1] for line in _summary_lines(turn, values, language)[: len(_steps(turn))]]
    choices = [
        [Choice(f"{n}. {label}"[:60], PICK + name)]
        for n, (name, label) in enumerate(zip(_steps(turn), labels, strict=True), start=1)
    ]
    choices.append([Choice(_("❌ Cancel"), CANCEL)])
    turn.reply(_("Which answer do you want to change? Press it or type its number."), choices)


async def _confirm(turn: Turn, form: AssessmentForm, values: FormValues, step: dict[str, Any]) -> None:
    """Keep the answers as the group's result and send the minutes (biên bản) to sign."""
    if check_form(values, [c.key for c in turn.ward.assessment.criteria]) is not None:
        await _summary(turn, form, values, step)
        return
    await submit_form(turn.uow, form, values, person_id=turn.caller.person_id, now=turn.wiring.clock())
    await turn.uow.conversations.end(turn.caller.person_id)
    group = await turn.uow.groups.get(form.group_id)
    assessment = await turn.uow.assessments.latest(turn.ward_id)
    if group is None or assessment is None:
        return
    result = result_of(group, form, turn.ward)
    turn.reply(
        _(
            "✅ Your group's form for {year} is sent. The ward office posts the proposed results before "
            "the decision. Send /assess to change it until then. The minutes (biên bản) to sign are attached."
        ).format(year=assessment.year),
    )
    turn.reply(
        _("Minutes of the group meeting (biên bản họp bình xét) — {code}").format(code=group.code),
        attachment=Attachment(
            minutes_docx(turn.ward, assessment, group, result),
            f"bien-ban-binh-xet-{group.code}-{assessment.year}.docx",
        ),
    )


async def _show(
    turn: Turn, form: AssessmentForm, values: FormValues, state: str, step: dict[str, Any]
) -> None:
    if state == SUMMARY:
        await _summary(turn, form, values, step)
    elif state == PICKING_EDIT:
        await _offer_edits(turn, values, step)
    else:
        await _ask(turn, form, values, step)


async def _opened(
    turn: Turn, step: dict[str, Any]
) -> tuple[AssessmentForm, FormValues, dict[str, Any]] | None:
    """The form the conversation works on; a vanished or decided one ends the conversation."""
    form = await turn.uow.assessments.form_by_id(int(step.get("form", 0)))
    assessment: Assessment | None = None
    if form is not None:
        assessment = await turn.uow.assessments.latest(turn.ward_id)
    if (
        form is None
        or form.group_id not in turn.caller.reports_for
        or assessment is None
        or assessment.id != form.assessment_id
        or assessment.decided_at is not None
    ):
        await turn.uow.conversations.end(turn.caller.person_id)
        turn.reply(_("That form is closed. Send /assess to continue your group's year-end form."))
        return None
    return form, draft_of(form), step


def _kept_text(form: AssessmentForm | None) -> str:
    if form is not None and form.submitted_at is not None:
        return _(
            "Stopped. Your group's confirmed form is unchanged; your edits are kept. "
            "Send /assess to continue."
        )
    return _("Stopped. Your answers are kept; send /assess to continue where you left off.")


register_flow(Flow(FLOW, "assess", on_message, on_cancel))
