"""/report: the monthly report, one question at a time, saved at every step, ending in a summary to confirm.

The step a person is at lives in the `conversations` table, written in the same transaction as the
draft, so a restart (even kill -9) resumes at the same question.
"""

from __future__ import annotations

from typing import Any

from bot.answers import (
    MAX_PHOTO_BYTES,
    AnswerRefused,
    Checked,
    Refusal,
    check_answer,
    check_photo,
    check_text,
    format_number,
    format_value,
    whole_number,
)
from bot.features import button, command
from bot.i18n import current_language
from bot.i18n import gettext as _
from bot.indicators import Indicator, Kind
from bot.membership import MAX_HOUSEHOLDS
from bot.periods import Month, deadline_date, month_in_sentence, parse_month
from bot.replies import BUTTON_LABEL_LIMIT, Choice, shorten
from bot.reporting import (
    Answer,
    Draft,
    ReportingError,
    add_photo,
    change_deadline,
    has_submitted_report,
    load_draft,
    month_is_open,
    previous_values,
    remove_photos,
    reportable_months,
    save_draft,
    start_draft,
    submit,
)
from bot.turns import Turn
from conversations.router import Flow, register_flow
from conversations.steps import BACK_WORDS, DONE_WORDS, SKIP_WORDS, navigation, save_step, summary_choices
from storage.models import Conversation, ResidentialGroup
from storage.repositories.conversations import conversation_data

FLOW = "report"

# Conversation states
CHOOSING_MONTH = "choosing_month"
ASKING = "asking"
CONFIRMING_SOFT = "confirming_soft"
SUMMARY = "summary"
PICKING_EDIT = "picking_edit"

# Callback data
PREFIX = "report:"
START = PREFIX + "start"
MONTH = PREFIX + "month:"
VALUE = PREFIX + "value:"  # + indicator key + ":" + value: an old button cannot answer another question
SKIP = PREFIX + "skip:"  # + indicator key
BACK = PREFIX + "back"
KEEP = PREFIX + "keep:"  # + indicator key
RETYPE = PREFIX + "retype"
CONFIRM = PREFIX + "confirm"
EDIT = PREFIX + "edit"
CANCEL = PREFIX + "cancel"
PICK = PREFIX + "pick:"
DONE = PREFIX + "done:"  # + indicator key: enough photos for this question
CLEAR = PREFIX + "clear:"  # + indicator key: remove the photos sent for this question

FREE_KINDS = (Kind.TEXT, Kind.PHOTO)


# --- entry points ----------------------------------------------------------------------------------


@command("report", "baocao")
async def start_report(turn: Turn) -> None:
    """/report [YYYY-MM]: pick the month, then start or resume the draft."""
    await _open_report(turn)


async def _open_report(turn: Turn) -> None:
    """Pick the month (a button choice when two are open), then start or resume the draft."""
    group = await _reporting_group(turn)
    if group is None:
        return
    wiring = turn.wiring
    months = await reportable_months(turn.uow, group.id, wiring.clock(), turn.ward.ward, turn.timezone)
    if turn.args:
        try:
            wanted = parse_month(" ".join(turn.args), today=turn.now().date())
        except ValueError:
            turn.reply(_("Please give the month as YYYY-MM, for example /report 2026-10."))
            return
        await _begin(turn, group, wanted)
        return
    if len(months) == 1:
        await _begin(turn, group, months[0])
        return
    await _save(turn, CHOOSING_MONTH, {"group": group.id})
    turn.reply(
        _("Which month are you reporting for?"),
        [[Choice(await _month_choice(turn, group.id, m), MONTH + str(m))] for m in months],
    )


