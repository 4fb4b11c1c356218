"""Membership: groups, who leads and follows them, their chats, invites — and the audit of it all.

Every rule about who belongs where lives here, with plain values in and out; the channels only
translate updates into these calls and the results into replies.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.access import Caller, Role
from bot.errors import RuleError
from bot.i18n import LANGUAGES, pick_language
from bot.i18n import gettext as _
from storage.models import AuditEntry, Invite, Membership, Person, ResidentialGroup
from storage.unit_of_work import UnitOfWork

HEAD, DEPUTY, FOLLOWER = "head", "deputy", "follower"
LEADER_ROLES = (HEAD, DEPUTY)
STAFF, PROVINCE = "staff", "province"  # invites that make their opener ward or province staff
STAFF_ROLES = (STAFF, PROVINCE)
SETUP_VALID_FOR = timedelta(hours=24)
BY_COMMAND_LINE, BY_SETUP_LINK = "command line", "setup link"  # audit labels when no person acted
INVITE_BYTES = 16  # 128 bits, well above the 64 the ward requires
MAX_HOUSEHOLDS = 100_000  # a group has 80–900; 0 means not known yet
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,20}$")


class MembershipError(RuleError):
    """A request that breaks a membership rule; `reason` says which, for the reply."""


class Redemption(StrEnum):
    """What happened to an invite code."""

    JOINED = "joined"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    ALREADY_LEADS_OTHER = "already_leads_other"
    ROLE_TAKEN = "role_taken"
    ALREADY_THERE = "already_there"
    STAFF_ELSEWHERE = "staff_elsewhere"


@dataclass(frozen=True)
class RedeemResult:
    """The outcome of `/start CODE`, with what the reply needs."""

    outcome: Redemption
    role: str = ""
    group_code: str = ""
    group_name: str = ""
    other_group: str = ""  # also: the ward a staff member already serves (STAFF_ELSEWHERE)
    ward_id: int | None = None  # staff invites: the ward joined (None: the province)
    setup: bool = False  # a setup code
    invited_by: int | None = None  # staff invites: who issued it, to be told


@dataclass(frozen=True)
class GroupLine:
    """One line of the `/groups` listing."""

    code: str
    name: str
    households: int
    block: str | None
    head: str | None
    deputy: str | None
    chat: str | None
    chat_active: bool


def language_of(person: Person, default: str) -> str:
    """The person's chosen language, else their app's language when we have it, else the default."""
    return person.language or pick_language(person.client_language, default=default)


def role_name(role: str) -> str:
    """'group head' or 'deputy head', in the reader's language."""
    return _("deputy head") if role == DEPUTY else _("group head")


def code_hash(code: str) -> str:
    """What is stored of an invite code."""
    return hashlib.sha256(code.encode()).hexdigest()


async def audit(
    uow: UnitOfWork,
    action: str,
    *,
    actor: int | None,
    actor_label: str = "",
    group_id: int | None = None,
    subject: int | None = None,
    detail: str = "",
    ward_id: int | None = None,
) -> None:
    """Record one membership change (in the group's ward when no ward is given)."""
    if ward_id is None and group_id is not None:
        group = await uow.groups.get(group_id)
        ward_id = group.ward_id if group is not None else None
    await uow.audit.add(
        AuditEntry(
            ward_id=ward_id,
            action=action,
            actor_id=actor,
            actor_label=actor_label,
            group_id=group_id,
            subject_id=subject,
            detail=detail,
        )
    )


async def identify(
    uow: UnitOfWork,
    platform: str,
    external_id: str,
    *,
    display_name: str,
    client_language: str | None,
    default_language: str,
    chat_external_id: str | None = None,
    chat_kind: str = "private",
    chat_title: str = "",
    default_ward_id: int | None = None,
) -> Caller:
    """The caller behind an update, registered on first sight, with their roles, this chat's group and
    the ward they act in: this group chat's, else the ward they serve, lead or follow in, else
    `default_ward_id` (the only ward of a one-ward deployment)."""
    found = await uow.people.find_with_memberships(platform, external_id)
    if found is None:  # first sight: no roles yet
        person = await uow.people.add(
            platform, external_id, display_name=display_name, client_language=client_language
        )
        memberships: list[Membership] = []
    else:
        person, memberships = found
        uow.people.refresh(person, display_name=display_name, client_language=client_language)
    if not person.active:
        await set_person_active(uow, platform, external_id, True)
    chat_group_id: int | None = None
    chat_ward: int | None = None
    if chat_external_id is not None and chat_kind != "private":
        chat = await uow.chats.ensure(platform, chat_external_id, chat_kind, chat_title)
        if not chat.active:
            chat.active = True
        chat_group_id = chat.group_id
        group = await uow.groups.get(chat.group_id) if chat.group_id is not None else None
        chat_ward = group.ward_id if group is not None else None
    return await caller_of(
        uow,
        person,
        memberships=memberships,
        default_language=default_language,
        chat_group_id=chat_group_id,
        chat_ward=chat_ward,
        default_ward_id=default_ward_id,
    )


