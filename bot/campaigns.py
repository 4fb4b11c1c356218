"""Emulation campaigns: prepared step by step, launched to every chat of the groups taking part,
pledged by the heads, reviewed over their window and closed with awards.

Every announcement is a broadcast in the persistent outbox; this module decides who gets what.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.answers import format_number
from bot.delivery import Outgoing, Recipient, enqueue_broadcast, recipients
from bot.documents import CampaignReport, campaign_report_docx
from bot.errors import RuleError
from bot.i18n import gettext as _
from bot.i18n import use_language
from bot.indicators import Indicator
from bot.membership import language_of, role_name
from bot.periods import Month, Period, range_period
from bot.replies import Attachment, Choice
from bot.standings import StandingsResult, compute_standings
from bot.standings_view import chart_attachment, standings_table
from bot.ward_config import WardFile
from storage.models import Campaign, Pledge, ResidentialGroup
from storage.unit_of_work import UnitOfWork

PLEDGE = "pledge:"  # callback data of the heads' pledge button: pledge:<campaign id>
MIDTERM, FINAL = "midterm", "final"


class CampaignError(RuleError):
    """A campaign request the rules refuse; `reason` picks the reply."""


@dataclass(frozen=True)
class CampaignLine:
    """One campaign in `/campaigns`."""

    id: int
    title: str
    starts_on: date | None
    ends_on: date | None
    groups: int
    pledged: int
    not_pledged: tuple[str, ...]
    delivery: dict[str, int]


def weights_of(campaign: Campaign) -> dict[str, float] | None:
    """The campaign's own indicator weights, or None for the ward's."""
    if not campaign.weights_json:
        return None
    loaded = json.loads(campaign.weights_json)
    return {str(k): float(v) for k, v in loaded.items()}


def set_weights(campaign: Campaign, weights: dict[str, float] | None) -> None:
    campaign.weights_json = None if weights is None else json.dumps(weights, sort_keys=True)


def scored_indicators(indicators: Sequence[Indicator]) -> list[Indicator]:
    """Indicators a campaign may weigh: the ones that have a direction."""
    return [i for i in indicators if i.direction.value != "neutral"]


def window(campaign: Campaign, today: date) -> Period:
    """The months of the campaign so far (its whole window once it has ended)."""
    start = campaign.starts_on or today
    end = min(campaign.ends_on or today, today)
    if end < start:
        end = start
    return range_period(Month.of(start), Month.of(end))


def _dates(campaign: Campaign) -> str:
    start = campaign.starts_on.strftime("%d/%m/%Y") if campaign.starts_on else "…"
    if campaign.ends_on is None:
        return _("from {start}").format(start=start)
    return _("from {start} to {end}").format(start=start, end=campaign.ends_on.strftime("%d/%m/%Y"))


def announcement_text(campaign: Campaign, group_count: int) -> str:
    """The launch announcement exactly as residents see it (in the current language)."""
    scope = (
        _("All {count} groups of the ward take part.").format(count=group_count)
        if campaign.block is None
        else _("The {count} groups of {block} take part.").format(count=group_count, block=campaign.block)
    )
    lines = [
        _("📣 EMULATION CAMPAIGN LAUNCHED"),
        f"“{campaign.title}”",
        "",
        campaign.announcement,
        "",
        _("Time: {dates}.").format(dates=_dates(campaign)),
        scope,
    ]
    return "\n".join(lines)


def photo_of(campaign: Campaign) -> Attachment | None:
    if campaign.photo is None:
        return None
    return Attachment(campaign.photo, f"phong-trao-{campaign.id}.jpg", is_photo=True)


async def taking_part(uow: UnitOfWork, campaign: Campaign) -> Sequence[ResidentialGroup]:
    """The groups of the campaign: fixed at launch, or (while preparing) every group of its block."""
    if campaign.launched_at is not None:
        ids = {link.group_id for link in campaign.groups}
        return [g for g in await uow.campaigns.groups_in(campaign.ward_id, None) if g.id in ids]
    return await uow.campaigns.groups_in(campaign.ward_id, campaign.block)


async def launch(
    uow: UnitOfWork, campaign: Campaign, *, now: datetime, default_language: str, platform: str | None
) -> int:
    """Fix the groups, and send the announcement to their chats, heads and deputies (with a pledge
    button) and followers; the launcher gets a delivery report."""
    if campaign.launched_at is not None:
        raise CampaignError("already_launched")
    if campaign.starts_on is None:
        raise CampaignError("incomplete")
    groups = await uow.campaigns.groups_in(campaign.ward_id, campaign.block)
    if not groups:
        raise CampaignError("no_groups")
    group_ids = [g.id for g in groups]
    await uow.campaigns.add_groups(campaign, group_ids)
    photo = photo_of(campaign)
    messages: list[tuple[Recipient, Outgoing]] = []
    taken: set[tuple[str, str]] = set()
    with use_language(default_language):
        public = announcement_text(campaign, len(groups))
    for chat in await recipients(uow, group_ids, chats=True, platform=platform):
        messages.append((chat, Outgoing(public, attachment=photo)))
        taken.add((chat.platform, chat.chat_external_id))
    in_campaign = set(group_ids)
    for membership in await uow.groups.leaders(campaign.ward_id):
        person = membership.person
        key = (person.platform, person.external_id)
        if membership.group_id not in in_campaign or not person.active or key in taken:
            continue
        if platform is not None and person.platform != platform:
            continue
        with use_language(language_of(person, default_language)):
            text = (
                announcement_text(campaign, len(groups))
                + "\n\n"
                + _("As {role}, press the button to sign your group's pledge (ký giao ước thi đua).").format(
                    role=role_name(membership.role)
                )
            )
            button = Choice(_("🤝 Sign the pledge"), f"{PLEDGE}{campaign.id}")
        messages.append(
            (
                Recipient(person.platform, person.external_id, person.display_name, False),
                Outgoing(text, ((button,),), photo),
            )
        )
        taken.add(key)
    for follower in await recipients(uow, group_ids, chats=False, followers=True, platform=platform):
        if (follower.platform, follower.chat_external_id) not in taken:
            messages.append((follower, Outgoing(public, attachment=photo)))
            taken.add((follower.platform, follower.chat_external_id))
    broadcast = await enqueue_broadcast(
        uow,
        kind="campaign",
        title=campaign.title,
        messages=messages,
        requested_by=campaign.created_by,
        key=f"campaign:{campaign.id}:launch",
        now=now,
    )
    campaign.launched_at = now
    campaign.launch_broadcast_id = broadcast
    return broadcast or 0


async def pledge(
    uow: UnitOfWork, campaign_id: int, group_ids: Sequence[int], person_id: int, now: datetime
) -> str:
    """Record the group's pledge once: "signed", "already", or why not ("no_campaign", "not_taking_part")."""
    campaign = await uow.campaigns.get(campaign_id)
    if campaign is None or campaign.launched_at is None:
        return "no_campaign"
    taking = {link.group_id for link in campaign.groups}
    group_id = next((g for g in group_ids if g in taking), None)
    if group_id is None:
        return "not_taking_part"
    if await uow.campaigns.pledge(campaign.id, group_id) is not None:
        return "already"
    await uow.campaigns.add_pledge(
        Pledge(campaign_id=campaign.id, group_id=group_id, person_id=person_id, at=now)
    )
    return "signed"


