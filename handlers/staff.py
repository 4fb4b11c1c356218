"""Ward staff in chat: /addstaff (a colleague's invite link), /staff (who, added when and by whom),
/removestaff (a button per colleague, then a confirmation) — and what a staff invite says when opened."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.features import button, command
from bot.i18n import gettext as _
from bot.i18n import use_language
from bot.membership import (
    BY_COMMAND_LINE,
    BY_SETUP_LINK,
    PROVINCE,
    MembershipError,
    RedeemResult,
    Redemption,
    issue_staff_invite,
    language_of,
)
from bot.replies import Choice, rows
from bot.staff import remove_staff, staff_lines, staff_member
from bot.turns import Turn
from handlers.membership_texts import explain
from handlers.notices import notify

REMOVE = "staffrm:"  # + "ask:ID" (whom), "yes:ID" (confirmed) or "keep"
ASK, YES, KEEP = "ask", "yes", "keep"
PRESSED = re.compile(r"(ask|yes):([0-9]{1,12})|keep")


@command("addstaff", "themcanbo")
async def add_staff(turn: Turn) -> None:
    """A single-use link that makes a colleague staff of this ward, valid for the ward's invite days."""
    days = turn.ward.ward.invite_days
    code = await issue_staff_invite(
        turn.uow,
        turn.ward_id,
        actor=turn.caller.person_id,
        now=turn.wiring.clock(),
        valid_for=timedelta(days=days),
    )
    turn.reply(
        _(
            "Send this link to the colleague who should become ward staff of {ward}. "
            "It works once and expires in {days} days:\n{link}"
        ).format(ward=turn.ward.ward.name, days=days, link=turn.invite_link(code))
    )


@command("staff", "canbo")
async def list_staff(turn: Turn) -> None:
    """The ward's staff, each with when and by whom they were added."""
    lines = await staff_lines(turn.uow, turn.ward_id)
    text = [_("Ward staff of {ward} ({count}):").format(ward=turn.ward.ward.name, count=len(lines))]
    for line in lines:
        if line.added_at is None:
            text.append(f"• {line.name}")
            continue
        when = line.added_at.astimezone(turn.timezone).strftime("%H:%M %d/%m/%Y")
        text.append(
            _("• {name} — added {when} by {who}").format(name=line.name, when=when, who=_by(line.added_by))
        )
    text.append(_("Invite a colleague with /addstaff; remove one with /removestaff."))
    turn.reply("\n".join(text))


def _by(label: str) -> str:
    """Who added someone, in words: a person's name, or how it was done without one."""
    how = {
        BY_COMMAND_LINE: _("the server's command line"),
        BY_SETUP_LINK: _("the setup link"),
        "": _("someone unknown"),
    }
    return how.get(label, label)


@command("removestaff", "gocanbo")
async def ask_whom(turn: Turn) -> None:
    """Offer every other staff member of the ward as a button."""
    others = [
        line for line in await staff_lines(turn.uow, turn.ward_id) if line.person_id != turn.caller.person_id
    ]
    if not others:
        turn.reply(
            _(
                "You are the only staff of {ward}, and a ward always keeps at least one. "
                "Invite a colleague with /addstaff first."
            ).format(ward=turn.ward.ward.name)
        )
        return
    choices = [Choice(f"➖ {line.name}", f"{REMOVE}{ASK}:{line.person_id}") for line in others]
    cancel = Choice(_("❌ Cancel"), REMOVE + KEEP)
    turn.reply(_("Whom should I remove from ward staff?"), rows(*choices, cancel))