@button(PREFIX, policy="report")
async def on_button(turn: Turn) -> None:
    """A pressed button of the report flow; an old button re-shows where the person is."""
    conversation = await turn.uow.conversations.get(turn.caller.person_id)
    data = turn.data
    if data == START:
        await _open_report(turn)
        return
    if conversation is None or conversation.flow != FLOW:
        turn.notice = _("This button is from an earlier report.")
        turn.reply(_("That report is closed. Send /report to start or continue your report."))
        return
    state, step = conversation.state, conversation_data(conversation)
    if state == CHOOSING_MONTH and data.startswith(MONTH):
        group = await _reporting_group(turn)
        if group is not None:
            try:
                await _begin(turn, group, parse_month(data.removeprefix(MONTH)))
            except ValueError:
                turn.reply(_("Please choose one of the months above."))
        return
    draft = await _open_draft(turn, step)
    if draft is None:
        return
    current = draft.indicator()
    value_key, _sep, value = data.removeprefix(VALUE).rpartition(":")
    pressed = whole_number(value, digits=3)
    if (
        state == ASKING
        and data.startswith(VALUE)
        and value_key == current.key
        and current.kind in (Kind.YESNO, Kind.CHOICE)
        and pressed is not None
    ):
        await _record(turn, draft, step, Checked(float(pressed), outside_soft=False))
    elif state == ASKING and data == SKIP + current.key and not current.required:
        await _skip(turn, draft, step)
    elif state == ASKING and data == DONE + current.key and current.kind is Kind.PHOTO:
        await _photos_done(turn, draft, step)
    elif state == ASKING and data == CLEAR + current.key and current.kind is Kind.PHOTO:
        await remove_photos(turn.uow, draft, current.key, person_id=turn.caller.person_id)
        await _ask(turn, draft, step)
    elif state == ASKING and data == BACK:
        await _back(turn, draft, step)
    elif state == CONFIRMING_SOFT and data == KEEP + current.key:
        pending = step.get("pending")
        if pending is None:
            await _ask(turn, draft, step)
        else:
            draft.answers[draft.indicator().key] = Answer(float(pending), flagged=True)
            await _advance(turn, draft, step)
    elif state == CONFIRMING_SOFT and data == RETYPE:
        await _ask(turn, draft, step)
    elif state == SUMMARY and data == CONFIRM:
        await _confirm(turn, draft)
    elif state == SUMMARY and data == EDIT:
        await _offer_edits(turn, draft, step)
    elif state in (SUMMARY, PICKING_EDIT, ASKING, CONFIRMING_SOFT) and data == CANCEL:
        await _leave(turn, draft)
    elif state == PICKING_EDIT and data.startswith(PICK):
        await _edit(turn, draft, step, data.removeprefix(PICK))
    else:
        turn.notice = _("This button is from an earlier step.")
        await _show_step(turn, draft, state, step)


async def on_message(turn: Turn, conversation: Conversation) -> None:
    """A typed answer (or a sticker, photo, voice…) while the flow waits for one."""
    step = conversation_data(conversation)
    state = conversation.state
    if state == CHOOSING_MONTH:
        turn.reply(_("Please press one of the month buttons above, or send /cancel."))
        return
    draft = await _open_draft(turn, step)
    if draft is None:
        return
    text = turn.text
    photo_question = state == ASKING and draft.indicator().kind is Kind.PHOTO
    if photo_question and turn.fetch_photo is not None:
        await _photo(turn, draft, step)
        return
    if photo_question and not text:  # a picture sent as a file, a sticker, a voice message…
        await _ask(
            turn, draft, step, hint=_refusal_text(draft.indicator(), AnswerRefused(Refusal.NOT_A_PHOTO))
        )
        return
    if not text:
        turn.reply(_("I can only read typed answers here."))
        await _show_step(turn, draft, state, step)
        return
    lowered = text.lower().strip()
    if state == ASKING:
        if lowered in SKIP_WORDS and not draft.indicator().required:
            await _skip(turn, draft, step)
        elif lowered in BACK_WORDS:
            await _back(turn, draft, step)
        elif photo_question and lowered in DONE_WORDS:
            await _photos_done(turn, draft, step)
        elif photo_question:
            await _ask(turn, draft, step, hint=_("⚠️ This question takes photos: please send a photo."))
        else:
            await _answer(turn, draft, step, text)
    elif state == CONFIRMING_SOFT:
        await _answer(turn, draft, step, text)  # a new value replaces the one waiting for confirmation
    elif state == PICKING_EDIT:
        number = whole_number(lowered.rstrip(".)"), digits=3)
        if number is not None and 1 <= number <= draft.count:
            await _edit(turn, draft, step, draft.indicator(number - 1).key)
        else:
            turn.reply(
                _("Please press the answer to change, or type its number from 1 to {count}.").format(
                    count=draft.count
                )
            )
            await _offer_edits(turn, draft, step)
    else:
        turn.reply(_("Please use the buttons below the summary, or send /cancel."))
        await _show_step(turn, draft, state, step)