async def caller_of(
    uow: UnitOfWork,
    person: Person,
    *,
    default_language: str,
    memberships: Sequence[Membership] | None = None,
    chat_group_id: int | None = None,
    chat_ward: int | None = None,
    default_ward_id: int | None = None,
) -> Caller:
    """A known person as a caller: their roles, groups and the ward they act in (see `identify`);
    the web page asks it at every request, so a role taken away ends what the page shows at once.
    `memberships` (groups loaded) when the caller already read them with the person."""
    roles = {Role.ANYONE}
    if person.is_staff:
        roles.add(Role.STAFF)
    if person.is_province:
        roles.add(Role.PROVINCE)
    head_of: list[int] = []
    deputy_of: list[int] = []
    follows: list[int] = []
    wards: dict[str, int] = {}
    if memberships is None:
        memberships = await uow.groups.memberships_of(person.id)
    for membership in memberships:
        {HEAD: head_of, DEPUTY: deputy_of, FOLLOWER: follows}[membership.role].append(membership.group_id)
        wards.setdefault(membership.role, membership.group.ward_id)
    if head_of:
        roles.add(Role.HEAD)
    if deputy_of:
        roles.add(Role.DEPUTY)
    if follows:
        roles.add(Role.RESIDENT)
    ward_id = next(
        (
            ward
            for ward in (
                chat_ward,
                person.ward_id if person.is_staff else None,
                wards.get(HEAD),
                wards.get(DEPUTY),
                wards.get(FOLLOWER),
                default_ward_id,
            )
            if ward is not None
        ),
        None,
    )
    if person.is_staff and person.ward_id is not None and ward_id != person.ward_id:
        roles.discard(Role.STAFF)  # in a chat of another ward's group, a ward's staff are anyone there
    return Caller(
        person_id=person.id,
        name=person.display_name,
        language=language_of(person, default_language),
        roles=frozenset(roles),
        head_of=tuple(head_of),
        deputy_of=tuple(deputy_of),
        follows=tuple(follows),
        chat_group_id=chat_group_id,
        ward_id=ward_id,
    )


@dataclass(frozen=True)
class MenuOwner:
    """Whose private command menu to publish: their account, language and roles."""

    platform: str
    external_id: str
    language: str
    roles: frozenset[Role]


async def menu_owner(uow: UnitOfWork, person_id: int, default_language: str) -> MenuOwner | None:
    """The roles that decide a person's command menu in their private chat."""
    found = await uow.people.get_with_memberships(person_id)
    if found is None:
        return None
    person, memberships = found
    roles = {Role.ANYONE}
    if person.is_staff:
        roles.add(Role.STAFF)
    if person.is_province:
        roles.add(Role.PROVINCE)
    role_of = {HEAD: Role.HEAD, DEPUTY: Role.DEPUTY, FOLLOWER: Role.RESIDENT}
    roles.update(role_of[m.role] for m in memberships)
    return MenuOwner(
        person.platform, person.external_id, language_of(person, default_language), frozenset(roles)
    )