@button(REMOVE, policy="removestaff")
async def pressed(turn: Turn) -> None:
    """Whom (ask to confirm), confirmed (remove and tell them) or keep; any other data changes nothing."""
    match = PRESSED.fullmatch(turn.data.removeprefix(REMOVE))
    if match is None or match[0] == KEEP:
        turn.reply(_("Nothing was changed."), edit=True)
        return
    try:
        person = await staff_member(turn.uow, turn.ward_id, int(match[2]))
        if match[1] == ASK:
            name = person.display_name or person.external_id
            yes = Choice(_("✅ Yes, remove"), f"{REMOVE}{YES}:{person.id}")
            turn.reply(
                _("Remove {name} from ward staff of {ward}? They will be told.").format(
                    name=name, ward=turn.ward.ward.name
                ),
                [[yes, Choice(_("↩️ Keep"), REMOVE + KEEP)]],
                edit=True,
            )
            return
        await remove_staff(turn.uow, turn.ward_id, person.id, actor=turn.caller.person_id)
    except MembershipError as error:
        turn.reply(explain(error), edit=True)
        return
    turn.menus_changed.add(person.id)
    turn.reply(
        _("{name} is no longer ward staff of {ward}.").format(
            name=person.display_name or person.external_id, ward=turn.ward.ward.name
        ),
        edit=True,
    )
    if person.active:
        with use_language(language_of(person, turn.wiring.settings.default_language)):
            note = _("You are no longer ward staff of {ward}. Thank you for your work!").format(
                ward=turn.ward.ward.name
            )
        await notify(turn, person, note, title="removed from staff")


async def staff_invite_opened(turn: Turn, result: RedeemResult) -> None:
    """What `/start CODE` answers for a known staff (or setup) code; on joining, the inviter is told too."""
    ward = turn.wiring.ward_of(result.ward_id).ward.name
    province = result.role == PROVINCE
    if result.outcome is Redemption.JOINED:
        turn.reply(_province_welcome() if province else _staff_welcome(ward))
        turn.menus_changed.add(turn.caller.person_id)
        await _tell_inviter(turn, result, ward)
        return
    ask = (
        _("Whoever installed the bot can print a new one with: wardbot admin setup-link")
        if result.setup
        else _("Ask ward staff for a new one (/addstaff).")
    )
    messages = {
        Redemption.USED: _("This link has already been used.") + " " + ask,
        Redemption.EXPIRED: _("This link has expired or was replaced by a newer one.") + " " + ask,
        Redemption.ALREADY_THERE: (
            _("You are already province staff.") if province else _("You are already ward staff of {ward}.")
        )
        + " "
        + _("Send /help to see what you can do."),
        Redemption.STAFF_ELSEWHERE: _(
            "You are already ward staff of {other}; one person serves one ward. Nothing was changed. "
            "Ask a colleague there to remove you (/removestaff) first."
        ),
        Redemption.ALREADY_LEADS_OTHER: _(
            "You lead group {other} of another ward; one person serves one ward. Nothing was changed. "
            "Ask that ward to remove you as head (/removehead {other}) first."
        ),
    }
    fallback = _("That did not work. Send /help to see what you can do.")
    turn.reply(messages.get(result.outcome, fallback).format(ward=ward, other=result.other_group))


def _staff_welcome(ward: str) -> str:
    return _(
        "Welcome! You are now ward staff of {ward}. You can:\n"
        "• add groups (/addgroup) and invite their heads (/invite)\n"
        "• launch campaigns (/campaign) and see who has reported (/status)\n"
        "• see the standings (/standings) and export them to Excel (/export)\n"
        "• invite a colleague (/addstaff) and see the ward's staff (/staff)\n"
        "Send /help for everything you can do."
    ).format(ward=ward)


def _province_welcome() -> str:
    return _("Welcome! You are now province staff of this deployment. Send /help to see what you can do.")


async def _tell_inviter(turn: Turn, result: RedeemResult, ward: str) -> None:
    """The staff member whose /addstaff link was opened learns who joined."""
    if result.invited_by is None or result.invited_by == turn.caller.person_id:
        return
    inviter = await turn.uow.people.get(result.invited_by)
    if inviter is None or not inviter.active:
        return
    with use_language(language_of(inviter, turn.wiring.settings.default_language)):
        note = _("{name} opened your invite and is now ward staff of {ward}.").format(
            name=turn.caller.name or _("Your colleague"), ward=ward
        )
    await notify(turn, inviter, note, title="staff joined")