async def on_cancel(turn: Turn, conversation: Conversation) -> None:
    """/cancel: leave the report; the draft stays for later."""
    draft = await load_draft(turn.uow, int(conversation_data(conversation).get("draft", 0)))
    turn.reply(_kept_text(draft is not None and await has_submitted_report(turn.uow, draft)))


# --- steps -----------------------------------------------------------------------------------------


async def _begin(turn: Turn, group: ResidentialGroup, month: Month) -> None:
    """Open the month's draft and ask the first unanswered question, or show the summary."""
    wiring = turn.wiring
    if not await month_is_open(turn.uow, group.id, month, wiring.clock(), turn.ward.ward, turn.timezone):
        await turn.uow.conversations.end(turn.caller.person_id)
        turn.reply(_locked_text(turn, group, month))
        return
    draft = await start_draft(
        turn.uow, turn.caller.person_id, group, month, turn.ward.indicators, now=wiring.clock()
    )
    step: dict[str, Any] = {"draft": draft.id}
    unanswered = draft.first_unanswered()
    if unanswered is None:
        draft.position = draft.count
        await save_draft(turn.uow, draft, now=turn.wiring.clock())
        if draft.has_report:
            intro = _("Your report for {month} is in. You can change any answer until the deadline.")
            turn.reply(intro.format(month=_mid(month)))
        await _summary(turn, draft, step)
        return
    resuming = bool(draft.answers)
    draft.position = draft.position if draft.position < draft.count else unanswered
    if draft.indicator().key in draft.answers:
        draft.position = unanswered
    header = (
        _("Continuing your report for {month} at question {number} of {count}.")
        if resuming
        else _("Report for {month} — {group}. {count} questions; /cancel stops and keeps your answers.")
    )
    turn.reply(
        header.format(
            month=_mid(month),
            group=group.name,
            number=draft.position + 1,
            count=draft.count,
        )
    )
    await _ask(turn, draft, step)


async def _ask(turn: Turn, draft: Draft, step: dict[str, Any], *, hint: str = "") -> None:
    """Save the position and ask the current question (after a hint when the last answer was refused)."""
    step = {k: v for k, v in step.items() if k != "pending"}
    await save_draft(turn.uow, draft, now=turn.wiring.clock())
    await _save(turn, ASKING, step)
    indicator = draft.indicator()
    language = current_language()
    lines = []
    if hint:
        lines.append(hint)
    lines.append(
        _("{month} · question {number} of {count}").format(
            month=draft.month.label(language), number=draft.position + 1, count=draft.count
        )
    )
    title = indicator.label_in(language)
    unit = indicator.unit_in(language)
    if unit and indicator.kind not in (Kind.YESNO, Kind.CHOICE, Kind.PERCENT, *FREE_KINDS):
        title += f" ({unit})"
    if indicator.kind is Kind.PERCENT:
        title += " (%)"
    lines.append(f"❓ {title}")
    if indicator.help_in(language):
        lines.append(indicator.help_in(language))
    current = draft.answers.get(indicator.key)
    if current is not None and not current.skipped:
        shown = format_value(indicator, current.value, language, text=current.text)
        lines.append(_("Now: {value}").format(value=shown))
    elif indicator.kind not in FREE_KINDS:
        last = (await previous_values(turn.uow, draft)).get(indicator.key)
        if last is not None:
            lines.append(_("Last month: {value}").format(value=format_value(indicator, last, language)))
    choices: list[list[Choice]] = []
    if indicator.kind is Kind.PHOTO:
        lines.append(_photo_prompt(indicator, current))
        if current is not None and current.photos:
            choices.append(
                [
                    Choice(_("✅ Done"), DONE + indicator.key, word=_("done")),
                    Choice(_("🗑 Remove the photos"), CLEAR + indicator.key),
                ]
            )
    elif indicator.kind is Kind.YESNO:
        yes, no = f"{VALUE}{indicator.key}:1", f"{VALUE}{indicator.key}:0"
        choices.append([Choice(_("Yes"), yes), Choice(_("No"), no)])
    elif indicator.kind is Kind.CHOICE:
        choices.extend(
            [Choice(text, f"{VALUE}{indicator.key}:{i}")] for i, text in enumerate(indicator.choices)
        )
    else:
        lines.append(_kind_prompt(indicator))
    choices += navigation(
        BACK if draft.position > 0 or step.get("editing") else None,
        SKIP + indicator.key if not indicator.required else None,
    )
    turn.reply("\n".join(lines), choices)


