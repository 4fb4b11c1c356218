"""/privacy (/baomat) and /forgetme (/xoadulieu): what the bot keeps about a person, and erasing it.

Decree 13/2023 expects a person to be told what is kept, why, for how long and who sees it, and to be
able to have it deleted. A resident erases themselves after pressing "✅"; heads, deputies and staff
are told to ask the ward, which erases them with `wardbot person erase` (their records stay).
"""

from __future__ import annotations

from bot.access import ChatKind
from bot.features import button, command
from bot.housekeeping import prune_after
from bot.i18n import gettext as _
from bot.i18n import use_language
from bot.privacy import PersonalData, asks_the_ward, erase_person, personal_data
from bot.replies import Choice
from bot.turns import Turn

FORGET = "forget:"  # button data
FORGET_CONFIRM = FORGET + "yes"
FORGET_KEEP = FORGET + "no"
PLATFORM_NAMES = {"telegram": "Telegram", "zalo": "Zalo"}


@command("privacy", "baomat")
async def privacy(turn: Turn) -> None:
    """What is kept, why, for how long, who sees it; in a group chat without anyone's details."""
    ward = turn.ward.ward
    platform = PLATFORM_NAMES.get(turn.platform, turn.platform)
    lines = [_("What this bot keeps about you, and why:")]
    data: PersonalData | None = None
    if turn.chat is ChatKind.PRIVATE:
        data = await personal_data(turn.uow, turn.caller.person_id)
        lines.append(
            _(
                "• Your name as {platform} shows it (“{name}”) and your {platform} account number: to know "
                "who writes and to answer you. Kept while you use the bot."
            ).format(platform=platform, name=data.name)
        )
        if data.follows:
            lines.append(
                _(
                    "• The groups you follow ({groups}): to send you their announcements. Kept until you "
                    "send /unfollow."
                ).format(groups=", ".join(data.follows))
            )
        if data.heads or data.deputies:
            lines.append(
                _(
                    "• You lead {groups}: the reports you send are the ward's emulation records and are kept "
                    "for good, with who sent them."
                ).format(groups=", ".join((*data.heads, *data.deputies)))
            )
        if data.staff or data.province:
            lines.append(
                _(
                    "• You are staff: what you change is written in the ward's audit log with your name, "
                    "and kept for good."
                )
            )
    else:
        lines.append(
            _(
                "• Your name as {platform} shows it and your {platform} account number: to know who writes "
                "and to answer you. Kept while you use the bot."
            ).format(platform=platform)
        )
        lines.append(
            _(
                "• The groups you follow, and the group you lead if you are a head or deputy, with its "
                "reports."
            )
        )
    lines.append(
        _(
            "• The messages you send to the bot and those it sends you: kept {days} days, so that nothing is "
            "lost or answered twice, then deleted by themselves."
        ).format(days=prune_after(turn.wiring).days)  # what pruning applies
    )
    if ward.backup_dir is not None:
        lines.append(
            _("• Backup copies of all this, on the ward's computer: kept {days} days.").format(
                days=ward.backup_keep_days
            )
        )
    lines.append(
        _(
            "Who sees it: ward staff see names and the groups people follow or lead; a group's head and "
            "deputy see its reports. Nothing is given to anyone else ({platform} carries the messages, as "
            "with any chat)."
        ).format(platform=platform)
    )
    if data is not None and asks_the_ward(turn.caller):
        lines.append(_("To have it erased, ask ward staff: the records you made stay with the ward."))
    else:
        lines.append(_("To erase what the bot keeps about you, send /forgetme in a private chat with me."))
    turn.reply("\n".join(lines))


@command("forgetme", "xoadulieu")
async def forget_me(turn: Turn) -> None:
    """A resident is asked to confirm with "✅"; a head, deputy or staff member is sent to the ward."""
    if asks_the_ward(turn.caller):
        _tell_to_ask_the_ward(turn)
        return
    turn.reply(
        _(
            "This erases your name and account number, the groups you follow and the messages exchanged "
            "with the bot. You will no longer receive your group's announcements. It cannot be undone."
        ),
        [[Choice(_("✅ Erase my data"), FORGET_CONFIRM)], [Choice(_("❌ Keep it"), FORGET_KEEP)]],
    )


@button(FORGET, policy="forgetme")
async def forget_button(turn: Turn) -> None:
    """✅ erases the caller (checked again: they may have become a head meanwhile); ❌ changes nothing."""
    if turn.data == FORGET_KEEP:
        turn.reply(_("Nothing was erased."), edit=True)
        return
    if turn.data != FORGET_CONFIRM:
        turn.notice = _("This button is no longer valid.")
        turn.reply(_("This button is no longer valid. Nothing was changed. Send /forgetme to start again."))
        return
    if asks_the_ward(turn.caller):
        _tell_to_ask_the_ward(turn)
        return
    person = await turn.uow.people.get(turn.caller.person_id)
    if person is None:  # identified in this very turn: cannot happen, but erase nothing by mistake
        turn.reply(_("Nothing was erased."))
        return
    with use_language(turn.wiring.settings.default_language):  # the label stays in the ward's records
        await erase_person(turn.uow, person, actor=person.id, chat=turn.chat_id)
    turn.erased = True
    turn.reply(
        _(
            "Done: your name, your account number, the groups you followed and the messages exchanged with "
            "the bot are erased. If you write to the bot again, it knows only what you send from then on."
        ),
        edit=True,
    )


def _tell_to_ask_the_ward(turn: Turn) -> None:
    platform = PLATFORM_NAMES.get(turn.platform, turn.platform)
    turn.reply(
        _(
            "You lead a group or work for the ward, so the records you made belong to the ward. Ask ward "
            "staff to erase you: they keep the records under your role, without your name. Give them "
            "this: {platform} {account}"
        ).format(platform=platform, account=turn.chat_id)
    )