async def campaign_lines(uow: UnitOfWork, ward_id: int) -> list[CampaignLine]:
    """Every launched campaign of the ward with its dates, groups, pledges and delivery."""
    campaigns = list(await uow.campaigns.launched(ward_id))
    codes = {g.id: g.code for g in await uow.campaigns.groups_in(ward_id, None)}
    broadcast_ids = [c.launch_broadcast_id for c in campaigns if c.launch_broadcast_id is not None]
    delivery = await uow.outbox.status_counts(broadcast_ids) if broadcast_ids else {}
    lines = []
    for campaign in campaigns:
        taking = [link.group_id for link in campaign.groups]
        pledged = await uow.campaigns.pledged_groups(campaign.id)
        lines.append(
            CampaignLine(
                id=campaign.id,
                title=campaign.title,
                starts_on=campaign.starts_on,
                ends_on=campaign.ends_on,
                groups=len(taking),
                pledged=len(pledged & set(taking)),
                not_pledged=tuple(sorted(codes.get(g, "?") for g in taking if g not in pledged)),
                delivery=delivery.get(campaign.launch_broadcast_id or 0, {}),
            )
        )
    return lines


async def campaign_standings(
    uow: UnitOfWork, campaign: Campaign, ward: WardFile, today: date, *, tz: ZoneInfo, now: datetime
) -> StandingsResult:
    """The campaign's standings over its window, with its own criteria and only its groups."""
    return await compute_standings(
        uow,
        window(campaign, today),
        ward,
        ward_id=campaign.ward_id,
        tz=tz,
        now=now,
        indicator_weights=weights_of(campaign),
        group_ids=[link.group_id for link in campaign.groups],
    )


@dataclass(frozen=True)
class PostedReview:
    """A review as posted: the broadcast, how many chats it went to, and the text and chart they got
    (each chat's own group is marked ▶ in its copy; `text` is the unmarked one, for staff)."""

    broadcast_id: int | None
    chats: int
    text: str
    chart: Attachment | None