async def _answer(turn: Turn, draft: Draft, step: dict[str, Any], text: str) -> None:
    """Check a typed answer: refused → the reason and the same question; unusual → ask to confirm."""
    if not await _still_open(turn, draft):
        return
    indicator = draft.indicator()
    if indicator.kind is Kind.TEXT:
        try:
            written = check_text(indicator, text)
        except AnswerRefused as refused:
            await _ask(turn, draft, step, hint=_refusal_text(indicator, refused))
            return
        draft.answers[indicator.key] = Answer(None, text=written)
        await _advance(turn, draft, step)
        return
    # A group whose household count is not known yet (0) is capped at the most any group may have.
    households = draft.households or MAX_HOUSEHOLDS
    try:
        checked = check_answer(indicator, text, households=households)
    except AnswerRefused as refused:
        hint = _refusal_text(indicator, refused)
        if refused.reason is Refusal.ABOVE_MAX and _capped_by_households(indicator, households):
            hint = _households_cap_text(draft, refused)
        await _ask(turn, draft, step, hint=hint)
        return
    whole = draft.answers.get(indicator.share_of) if indicator.share_of else None
    if whole is not None and whole.value is not None and checked.value > whole.value:
        # Cases settled cannot outnumber the cases that arose (asked just before).
        of = next(i for i in draft.indicators if i.key == indicator.share_of)
        hint = _("⚠️ At most {max}: no more than “{label}”.").format(
            max=format_value(of, whole.value, current_language()), label=of.label_in(current_language())
        )
        await _ask(turn, draft, step, hint=hint)
        return
    await _record(turn, draft, step, checked)


def _capped_by_households(indicator: Indicator, households: int) -> bool:
    return indicator.max_is_households and (indicator.max is None or households <= indicator.max)


def _households_cap_text(draft: Draft, refused: AnswerRefused) -> str:
    """Why a count above the group's households is refused, and who can fix an unknown household count."""
    if draft.households:
        return _("⚠️ At most {max}: the group has {max} households.").format(max=refused.details["max"])
    return _(
        "⚠️ At most {max}: the group's number of households is not set yet. Ward staff can set it "
        "with /households {code} NUMBER."
    ).format(max=refused.details["max"], code=draft.group_code)


async def _record(turn: Turn, draft: Draft, step: dict[str, Any], checked: Checked) -> None:
    """Store an accepted value, or hold an unusual one until the head confirms it."""
    if not await _still_open(turn, draft):
        return
    indicator = draft.indicator()
    if (indicator.kind is Kind.CHOICE and not 0 <= checked.value < len(indicator.choices)) or (
        indicator.kind is Kind.YESNO and checked.value not in (0.0, 1.0)
    ):
        await _ask(turn, draft, step)
        return
    if checked.outside_soft:
        language = current_language()
        shown = format_value(indicator, checked.value, language)
        await _save(turn, CONFIRMING_SOFT, step | {"pending": checked.value})
        turn.reply(
            _(
                "{value} is unusual for “{label}” (usually {low} to {high}). Is it right? "
                "Unusual values are shown to ward staff."
            ).format(
                value=shown,
                label=indicator.label_in(language),
                low=_bound(indicator.soft_min, indicator.min),
                high=_bound(indicator.soft_max, indicator.max),
            ),
            [
                [
                    Choice(_("✔️ Yes, keep {value}").format(value=shown), KEEP + indicator.key),
                    Choice(_("✏️ Retype"), RETYPE),
                ]
            ],
        )
        return
    draft.answers[indicator.key] = Answer(checked.value)
    await _advance(turn, draft, step)


async def _photo(turn: Turn, draft: Draft, step: dict[str, Any]) -> None:
    """A photo sent for a photo question: kept (checked and bounded) until the question has its most."""
    if not await _still_open(turn, draft):
        return
    indicator = draft.indicator()
    current = draft.answers.get(indicator.key)
    limit = indicator.max_photos or 1
    if current is not None and len(current.photos) >= limit:
        hint = _(
            "⚠️ This question takes at most {count} photos. Press ✅ Done, or remove them to start again."
        )
        await _ask(turn, draft, step, hint=hint.format(count=limit))
        return
    content = await turn.photo()
    try:
        media_type = check_photo(content)
    except AnswerRefused as refused:
        await _ask(turn, draft, step, hint=_refusal_text(indicator, refused))
        return
    assert content is not None  # check_photo refused a missing one
    answer = await add_photo(
        turn.uow,
        draft,
        indicator.key,
        content,
        media_type,
        person_id=turn.caller.person_id,
        ward_id=turn.ward_id,
    )
    draft.answers[indicator.key] = answer
    if len(answer.photos) >= limit:
        await _advance(turn, draft, step)
        return
    await _ask(
        turn,
        draft,
        step,
        hint=_("📷 Photo {number} received.").format(number=len(answer.photos)),
    )


