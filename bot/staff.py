"""Ward staff without a shell: the setup link of a ward that has no staff, the staff list, and removal.

Staff join through the same invites as heads (bot.membership: a `staff` or `province` invite); a
setup code is such an invite, valid 24 hours, printed where the bot runs. The one rule kept here: a
ward never loses its last staff member in chat (the command line stays for recovery).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.membership import MembershipError, issue_staff_invite, set_staff
from bot.wiring import Wiring
from storage.models import Person
from storage.unit_of_work import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)

STAFF_ADDED = "staff_added"
AT_START = "start-up"  # the audit's actor label of setup codes issued by `wardbot run`


@dataclass(frozen=True)
class StaffLine:
    """One line of `/staff`: who, and when and by whom they were made staff (as far as the audit knows)."""

    person_id: int
    name: str
    platform: str
    added_at: datetime | None
    added_by: str  # a person's name, or an audit label (command line, setup link), or "" when unknown


async def staff_lines(uow: UnitOfWork, ward_id: int) -> list[StaffLine]:
    """The ward's staff by name, each with their newest `staff_added` entry of the audit log."""
    staff = list(await uow.people.staff(ward_id))
    added = await uow.audit.latest(STAFF_ADDED, (person.id for person in staff), ward_id)
    actors = {p.id: p for p in await uow.people.by_ids(entry.actor_id for entry in added.values())}
    lines = []
    for person in staff:
        entry = added.get(person.id)
        actor = actors.get(entry.actor_id) if entry is not None and entry.actor_id is not None else None
        by = _name(actor) if actor is not None else (entry.actor_label if entry is not None else "")
        lines.append(StaffLine(person.id, _name(person), person.platform, entry.at if entry else None, by))
    return lines


def _name(person: Person) -> str:
    return person.display_name or f"{person.platform}:{person.external_id}"


async def staff_member(uow: UnitOfWork, ward_id: int, person_id: int) -> Person:
    """The ward's staff member with this id, or `MembershipError('not_staff')` (another ward's, gone)."""
    person = await uow.people.get(person_id)
    if person is None or not person.is_staff or person.ward_id != ward_id:
        raise MembershipError("not_staff")
    return person


async def remove_staff(uow: UnitOfWork, ward_id: int, person_id: int, *, actor: int) -> Person:
    """Stop someone being the ward's staff; never the last one (so nobody is left to run the ward)."""
    person = await staff_member(uow, ward_id, person_id)
    if len(await uow.people.staff(ward_id, lock=True)) <= 1:
        raise MembershipError("last_staff")
    await set_staff(
        uow, person.platform, person.external_id, name=None, is_staff=False, actor=actor, actor_label=""
    )
    return person


@dataclass(frozen=True)
class SetupCode:
    """A fresh setup code, and what it is for: a ward (its code and name), or the province."""

    code: str
    ward_code: str = ""  # "" for province staff
    ward_name: str = ""

    @property
    def what(self) -> str:
        return f"{self.ward_name} ({self.ward_code})" if self.ward_code else "the province"

    def lines(self, telegram_username: str, *, zalo: bool) -> list[str]:
        """How to use it, in English for whoever runs the server: Telegram's link and/or Zalo's text."""
        role = f"ward staff of {self.what}" if self.ward_code else "province staff (reads every ward)"
        lines = [f"Setup link: whoever opens it becomes {role}. It works once, within 24 hours."]
        if telegram_username:
            lines.append(f"  Telegram: https://t.me/{telegram_username}?start={self.code}")
        if zalo or not telegram_username:
            lines.append(f"  Zalo (or any chat with the bot): send the message  /start {self.code}")
        return lines


async def issue_setup_code(
    uow: UnitOfWork, ward_id: int | None, *, now: datetime, actor_label: str
) -> SetupCode:
    """A new setup code for the ward (the province when None); the previous unused one stops working."""
    code = await issue_staff_invite(uow, ward_id, actor=None, now=now, setup=True, actor_label=actor_label)
    if ward_id is None:
        return SetupCode(code)
    ward = await uow.wards.get(ward_id)
    return SetupCode(code, ward.code if ward else "", ward.name if ward else "")


async def announce_setup_links(wiring: Wiring, telegram_username: str, *, zalo: bool) -> list[SetupCode]:
    """At start: a setup link for each ward that has no staff (and for the province of a many-ward
    deployment without province staff), printed on standard output and logged (codes masked in logs)."""
    async with unit_of_work(wiring.factory) as uow:
        wanting: list[int | None] = [w for w in sorted(wiring.wards) if not await uow.people.staff(w)]
        if len(wiring.wards) > 1 and not await uow.people.province_staff():
            wanting.append(None)
        codes = [
            await issue_setup_code(uow, ward_id, now=wiring.clock(), actor_label=AT_START)
            for ward_id in wanting
        ]
    for setup in codes:
        lines = setup.lines(telegram_username, zalo=zalo)
        heading = (
            f"{setup.what} has no ward staff yet."
            if setup.ward_code
            else "Several wards share this deployment and there are no province staff yet."
        )
        print("\n".join([heading, *lines]), flush=True)
        log.info("%s %s", heading, " ".join(line.strip() for line in lines))
    return codes