def starts_later(campaign: Campaign, today: date) -> bool:
    """True before the campaign's start date: a review would have no month of it to show."""
    return campaign.starts_on is not None and today < campaign.starts_on


async def review(
    uow: UnitOfWork,
    campaign: Campaign,
    kind: str,
    *,
    ward: WardFile,
    now: datetime,
    today: date,
    tz: ZoneInfo,
    default_language: str,
    platform: str | None,
    requested_by: int,
) -> PostedReview:
    """Post the mid-term (sơ kết) or final (tổng kết) standings to every chat of the campaign.

    Chats get the public table and chart (no staff-only band); the staff copy is that same text.
    """
    result = await campaign_standings(uow, campaign, ward, today, tz=tz, now=now)
    group_codes = {g.id: g.code for g in await taking_part(uow, campaign)}
    chats = [
        c
        for c in await uow.chats.linked_active(campaign.ward_id)
        if c.group_id in group_codes and platform in (None, c.platform)
    ]
    with use_language(default_language):
        heading = (
            _("📊 MID-TERM REVIEW (sơ kết) of “{title}”")
            if kind == MIDTERM
            else _("🏁 FINAL REVIEW (tổng kết) of “{title}”")
        ).format(title=campaign.title)
        chart = chart_attachment(result) if any(s.score is not None for s in result.standings) else None

        def text(highlight_code: str | None) -> str:
            return (
                heading
                + "\n"
                + standings_table(result, ward_name=ward.ward.name, highlight_code=highlight_code)
            )

        messages = [
            (
                Recipient(chat.platform, chat.external_id, chat.title, True),
                Outgoing(text(group_codes.get(chat.group_id or 0)), attachment=chart),
            )
            for chat in chats
        ]
        copy = text(None)
    broadcast = None
    if messages:  # no chat, no broadcast (and no empty delivery report)
        broadcast = await enqueue_broadcast(
            uow,
            kind=f"review-{kind}",
            ward_id=campaign.ward_id,
            title=heading,
            messages=messages,
            requested_by=requested_by,
            now=now,
        )
    return PostedReview(broadcast, len(messages), copy, chart)


async def award(
    uow: UnitOfWork,
    group: ResidentialGroup,
    citation: str,
    *,
    now: datetime,
    default_language: str,
    platform: str | None,
    requested_by: int,
) -> int | None:
    """Announce an award (khen thưởng) to every active group chat, naming the group; its leaders too."""
    with use_language(default_language):
        text = _("🎖 AWARD: {group} ({code})\n{citation}").format(
            group=group.name, code=group.code, citation=citation
        )
    everyone = await recipients(uow, None, ward_id=group.ward_id, chats=True, platform=platform)
    leaders = await recipients(uow, [group.id], chats=False, leaders=True, platform=platform)
    seen = {(r.platform, r.chat_external_id) for r in everyone}
    targets = everyone + [r for r in leaders if (r.platform, r.chat_external_id) not in seen]
    return await enqueue_broadcast(
        uow,
        kind="award",
        ward_id=group.ward_id,
        title=_("Award for {code}").format(code=group.code),
        messages=[(r, Outgoing(text)) for r in targets],
        requested_by=requested_by,
        now=now,
    )


async def campaign_report(
    uow: UnitOfWork,
    campaign: Campaign,
    kind: str,
    *,
    ward: WardFile,
    today: date,
    tz: ZoneInfo,
    now: datetime,
) -> bytes:
    """The Word report of a review (báo cáo sơ kết / tổng kết): window, groups and pledges, standings
    over the window, awards recorded in it. It is for ward staff, so staff-only bands are named."""
    result = await campaign_standings(uow, campaign, ward, today, tz=tz, now=now)
    pledged = await uow.campaigns.pledged_groups(campaign.id)
    groups = [(g.code, g.name, g.id in pledged) for g in await taking_part(uow, campaign)]
    with use_language("vi"):
        rows = [
            (
                str(s.rank) if s.rank is not None else "—",
                f"{s.code} {s.name}",
                format_number(round(s.score, 1), language="vi") if s.score is not None else "chưa báo cáo",
                s.band.name_in("vi") if s.band is not None else "",
            )
            for s in result.standings
        ]
        dates = _dates(campaign)
    first = campaign.starts_on or today
    last = min(campaign.ends_on or today, today)
    awards = [
        a
        for a in await uow.awards.of_ward(campaign.ward_id)
        if first <= a.created_at.astimezone(tz).date() <= last
    ]
    return campaign_report_docx(
        ward,
        CampaignReport(campaign.title, kind == FINAL, dates, groups, rows, awards),
    )