async def _skip(turn: Turn, draft: Draft, step: dict[str, Any]) -> None:
    """Skip an optional question; photos already sent for it are deleted, so skipping and sending
    again can never pile up pictures."""
    key = draft.indicator().key
    await remove_photos(turn.uow, draft, key, person_id=turn.caller.person_id)
    draft.answers[key] = Answer(None, skipped=True)
    await _advance(turn, draft, step)


async def _photos_done(turn: Turn, draft: Draft, step: dict[str, Any]) -> None:
    """✅ Done on a photo question: the next question, once it has a photo (or may be skipped)."""
    answer = draft.answers.get(draft.indicator().key)
    if answer is None or not answer.photos:
        if draft.indicator().required:
            await _ask(turn, draft, step, hint=_("⚠️ Please send at least one photo."))
            return
        draft.answers[draft.indicator().key] = Answer(None, skipped=True)
    await _advance(turn, draft, step)


async def _advance(turn: Turn, draft: Draft, step: dict[str, Any]) -> None:
    """The next question; the summary when every question is answered or an edit is done."""
    if step.get("editing"):
        step = {k: v for k, v in step.items() if k != "editing"}
        await _summary(turn, draft, step)
        return
    next_position = draft.position + 1
    if next_position >= draft.count:
        unanswered = draft.first_unanswered()
        if unanswered is None:
            draft.position = draft.count
            await _summary(turn, draft, step)
            return
        next_position = unanswered
    draft.position = next_position
    await _ask(turn, draft, step)


async def _back(turn: Turn, draft: Draft, step: dict[str, Any]) -> None:
    """The previous question (or the summary when editing one answer)."""
    if step.get("editing"):
        await _summary(turn, draft, {k: v for k, v in step.items() if k != "editing"})
        return
    if draft.position == 0:
        await _ask(turn, draft, step, hint=_("This is the first question."))
        return
    draft.position -= 1
    await _ask(turn, draft, step)


async def _summary(turn: Turn, draft: Draft, step: dict[str, Any]) -> None:
    """Every answer, with Confirm / Edit / Cancel."""
    draft.position = min(draft.position, draft.count)
    await save_draft(turn.uow, draft, now=turn.wiring.clock())
    await _save(turn, SUMMARY, {k: v for k, v in step.items() if k not in ("pending", "editing")})
    language = current_language()
    lines = [
        _("Report for {month} — {group} ({code})").format(
            month=_mid(draft.month), group=draft.group_name, code=draft.group_code
        )
    ]
    flagged = False
    for number, indicator in enumerate(draft.indicators, start=1):
        answer = draft.answers.get(indicator.key)
        shown = (
            _("skipped")
            if answer is None or answer.skipped
            else format_value(indicator, answer.value, language, text=answer.text)
        )
        mark = " ⚠️" if answer is not None and answer.flagged else ""
        flagged = flagged or bool(mark)
        lines.append(f"{number}. {indicator.label_in(language)}: {shown}{mark}")
    if flagged:
        lines.append(_("⚠️ unusual value, shown to ward staff"))
    lines.append(_("Check the answers, then press ✅ Confirm."))
    turn.reply(
        "\n".join(lines),
        summary_choices(CONFIRM, EDIT, CANCEL),
    )


async def _offer_edits(turn: Turn, draft: Draft, step: dict[str, Any]) -> None:
    """One button per answer; the number of the question may also be typed."""
    await _save(turn, PICKING_EDIT, step)
    language = current_language()
    choices = []
    for number, indicator in enumerate(draft.indicators, start=1):
        answer = draft.answers.get(indicator.key)
        shown = (
            "—"
            if answer is None or answer.skipped
            else format_value(indicator, answer.value, language, text=answer.text)
        )
        head, tail = f"{number}. ", f": {shown}"  # the value stays whole; the question gives way
        room = max(BUTTON_LABEL_LIMIT - len(head) - len(tail), 12)
        label = shorten(head + shorten(indicator.label_in(language), room) + tail)
        choices.append([Choice(label, PICK + indicator.key)])
    choices.append([Choice(_("❌ Cancel"), CANCEL)])
    turn.reply(_("Which answer do you want to change? Press it or type its number."), choices)