async def choose_language(uow: UnitOfWork, person_id: int, language: str) -> str:
    """Store the language a person picked; returns it. Unknown codes are refused."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    person = await uow.people.get(person_id)
    if person is None:
        raise LookupError(f"no person {person_id}")
    person.language = language
    return language


PERSON_NAME_MAX = 100


def person_name(text: str) -> str | None:
    """A name staff give for someone, tidied (single spaces, no control characters), or None when it
    is empty or longer than PERSON_NAME_MAX."""
    tidy = " ".join("".join(char for char in text if char.isprintable()).split())
    return tidy if tidy and len(tidy) <= PERSON_NAME_MAX else None


def record_name(person: Person, name: str) -> None:
    """Show `person` by the name the ward recorded, everywhere and from now on, whatever the platform says."""
    person.display_name, person.named_by_ward = name, True


async def set_province_staff(
    uow: UnitOfWork, platform: str, external_id: str, *, name: str | None, actor_label: str = "command line"
) -> Person:
    """Make someone province staff (they read every ward), keeping any ward role they have."""
    person = await uow.people.ensure(platform, external_id)
    if name:
        record_name(person, name)
    if not person.is_province:
        person.is_province = True
        await audit(uow, "province_staff_added", actor=None, actor_label=actor_label, subject=person.id)
    return person


async def set_staff(
    uow: UnitOfWork,
    platform: str,
    external_id: str,
    *,
    name: str | None,
    is_staff: bool,
    actor_label: str = BY_COMMAND_LINE,
    ward_id: int | None = None,
    actor: int | None = None,
) -> Person:
    """Make someone staff of a ward (the first ward when not given), or stop that; creating them if
    the bot has not met them yet. A `name` is the ward's: the platform's name no longer replaces it."""
    person = await uow.people.ensure(platform, external_id)
    if name:
        record_name(person, name)
    if is_staff:
        wards = [ward.id for ward in await uow.wards.all()]
        person.ward_id = ward_id if ward_id is not None else (person.ward_id or min(wards, default=None))
    if person.is_staff != is_staff:
        person.is_staff = is_staff
        await audit(
            uow,
            "staff_added" if is_staff else "staff_removed",
            actor=actor,
            actor_label=actor_label,
            subject=person.id,
            ward_id=person.ward_id,
        )
    return person


def _next_code(existing: set[str]) -> str:
    numbers = [int(code[3:]) for code in existing if re.fullmatch(r"TDP[0-9]{1,9}", code)]
    number = max(numbers, default=0) + 1
    return f"TDP{number:02d}"


async def add_group(
    uow: UnitOfWork,
    ward_id: int,
    name: str,
    households: int,
    *,
    actor: int | None,
    code: str | None = None,
    block: str | None = None,
    now: datetime | None = None,
) -> ResidentialGroup:
    """A new group with the next free code (TDP01, TDP02, …) unless one is given; created at `now`."""
    name = " ".join(name.split())
    if not name:
        raise MembershipError("name_missing")
    if not 0 <= households <= MAX_HOUSEHOLDS:
        raise MembershipError("households_range")
    code = (code or _next_code(await uow.groups.codes(ward_id))).upper()
    if not CODE_PATTERN.match(code):
        raise MembershipError("bad_code", code=code)
    if await uow.groups.by_code(code, ward_id) is not None:
        raise MembershipError("code_taken", code=code)
    group = await uow.groups.add(ward_id, code, name[:200], households, block, created_at=now)
    await audit(uow, "group_added", actor=actor, group_id=group.id, detail=f"{code} {name}")
    return group


async def set_households(
    uow: UnitOfWork, group: ResidentialGroup, households: int, *, actor: int | None
) -> int:
    """Change a group's number of households (audited); returns the number it had."""
    if not 0 <= households <= MAX_HOUSEHOLDS:
        raise MembershipError("households_range")
    before = group.households
    if before != households:
        group.households = households
        detail = f"{group.code} households {before} → {households}"
        await audit(uow, "group_updated", actor=actor, group_id=group.id, detail=detail)
    return before


async def require_group(uow: UnitOfWork, code: str, ward_id: int | None) -> ResidentialGroup:
    """The ward's group with this code, or a `MembershipError('no_group')`."""
    group = await uow.groups.by_code(code, ward_id)
    if group is None:
        raise MembershipError("no_group", code=code.strip().upper())
    return group


async def require_group_by_id(uow: UnitOfWork, group_id: int) -> ResidentialGroup:
    """The group with this id (one the caller leads), or a `MembershipError('no_group')`."""
    group = await uow.groups.get(group_id)
    if group is None:
        raise MembershipError("no_group")
    return group


async def issue_invite(
    uow: UnitOfWork,
    group: ResidentialGroup,
    role: str,
    *,
    actor: int | None,
    now: datetime,
    valid_for: timedelta,
    name: str | None = None,
) -> str:
    """A fresh single-use invite code for head or deputy (named `name` by the ward, when given); only its
    hash is stored."""
    if role not in LEADER_ROLES:
        raise MembershipError("bad_role", role=role)
    code = await _new_invite(
        uow,
        role,
        ward_id=group.ward_id,
        group_id=group.id,
        actor=actor,
        now=now,
        valid_for=valid_for,
        name=name,
    )
    await audit(uow, "invite_issued", actor=actor, group_id=group.id, detail=role)
    return code


async def issue_staff_invite(
    uow: UnitOfWork,
    ward_id: int | None,
    *,
    actor: int | None,
    now: datetime,
    valid_for: timedelta = SETUP_VALID_FOR,
    setup: bool = False,
    actor_label: str = "",
) -> str:
    """A single-use code that makes its opener staff of the ward (province staff when `ward_id` is
    None). A setup code revokes the ward's previous unused one, so only the newest printed works."""
    role = PROVINCE if ward_id is None else STAFF
    if setup:
        for previous in await uow.invites.open_setup(ward_id, now):
            previous.expires_at = now
    code = await _new_invite(
        uow, role, ward_id=ward_id, group_id=None, actor=actor, now=now, valid_for=valid_for, setup=setup
    )
    await audit(
        uow,
        "setup_link_issued" if setup else "invite_issued",
        actor=actor,
        actor_label=actor_label,
        ward_id=ward_id,
        detail=role,
    )
    return code


async def _new_invite(
    uow: UnitOfWork,
    role: str,
    *,
    ward_id: int | None,
    group_id: int | None,
    actor: int | None,
    now: datetime,
    valid_for: timedelta,
    setup: bool = False,
    name: str | None = None,
) -> str:
    code = secrets.token_urlsafe(INVITE_BYTES)
    await uow.invites.add(
        Invite(
            code_hash=code_hash(code),
            ward_id=ward_id,
            group_id=group_id,
            role=role,
            name=name,
            setup=setup,
            created_by=actor,
            created_at=now,
            expires_at=now + valid_for,
        )
    )
    return code


async def redeem_invite(uow: UnitOfWork, code: str, person_id: int, *, now: datetime) -> RedeemResult:
    """Make the person head, deputy or staff if the code is valid; anything else changes nothing."""
    invite = await uow.invites.by_hash(code_hash(code.strip()))
    if invite is None:
        return RedeemResult(Redemption.UNKNOWN)
    group = invite.group
    if group is None:
        return await _redeem_staff_invite(uow, invite, person_id, now=now)
    known = RedeemResult(Redemption.UNKNOWN, invite.role, group.code, group.name)
    if invite.used_at is not None:
        return replace(known, outcome=Redemption.USED)
    if invite.expires_at <= now:
        return replace(known, outcome=Redemption.EXPIRED)
    if await uow.groups.membership(person_id, group.id, invite.role) is not None:
        return replace(known, outcome=Redemption.ALREADY_THERE)
    for membership in await uow.groups.memberships_of(person_id):
        if membership.role in LEADER_ROLES and membership.group_id != group.id:
            return replace(known, outcome=Redemption.ALREADY_LEADS_OTHER, other_group=membership.group.code)
    person = await uow.people.get(person_id)
    if person is not None and person.is_staff and person.ward_id not in (None, group.ward_id):
        # A ward's staff act in their ward: leading another ward's group would file its reports there.
        ward = await uow.wards.get(person.ward_id)
        return replace(known, outcome=Redemption.STAFF_ELSEWHERE, other_group=ward.name if ward else "")
    holder = await uow.groups.holder(group.id, invite.role)
    if holder is not None:
        return replace(known, outcome=Redemption.ROLE_TAKEN, other_group=holder.person.display_name)
    other_role = await uow.groups.membership(person_id, group.id, DEPUTY if invite.role == HEAD else HEAD)
    if other_role is not None:
        await uow.groups.remove_membership(other_role)
    await uow.groups.add_membership(person_id, group.id, invite.role)
    invite.used_at, invite.used_by = now, person_id
    if invite.name:
        person = await uow.people.get(person_id)
        if person is not None:
            record_name(person, invite.name)
    await audit(uow, f"{invite.role}_joined", actor=person_id, group_id=group.id, subject=person_id)
    return replace(known, outcome=Redemption.JOINED, ward_id=group.ward_id)


