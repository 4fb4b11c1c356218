"""The wards of a deployment: one ward file each, kept in the `wards` table.

A single-ward installation upgraded from before wards existed has one ward row (code WARD); its
first start with a ward file gives that row the file's code and name, so nothing moves.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.ward_config import WardFile
from storage.models import Ward
from storage.unit_of_work import UnitOfWork


def ward_code(ward: WardFile) -> str:
    """The ward's code: `[ward] code`, else the file's name without .toml, upper-case."""
    return ward.code.upper()


async def sync_wards(uow: UnitOfWork, files: Sequence[WardFile]) -> dict[int, WardFile]:
    """A row per ward file (created or renamed); returns the files by ward id."""
    rows = list(await uow.wards.all())
    by_code = {row.code: row for row in rows}
    if len(files) == 1 and len(rows) == 1 and ward_code(files[0]) not in by_code:
        only = rows[0]  # one ward before and after: it is the same ward under its file's code
        by_code = {ward_code(files[0]): only}
        only.code = ward_code(files[0])
    found: dict[int, WardFile] = {}
    for file in files:
        code = ward_code(file)
        row = by_code.get(code)
        if row is None:
            row = await uow.wards.add(Ward(code=code, name=file.ward.name))
            by_code[code] = row
        elif row.name != file.ward.name:
            row.name = file.ward.name
        found[row.id] = file
    return found