async def _edit(turn: Turn, draft: Draft, step: dict[str, Any], key: str) -> None:
    """Ask one question again, then return to the summary."""
    position = draft.position_of(key)
    if position is None:
        await _offer_edits(turn, draft, step)
        return
    draft.position = position
    await _ask(turn, draft, step | {"editing": True})


async def _confirm(turn: Turn, draft: Draft) -> None:
    """Store the report as submitted and say until when it can still be changed."""
    if not await _still_open(turn, draft):
        return
    wiring = turn.wiring
    try:
        result = await submit(
            turn.uow,
            draft,
            turn.caller.person_id,
            now=wiring.clock(),
            ward=turn.ward.ward,
            tz=turn.timezone,
        )
    except ReportingError as error:
        position = draft.position_of(error.details.get("key", "")) or 0
        draft.position = position
        await _ask(turn, draft, {"draft": draft.id}, hint=_("This question still needs an answer."))
        return
    await turn.uow.conversations.end(turn.caller.person_id)
    deadline = await change_deadline(
        turn.uow, draft.group_id, draft.month, now=wiring.clock(), ward=turn.ward.ward, tz=turn.timezone
    )
    if result.first:
        text = _("✅ Report for {month} sent. Thank you! You can change it with /report until {deadline}.")
    elif result.changed:
        text = _("✅ Report for {month} updated ({count} changes). You can change it until {deadline}.")
    else:
        text = _("✅ Report for {month} confirmed, nothing changed.")
    turn.reply(
        text.format(
            month=_mid(draft.month),
            deadline=deadline.strftime("%d/%m/%Y"),
            count=len(result.changed),
        )
    )


async def _leave(turn: Turn, draft: Draft) -> None:
    """❌ Cancel: leave; the draft is kept and a submitted report stays as it was."""
    await turn.uow.conversations.end(turn.caller.person_id)
    turn.reply(_kept_text(await has_submitted_report(turn.uow, draft)))


async def _show_step(turn: Turn, draft: Draft, state: str, step: dict[str, Any]) -> None:
    """Show the step the person is at again."""
    if state == SUMMARY:
        await _summary(turn, draft, step)
    elif state == PICKING_EDIT:
        await _offer_edits(turn, draft, step)
    else:
        await _ask(turn, draft, step)


# --- helpers ---------------------------------------------------------------------------------------


async def _save(turn: Turn, state: str, step: dict[str, Any]) -> None:
    await save_step(turn, FLOW, state, step)


async def _reporting_group(turn: Turn) -> ResidentialGroup | None:
    """The group the caller reports for (the policy already checked they lead one)."""
    groups = turn.caller.reports_for
    group = await turn.uow.groups.get(groups[0]) if groups else None
    if group is None:
        turn.reply(_("You do not lead a group. Ask ward staff for an invite link."))
    return group


async def _open_draft(turn: Turn, step: dict[str, Any]) -> Draft | None:
    """The draft the conversation works on; a vanished one ends the conversation."""
    draft = await load_draft(turn.uow, int(step.get("draft", 0)))
    if draft is None or draft.group_id not in turn.caller.reports_for:
        await turn.uow.conversations.end(turn.caller.person_id)
        turn.reply(_("That report is closed. Send /report to start or continue your report."))
        return None
    draft.position = min(draft.position, draft.count - 1) if draft.count else 0
    return draft


async def _still_open(turn: Turn, draft: Draft) -> bool:
    """False (and the person told, the draft kept) when the month locked meanwhile."""
    wiring = turn.wiring
    if await month_is_open(
        turn.uow, draft.group_id, draft.month, wiring.clock(), turn.ward.ward, turn.timezone
    ):
        return True
    await save_draft(turn.uow, draft, now=turn.wiring.clock())
    await turn.uow.conversations.end(turn.caller.person_id)
    group = await turn.uow.groups.get(draft.group_id)
    if group is not None:
        turn.reply(_locked_text(turn, group, draft.month))
    return False


