"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from bot.wiring import Wiring
from storage.models import Base


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrated_database_matches_the_models(wiring: Wiring) -> None:
    async with wiring.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []
