"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.wiring import Wiring
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.models import Base


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrated_database_matches_the_models(wiring: Wiring) -> None:
    async with wiring.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


async def test_upgrading_a_database_with_data_keeps_every_row(tmp_path: Path) -> None:
    """SQLite rebuilds a table to alter it: the children of a rebuilt parent must survive."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    await upgrade(engine, "0008")
    at = datetime(2026, 10, 1, 2, 0)
    statements = [
        "INSERT INTO people (id, platform, external_id, display_name, is_staff, active, created_at,"
        " updated_at) VALUES (1, 'telegram', '501', 'Nam', 0, 1, :at, :at)",
        "INSERT INTO residential_groups (id, code, name, households, created_at)"
        " VALUES (1, 'TDP01', 'Tổ dân phố số 1', 300, :at)",
        "INSERT INTO memberships (person_id, group_id, role, created_at) VALUES (1, 1, 'head', :at)",
        "INSERT INTO catalogues (id, fingerprint, indicators_json, created_at) VALUES (1, 'f', '[]', :at)",
        "INSERT INTO reports (id, group_id, month, catalogue_id, first_submitted_at, submitted_at, on_time)"
        " VALUES (1, 1, '2026-09', 1, :at, :at, 1)",
        "INSERT INTO report_values (report_id, key, value, flagged) VALUES (1, 'births', 2, 0)",
        "INSERT INTO report_drafts (group_id, month, person_id, catalogue_id, answers_json, position,"
        " updated_at) VALUES (1, '2026-10', 1, 1, '{}', 0, :at)",
    ]
    async with engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement), {"at": at})
    await upgrade(engine)
    async with engine.connect() as connection:
        counts = {
            table: await connection.scalar(text(f"SELECT count(*) FROM {table}"))
            for table in (
                "people",
                "residential_groups",
                "memberships",
                "reports",
                "report_values",
                "report_drafts",
            )
        }
        ward = await connection.scalar(text("SELECT ward_id FROM residential_groups"))
    await engine.dispose()
    assert counts == dict.fromkeys(counts, 1)
    assert ward is not None