def _locked_text(turn: Turn, group: ResidentialGroup, month: Month) -> str:
    deadline = deadline_date(month, turn.ward.ward.report_deadline_day)
    if month > Month.of(turn.now().date()):
        return _("{month} has not started yet. Send /report for the current month.").format(
            month=month.label(current_language())
        )
    return _(
        "Reports for {month} are locked: the deadline was {deadline}. Ward staff can reopen it for your "
        "group with /reopen {code} {key}."
    ).format(
        month=_mid(month),
        deadline=deadline.strftime("%d/%m/%Y"),
        code=group.code,
        key=str(month),
    )


def _kept_text(submitted: bool) -> str:
    if submitted:
        return _(
            "Stopped. Your submitted report is unchanged; your edits are kept. Send /report to continue."
        )
    return _("Stopped. Your answers are kept; send /report to continue where you left off.")


async def _month_choice(turn: Turn, group_id: int, month: Month) -> str:
    """The month's button: an earlier month says until when it can be changed (a reopening's end)."""
    label = month.label(current_language())
    if month < Month.of(turn.now().date()):
        deadline = await change_deadline(
            turn.uow, group_id, month, now=turn.wiring.clock(), ward=turn.ward.ward, tz=turn.timezone
        )
        return _("{month} (until {deadline})").format(month=label, deadline=deadline.strftime("%d/%m/%Y"))
    return label


def _mid(month: Month) -> str:
    return month_in_sentence(month, current_language())


def _photo_prompt(indicator: Indicator, current: Answer | None) -> str:
    limit = indicator.max_photos or 1
    if current is not None and current.photos:
        return _("Send another photo (at most {count}), or press ✅ Done.").format(count=limit)
    if limit == 1:
        return _("Send one photo.")
    return _("Send up to {count} photos, one after another, then press ✅ Done.").format(count=limit)


def _kind_prompt(indicator: Indicator) -> str:
    if indicator.kind is Kind.TEXT:
        return _("Type your answer in a few sentences (at most {count} characters).").format(
            count=format_number(indicator.max_length or 0, language=current_language())
        )
    if indicator.kind is Kind.PERCENT:
        return _("Type a percentage, for example 85.")
    if indicator.kind is Kind.MONEY:
        return _("Type an amount in đồng, for example 1.500.000 or 1,5 triệu.")
    if indicator.kind is Kind.INTEGER:
        return _("Type a whole number, for example 3.")
    return _("Type a number, for example 2,5.")


def _bound(soft: float | None, hard: float | None) -> str:
    value = soft if soft is not None else hard
    return "…" if value is None else format_number(value, language=current_language())


def _refusal_text(indicator: Indicator, refused: AnswerRefused) -> str:
    """Why the answer was refused, with what would be accepted."""
    details = refused.details
    texts = {
        Refusal.NOT_A_NUMBER: _("⚠️ That is not a number I can read."),
        Refusal.NEGATIVE: _("⚠️ The number cannot be negative."),
        Refusal.NOT_WHOLE: _("⚠️ Please give a whole number, without decimals."),
        Refusal.BELOW_MIN: _("⚠️ The smallest accepted value is {min}."),
        Refusal.ABOVE_MAX: _("⚠️ The largest accepted value is {max}."),
        Refusal.TOO_LONG: _("⚠️ That answer is too long; just type the number."),
        Refusal.UNKNOWN_CHOICE: _("⚠️ Please press one of the choices, or type its number:\n{choices}"),
        Refusal.NOT_YES_NO: _("⚠️ Please press {yes} or {no}."),
        Refusal.EMPTY: _("⚠️ The answer is empty; please type a few words."),
        Refusal.NOT_A_PHOTO: _(
            "⚠️ I could not read that as a photo. Please send it as a photo (JPEG or PNG, at most {limit} MB)."
        ),
        Refusal.PHOTO_TOO_LARGE: _("⚠️ That photo is larger than {limit} MB. Please send a smaller one."),
    }
    if indicator.kind is Kind.TEXT and refused.reason is Refusal.TOO_LONG:
        return _(
            "⚠️ That answer has {length} characters; at most {limit} are kept. Please shorten it."
        ).format(**details)
    limit_mb = str(MAX_PHOTO_BYTES // (1024 * 1024))
    values = {
        "min": "",
        "max": "",
        "choices": "",
        "yes": _("Yes"),
        "no": _("No"),
        "limit": limit_mb,
    } | details
    return texts[refused.reason].format(**values)


register_flow(Flow(FLOW, "report", on_message, on_cancel))
