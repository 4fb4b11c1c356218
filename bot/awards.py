"""The award register (sổ khen thưởng): every award to a group, a household or a person, by name, with
its form and level (from the ward file's `[awards]`), decision number and date, and reason.

`/award` records what it announces; the year-end decision records the titles; `/titles` reads a
group's years, marking groups that held the group title several years running.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.errors import RuleError
from bot.export import ExportData
from bot.i18n import gettext as _
from bot.indicators import text_in
from bot.periods import parse_day
from bot.ward_config import WardFile
from storage.models import Award, ResidentialGroup
from storage.unit_of_work import UnitOfWork

GROUP_RECIPIENT, HOUSEHOLD_RECIPIENT, PERSON_RECIPIENT = "group", "household", "person"
FAMILY_TITLE_KEY, GROUP_TITLE_KEY = "family", "group"
NAME_LIMIT, NUMBER_LIMIT, TEXT_LIMIT = 300, 60, 1000

#: The words that start a field after ";" in /award, in either language.
FIELD_WORDS = {
    "form": "form",
    "hình thức": "form",
    "hinh thuc": "form",
    "level": "level",
    "cấp": "level",
    "cap": "level",
    "decision": "decision",
    "quyết định": "decision",
    "quyet dinh": "decision",
    "qđ": "decision",
    "person": "person",
    "cá nhân": "person",
    "ca nhan": "person",
    "household": "household",
    "hộ": "household",
    "ho": "household",
}
_FIELD = re.compile(r"^\s*([^:]{1,20}?)\s*:\s*(.+?)\s*$", re.DOTALL)


class AwardError(RuleError):
    """A field of /award that cannot be recorded; `reason` picks the reply."""


@dataclass(frozen=True)
class AwardFields:
    """What /award may give besides its text; None: not given (kept as it was)."""

    form: str | None = None
    level: str | None = None
    decision_number: str | None = None
    decision_date: date | None = None
    person: str | None = None
    household: str | None = None


def _listed(value: str, options: Sequence[dict[str, str]], what: str) -> str:
    """The ward file's own spelling (Vietnamese) of a form or level typed in either language."""
    wanted = value.casefold()
    for option in options:
        if wanted in (text_in(option, "vi").casefold(), text_in(option, "en").casefold()):
            return text_in(option, "vi")
    raise AwardError(what, value=value[:60], options=", ".join(text_in(o, "vi") for o in options))


def parse_fields(parts: Sequence[str], ward: WardFile) -> AwardFields:
    """`form: Giấy khen`, `level: phường`, `decision: 12/QĐ-UBND 20/12/2026`, `person: NAME` or
    `household: NAME`, each checked; refused with what to write instead."""
    found: dict[str, Any] = {}
    for part in parts:
        if not part.strip():
            continue
        match = _FIELD.match(part)
        key = FIELD_WORDS.get(match.group(1).casefold()) if match else None
        if match is None or key is None:
            raise AwardError("field", part=part.strip()[:60])
        value = match.group(2)
        if key == "form":
            found["form"] = _listed(value, ward.awards.forms, "form")
        elif key == "level":
            found["level"] = _listed(value, ward.awards.levels, "level")
        elif key == "decision":
            number, _sep, day = value.rpartition(" ")
            signed = parse_day(day)
            if not number.strip() or signed is None or len(number.strip()) > NUMBER_LIMIT:
                raise AwardError("decision", value=value[:60])
            found["decision_number"], found["decision_date"] = number.strip(), signed
        else:
            if len(value) > NAME_LIMIT:
                raise AwardError("name", limit=NAME_LIMIT)
            found[key] = value
    if "person" in found and "household" in found:
        raise AwardError("both")
    return AwardFields(**found)


