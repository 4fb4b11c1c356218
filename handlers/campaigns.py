"""Campaign commands besides the wizard: /campaigns, /review, /award, and the heads' pledge button."""

from __future__ import annotations

from bot.answers import keyword, whole_number
from bot.awards import AwardError, AwardFields, amend, parse_fields, record_award, split_command
from bot.campaigns import (
    FINAL,
    MIDTERM,
    PLEDGE,
    award,
    campaign_lines,
    campaign_report,
    pledge,
    review,
    starts_later,
)
from bot.features import button, command
from bot.i18n import gettext as _
from bot.membership import require_group
from bot.replies import Attachment, Choice
from bot.turns import Turn
from handlers.membership_texts import explained
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
        tz=turn.timezone,
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
    content = await campaign_report(
        turn.uow,
        campaign,
        kind,
        ward=turn.ward,
        today=turn.now().date(),
        tz=turn.timezone,
        now=wiring.clock(),
    )
    name = "tong-ket" if kind == FINAL else "so-ket"
    turn.reply(
        _("The report of the review, to edit and sign in Word."),
        attachment=Attachment(content, f"bao-cao-{name}-{campaign.id}.docx"),
    )


@command("award", "khenthuong")
@explained
async def award_command(turn: Turn) -> None:
    """/award GROUP-CODE TEXT[; form: …; level: …; decision: NUMBER dd/mm/yyyy; person: NAME]: an award
    (khen thưởng) announced in every group chat and recorded in the register; `/award #ID; …` fills in
    the fields of a recorded one."""
    body = turn.text.split(maxsplit=1)[1] if len(turn.text.split(maxsplit=1)) > 1 else ""
    head, parts = split_command(body)
    try:
        fields = parse_fields(parts, turn.ward)
    except AwardError as error:
        turn.reply(_award_refusal(error))
        return
    if head.startswith("#"):
        await _amend_award(turn, head, fields, bool(parts))
        return
    if len(head.split(maxsplit=1)) < 2:
        turn.reply(
            _("Which group, and what for? For example: /award TDP03 Giấy khen Tổ dân phố văn hóa 2026")
        )
        return
    code, citation = head.split(maxsplit=1)
    group = await require_group(turn.uow, code, turn.ward_id)
    wiring = turn.wiring
    await award(
        turn.uow,
        group,
        citation[:1000],
        now=wiring.clock(),
        default_language=wiring.settings.default_language,
        platform=None,
        requested_by=turn.caller.person_id,
    )
    year = fields.decision_date.year if fields.decision_date else turn.now().year
    recorded = await record_award(
        turn.uow, group, citation, fields, year=year, created_by=turn.caller.person_id, now=wiring.clock()
    )
    turn.broadcast = True
    turn.reply(
        _("The award for {code} is on its way to every group chat.").format(code=group.code)
        + " "
        + _(
            "It is #{number} in the award register; add its form, level or decision later with "
            "/award #{number}; decision: NUMBER dd/mm/yyyy."
        ).format(number=recorded.id)
    )


async def _amend_award(turn: Turn, head: str, fields: AwardFields, given: bool) -> None:
    """/award #ID; field: value …: fill in a recorded award."""
    number = whole_number(head.removeprefix("#").strip())
    found = await turn.uow.awards.get(number, turn.ward_id) if number is not None else None
    if found is None:
        turn.reply(_("There is no award #{number}. Send /awards to see them.").format(number=head[1:20]))
        return
    if not given:
        turn.reply(
            _("What should change? For example: /award #{number}; level: phường").format(number=found.id)
        )
        return
    amend(found, fields)
    turn.reply(_("Award #{number} updated.").format(number=found.id))


def _award_refusal(error: AwardError) -> str:
    details = {"part": "", "value": "", "options": "", "limit": ""} | {
        k: str(v) for k, v in error.details.items()
    }
    texts = {
        "field": _(
            "“{part}” is not a field I know. After “;” write form:, level:, decision:, person: or household:."
        ),
        "form": _("“{value}” is not one of the ward's award forms: {options}."),
        "level": _("“{value}” is not one of the ward's award levels: {options}."),
        "decision": _(
            "“{value}”: write the decision as NUMBER dd/mm/yyyy with a date that exists, "
            "for example decision: 125/QĐ-UBND 20/12/2026."
        ),
        "name": _("A name is at most {limit} characters."),
        "both": _(
            "An award goes to a person or to a household, not both: keep only one of person: and household:."
        ),
    }
    return texts[error.reason].format(**details)


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