async def _redeem_staff_invite(
    uow: UnitOfWork, invite: Invite, person_id: int, *, now: datetime
) -> RedeemResult:
    """Make the person staff of the invite's ward (or province staff); one person serves one ward."""
    known = RedeemResult(
        Redemption.UNKNOWN,
        invite.role,
        ward_id=invite.ward_id,
        setup=invite.setup,
        invited_by=invite.created_by,
    )
    person = await uow.people.get(person_id)
    if person is None or invite.role not in STAFF_ROLES:
        return known
    province = invite.role == PROVINCE
    if person.is_province if province else (person.is_staff and person.ward_id == invite.ward_id):
        return replace(known, outcome=Redemption.ALREADY_THERE)  # whatever the link: a second tap says so
    if invite.used_at is not None:
        return replace(known, outcome=Redemption.USED)
    if invite.expires_at <= now:
        return replace(known, outcome=Redemption.EXPIRED)
    label = BY_SETUP_LINK if invite.setup else ""
    if province:
        person.is_province = True
        await audit(
            uow, "province_staff_added", actor=invite.created_by, actor_label=label, subject=person.id
        )
    elif person.is_staff and person.ward_id is not None:
        ward = await uow.wards.get(person.ward_id)
        return replace(known, outcome=Redemption.STAFF_ELSEWHERE, other_group=ward.name if ward else "")
    elif elsewhere := [
        m.group.code
        for m in await uow.groups.memberships_of(person.id)
        if m.role in LEADER_ROLES and m.group.ward_id != invite.ward_id
    ]:  # a group head of another ward would act in this ward, and file that group's reports here
        return replace(known, outcome=Redemption.ALREADY_LEADS_OTHER, other_group=elsewhere[0])
    else:
        await set_staff(
            uow,
            person.platform,
            person.external_id,
            name=None,
            is_staff=True,
            ward_id=invite.ward_id,
            actor=invite.created_by,
            actor_label=label,
        )
    invite.used_at, invite.used_by = now, person_id
    return replace(known, outcome=Redemption.JOINED)


async def remove_leader(uow: UnitOfWork, group: ResidentialGroup, role: str, *, actor: int | None) -> Person:
    """Remove the head (or deputy) of a group; returns who it was."""
    holder = await uow.groups.holder(group.id, role)
    if holder is None:
        raise MembershipError("no_holder", code=group.code)
    person = holder.person
    await uow.groups.remove_membership(holder)
    await audit(uow, f"{role}_removed", actor=actor, group_id=group.id, subject=person.id)
    return person


async def link_chat(
    uow: UnitOfWork,
    platform: str,
    chat_external_id: str,
    group: ResidentialGroup,
    *,
    actor: int,
    title: str = "",
) -> None:
    """Make this chat the group's chat (replacing an earlier one, which is unlinked)."""
    chat = await uow.chats.ensure(platform, chat_external_id, "group", title)
    if chat.group_id is not None and chat.group_id != group.id:
        raise MembershipError("chat_linked_elsewhere", code=chat.group.code if chat.group else "")
    previous = await uow.chats.of_group(group.id)
    if previous is not None and previous.id != chat.id:
        previous.group_id = None
        await uow.session.flush()
    chat.group_id, chat.active = group.id, True
    await audit(
        uow, "chat_linked", actor=actor, group_id=group.id, detail=f"{platform}:{chat_external_id} {title}"
    )


async def unlink_chat(
    uow: UnitOfWork, platform: str, chat_external_id: str, *, actor: int
) -> ResidentialGroup:
    """Detach this chat from its group; returns the group it was linked to."""
    chat = await uow.chats.find(platform, chat_external_id)
    if chat is None or chat.group is None:
        raise MembershipError("chat_not_linked")
    group = chat.group
    chat.group_id = None
    await audit(uow, "chat_unlinked", actor=actor, group_id=group.id, detail=f"{platform}:{chat_external_id}")
    return group


async def move_chat(uow: UnitOfWork, platform: str, old_id: str, new_id: str) -> bool:
    """A chat got a new id (a Telegram group upgraded to a supergroup): its link follows; True if moved."""
    if old_id == new_id:
        return False
    old = await uow.chats.find(platform, old_id)
    if old is None:
        return False
    new = await uow.chats.find(platform, new_id)
    if new is None:
        old.external_id = new_id
        group_id = old.group_id
    else:
        group_id = old.group_id if old.group_id is not None else new.group_id
        old.group_id, old.active = None, False
        await uow.session.flush()
        new.group_id, new.active = group_id, True
        if not new.title:
            new.title = old.title
    await audit(
        uow, "chat_moved", actor=None, actor_label=platform, group_id=group_id, detail=f"{old_id} → {new_id}"
    )
    return True


