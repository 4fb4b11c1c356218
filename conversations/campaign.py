"""/campaign: the launch wizard (phát động phong trào thi đua), one question at a time, then a preview.

The campaign being prepared is a row from the first answer on, so a restart loses nothing.
"""

from __future__ import annotations

import re
from typing import Any

from bot.answers import format_number, whole_number
from bot.campaigns import (
    CampaignError,
    announcement_text,
    launch,
    photo_of,
    scored_indicators,
    set_weights,
    taking_part,
    weights_of,
)
from bot.features import button, command
from bot.i18n import current_language, use_language
from bot.i18n import gettext as _
from bot.periods import day_refusal, parse_day
from bot.replies import Choice, shorten
from bot.turns import Turn
from conversations.router import Flow, register_flow
from storage.models import Campaign, Conversation
from storage.repositories.conversations import conversation_data

FLOW = "campaign"

# Conversation states
TITLE = "title"
TEXT = "text"
START = "start"
END = "end"
GROUPS = "groups"
CRITERIA = "criteria"
PREVIEW = "preview"
EDITING = "editing"

# Callback data
PREFIX = "campaign:"
TODAY = PREFIX + "today"
OPEN_END = PREFIX + "open_end"
ALL_GROUPS = PREFIX + "all"
BLOCK = PREFIX + "block:"
WARD_CRITERIA = PREFIX + "ward_criteria"
TOGGLE = PREFIX + "toggle:"
CRITERIA_DONE = PREFIX + "criteria_done"
LAUNCH = PREFIX + "launch"
EDIT = PREFIX + "edit"
CANCEL = PREFIX + "cancel"
FIELD = PREFIX + "field:"

WEIGHT = re.compile(r"^\s*([0-9]{1,2})\s*[=: ]\s*([0-9]{1,3}(?:[.,][0-9]{1,6})?)\s*$")
TITLE_LIMIT = 200
TEXT_LIMIT = 3000


@command("campaign", "phatdong")
async def start_campaign(turn: Turn) -> None:
    """A new campaign: ask its title."""
    campaign = await turn.uow.campaigns.add(
        Campaign(title="", created_by=turn.caller.person_id, ward_id=turn.ward_id)
    )
    await _go(turn, TITLE, {"campaign": campaign.id})


@button(PREFIX, policy="campaign")
async def on_button(turn: Turn) -> None:
    """A button of the wizard; an old one shows the current step again."""
    conversation = await turn.uow.conversations.get(turn.caller.person_id)
    if conversation is None or conversation.flow != FLOW:
        turn.notice = _("This button is from an earlier campaign.")
        turn.reply(_("That campaign wizard is closed. Send /campaign to prepare a new one."))
        return
    step = conversation_data(conversation)
    campaign = await _campaign(turn, step)
    if campaign is None:
        return
    state, data = conversation.state, turn.data
    today = turn.now().date()
    if state == START and data == TODAY:
        campaign.starts_on = today
        await _next(turn, campaign, step, END)
    elif state == END and data == OPEN_END:
        campaign.ends_on = None
        await _next(turn, campaign, step, GROUPS)
    elif state == GROUPS and (data == ALL_GROUPS or data.startswith(BLOCK)):
        blocks = await turn.uow.campaigns.blocks(campaign.ward_id)
        index = whole_number(data.removeprefix(BLOCK), digits=4) if data != ALL_GROUPS else None
        campaign.block = blocks[index] if index is not None and index < len(blocks) else None
        await _next(turn, campaign, step, CRITERIA)
    elif state == CRITERIA and data == WARD_CRITERIA:
        set_weights(campaign, None)
        await _next(turn, campaign, step, PREVIEW)
    elif state == CRITERIA and data.startswith(TOGGLE):
        weights = _current_weights(turn, campaign)
        key = data.removeprefix(TOGGLE)
        if key in weights:
            weights[key] = 0.0 if weights[key] > 0 else _ward_weight(turn, key) or 10.0
            set_weights(campaign, weights)
        await _go(turn, CRITERIA, step)
    elif state == CRITERIA and data == CRITERIA_DONE:
        if not any(w > 0 for w in _current_weights(turn, campaign).values()):
            turn.notice = _("Choose at least one criterion.")
            await _go(turn, CRITERIA, step)
            return
        await _next(turn, campaign, step, PREVIEW)
    elif state == PREVIEW and data == LAUNCH:
        await _launch(turn, campaign)
    elif state == PREVIEW and data == EDIT:
        await _go(turn, EDITING, step)
    elif state == EDITING and data.startswith(FIELD):
        field = data.removeprefix(FIELD)
        if field in (TITLE, TEXT, START, END, GROUPS, CRITERIA):
            await _go(turn, field, step | {"editing": True})
    elif data == CANCEL:
        await _cancel(turn, campaign)
    else:
        turn.notice = _("This button is from an earlier step.")
        await _go(turn, state, step)


