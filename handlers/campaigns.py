"""Campaign commands besides the wizard: /campaigns, /review, /award, and the heads' pledge button."""

from __future__ import annotations

from bot.answers import keyword, whole_number
from bot.campaigns import FINAL, MIDTERM, PLEDGE, award, campaign_lines, pledge, review, starts_later
from bot.features import button, command
from bot.i18n import gettext as _
from bot.membership import MembershipError, require_group
from bot.replies import Choice
from bot.turns import Turn
from handlers.membership_texts import explain
from storage.models import Campaign

# Keywords as `keyword()` gives them: "sơ kết", "so ket", "sơ-kết" and "soket" are one.
REVIEW_WORDS = {
    **dict.fromkeys(("midterm", "so ket", "soket", "giua ky"), MIDTERM),
    **dict.fromkeys(("final", "tong ket", "tongket", "cuoi nam"), FINAL),
}
REVIEW_COMMANDS = {"soket": MIDTERM, "tongket": FINAL}  # /soket and /tongket name the review themselves
REVIEW = "review:"  # button data: review:post:<kind>:<campaign id>, or review:cancel
POST_REVIEW = REVIEW + "post:"
CANCEL_REVIEW = REVIEW + "cancel"


@command("campaigns", "phongtrao")
async def list_campaigns(turn: Turn) -> None:
    """Each campaign: dates, groups taking part, pledges, delivery of its announcement."""
    lines = await campaign_lines(turn.uow, turn.ward_id or 0)
    if not lines:
        turn.reply(_("No campaign yet. Send /campaign to launch one."))
        return
    text = []
    for line in lines:
        start = line.starts_on.strftime("%d/%m/%Y") if line.starts_on else "…"
        end = line.ends_on.strftime("%d/%m/%Y") if line.ends_on else "…"
        text.append(f"#{line.id} “{line.title}” · {start} – {end}")
        text.append(
            _("   {groups} groups, {pledged} pledged").format(groups=line.groups, pledged=line.pledged)
            + (_("; not yet: {codes}").format(codes=", ".join(line.not_pledged)) if line.not_pledged else "")
        )
        counts = line.delivery
        text.append(
            _("   delivery: {sent} sent, {waiting} waiting, {failed} failed, {blocked} blocked").format(
                sent=counts.get("sent", 0),
                waiting=counts.get("pending", 0) + counts.get("sending", 0),
                failed=counts.get("failed", 0),
                blocked=counts.get("blocked", 0),
            )
        )
    turn.reply("\n".join(text))


async def _pick_campaign(turn: Turn, number: str | None) -> Campaign | None:
    """The campaign named by #number, or the newest one; None after telling the staff member."""
    launched = list(await turn.uow.campaigns.launched(turn.ward_id))
    if not launched:
        turn.reply(_("No campaign yet. Send /campaign to launch one."))
        return None
    if number is None:
        return launched[0]
    wanted = number.lstrip("#")
    found = next((c for c in launched if c.id == whole_number(wanted)), None)
    if found is None:
        turn.reply(
            _("There is no campaign #{number}. Send /campaigns to see them.").format(number=wanted[:20])
        )
    return found


@command("review", "soket", "tongket")
async def review_command(turn: Turn) -> None:
    """/review midterm|final [#ID] (or /soket, /tongket [#ID]): the campaign's standings over its window,
    to all its chats."""
    kind, rest = REVIEW_COMMANDS.get(turn.command), turn.args
    for count in (2, 1):  # "sơ kết" is two words, "midterm" one
        if kind is None and len(turn.args) >= count:
            kind, rest = REVIEW_WORDS.get(keyword(" ".join(turn.args[:count]))), turn.args[count:]
    if kind is None:
        turn.reply(
            _("Which review? /review midterm (sơ kết) or /review final (tổng kết), optionally with #ID.")
        )
        return
    campaign = await _pick_campaign(turn, rest[0] if rest else None)
    if campaign is None:
        return
    if starts_later(campaign, turn.wiring.now().date()) and campaign.starts_on is not None:
        turn.reply(
            _(
                "“{title}” starts on {start}, so its standings have no month yet. Post the review to "
                "its chats anyway?"
            ).format(title=campaign.title, start=campaign.starts_on.strftime("%d/%m/%Y")),
            [
                [
                    Choice(_("✅ Post anyway"), f"{POST_REVIEW}{kind}:{campaign.id}"),
                    Choice(_("❌ Cancel"), CANCEL_REVIEW),
                ]
            ],
        )
        return
    await _post_review(turn, campaign, kind)


