"""The database engine and session factory, with SQLite tuned for a chat workload."""

from __future__ import annotations

import importlib.util
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import sqlite_driver

BUSY_TIMEOUT_MS = 10_000
POOL_SIZE = 20  # connections a PostgreSQL worker keeps

DEFAULT_URL = "sqlite+aiosqlite:///data/wardbot.sqlite3"
# The asynchronous driver of each database the bot supports, and the package that provides it
ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
BACKEND_ALIASES = {"postgres": "postgresql"}


class DatabaseUnavailable(Exception):
    """The database cannot be created or opened; `str()` is one line naming DATABASE_URL and what to do."""


def check_database_url(value: str) -> str:
    """`value` when it names a supported database with its asynchronous driver; else ValueError saying
    what to write instead (a password in the URL is shown as ***)."""
    if "://" not in value:
        raise ValueError(f"must be an SQLAlchemy URL such as {DEFAULT_URL}, got {value[:200]!r}")
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError(f"is not a URL SQLAlchemy can read; write it like {DEFAULT_URL}") from None
    backend, _plus, driver = url.drivername.partition("+")
    backend = BACKEND_ALIASES.get(backend, backend)
    wanted = ASYNC_DRIVERS.get(backend)
    if wanted is None:
        raise ValueError(
            f"unknown database {url.drivername!r}; write {DEFAULT_URL} (SQLite) "
            "or postgresql+asyncpg://USER:PASSWORD@HOST/DATABASE (PostgreSQL)"
        )
    missing = importlib.util.find_spec(wanted) is None
    install = f"pip install {wanted}"
    if driver != wanted:
        shown = url.render_as_string(hide_password=True)
        fixed = url.set(drivername=f"{backend}+{wanted}").render_as_string(hide_password=True)
        after = f" (after {install})" if missing else ""
        raise ValueError(f"{shown} uses a synchronous driver; write {fixed} instead{after}")
    if missing:
        raise ValueError(f"{backend}+{wanted} needs the {wanted} package: {install}")
    return value


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def ensure_sqlite_folder(database_url: str) -> None:
    """Create the folder of a SQLite file so a fresh checkout starts without a manual mkdir.

    A folder that cannot be made (a file in the way, a read-only place) raises `DatabaseUnavailable`.
    """
    url = make_url(database_url)
    if not (_is_sqlite(url) and url.database and url.database != ":memory:"):
        return
    folder = Path(url.database).expanduser().parent
    if folder.exists() and not folder.is_dir():
        raise DatabaseUnavailable(
            f"DATABASE_URL: {folder} is a file, not a folder; choose another path for the database"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise DatabaseUnavailable(
            f"DATABASE_URL: cannot create the folder {folder} for the database ({reason}); "
            "create it yourself or choose another path"
        ) from None


def _tune_sqlite(engine: AsyncEngine, *, foreign_keys: bool = True) -> None:
    """WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE so writers queue instead of failing.

    pysqlite's own transaction handling is switched off (the SQLAlchemy recipe for SQLite
    transactions) so that every unit of work takes the write lock at its start: a reader that
    later writes can then never dead-lock with another writer.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_connector(url: URL, **options: Any) -> Callable[[], Awaitable[sqlite_driver.FastConnection]]:
    """Connections opened as SQLAlchemy would open `url`, with one thread hand-over per statement."""
    args, defaults = SQLiteDialect_aiosqlite().create_connect_args(url)
    kwargs = dict(defaults) | options

    async def connect() -> sqlite_driver.FastConnection:
        return await sqlite_driver.connect(*args, **kwargs)

    return connect


def create_engine(
    database_url: str, *, foreign_keys: bool = True, pool_size: int = POOL_SIZE, **kwargs: Any
) -> AsyncEngine:
    """An async engine for `database_url`; SQLite files get their folder and pragmas.

    `pool_size` is a PostgreSQL worker's connections (and half as many more at a peak).
    `foreign_keys=False` is for migrations only: SQLite rebuilds a table to alter it, and with
    foreign keys on, dropping the old copy of a parent table would cascade into its children.
    """
    url = make_url(database_url)
    if _is_sqlite(url):
        ensure_sqlite_folder(database_url)
        kwargs.setdefault("async_creator", _sqlite_connector(url, timeout=BUSY_TIMEOUT_MS / 1000))
    else:  # a worker handles nearly `pool_size` updates at once, plus receiving, the outbox, heartbeats
        kwargs.setdefault("pool_size", pool_size)
        kwargs.setdefault("max_overflow", pool_size // 2)
        kwargs.setdefault("pool_timeout", 60)
        kwargs.setdefault("pool_pre_ping", True)
    engine = create_async_engine(url, **kwargs)
    if _is_sqlite(url):
        _tune_sqlite(engine, foreign_keys=foreign_keys)
    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (replies are built after it)."""
    return async_sessionmaker(engine, expire_on_commit=False)
