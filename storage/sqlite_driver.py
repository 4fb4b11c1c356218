"""aiosqlite with one thread hand-over per statement instead of four.

aiosqlite runs every call of the sqlite3 module in the connection's own thread: making a cursor,
executing, fetching the rows and closing the cursor are four trips there and back, each a queue
put, a thread wake-up and an event-loop wake-up. SQLAlchemy makes all four for every statement, and
in the report-flow benchmark those hand-overs were about a third of the bot's CPU per update.

`FastConnection` is aiosqlite's connection whose cursors execute and fetch the first rows in one
trip; a result that fits (nearly every one) is complete when `execute` returns, and the cursor is
closed in the same trip. Larger results (a year's standings, streamed in partitions) keep their
sqlite3 cursor open and fetch the rest in further trips, so streaming still holds memory down.
SQLite's work stays in the connection's thread, so a long query or a wait for another process's
write lock never blocks the event loop. It is plugged in with SQLAlchemy's documented
`async_creator` (storage/engine.py); the URL stays `sqlite+aiosqlite://`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

FIRST_ROWS = 512  # rows fetched with the statement itself; the rest in further trips

Description = tuple[tuple[str, None, None, None, None, None, None], ...] | None


@dataclass
class _Executed:
    """What one trip to the connection's thread brings back."""

    cursor: sqlite3.Cursor | None  # still open: more rows to fetch
    rows: list[Any]
    description: Description
    rowcount: int
    lastrowid: int | None


class FastCursor:
    """The part of aiosqlite's cursor SQLAlchemy uses, executing and fetching in one trip."""

    arraysize = 1

    def __init__(self, connection: FastConnection) -> None:
        self._connection = connection
        self._cursor: sqlite3.Cursor | None = None  # open only while rows remain unfetched
        self._rows: deque[Any] = deque()
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> FastCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    def _run(self, sql: str, parameters: Any, many: bool) -> _Executed:
        """In the connection's thread: execute, take the first rows, close the cursor if that was all."""
        cursor = self._connection.raw.cursor()
        try:
            if many:
                cursor.executemany(sql, parameters)
            else:
                cursor.execute(sql, parameters)
            rows = cursor.fetchmany(FIRST_ROWS) if cursor.description else []
        except BaseException:
            cursor.close()
            raise
        more = len(rows) == FIRST_ROWS
        if not more:
            cursor.close()
        kept = cursor if more else None
        return _Executed(kept, rows, cursor.description, cursor.rowcount, cursor.lastrowid)

    async def _execute(self, sql: str, parameters: Any, many: bool) -> FastCursor:
        await self.close()
        executed: _Executed = await self._connection.call(self._run, sql, parameters, many)
        self._cursor, self._rows = executed.cursor, deque(executed.rows)
        self.description, self.rowcount = executed.description, executed.rowcount
        self.lastrowid = executed.lastrowid
        return self

    async def execute(self, sql: str, parameters: Any = None) -> FastCursor:
        return await self._execute(sql, () if parameters is None else parameters, False)

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> FastCursor:
        return await self._execute(sql, parameters, True)

    async def _more(self, size: int | None) -> None:
        """Fetch further rows of a large result (all of them when `size` is None)."""
        cursor = self._cursor
        if cursor is None:
            return

        def fetch() -> tuple[list[Any], bool]:
            rows = cursor.fetchall() if size is None else cursor.fetchmany(size)
            done = size is None or len(rows) < size
            if done:
                cursor.close()
            return rows, done

        rows, done = await self._connection.call(fetch)
        if done:
            self._cursor = None
        self._rows.extend(rows)

    async def fetchone(self) -> Any:
        if not self._rows:
            await self._more(FIRST_ROWS)
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        wanted = self.arraysize if size is None else size
        if len(self._rows) < wanted:
            await self._more(max(wanted, FIRST_ROWS))
        return [self._rows.popleft() for _ in range(min(wanted, len(self._rows)))]

    async def fetchall(self) -> Sequence[Any]:
        await self._more(None)
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def __aiter__(self) -> AsyncIterator[Any]:
        while (row := await self.fetchone()) is not None:
            yield row

    async def close(self) -> None:
        self._rows.clear()
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            await self._connection.call(cursor.close)


class FastConnection(aiosqlite.Connection):
    """aiosqlite's connection handing out `FastCursor`s; everything else is aiosqlite's own."""

    @property
    def raw(self) -> sqlite3.Connection:
        """The sqlite3 connection, for use in the connection's thread only."""
        return self._conn

    async def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run `function(*args)` in the connection's thread."""
        return await self._execute(function, *args)  # type: ignore[no-untyped-call] # aiosqlite's own queue

    def cursor(self) -> FastCursor:  # type: ignore[override]
        return FastCursor(self)

    async def rollback(self) -> None:
        """Nothing to roll back costs no trip: SQLAlchemy's pool rolls back every connection it is
        given back, also after a commit. (Read here while the connection's thread is idle.)"""
        if self._conn.in_transaction:
            await super().rollback()


async def connect(database: str, **kwargs: Any) -> FastConnection:
    """Open `database` the way aiosqlite.connect does, with `FastCursor`s."""

    def connector() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(database, **kwargs)
        return connection

    connection = FastConnection(connector, 64)
    connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite: never hold the process open
    try:
        await connection
    except BaseException:
        # aiosqlite has told its thread to stop; let it finish while this event loop still runs, or
        # it reports "Event loop is closed" after a command that failed to open the database ended.
        for _ in range(1000):
            if not connection._thread.is_alive():
                break
            await asyncio.sleep(0.001)
        raise
    return connection