async def on_message(turn: Turn, conversation: Conversation) -> None:
    """A typed answer (or a photo with caption for the announcement)."""
    step = conversation_data(conversation)
    campaign = await _campaign(turn, step)
    if campaign is None:
        return
    state, text = conversation.state, turn.text
    if state == TEXT:
        photo = await turn.photo()
        if not text and photo is None:
            turn.reply(_("Please send the announcement as text, or a photo with a caption."))
            return
        if len(text) > TEXT_LIMIT:
            turn.reply(_("That is too long: at most {limit} characters, please.").format(limit=TEXT_LIMIT))
            return
        campaign.announcement = text
        campaign.photo = photo
        await _next(turn, campaign, step, START)
        return
    if not text:
        turn.reply(_("Please type your answer."))
        await _go(turn, state, step)
        return
    if state == TITLE:
        if len(text) > TITLE_LIMIT:
            turn.reply(_("That is too long: at most {limit} characters, please.").format(limit=TITLE_LIMIT))
            return
        campaign.title = " ".join(text.split())
        await _next(turn, campaign, step, TEXT)
    elif state in (START, END):
        day = parse_day(text)
        if day is None:
            turn.reply(day_refusal(text))
            return
        if state == START:
            campaign.starts_on = day
            if campaign.ends_on is not None and campaign.ends_on < day:
                campaign.ends_on = None
            await _next(turn, campaign, step, END)
        elif campaign.starts_on is not None and day < campaign.starts_on:
            turn.reply(
                _("The end cannot be before the start ({start}). Type a later date.").format(
                    start=campaign.starts_on.strftime("%d/%m/%Y")
                )
            )
        else:
            campaign.ends_on = day
            await _next(turn, campaign, step, GROUPS)
    elif state == CRITERIA and (found := WEIGHT.match(text)):
        criteria = scored_indicators(turn.ward.indicators)
        number, weight = int(found.group(1)), float(found.group(2).replace(",", "."))
        if 1 <= number <= len(criteria):
            weights = _current_weights(turn, campaign)
            weights[criteria[number - 1].key] = weight
            set_weights(campaign, weights)
        await _go(turn, CRITERIA, step)
    else:
        turn.reply(_("Please use the buttons above, or send /cancel."))
        await _go(turn, state, step)


async def on_cancel(turn: Turn, conversation: Conversation) -> None:
    """/cancel: nothing was sent; the prepared campaign is dropped."""
    campaign = await turn.uow.campaigns.get(int(conversation_data(conversation).get("campaign", 0)))
    if campaign is not None and campaign.launched_at is None:
        await turn.uow.session.delete(campaign)
    turn.reply(_("Cancelled. Nothing was sent."))


# --- steps -----------------------------------------------------------------------------------------


async def _next(turn: Turn, campaign: Campaign, step: dict[str, Any], following: str) -> None:
    """After an answer: the next question, or back to the preview when one answer was being edited."""
    if step.get("editing"):
        await _go(turn, PREVIEW, {k: v for k, v in step.items() if k != "editing"})
        return
    await _go(turn, following, step)


async def _go(turn: Turn, state: str, step: dict[str, Any]) -> None:
    """Save the state and ask its question."""
    await turn.uow.conversations.save(
        turn.caller.person_id, FLOW, state, step, turn.chat_id, now=turn.wiring.clock()
    )
    campaign = await _campaign(turn, step)
    if campaign is None:
        return
    cancel = Choice(_("❌ Cancel"), CANCEL)
    if state == TITLE:
        turn.reply(
            _("New campaign. What is its name? For example: Toàn dân đoàn kết xây dựng đời sống văn hóa"),
            [[cancel]],
        )
    elif state == TEXT:
        turn.reply(_("Send the announcement text. You can also send a photo with the text as its caption."))
    elif state == START:
        turn.reply(_("When does it start? Type dd/mm/yyyy."), [[Choice(_("Today"), TODAY)]])
    elif state == END:
        turn.reply(
            _("When does it end? Type dd/mm/yyyy, or press the button for an open end."),
            [[Choice(_("No end date"), OPEN_END)]],
        )
    elif state == GROUPS:
        all_groups = await turn.uow.campaigns.groups_in(campaign.ward_id, None)
        choices = [[Choice(_("All groups ({count})").format(count=len(all_groups)), ALL_GROUPS)]]
        for index, block in enumerate(await turn.uow.campaigns.blocks(campaign.ward_id)):
            count = len(await turn.uow.campaigns.groups_in(campaign.ward_id, block))
            choices.append([Choice(f"{block} ({count})", f"{BLOCK}{index}")])
        turn.reply(_("Which groups take part?"), choices)
    elif state == CRITERIA:
        await _ask_criteria(turn, campaign)
    elif state == PREVIEW:
        await _preview(turn, campaign)
    elif state == EDITING:
        fields = [
            (TITLE, _("Name")),
            (TEXT, _("Announcement")),
            (START, _("Start date")),
            (END, _("End date")),
            (GROUPS, _("Groups")),
            (CRITERIA, _("Criteria")),
        ]
        turn.reply(_("What do you want to change?"), [[Choice(label, FIELD + key)] for key, label in fields])