def split_command(text: str) -> tuple[str, list[str]]:
    """`/award TDP03 TEXT; form: …; level: …` → ("TDP03 TEXT", ["form: …", "level: …"]).

    A ";" inside the text is kept when what follows is not a field word, so citations keep theirs.
    """
    pieces = text.split(";")
    head, fields = [pieces[0]], []
    for piece in pieces[1:]:
        match = _FIELD.match(piece)
        if match and match.group(1).casefold() in FIELD_WORDS:
            fields.append(piece)
        elif fields:
            fields[-1] += ";" + piece
        else:
            head.append(piece)
    return ";".join(head).strip(), fields


async def record_award(
    uow: UnitOfWork,
    group: ResidentialGroup,
    citation: str,
    fields: AwardFields,
    *,
    year: int,
    created_by: int,
    now: datetime,
) -> Award:
    """One line of the register for `/award`: to the group, or to a person or household of it."""
    kind, name = GROUP_RECIPIENT, group.name
    if fields.person:
        kind, name = PERSON_RECIPIENT, fields.person
    elif fields.household:
        kind, name = HOUSEHOLD_RECIPIENT, fields.household
    return await uow.awards.add(
        Award(
            ward_id=group.ward_id,
            year=year,
            recipient_kind=kind,
            recipient_name=name[:NAME_LIMIT],
            group_id=group.id,
            form=fields.form or "",
            level=fields.level or "",
            decision_number=fields.decision_number or "",
            decision_date=fields.decision_date,
            reason=citation[:TEXT_LIMIT],
            created_by=created_by,
            created_at=now,
        )
    )


def amend(award: Award, fields: AwardFields) -> None:
    """Fill in fields given later (`/award #ID; decision: …`)."""
    if fields.form is not None:
        award.form = fields.form
    if fields.level is not None:
        award.level = fields.level
    if fields.decision_number is not None:
        award.decision_number, award.decision_date = fields.decision_number, fields.decision_date
    if fields.person is not None:
        award.recipient_kind, award.recipient_name = PERSON_RECIPIENT, fields.person
    if fields.household is not None:
        award.recipient_kind, award.recipient_name = HOUSEHOLD_RECIPIENT, fields.household


@dataclass(frozen=True)
class TitleYears:
    """A group's years holding the group title, and how many of them run up to the latest one."""

    code: str
    name: str
    years: tuple[int, ...]

    @property
    def running(self) -> int:
        """Consecutive years ending with the newest title (2024, 2025, 2026 → 3)."""
        if not self.years:
            return 0
        count, year = 1, self.years[-1]
        while year - 1 in self.years:
            count, year = count + 1, year - 1
        return count


def title_years(awards: Sequence[Award], groups: Sequence[ResidentialGroup]) -> list[TitleYears]:
    """For each group, the years it held the group title (from the register)."""
    years: dict[int, set[int]] = {g.id: set() for g in groups}
    for award in awards:
        if award.title_key == GROUP_TITLE_KEY and award.group_id in years:
            years[award.group_id].add(award.year)
    return [TitleYears(g.code, g.name, tuple(sorted(years[g.id]))) for g in groups]


def award_rows(awards: Sequence[Award], groups: Sequence[ResidentialGroup]) -> list[list[Any]]:
    """The register as spreadsheet rows (the export's sheet; `_fill` keeps text as text, never a formula)."""
    codes = {g.id: g.code for g in groups}
    kinds = {GROUP_RECIPIENT: _("group"), HOUSEHOLD_RECIPIENT: _("households"), PERSON_RECIPIENT: _("person")}
    return [
        [
            award.year,
            kinds.get(award.recipient_kind, award.recipient_kind),
            award.recipient_name,
            codes.get(award.group_id or 0, ""),
            award.households,
            award.form,
            award.level,
            award.decision_number,
            award.decision_date.strftime("%d/%m/%Y") if award.decision_date else "",
            award.reason,
        ]
        for award in awards
    ]


async def with_awards(uow: UnitOfWork, data: ExportData, ward_id: int, year: int) -> ExportData:
    """A year's export with the award register's sheet."""
    awards = await uow.awards.of_ward(ward_id, years=[year])
    return dataclasses.replace(data, awards=award_rows(awards, await uow.groups.all(ward_id)))