async def set_chat_active(
    uow: UnitOfWork,
    platform: str,
    chat_external_id: str,
    active: bool,
    *,
    kind: str = "group",
    title: str = "",
) -> None:
    """The bot was added to or removed from a chat (or a send to it was refused)."""
    chat = await uow.chats.ensure(platform, chat_external_id, kind, title)
    if chat.active != active:
        chat.active = active
        await audit(
            uow,
            "chat_active" if active else "chat_inactive",
            actor=None,
            actor_label=platform,
            group_id=chat.group_id,
            detail=f"{platform}:{chat_external_id} {chat.title}",
        )


async def set_person_active(uow: UnitOfWork, platform: str, external_id: str, active: bool) -> None:
    """A person blocked the bot (403) or came back."""
    person = await uow.people.find(platform, external_id)
    if person is not None and person.active != active:
        person.active = active
        await audit(
            uow,
            "person_active" if active else "person_inactive",
            actor=None,
            actor_label=platform,
            subject=person.id,
        )


async def follow(uow: UnitOfWork, person_id: int, group: ResidentialGroup) -> bool:
    """Subscribe a resident to a group's announcements; False when already following."""
    if await uow.groups.membership(person_id, group.id, FOLLOWER) is not None:
        return False
    await uow.groups.add_membership(person_id, group.id, FOLLOWER)
    await audit(uow, "followed", actor=person_id, group_id=group.id, subject=person_id)
    return True


async def unfollow(uow: UnitOfWork, person_id: int, group: ResidentialGroup | None) -> int:
    """Stop following one group (or all when `group` is None); returns how many were dropped."""
    if group is None:
        dropped = await uow.groups.unfollow_all(person_id)
    else:
        membership = await uow.groups.membership(person_id, group.id, FOLLOWER)
        dropped = 0
        if membership is not None:
            await uow.groups.remove_membership(membership)
            dropped = 1
    if dropped:
        await audit(
            uow, "unfollowed", actor=person_id, group_id=group.id if group else None, subject=person_id
        )
    return dropped


async def group_lines(uow: UnitOfWork, ward_id: int | None) -> list[GroupLine]:
    """Every group of the ward with its head, deputy and chat, for staff."""
    leaders: dict[tuple[int, str], str] = {
        (m.group_id, m.role): m.person.display_name or m.person.external_id
        for m in await uow.groups.leaders(ward_id)
    }
    chats = {chat.group_id: chat for chat in await uow.chats.linked()}
    lines = []
    for group in await uow.groups.all(ward_id):
        chat = chats.get(group.id)
        lines.append(
            GroupLine(
                group.code,
                group.name,
                group.households,
                group.block,
                leaders.get((group.id, HEAD)),
                leaders.get((group.id, DEPUTY)),
                chat.title or chat.external_id if chat else None,
                chat.active if chat else False,
            )
        )
    return lines


@dataclass(frozen=True)
class AuditLine:
    """One audit entry with names instead of ids, for `wardbot audit`."""

    at: datetime
    action: str
    actor: str
    group: str
    subject: str
    detail: str


async def audit_lines(uow: UnitOfWork, count: int, ward_id: int | None = None) -> list[AuditLine]:
    """The newest `count` entries (of one ward, when given), oldest first."""
    entries = list(await uow.audit.last(count, ward_id))
    mentioned = {e.actor_id for e in entries} | {e.subject_id for e in entries}
    people = {p.id: p for p in await uow.people.by_ids(mentioned)}
    groups = {g.id: g.code for g in await uow.groups.all(ward_id)}

    def who(person_id: int | None) -> str:
        person = people.get(person_id) if person_id is not None else None
        return f"{person.display_name or '?'} ({person.platform}:{person.external_id})" if person else ""

    return [
        AuditLine(
            entry.at,
            entry.action,
            who(entry.actor_id) or entry.actor_label,
            groups.get(entry.group_id, "") if entry.group_id is not None else "",
            who(entry.subject_id),
            entry.detail,
        )
        for entry in entries
    ]