async def _ask_criteria(turn: Turn, campaign: Campaign) -> None:
    """The criteria as toggles; a weight can be typed as "NUMBER WEIGHT"."""
    language = current_language()
    weights = _current_weights(turn, campaign)
    lines = [_("Which criteria count in this campaign's standings? Press one to include or leave it out.")]
    lines.append(_("To change a weight type its number and the weight, for example: 2 20"))
    choices = [[Choice(_("✔️ Use the ward's criteria"), WARD_CRITERIA)]]
    for number, indicator in enumerate(scored_indicators(turn.ward.indicators), start=1):
        weight = weights.get(indicator.key, 0.0)
        mark = "✅" if weight > 0 else "⬜"
        label = f"{mark} {number}. {indicator.label_in(language)}"
        points = f" · {format_number(weight, language=language)}" if weight > 0 else ""
        choices.append([Choice(shorten(label, 50) + points, TOGGLE + indicator.key)])
    choices.append([Choice(_("➡️ Done"), CRITERIA_DONE)])
    turn.reply("\n".join(lines), choices)


async def _preview(turn: Turn, campaign: Campaign) -> None:
    """The announcement exactly as residents will see it, then Launch / Edit / Cancel."""
    groups = await taking_part(turn.uow, campaign)
    with use_language(turn.wiring.settings.default_language):
        text = announcement_text(campaign, len(groups))
    photo = photo_of(campaign)
    if photo is not None:
        turn.reply(text, attachment=photo)
    else:
        turn.reply(text)
    criteria = weights_of(campaign)
    used = (
        _("the ward's criteria")
        if criteria is None
        else ", ".join(
            i.label_in(current_language()) for i in turn.ward.indicators if criteria.get(i.key, 0) > 0
        )
    )
    turn.reply(
        _("Preview above. Standings will use: {criteria}. Launch it?").format(criteria=used),
        [
            [Choice(_("🚀 Launch"), LAUNCH)],
            [Choice(_("✏️ Edit"), EDIT), Choice(_("❌ Cancel"), CANCEL)],
        ],
    )


async def _launch(turn: Turn, campaign: Campaign) -> None:
    wiring = turn.wiring
    try:
        await launch(
            turn.uow,
            campaign,
            now=wiring.clock(),
            default_language=wiring.settings.default_language,
            platform=None,
        )
    except CampaignError as error:
        reasons = {
            "no_groups": _("No group takes part. Choose the groups again."),
            "incomplete": _("The start date is missing. Press ✏️ Edit and choose Start date."),
            "already_launched": _("This campaign was already launched. /campaigns shows its delivery."),
        }
        turn.reply(reasons.get(error.reason, _("That did not work. Send /help to see what you can do.")))
        return
    await turn.uow.conversations.end(turn.caller.person_id)
    turn.broadcast = True
    turn.reply(
        _(
            "🚀 Launched! The announcement is on its way to every chat; you will get a delivery report. "
            "/campaigns shows the pledges."
        )
    )


async def _cancel(turn: Turn, campaign: Campaign) -> None:
    await turn.uow.conversations.end(turn.caller.person_id)
    if campaign.launched_at is None:
        await turn.uow.session.delete(campaign)
    turn.reply(_("Cancelled. Nothing was sent."))


# --- helpers ---------------------------------------------------------------------------------------


async def _campaign(turn: Turn, step: dict[str, Any]) -> Campaign | None:
    campaign = await turn.uow.campaigns.get(int(step.get("campaign", 0)))
    if campaign is None or campaign.launched_at is not None:
        await turn.uow.conversations.end(turn.caller.person_id)
        turn.reply(_("That campaign wizard is closed. Send /campaign to prepare a new one."))
        return None
    return campaign


def _ward_weight(turn: Turn, key: str) -> float:
    return next((i.weight for i in turn.ward.indicators if i.key == key), 0.0)


def _current_weights(turn: Turn, campaign: Campaign) -> dict[str, float]:
    """The campaign's weights for every criterion it may use (the ward's until changed)."""
    chosen = weights_of(campaign)
    return {
        i.key: (chosen.get(i.key, 0.0) if chosen is not None else i.weight)
        for i in scored_indicators(turn.ward.indicators)
    }


register_flow(Flow(FLOW, "campaign", on_message, on_cancel))
