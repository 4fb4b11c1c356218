"""The SQLite driver: one trip to the connection's thread per statement, large results still streamed."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import sqlite_driver
from storage.engine import create_engine
from storage.sqlite_driver import FIRST_ROWS, FastConnection


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the functions run in the connection's thread, in order (every trip goes through
    aiosqlite's `_execute`)."""
    made: list[str] = []
    execute = FastConnection._execute

    async def counted(self: FastConnection, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        made.append(getattr(function, "__name__", repr(function)))
        return await execute(self, function, *args, **kwargs)

    monkeypatch.setattr(FastConnection, "_execute", counted)
    return made


async def test_the_engine_uses_the_driver(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.driver_connection, FastConnection)


async def test_a_statement_and_its_rows_take_one_trip(engine: AsyncEngine, trips: list[str]) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO items (name) VALUES ('a'), ('b')"))
        trips.clear()
        rows = (await connection.execute(text("SELECT name FROM items ORDER BY id"))).all()
        assert trips == ["_run"]
        trips.clear()
        changed = await connection.execute(text("UPDATE items SET name = name || '!' WHERE id = 1"))
        assert trips == ["_run"]
    assert [row.name for row in rows] == ["a", "b"]
    assert changed.rowcount == 1


async def test_insert_returning_and_lastrowid(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        returned = await connection.execute(text("INSERT INTO items (name) VALUES ('x') RETURNING id, name"))
        assert [tuple(row) for row in returned] == [(1, "x")]
        inserted = await connection.execute(text("INSERT INTO items (name) VALUES ('y')"))
        assert inserted.lastrowid == 2


async def test_many_parameter_sets_in_one_trip(engine: AsyncEngine, trips: list[str]) -> None:
    names = [{"name": f"n{number}"} for number in range(50)]
    async with engine.begin() as connection:
        trips.clear()
        await connection.execute(text("INSERT INTO items (name) VALUES (:name)"), names)
        assert trips == ["_run"]
        count = await connection.scalar(text("SELECT count(*) FROM items"))
    assert count == 50


async def test_a_large_result_is_fetched_in_parts(engine: AsyncEngine, trips: list[str]) -> None:
    total = FIRST_ROWS * 2 + 7
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO items (name) VALUES (:name)"), [{"name": str(n)} for n in range(total)]
        )
        trips.clear()
        names = (await connection.execute(text("SELECT name FROM items ORDER BY id"))).scalars().all()
    assert names == [str(n) for n in range(total)]
    assert trips[0] == "_run" and len(trips) > 1  # the rest came in further trips


async def test_a_streamed_result_comes_in_partitions(engine: AsyncEngine, trips: list[str]) -> None:
    total = FIRST_ROWS * 3
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO items (name) VALUES (:name)"), [{"name": str(n)} for n in range(total)]
        )
        trips.clear()
        result = await connection.stream(text("SELECT id FROM items ORDER BY id"))
        seen: list[int] = []
        async for partition in result.partitions(100):
            assert len(partition) <= 100
            seen.extend(row.id for row in partition)
    assert seen == list(range(1, total + 1))
    assert trips[0] == "_run" and len(trips) >= 3  # never more than FIRST_ROWS ahead of the reader


async def test_an_error_changes_nothing_and_the_connection_goes_on(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO items (name) VALUES ('same')"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO items (name) VALUES ('other')"))
            await connection.execute(text("INSERT INTO items (name) VALUES ('same')"))
    async with engine.connect() as connection:
        names = (await connection.execute(text("SELECT name FROM items"))).scalars().all()
    assert names == ["same"]


async def test_connect_opens_a_file_with_sqlite3_options(tmp_path: Path) -> None:
    connection = await sqlite_driver.connect(str(tmp_path / "plain.sqlite3"), timeout=1.5)
    try:
        cursor = connection.cursor()
        await cursor.execute("SELECT sqlite_version()")
        (version,) = await cursor.fetchall()
        assert version[0] == sqlite3.sqlite_version
        assert await cursor.fetchone() is None
    finally:
        await connection.close()


async def test_a_database_that_cannot_be_opened_leaves_no_thread_behind(tmp_path: Path) -> None:
    """Else the thread reports "Event loop is closed" once the command that failed has ended."""

    def workers() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name and t.is_alive()}

    before = workers()
    with pytest.raises(sqlite3.OperationalError):
        await sqlite_driver.connect(str(tmp_path / "missing" / "folder" / "x.sqlite3"))
    assert workers() - before == set()


async def test_a_connection_given_back_after_a_commit_costs_no_trip(
    engine: AsyncEngine, trips: list[str]
) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO items (name) VALUES ('kept')"))
        trips.clear()
    assert trips == ["commit"]  # and no rollback when the pool takes the connection back
    with pytest.raises(RuntimeError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO items (name) VALUES ('dropped')"))
            raise RuntimeError("a failed step")
    async with engine.connect() as connection:
        names = (await connection.execute(text("SELECT name FROM items"))).scalars().all()
    assert names == ["kept"]