@dataclass(frozen=True)
class GroupRow:
    """A group as read from the ward file or a CSV file."""

    code: str
    name: str
    households: int
    block: str | None = None
    has_block: bool = True  # False when the file has no block column: keep what is stored


@dataclass(frozen=True)
class WardGroupChange:
    """What a start did with one [[groups]] entry of the ward file, for the log.

    `applied` are (field, before, after) taken from the ward file because they changed there since
    the last start; `kept` are (field, database value, ward file value) left as set in chat or by CSV
    when the ward file's entry was first seen. A group the ward file created has `created`.
    """

    code: str
    created: bool = False
    applied: tuple[tuple[str, object, object], ...] = ()
    kept: tuple[tuple[str, object, object], ...] = ()


WARD_FILE = "ward file"
_NOT_GIVEN = object()  # a field the ward file's previous entry did not give


def _ward_fields(row: GroupRow) -> dict[str, object]:
    """The fields a ward-file entry gives: name and households always, the block only when written."""
    fields: dict[str, object] = {"name": row.name, "households": row.households}
    if row.has_block:
        fields["block"] = row.block
    return fields


async def apply_ward_groups(
    uow: UnitOfWork, ward_id: int, rows: Sequence[GroupRow], *, now: datetime | None = None
) -> list[WardGroupChange]:
    """Take in the ward file's [[groups]]: it creates groups, and for existing ones wins only for the
    fields it gives that changed in the file since the last start; edits made in chat or by CSV stay.

    Each group remembers the entry last taken in (`ward_entry`); a group without one (added in chat
    or by CSV, or from before this rule) records it and keeps its values. Returns the groups touched.
    """
    changes: list[WardGroupChange] = []
    for row in rows:
        given = _ward_fields(row)
        entry = json.dumps(given, ensure_ascii=False, sort_keys=True)
        group = await uow.groups.by_code(row.code, ward_id)
        if group is None:
            group = await uow.groups.add(
                ward_id, row.code.upper(), row.name, row.households, row.block, created_at=now
            )
            group.ward_entry = entry
            detail = f"{group.code} {row.name} (new in the ward file)"
            await audit(
                uow, "group_added", actor=None, actor_label=WARD_FILE, group_id=group.id, detail=detail
            )
            changes.append(WardGroupChange(group.code, created=True))
            continue
        last: dict[str, object] | None = json.loads(group.ward_entry) if group.ward_entry else None
        applied: list[tuple[str, object, object]] = []
        kept: list[tuple[str, object, object]] = []
        for field, value in given.items():
            current = getattr(group, field)
            if current == value:
                continue
            if last is not None and last.get(field, _NOT_GIVEN) != value:
                setattr(group, field, value)
                applied.append((field, current, value))
            elif last is None:
                kept.append((field, current, value))
        group.ward_entry = entry
        if applied:
            said = "; ".join(f"{field} {before} → {after}" for field, before, after in applied)
            detail = f"{group.code} {said} (changed in the ward file since the last start)"
            await audit(
                uow, "group_updated", actor=None, actor_label=WARD_FILE, group_id=group.id, detail=detail
            )
        if applied or kept:
            changes.append(WardGroupChange(group.code, applied=tuple(applied), kept=tuple(kept)))
    return changes


async def upsert_groups(
    uow: UnitOfWork, ward_id: int, rows: Sequence[GroupRow], *, actor_label: str
) -> tuple[int, int]:
    """Create or update a ward's groups by code; returns (created, updated). Re-running changes nothing."""
    created = updated = 0
    for row in rows:
        group = await uow.groups.by_code(row.code, ward_id)
        if group is None:
            group = await uow.groups.add(ward_id, row.code.upper(), row.name, row.households, row.block)
            await audit(
                uow,
                "group_added",
                actor=None,
                actor_label=actor_label,
                group_id=group.id,
                detail=f"{group.code} {row.name}",
            )
            created += 1
            continue
        block = row.block if row.has_block else group.block
        if (group.name, group.households, group.block) != (row.name, row.households, block):
            group.name, group.households, group.block = row.name, row.households, block
            await audit(
                uow,
                "group_updated",
                actor=None,
                actor_label=actor_label,
                group_id=group.id,
                detail=f"{group.code} {row.name} {row.households}",
            )
            updated += 1
    return created, updated
