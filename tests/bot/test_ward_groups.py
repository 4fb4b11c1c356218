"""The ward file's [[groups]] against chat and CSV edits: the file seeds groups and wins only for the
fields it gives that changed in the file since the last start; a start that changes a group says so."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text

from bot.application import prepare
from bot.membership import GroupRow, add_group, set_households, upsert_groups
from bot.ward_config import GroupEntry, WardFile
from bot.wiring import Wiring
from storage.unit_of_work import unit_of_work
from tests.wards import WARD


def ward_with(ward: WardFile, *groups: GroupEntry) -> WardFile:
    return replace(ward, groups=groups)


async def rows(wiring: Wiring) -> list[tuple[Any, ...]]:
    async with wiring.engine.connect() as connection:
        result = await connection.execute(
            text("SELECT code, name, households, block FROM residential_groups ORDER BY code")
        )
        return [tuple(row) for row in result]


async def audit(wiring: Wiring) -> list[tuple[str, str, str]]:
    async with wiring.engine.connect() as connection:
        result = await connection.execute(
            text("SELECT action, actor_label, detail FROM audit_log ORDER BY id")
        )
        return [(action, label, detail) for action, label, detail in result]


async def start(wiring: Wiring, ward: WardFile, caplog: pytest.LogCaptureFixture) -> list[str]:
    """What `wardbot run` (or any CLI command) does with the ward file at start-up; its log lines."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.application"):
        wiring.ward, wiring.ward_files = ward, (ward,)
        await prepare(wiring)
    return [r.getMessage() for r in caplog.records if r.name == "bot.application"]


ONE = GroupEntry("TDP01", "Tổ dân phố số 1", 300, "Khu vực 1")
TWO = GroupEntry("TDP02", "Tổ dân phố số 2", 120)


async def test_edits_in_chat_or_by_csv_survive_a_start_with_an_unchanged_ward_file(
    wiring: Wiring, ward: WardFile, caplog: pytest.LogCaptureFixture
) -> None:
    file = ward_with(ward, ONE, TWO)
    assert await start(wiring, file, caplog) == [
        "ward file: added group TDP01 (new in the ward file)",
        "ward file: added group TDP02 (new in the ward file)",
    ]
    async with unit_of_work(wiring.factory) as uow:
        group = await uow.groups.by_code("TDP01", WARD)
        assert group is not None
        await set_households(uow, group, 305, actor=None)  # /households TDP01 305
        await upsert_groups(
            uow, WARD, [GroupRow("TDP02", "Tổ 2 — Khu phố Đông", 125, "Khu vực 2")], actor_label="import"
        )
    edited = await rows(wiring)

    assert await start(wiring, file, caplog) == []  # the same ward file: nothing to say, nothing changed
    assert (
        await rows(wiring)
        == edited
        == [
            ("TDP01", "Tổ dân phố số 1", 305, "Khu vực 1"),
            ("TDP02", "Tổ 2 — Khu phố Đông", 125, "Khu vực 2"),
        ]
    )


async def test_a_field_changed_in_the_ward_file_wins_and_the_start_says_what_and_why(
    wiring: Wiring, ward: WardFile, caplog: pytest.LogCaptureFixture
) -> None:
    await start(wiring, ward_with(ward, ONE, TWO), caplog)
    async with unit_of_work(wiring.factory) as uow:
        await upsert_groups(
            uow,
            WARD,
            [GroupRow("TDP01", "Tổ 1 (sửa bằng CSV)", 305, None, has_block=False)],
            actor_label="import",
        )

    changed = ward_with(ward, replace(ONE, households=320), replace(TWO, block="Khu vực 3"))
    assert await start(wiring, changed, caplog) == [
        "ward file: group TDP01: households 305 → 320 (changed in the ward file since the last start)",
        "ward file: group TDP02: block None → 'Khu vực 3' (changed in the ward file since the last start)",
    ]
    assert await rows(wiring) == [
        ("TDP01", "Tổ 1 (sửa bằng CSV)", 320, "Khu vực 1"),  # the name set by CSV stays
        ("TDP02", "Tổ dân phố số 2", 120, "Khu vực 3"),
    ]
    assert (await audit(wiring))[-2:] == [
        (
            "group_updated",
            "ward file",
            "TDP01 households 305 → 320 (changed in the ward file since the last start)",
        ),
        (
            "group_updated",
            "ward file",
            "TDP02 block None → Khu vực 3 (changed in the ward file since the last start)",
        ),
    ]
    without_block = ward_with(ward, replace(ONE, households=320), TWO)
    assert await start(wiring, without_block, caplog) == []  # a block no longer given is not cleared
    assert (await rows(wiring))[1] == ("TDP02", "Tổ dân phố số 2", 120, "Khu vực 3")


async def test_a_group_added_in_chat_keeps_its_values_when_the_ward_file_first_names_it(
    wiring: Wiring, ward: WardFile, caplog: pytest.LogCaptureFixture
) -> None:
    async with unit_of_work(wiring.factory) as uow:
        await add_group(
            uow, WARD, "Tổ dân phố số 1", 280, actor=None, code="TDP01"
        )  # /addgroup, before any ward file
    lines = await start(wiring, ward_with(ward, ONE), caplog)
    assert lines == [
        "ward file: group TDP01 keeps households 280 (the file says 300), block None (the file says "
        "'Khu vực 1'), set in chat or by CSV; edit its entry in the ward file to apply the file's value"
    ]
    assert await rows(wiring) == [("TDP01", "Tổ dân phố số 1", 280, None)]
    assert await start(wiring, ward_with(ward, ONE), caplog) == []  # said once
    assert await start(wiring, ward_with(ward, replace(ONE, households=290)), caplog) == [
        "ward file: group TDP01: households 280 → 290 (changed in the ward file since the last start)"
    ]
