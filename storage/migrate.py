"""Apply Alembic migrations from code (start-up, the CLI and the tests share this)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import create_engine
from storage.locks import MIGRATIONS, lock_for_transaction

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at our migrations, without needing alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@cache
def _newest() -> frozenset[str]:
    """The head revisions of the migrations shipped with this code, read once per process (reading
    them compiles every migration script)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


class MigrationError(Exception):
    """A migration left rows pointing nowhere; nothing was committed."""


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to `revision` (the newest by default), keeping every row.

    SQLite alters a table by rebuilding it; that runs with foreign keys off (as SQLite's documentation
    prescribes), and the whole migration is checked with `PRAGMA foreign_key_check` before it commits.
    """
    url = engine.url.render_as_string(hide_password=False)
    config = alembic_config(url)

    def _upgrade(connection: Connection) -> None:
        if (
            revision == "head"
            and set(MigrationContext.configure(connection).get_current_heads()) == _newest()
        ):
            return  # already the newest: every start and every test, so spare Alembic's set-up
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    sqlite = engine.dialect.name == "sqlite"
    migrating = create_engine(url, foreign_keys=False) if sqlite else engine
    try:
        async with migrating.begin() as connection:
            await lock_for_transaction(connection, MIGRATIONS)  # several workers starting: one migrates
            await connection.run_sync(_upgrade)
            if sqlite:
                broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).fetchall()
                if broken:
                    raise MigrationError(f"the migration would leave {len(broken)} rows pointing nowhere")
    finally:
        if migrating is not engine:
            await migrating.dispose()
