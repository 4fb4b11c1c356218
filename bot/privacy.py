"""Personal data as Decree 13/2023 expects: what the bot keeps about a person, and erasing a person.

A resident erases themselves (/forgetme); a head, deputy or staff member is erased by the ward
(`wardbot person erase`), because the records they made belong to the ward. Erasing removes the
person's roles, open drafts, the raw updates they sent, every message to their chat and the options
shown there; the person's row stays, so reports and the audit log remain attributed — to their role
("Head of TDP01 (erased)") instead of their name. Their name is also replaced wherever a stored
message or audit entry spelled it out. The erasure is audited without the erased data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.access import Caller, Role
from bot.i18n import gettext as _
from bot.membership import DEPUTY, FOLLOWER, HEAD, audit
from bot.pipeline import chat_key_of
from storage.models import ERASED_PREFIX, Person
from storage.unit_of_work import UnitOfWork

ERASED_ACTION = "person_erased"
MIN_NAME_TO_REPLACE = 3  # shorter names are too likely to be part of other words


def asks_the_ward(caller: Caller) -> bool:
    """Heads, deputies and staff are erased by the ward: the records they made stay with it."""
    return bool(caller.roles & {Role.HEAD, Role.DEPUTY, Role.STAFF, Role.PROVINCE})


@dataclass(frozen=True)
class PersonalData:
    """What the bot keeps about one person, as plain values for /privacy."""

    name: str
    platform: str
    follows: tuple[str, ...]  # group codes
    heads: tuple[str, ...]
    deputies: tuple[str, ...]
    staff: bool
    province: bool


async def personal_data(uow: UnitOfWork, person_id: int) -> PersonalData:
    """The person's name, account and roles, as stored."""
    person = await uow.people.get(person_id)
    if person is None:
        raise LookupError(f"no person {person_id}")
    roles: dict[str, list[str]] = {HEAD: [], DEPUTY: [], FOLLOWER: []}
    for membership in await uow.groups.memberships_of(person_id):
        roles[membership.role].append(membership.group.code)
    return PersonalData(
        name=person.display_name,
        platform=person.platform,
        follows=tuple(sorted(roles[FOLLOWER])),
        heads=tuple(sorted(roles[HEAD])),
        deputies=tuple(sorted(roles[DEPUTY])),
        staff=person.is_staff,
        province=person.is_province,
    )


@dataclass(frozen=True)
class Erased:
    """What an erasure did: the label that now stands for the person, and what was removed."""

    label: str
    roles: int
    received: int
    messages: int


def role_label(data: PersonalData) -> str:
    """What stands for an erased person in the records they leave (in the current language)."""
    if data.province:
        role = _("Province staff")
    elif data.staff:
        role = _("Ward staff")
    elif data.heads:
        role = _("Head of {groups}").format(groups=", ".join(data.heads))
    elif data.deputies:
        role = _("Deputy of {groups}").format(groups=", ".join(data.deputies))
    else:
        role = _("Resident")
    return _("{role} (erased)").format(role=role)


def _replacer(name: str) -> re.Pattern[str] | None:
    name = name.strip()
    if len(name) < MIN_NAME_TO_REPLACE:
        return None
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")


async def erase_person(
    uow: UnitOfWork, person: Person, *, actor: int | None, actor_label: str = "", chat: str | None = None
) -> Erased:
    """Erase one person's name and chat id from every table, keeping their records under their role.

    Their private chat's id is their account's (Telegram, Zalo); `chat` names it when it is known to be
    another. A person erasing themselves (`actor` is them) chose the name they go by, which may be
    anybody's words ("TDP03", a colleague's name): their name is then replaced only in what is theirs
    (audit entries of or about them, their broadcasts), never in the rest of the ward's records; the
    ward's command line, which names the person, replaces it wherever it is spelled out."""
    data = await personal_data(uow, person.id)
    label = role_label(data)
    name, platform, account = person.display_name, person.platform, person.external_id
    ward_id = person.ward_id
    if ward_id is None:
        memberships = await uow.groups.memberships_of(person.id)
        ward_id = memberships[0].group.ward_id if memberships else None
    roles = await uow.privacy.drop_memberships(person.id)
    await uow.privacy.drop_work_in_progress(person.id)
    messages = received = 0
    for chat_id in dict.fromkeys((account, chat or account)):
        messages += await uow.privacy.drop_chat(platform, chat_id)
        received += await uow.privacy.drop_received(platform, account, chat_key_of(platform, chat_id))
    pattern = _replacer(name)
    if pattern is not None:
        await _replace_name(
            uow, name.strip(), pattern, label, about=person.id if actor == person.id else None
        )
    person.display_name, person.external_id = label, f"{ERASED_PREFIX}{person.id}"
    person.language = person.client_language = None
    person.is_staff = person.is_province = False
    person.active = False
    await uow.session.flush()
    await audit(
        uow,
        ERASED_ACTION,
        actor=actor,
        actor_label=actor_label,
        subject=person.id,
        ward_id=ward_id,
        detail=label,
    )
    return Erased(label, roles, received, messages)


async def _replace_name(
    uow: UnitOfWork, name: str, pattern: re.Pattern[str], label: str, *, about: int | None
) -> None:
    """Stored messages, broadcast titles and audit entries that spelled the name out now say the label
    (with `about`: only those of that person)."""

    def plain(text: str, limit: int | None = None) -> str:
        return pattern.sub(label, text)[:limit]

    for message in await uow.privacy.outbox_mentioning(name, about=about):
        message.text, message.last_error = plain(message.text), plain(message.last_error, 512)
        message.recipient_label = plain(message.recipient_label, 256)
    for entry in await uow.privacy.audit_mentioning(name, about=about):
        entry.actor_label, entry.detail = plain(entry.actor_label, 256), plain(entry.detail)
    for broadcast in await uow.privacy.broadcasts_mentioning(name, about=about):
        broadcast.title = plain(broadcast.title, 256)
