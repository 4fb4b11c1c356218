"""Staff commands for residential groups: /addgroup, /invite, /groups, /removehead."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.answers import whole_number
from bot.features import command
from bot.i18n import gettext as _
from bot.i18n import use_language
from bot.membership import (
    HEAD,
    PERSON_NAME_MAX,
    add_group,
    group_lines,
    issue_invite,
    language_of,
    person_name,
    remove_leader,
    require_group,
    role_name,
    set_households,
)
from bot.turns import Turn
from handlers.membership_texts import explained, role_of
from handlers.notices import notify
from storage.models import ResidentialGroup


def _invite_text(turn: Turn, group_code: str, group_name: str, role: str, code: str) -> str:
    days = turn.ward.ward.invite_days
    return _(
        "Send this link to the {role} of {name} ({code}). It works once and expires in {days} days:\n{link}"
    ).format(role=role_name(role), name=group_name, code=group_code, days=days, link=turn.invite_link(code))


async def _invite(turn: Turn, group: ResidentialGroup, role: str, name: str | None = None) -> str:
    """A new single-use code for `role` of the group (for the person the ward names `name`), valid for
    the ward's invite days."""
    return await issue_invite(
        turn.uow,
        group,
        role,
        actor=turn.caller.person_id,
        now=turn.wiring.clock(),
        valid_for=timedelta(days=turn.ward.ward.invite_days),
        name=name,
    )


HOUSEHOLDS = re.compile(r"([0-9][0-9.]{0,8})(?:\s*(?:hộ|ho|households?))?", re.IGNORECASE)


def _households(text: str) -> int | None:
    """The household count written after the ";" of /addgroup: "312", "1.250", "312 hộ"."""
    found = HOUSEHOLDS.fullmatch(text.strip())
    return whole_number(found.group(1).replace(".", ""), digits=6) if found else None


@command("addgroup", "themto")
@explained
async def add_group_command(turn: Turn) -> None:
    """Create a group from `NAME; HOUSEHOLDS` (the whole name kept, numbers and all) and hand out its head's
    invite link; without "; HOUSEHOLDS" the group has 0 households until /households sets them."""
    given = turn.text.split(maxsplit=1)[1] if len(turn.text.split(maxsplit=1)) > 1 else ""
    name, separator, count = given.rpartition(";") if ";" in given else (given, "", "")
    households = _households(count) if separator else 0
    if households is None:
        turn.reply(
            _("After the ; give the number of households, for example: /addgroup Tổ dân phố số 8; 312")
        )
        return
    group = await add_group(
        turn.uow, turn.ward_id, name, households, actor=turn.caller.person_id, now=turn.wiring.clock()
    )
    code = await _invite(turn, group, HEAD)
    added = _("Added {code} — {name} ({households} households).").format(
        code=group.code, name=group.name, households=group.households
    )
    deputy = _("For a deputy head: /invite {code} deputy").format(code=group.code)
    link = _invite_text(turn, group.code, group.name, HEAD, code)
    lines = [added, link, deputy]
    if not separator:
        lines.insert(
            1, _("How many households does it have? Send /households {code} NUMBER").format(code=group.code)
        )
    turn.reply("\n".join(lines))


@command("households", "soho")
@explained
async def households_command(turn: Turn) -> None:
    """/households TDP08 312: set a group's number of households."""
    example = _("Which group and how many households? For example: /households TDP08 312")
    if len(turn.args) != 2:
        turn.reply(example)
        return
    households = _households(turn.args[1])
    if households is None:
        turn.reply(example)
        return
    group = await require_group(turn.uow, turn.args[0], turn.ward_id)
    before = await set_households(turn.uow, group, households, actor=turn.caller.person_id)
    turn.reply(
        _("{code} — {name} now has {households} households (before: {before}).").format(
            code=group.code, name=group.name, households=group.households, before=before
        )
    )


@command("invite", "moi")
@explained
async def invite_command(turn: Turn) -> None:
    """A new single-use invite for a group's head (or deputy)."""
    if not turn.args:
        turn.reply(_("Which group? For example: /invite TDP01 (or /invite TDP01 deputy)"))
        return
    # "/invite TDP01 tổ phó; Trần Thị Hoa": the words after ";" are the person's name, as the ward records it
    before, has_name, named = turn.text.split(maxsplit=1)[1].partition(";")
    name = person_name(named)
    if has_name and name is None:
        refusal = _("After the ; write the person's name (at most {limit} characters).")
        turn.reply(refusal.format(limit=PERSON_NAME_MAX))
        return
    words = before.split()
    group = await require_group(turn.uow, words[0] if words else "", turn.ward_id)
    role = role_of(words[1:])
    code = await _invite(turn, group, role, name)
    turn.reply(_invite_text(turn, group.code, group.name, role, code))


@command("groups", "danhsachto")
async def list_groups(turn: Turn) -> None:
    """Every group with its head, deputy, chat and households."""
    lines = await group_lines(turn.uow, turn.ward_id)
    if not lines:
        turn.reply(
            _("No groups yet. Add one with /addgroup NAME; HOUSEHOLDS, or list them in the ward file.")
        )
        return
    nobody = "—"
    text = [_("Groups ({count}):").format(count=len(lines))]
    for line in lines:
        chat = line.chat or nobody
        if line.chat and not line.chat_active:
            chat += " " + _("(the bot was removed)")
        text.append(
            _(
                "{code} · {name} · {households} households\n   head: {head} · deputy: {deputy} · chat: {chat}"
            ).format(
                code=line.code,
                name=line.name,
                households=line.households,
                head=line.head or nobody,
                deputy=line.deputy or nobody,
                chat=chat,
            )
        )
    turn.reply("\n".join(text))


@command("removehead", "govaitro")
@explained
async def remove_head(turn: Turn) -> None:
    """Remove a group's head (or deputy) and tell them."""
    if not turn.args:
        turn.reply(_("Which group? For example: /removehead TDP01 (or /removehead TDP01 deputy)"))
        return
    group = await require_group(turn.uow, turn.args[0], turn.ward_id)
    role = role_of(turn.args[1:])
    person = await remove_leader(turn.uow, group, role, actor=turn.caller.person_id)
    turn.menus_changed.add(person.id)
    turn.reply(
        _("{name} is no longer {role} of {code}. Send /invite {code} to invite someone new.").format(
            name=person.display_name or person.external_id, role=role_name(role), code=group.code
        )
    )
    if person.active:
        with use_language(language_of(person, turn.wiring.settings.default_language)):
            notice = _("You are no longer {role} of {name} ({code}). Thank you for your work!").format(
                role=role_name(role), name=group.name, code=group.code
            )
        await notify(turn, person, notice, title=f"removed from {group.code}")