@button(REVIEW, policy="review")
async def review_button(turn: Turn) -> None:
    """✅ Post anyway (a review before the campaign's start) or ❌ Cancel."""
    if turn.data == CANCEL_REVIEW:
        turn.reply(_("Cancelled. Nothing was sent."))
        return
    kind, _sep, number = turn.data.removeprefix(POST_REVIEW).partition(":")
    if not turn.data.startswith(POST_REVIEW) or kind not in (MIDTERM, FINAL):
        turn.notice = _("This button is no longer valid.")
        return
    campaign = await _pick_campaign(turn, number)
    if campaign is not None:
        await _post_review(turn, campaign, kind)


async def _post_review(turn: Turn, campaign: Campaign, kind: str) -> None:
    """Post the review, then give staff a copy of exactly what the groups receive."""
    wiring = turn.wiring
    posted = await review(
        turn.uow,
        campaign,
        kind,
        ward=turn.ward,
        now=wiring.clock(),
        today=turn.now().date(),
        default_language=wiring.settings.default_language,
        platform=None,
        requested_by=turn.caller.person_id,
    )
    if posted.chats:
        turn.broadcast = True
        said = _(
            "The review of “{title}” is on its way to {count} group chats; you will get a delivery report. "
            "This is what they receive:"
        )
    else:
        said = _("No group chat of “{title}” is linked, so the review went nowhere. This is what it says:")
    turn.reply(said.format(title=campaign.title, count=posted.chats))
    turn.reply(posted.text, attachment=posted.chart)


@command("award", "khenthuong")
async def award_command(turn: Turn) -> None:
    """/award GROUP-CODE TEXT: an award (khen thưởng) announced in every group chat."""
    if len(turn.args) < 2:
        turn.reply(
            _("Which group, and what for? For example: /award TDP03 Giấy khen Tổ dân phố văn hóa 2026")
        )
        return
    try:
        group = await require_group(turn.uow, turn.args[0], turn.ward_id)
    except MembershipError as error:
        turn.reply(explain(error))
        return
    wiring = turn.wiring
    citation = turn.text.split(maxsplit=2)[2] if len(turn.text.split(maxsplit=2)) > 2 else ""
    await award(
        turn.uow,
        group,
        citation[:1000],
        now=wiring.clock(),
        default_language=wiring.settings.default_language,
        platform=None,
        requested_by=turn.caller.person_id,
    )
    turn.broadcast = True
    turn.reply(_("The award for {code} is on its way to every group chat.").format(code=group.code))


@button(PLEDGE, policy="pledge")
async def pledge_button(turn: Turn) -> None:
    """A head or deputy signs the group's pledge; a second press says it is already recorded."""
    number = whole_number(turn.data.removeprefix(PLEDGE))
    if number is None:
        return
    outcome = await pledge(
        turn.uow, number, turn.caller.reports_for, turn.caller.person_id, turn.wiring.clock()
    )
    replies = {
        "signed": _("🤝 Your group's pledge is recorded. Thank you!"),
        "already": _("Your group's pledge was already recorded."),
        "not_taking_part": _("Your group does not take part in this campaign. Ask ward staff if it should."),
        "no_campaign": _("This campaign no longer exists, so nothing was recorded. Ask ward staff about it."),
    }
    turn.notice = replies[outcome]
    turn.reply(replies[outcome])
