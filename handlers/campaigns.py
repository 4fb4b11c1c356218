"""Campaign commands besides the wizard: /campaigns, /review, /award, and the heads' pledge button."""

from __future__ import annotations

from bot.campaigns import FINAL, MIDTERM, PLEDGE, award, campaign_lines, pledge, review
from bot.features import button, command
from bot.i18n import gettext as _
from bot.membership import MembershipError, require_group
from bot.turns import Turn
from handlers.membership_texts import explain
from storage.models import Campaign

REVIEW_WORDS = {"midterm": MIDTERM, "sơ-kết": MIDTERM, "soket": MIDTERM, "final": FINAL, "tổng-kết": FINAL}


@command("campaigns")
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
        text.append(f"#{line.id} «{line.title}» · {start} – {end}")
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
    found = next((c for c in launched if wanted.isdigit() and c.id == int(wanted)), None)
    if found is None:
        turn.reply(_("There is no campaign #{number}. Send /campaigns to see them.").format(number=wanted))
    return found


@command("review")
async def review_command(turn: Turn) -> None:
    """/review midterm|final [#ID]: the campaign's standings over its window, to all its chats."""
    kind = REVIEW_WORDS.get(turn.args[0].lower()) if turn.args else None
    if kind is None:
        turn.reply(
            _("Which review? /review midterm (sơ kết) or /review final (tổng kết), optionally with #ID.")
        )
        return
    campaign = await _pick_campaign(turn, turn.args[1] if len(turn.args) > 1 else None)
    if campaign is None:
        return
    wiring = turn.wiring
    await review(
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
    turn.broadcast = True
    turn.reply(
        _(
            "The review of «{title}» is on its way to the campaign's chats; you will get a delivery report."
        ).format(title=campaign.title)
    )


@command("award")
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
    number = turn.data.removeprefix(PLEDGE)
    if not number.isdigit():
        return
    outcome = await pledge(
        turn.uow, int(number), turn.caller.reports_for, turn.caller.person_id, turn.wiring.clock()
    )
    replies = {
        "signed": _("🤝 Your group's pledge is recorded. Thank you!"),
        "already": _("Your group's pledge was already recorded."),
        "not_taking_part": _("Your group does not take part in this campaign. Ask ward staff if it should."),
        "no_campaign": _("This campaign no longer exists, so nothing was recorded. Ask ward staff about it."),
    }
    turn.notice = replies[outcome]
    turn.reply(replies[outcome])
